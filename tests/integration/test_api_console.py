"""The web console in headless Chromium, driven over the Chrome DevTools protocol (a WebSocket; no
selenium): the console is served by a `bot serve` replica behind nginx (deploy/nginx/topology.py, the
application's limit at its default 5 requests/s: the page must live with it), a stored run made by
`bot backtest`, and a paper node started through the API. The browser logs in, opens the run and sees
its equity curve drawn (an SVG polyline with one point per curve point the API returns), opens the node,
presses the kill switch, confirms, and the node halts (checked through the API, not the page)."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "nginx"))

from topology import NGINX, Topology  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
USER, PASSWORD = "operator", "console password, long enough"

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make system-tools)"),
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (make system-tools)"),
]


class Browser:
    """One headless Chromium page over CDP (Runtime.evaluate to read and drive the DOM)."""

    def __init__(self, profile: Path) -> None:
        from websockets.sync.client import connect

        assert CHROMIUM is not None
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split("\n")[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page"]
        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=50_000_000, open_timeout=10)
        self.ids = itertools.count(1)

    def cdp(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message["result"])

    def js(self, expression: str) -> Any:
        result = self.cdp("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(
            f"timed out waiting for {expression!r}; page error: {self.js('error.textContent')}"
        )

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.cdp("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        self.ws.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    with Topology(tmp_path / "topo", replicas=1, edge_rate=0, redis_url=None) as topo:
        yield topo


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    profile = tmp_path / "chromium"
    profile.mkdir()
    chrome = Browser(profile)
    try:
        yield chrome
    finally:
        chrome.close()


def _token(base: str) -> str:
    answer = httpx.post(
        f"{base}/v1/auth/token",
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _patient(call: Callable[[], httpx.Response]) -> httpx.Response:
    """The call again after a 429's Retry-After (the test's own calls share the 5/s with the page)."""
    for _ in range(10):
        answer = call()
        if answer.status_code != 429:
            return answer
        time.sleep(float(answer.headers.get("Retry-After", "1")))
    return answer


def test_console_logs_in_draws_a_run_and_kills_a_paper_node(
    topology: Topology, browser: Browser, tmp_path: Path
) -> None:
    topology.bot("user", "add", USER, "--scopes", "read,trade", "--password-stdin", stdin=PASSWORD + "\n")
    topology.bot(
        "backtest", "--data", "sol-spot-1h", "--strategy", "ema_cross", "--start", "2024-01-01",
        "--end", "2024-02-01", "--json",
    )  # fmt: skip
    base = topology.url
    auth = {"Authorization": f"Bearer {_token(base)}"}
    runs = _patient(lambda: httpx.get(f"{base}/v1/runs", headers=auth, timeout=30)).json()["items"]
    assert len(runs) == 1
    run_id = runs[0]["id"]
    started = _patient(
        lambda: httpx.post(
            f"{base}/v1/nodes",
            headers=auth,
            json={"spec": {"data": "sol-spot-1h", "strategy": "ema_cross"}, "speed": 3600},
            timeout=60,
        )
    )
    assert started.status_code == 202, started.text
    node = started.json()["run_id"]
    try:
        assert started.json()["status"] == "running", started.json()
        _drive(browser, base, auth, run_id, runs[0], node, tmp_path)
    finally:
        _stop_node(topology, node)


def _stop_node(topology: Topology, node: str) -> None:
    """The paper node's process, ended if a failure left it running (it is this test's child's child)."""
    from botnft.storage import make_engine
    from botnft.storage.journal import PaperStore

    engine = make_engine(topology.database_url)
    try:
        row = PaperStore(engine).run(node)
    finally:
        engine.dispose()
    pid = row["pid"] if row else None
    if pid and row is not None and row["status"] == "running":
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGTERM)


