"""The real Prometheus (Debian's package) on loopback scrapes a running `bot paper --speed 600
--metrics-port PORT`: the scrape succeeds, equity is among the series, every Grafana panel's query returns
data through Prometheus's HTTP API, and SIGINT stops the bot within 10 s with exit code 0."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from botnft.storage import upgrade

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BOT = [sys.executable, "-m", "botnft.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def minute_candles(path: Path, n: int = 4000) -> Path:
    """A price that swings every ~40 minutes, so the EMA cross trades every few seconds at 600x."""
    rows = ["open_time,open,high,low,close,volume"]
    t0 = 1_704_067_200  # 2024-01-01T00:00:00Z
    prev = 100.0
    for i in range(n):
        close = 100 + 5 * math.sin(i * 2 * math.pi / 40) + 0.01 * i
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + 60 * i))
        rows.append(f"{stamp},{prev:.4f},{max(prev, close) + 0.05:.4f},{min(prev, close) - 0.05:.4f},"
                    f"{close:.4f},1000")  # fmt: skip
        prev = close
    path.write_text("\n".join(rows) + "\n")
    return path


def get(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_until(check: object, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()  # type: ignore[operator]
            if last:
                return last
        except OSError as exc:
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"{what} within {timeout} s (last: {last})")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: `make test` installs Debian's prometheus package")
        pytest.skip(f"{name} is not installed (`make system-tools` installs it)")
    return path


@pytest.fixture
def paper(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    port = free_port()
    data = minute_candles(tmp_path / "minutes.csv")
    proc = subprocess.Popen(
        [*BOT, "paper", "--data", str(data), "--speed", "600", "--metrics-port", str(port), "--db-url", url,
         "--run-id", "watched"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def prometheus(tmp_path: Path) -> tuple[str, Path]:
    """Where a Prometheus will listen (127.0.0.1, a free port) and its config file (written by the test)."""
    tool("prometheus")
    return f"http://127.0.0.1:{free_port()}", tmp_path / "prometheus.yml"


def start_prometheus(config: Path, base: str, data: Path) -> subprocess.Popen[bytes]:
    port = base.rsplit(":", 1)[1]
    return subprocess.Popen(
        [tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def query(base: str, expr: str) -> dict[str, object]:
    return json.loads(get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})))  # type: ignore[no-any-return]


def panel_queries() -> list[tuple[str, str]]:
    out = []
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            out += [(f"{path.stem}: {panel['title']}", t["expr"]) for t in panel["targets"]]
    return out


@pytest.mark.slow
def test_a_real_prometheus_scrapes_bot_paper_and_every_dashboard_query_returns_data(
    paper: tuple[subprocess.Popen[str], int], prometheus: tuple[str, Path], tmp_path: Path
) -> None:
    proc, port = paper
    base, config = prometheus
    text = wait_until(lambda: get(f"http://127.0.0.1:{port}/metrics"), 60, "bot paper serves /metrics")
    assert 'bot_equity{run="watched"}' in str(text)
    scraped = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    scraped = scraped.replace("scrape_interval: 5s", "scrape_interval: 1s").replace(
        "127.0.0.1:9464", f"127.0.0.1:{port}"
    )
    config.write_text(scraped)
    shutil.copy(DEPLOY / "prometheus" / "alerts.yml", tmp_path / "alerts.yml")
    prom = start_prometheus(config, base, tmp_path / "tsdb")
    try:
        wait_until(lambda: query(base, 'up{job="bot"} == 1')["data"]["result"], 60, "the scrape succeeds")  # type: ignore[index]
        wait_until(lambda: float(query(base, "sum(bot_fills_total)")["data"]["result"][0]["value"][1]) > 0,  # type: ignore[index]
                   60, "the bot fills an order")  # fmt: skip
        time.sleep(3)  # a few more scrapes for rate() windows
        empty = [(title, expr) for title, expr in panel_queries()
                 if (r := query(base, expr))["status"] != "success" or not r["data"]["result"]]  # type: ignore[index]  # fmt: skip
        assert not empty, empty
        equity = query(base, 'bot_equity{run="watched"}')["data"]["result"]  # type: ignore[index]
        assert float(equity[0]["value"][1]) > 0
    finally:
        prom.terminate()
        prom.wait(timeout=30)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert time.monotonic() - t0 < 10
    assert proc.returncode == 0, err
    assert "stopped" in out, out
    assert "not written" not in err, err  # snapshots with the observer attached pickle