def _drive(
    browser: Browser,
    base: str,
    auth: dict[str, str],
    run_id: int,
    run: dict[str, Any],
    node: str,
    tmp_path: Path,
) -> None:

    browser.cdp("Page.enable")
    browser.cdp("Page.navigate", url=f"{base}/")
    browser.wait("document.readyState === 'complete' && document.body.dataset.state === 'logged-out'")
    browser.js(
        f"$('username').value = {json.dumps(USER)}; $('password').value = {json.dumps(PASSWORD)};"
        "$('login').click(); true"
    )
    browser.wait("document.body.dataset.state === 'logged-in'")
    browser.wait(f"!!document.querySelector('#runs tr[data-run=\"{run_id}\"]')")

    # the run: its report and its equity curve, drawn
    browser.js(f"document.querySelector('#runs tr[data-run=\"{run_id}\"]').click(); true")
    browser.wait("$('run-detail').dataset.loaded === 'true'", timeout=120)
    curve = _patient(lambda: httpx.get(f"{base}/v1/runs/{run_id}/equity", headers=auth, timeout=120)).json()
    assert curve["points"] > 10
    drawn = browser.js(
        "(() => { const line = document.querySelector('#equity-chart polyline');"
        " if (!line) return null; const box = line.getBBox();"
        " return {points: line.points.numberOfItems, width: box.width, height: box.height}; })()"
    )
    assert drawn is not None, browser.js("$('chart-note').textContent")
    assert drawn["points"] == curve["points"]  # one vertex per point the API gave
    assert drawn["width"] > 100 and drawn["height"] > 10  # a line across the chart, not a dot
    browser.screenshot(tmp_path / "run.png")
    report = browser.js("$('run-report').innerText")
    assert run["final_equity"] in report

    # the node: status, then the kill switch with its confirmation
    browser.js("$('tab-nodes').click(); true")
    browser.wait(f"!!document.querySelector('#nodes tr[data-node=\"{node}\"]')")
    browser.js(f"document.querySelector('#nodes tr[data-node=\"{node}\"]').click(); true")
    browser.wait("$('node-detail').dataset.status === 'running' && !$('kill').disabled")
    browser.wait("$('node-detail').dataset.events === 'live'")
    browser.js("$('kill').click(); true")
    assert browser.js("$('kill-dialog').open") is True
    browser.js("$('kill-cancel').click(); true")  # cancelling does nothing
    time.sleep(0.5)
    assert browser.js("$('node-detail').dataset.status") == "running"
    assert (
        _patient(lambda: httpx.get(f"{base}/v1/nodes/{node}", headers=auth, timeout=30)).json()[
            "kill_requested"
        ]
        is False
    )
    browser.js("$('kill').click(); true")
    browser.js("$('kill-confirm').click(); true")
    browser.wait("['killed', 'stopped', 'finished'].includes($('node-detail').dataset.status)", timeout=60)
    browser.screenshot(tmp_path / "console.png")

    status = _patient(lambda: httpx.get(f"{base}/v1/nodes/{node}", headers=auth, timeout=30)).json()
    assert status["kill_requested"] is True
    assert status["status"] == "killed", status


def test_console_files_and_their_policy(tmp_path: Path) -> None:
    """In process: the page and its two files, a strict CSP, no other path under /console/static/, and
    the static files outside the rate limit (the page itself counts)."""
    from fastapi.testclient import TestClient

    from botnft.api.app import create_app
    from botnft.api.settings import ApiSettings
    from botnft.storage import upgrade

    url = f"sqlite:///{tmp_path / 'bot.sqlite'}"
    upgrade(url)
    # two counted calls a minute (a moving window): the test's calls fit in it however loaded the machine
    settings = ApiSettings(
        database_url=url, data_dir=tmp_path, rate_limit="2/minute", argon2_time_cost=1, argon2_memory_kib=1024
    )
    with TestClient(create_app(settings), client=("192.0.2.7", 1)) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert 'src="/console/static/app.js"' in page.text and "http" not in page.text.replace(
            "http-equiv", ""
        )
        for _ in range(5):  # more than the limit: static files do not count
            assert client.get("/console/static/app.js").status_code == 200
            assert client.get("/console/static/app.css").headers["content-type"].startswith("text/css")
        assert client.get("/console/static/index.html").status_code == 404
        assert client.get("/console/static/..%2F__init__.py").status_code == 404
        assert client.get("/").status_code == 200  # the second counted call of this minute
        assert client.get("/").status_code == 429
