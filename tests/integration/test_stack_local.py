"""`make stack` end to end, on loopback (deploy/local/stack.py, what `make stack` / `make stack-down` run):
nginx in front of 3 `bot serve` replicas, a job worker, a paper node, Prometheus and Alertmanager against a
throw-away PostgreSQL database and Redis db 14, every port free-picked. Through nginx: log in as a user made
with `bot user add --password-stdin`, run a backtest job and check its result against `bot backtest` run
here on the same spec; watch the paper node trade (its fills on its /metrics, the API's node list);
Prometheus' own `up` is 1 for the three replicas and the node; the per-IP rate limit holds through the
stack (bench/api_ratelimit.py's client); a replica killed with SIGKILL and requests keep succeeding.
`down` leaves no process and no port behind. Bounded: the whole takes well under 120 s here.

Bad input: a missing config file or secret, a port in use: one line naming it, exit 2, nothing started.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "deploy" / "local" / "stack.py"
BOT = str(Path(sys.executable).with_name("bot"))
REDIS_URL = "redis://127.0.0.1:6379/14"
USER, PASSWORD = "stack-admin", "correct horse battery staple 42"
#: the test's own requests come from this loopback address (the per-IP window is not Prometheus')
CLIENT = "127.0.0.90"
JOB = {"data": "sol-spot-1h", "strategy": "ema_cross", "start": "2021-01-01", "end": "2021-02-01"}

sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "deploy" / "nginx"))


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _have(*programs: str) -> bool:
    return all(shutil.which(p) or Path("/usr/sbin", p).exists() for p in programs)


pytestmark = [
    pytest.mark.skipif(
        not _have("nginx", "prometheus", "prometheus-alertmanager"),
        reason="nginx, prometheus or alertmanager not installed (make system-tools)",
    ),
    pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379"),
]


def stack(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(STACK), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    source: str = CLIENT,
) -> tuple[int, dict[str, str], Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        head = {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()
    payload: Any = raw
    if head.get("content-type", "").startswith(("application/json", "application/problem+json")):
        payload = json.loads(raw)
    return response.status, head, payload


def until(what: str, probe: Any, deadline_s: float, every_s: float = 0.5) -> Any:
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        last = probe()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {deadline_s} s (last: {last!r})")


def metric_sum(text: str, name: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


def secrets(folder: Path) -> Path:
    """The secret files deploy/alertmanager/alertmanager.yml reads (/run/secrets in the Swarm stack):
    a chat webhook on a loopback port nothing listens on, a pager key that is no one's."""
    folder.mkdir(parents=True)
    (folder / "slack_webhook_url").write_text("http://127.0.0.1:9/hook\n")
    (folder / "pagerduty_routing_key").write_text("0" * 32 + "\n")
    return folder


@pytest.fixture
def up_stack(postgres_database: str, tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    workdir = tmp_path / "stack"
    began = time.monotonic()
    done = stack(
        "up", "--dir", str(workdir), "--free-ports", "--database-url", postgres_database,
        "--redis-url", REDIS_URL, "--secrets-dir", str(secrets(tmp_path / "secrets")),
    )  # fmt: skip
    print(f"stack up: {time.monotonic() - began:.1f} s")
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads((workdir / "state.json").read_text())
    try:
        yield workdir, state
    finally:
        began = time.monotonic()
        down = stack("down", "--dir", str(workdir))
        print(f"stack down: {time.monotonic() - began:.1f} s")
        assert down.returncode == 0, down.stdout + down.stderr
        from topology import port_taken, running

        assert not [p["name"] for p in state["processes"] if running(p["pid"])]
        ports = state["ports"]
        every = [
            ports["nginx"],
            *ports["replicas"],
            ports["node"],
            ports["prometheus"],
            ports["alertmanager"],
        ]
        assert not [port for port in every if port_taken(port)]


def test_stack_end_to_end(up_stack: tuple[Path, dict[str, Any]], postgres_database: str) -> None:
    workdir, state = up_stack
    ports = state["ports"]
    nginx = ports["nginx"]
    names = [p["name"] for p in state["processes"]]
    assert sorted(names) == sorted(
        ["replica1", "replica2", "replica3", "nginx", "worker", "node", "prometheus", "alertmanager"]
    )

    # up again while it runs: one line, nothing new started
    again = stack("up", "--dir", str(workdir), "--free-ports", "--database-url", postgres_database)
    assert again.returncode == 0 and again.stdout.count("\n") == 1, again.stdout + again.stderr
    assert "already running" in again.stdout
    assert json.loads((workdir / "state.json").read_text())["processes"] == state["processes"]

    # a user, then a token through nginx
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(BOT_DATABASE_URL=postgres_database, BOT_CONFIG=str(workdir / "bot.toml"))
    env.update(BOT_API_ARGON2_TIME_COST="1", BOT_API_ARGON2_MEMORY_KIB="8192")
    made = subprocess.run(
        [BOT, "user", "add", USER, "--scopes", "read,trade,admin", "--password-stdin"],
        input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    form = urllib.parse.urlencode({"grant_type": "password", "username": USER, "password": PASSWORD})
    status, _, token = request(
        nginx, "POST", "/v1/auth/token", body=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert status == 200, token
    auth = {"Authorization": f"Bearer {token['access_token']}"}

    # a backtest job through the API, run by the stack's worker
    status, _, job = request(
        nginx, "POST", "/v1/backtests", body=json.dumps(JOB).encode(),
        headers={**auth, "Content-Type": "application/json"},
    )  # fmt: skip
    assert status in (201, 202), job

    def finished() -> Any:
        got = request(nginx, "GET", f"/v1/backtests/{job['id']}", headers=auth)[2]
        return got if got.get("status") in ("done", "failed", "cancelled") else None

    final = until("the backtest job finished", finished, 60)
    assert final["status"] == "done", final
    status, _, result = request(nginx, "GET", f"/v1/backtests/{job['id']}/result", headers=auth)
    assert status == 200, result
    reference = subprocess.run(
        [BOT, "backtest", "--data", JOB["data"], "--strategy", JOB["strategy"], "--start", JOB["start"],
         "--end", JOB["end"], "--json", "--no-store"],
        capture_output=True, text=True, env=env, timeout=60, check=False, cwd=workdir,
    )  # fmt: skip
    assert reference.returncode == 0, reference.stderr
    expected = json.loads(reference.stdout)
    assert result["summary"]["final_equity"] == expected["final_equity"]
    assert result["summary"]["fills"] == expected["fills"] > 0

    # the paper node trades: fills on its own /metrics, and the API lists it running
    def node_fills() -> float:
        _, _, text = request(ports["node"], "GET", "/metrics", source="127.0.0.1")
        return metric_sum(text.decode(), "bot_fills_total")

    fills = until("the paper node filled an order", node_fills, 30)
    assert fills >= 1
    status, _, nodes = request(nginx, "GET", "/v1/nodes", headers=auth)
    assert status == 200, nodes
    # this stack's node is the one running (the database may hold stopped nodes of an earlier stack)
    (node,) = [n for n in nodes if n["kind"] == "paper" and n["status"] == "running"]

    def node_progressed() -> bool:  # the API sees the node's journal move on
        later = request(nginx, "GET", f"/v1/nodes/{node['run_id']}", headers=auth)[2]
        return bool(later["bars_done"] > node["bars_done"])

    until("the API sees the paper node progress", node_progressed, 20)

    # Prometheus scrapes the three replicas and the node: `up` is 1 for each
    def scraped() -> dict[str, float] | None:
        query = urllib.parse.urlencode({"query": "up"})
        _, _, answer = request(ports["prometheus"], "GET", f"/api/v1/query?{query}", source="127.0.0.1")
        ups = {r["metric"]["instance"]: float(r["value"][1]) for r in answer["data"]["result"]}
        wanted = [f"127.0.0.1:{p}" for p in [*ports["replicas"], ports["node"]]]
        return ups if all(ups.get(t) == 1.0 for t in wanted) else None

    until("Prometheus scrapes 3 replicas and the node", scraped, 30, every_s=1)

    def prometheus_fills() -> float:
        query = urllib.parse.urlencode({"query": "sum(bot_fills_total)"})
        _, _, answer = request(ports["prometheus"], "GET", f"/api/v1/query?{query}", source="127.0.0.1")
        return sum(float(r["value"][1]) for r in answer["data"]["result"])

    until("Prometheus has the node's fills", prometheus_fills, 20, every_s=1)
    _, _, managers = request(ports["prometheus"], "GET", "/api/v1/alertmanagers", source="127.0.0.1")
    assert [a["url"] for a in managers["data"]["activeAlertmanagers"]] == [
        f"http://127.0.0.1:{ports['alertmanager']}/api/v2/alerts"
    ]

    # the per-IP rate limit through the stack: bench/api_ratelimit.py's client, 4 clients x 30/s x 2 s
    from api_ratelimit import ClientResult, run_client

    async def measure() -> list[ClientResult]:
        results = [ClientResult(source=f"127.0.0.{91 + i}", forged=i % 2 == 0) for i in range(4)]
        start = time.monotonic() + 0.2
        await asyncio.gather(*(run_client(r, nginx, "/v1/health", 30, 2, start) for r in results))
        return results

    for row in asyncio.run(measure()):
        assert row.errors == 0 and not row.other, row
        assert row.accepted + row.edge_429 + row.app_429 == row.sent == 60, row
        assert 9 <= row.accepted <= 11, row  # 5 per moving second x 2 s, +- 10 %

    # failover: SIGKILL one replica; every request through nginx is still answered, by the other two
    victim = next(p for p in state["processes"] if p["name"] == "replica2")
    os.kill(victim["pid"], signal.SIGKILL)
    seen = []
    for i in range(12):  # each from its own address: the per-IP window never refuses them
        status, head, _ = request(nginx, "GET", "/v1/health", source=f"127.0.1.{i + 1}")
        assert status == 200, (i, status)
        seen.append(head.get("x-replica"))
    assert set(seen) == {"r1", "r3"}, seen
    status, _, _ = request(nginx, "GET", "/v1/nodes", headers=auth)
    assert status == 200


def test_down_leaves_nothing_running(postgres_database: str, tmp_path: Path) -> None:
    from topology import port_taken, running

    workdir = tmp_path / "stack"
    done = stack(
        "up", "--dir", str(workdir), "--free-ports", "--database-url", postgres_database,
        "--redis-url", REDIS_URL, "--replicas", "1", "--secrets-dir", str(secrets(tmp_path / "secrets")),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads((workdir / "state.json").read_text())
    pids = [p["pid"] for p in state["processes"]]
    assert all(running(pid) for pid in pids)
    down = stack("down", "--dir", str(workdir))
    assert down.returncode == 0 and down.stdout.strip() == f"stack down: {len(pids)} processes stopped"
    assert not any(running(pid) for pid in pids)
    ports = state["ports"]
    for port in [
        ports["nginx"],
        *ports["replicas"],
        ports["node"],
        ports["prometheus"],
        ports["alertmanager"],
    ]:
        assert not port_taken(port), port
    again = stack("down", "--dir", str(workdir))
    assert again.returncode == 0 and "not running" in again.stdout


def _one_line_refusal(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stack: "), done.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert done.stdout == ""


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "prometheus.yml"
    done = stack("up", "--dir", str(tmp_path / "s"), "--free-ports", "--prometheus-config", str(missing))
    _one_line_refusal(done, "missing config file", str(missing))
    assert not (tmp_path / "s" / "state.json").exists()


def test_missing_secret_is_one_line(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "slack_webhook_url").write_text("http://127.0.0.1:9/hook\n")
    done = stack("up", "--dir", str(tmp_path / "s"), "--free-ports", "--secrets-dir", str(secrets))
    # some of the files the Alertmanager config reads from /run/secrets, not all: a half-made setup
    _one_line_refusal(done, "missing secret", str(secrets / "pagerduty_routing_key"), "alertmanager.yml")


def test_alertmanager_config_without_secrets_has_the_routes_and_null_receivers(tmp_path: Path) -> None:
    import yaml

    sys.path.insert(0, str(REPO / "deploy" / "local"))
    from stack import ALERTMANAGER_CONFIG, render_alertmanager

    source = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    rendered = yaml.safe_load(render_alertmanager(ALERTMANAGER_CONFIG, tmp_path, delivered=False))
    assert {k: v for k, v in rendered.items() if k != "receivers"} == {
        k: v for k, v in source.items() if k != "receivers"
    }
    assert [r["name"] for r in source["receivers"]] == ["chat", "pager"]
    assert rendered["receivers"] == [{"name": "chat"}, {"name": "pager"}]  # no integration: sent nowhere
    with_secrets = render_alertmanager(ALERTMANAGER_CONFIG, tmp_path, delivered=True)
    assert f"{tmp_path}/pagerduty_routing_key" in with_secrets and "/run/secrets/" not in with_secrets
    assert "/run/secrets/pagerduty_routing_key" in ALERTMANAGER_CONFIG.read_text()  # the Swarm file as it was
    for name, text in (("null.yml", yaml.safe_dump(rendered)), ("delivered.yml", with_secrets)):
        (tmp_path / name).write_text(text)
        if shutil.which("amtool"):
            done = subprocess.run(
                ["amtool", "check-config", str(tmp_path / name)], capture_output=True, text=True, timeout=30
            )
            assert done.returncode == 0, done.stdout + done.stderr


def test_no_secrets_start_says_so_and_a_restarted_stack_resumes_its_paper_run(
    postgres_database: str, tmp_path: Path
) -> None:
    from botnft.storage import make_engine
    from botnft.storage.journal import PaperStore

    workdir, empty = tmp_path / "stack", tmp_path / "secrets"
    empty.mkdir()
    up = (
        "up", "--dir", str(workdir), "--free-ports", "--database-url", postgres_database, "--redis-url",
        REDIS_URL, "--replicas", "1", "--secrets-dir", str(empty), "--paper-run-id", "stack-nosecrets",
    )  # fmt: skip
    store = PaperStore(make_engine(postgres_database))
    done = stack(*up)
    try:
        assert done.returncode == 0, done.stderr[-3000:]
        first, second = done.stdout.strip().splitlines()
        assert (
            first.startswith("alerts are not delivered anywhere: no secret files in") and str(empty) in first
        )
        assert second.startswith("stack up: ")
        state = json.loads((workdir / "state.json").read_text())
        am = state["ports"]["alertmanager"]
        status, _, body = request(am, "GET", "/api/v2/status", source="127.0.0.1")
        assert status == 200
        config = yaml_load(body["config"]["original"])
        assert sorted(r["name"] for r in config["receivers"]) == ["chat", "pager"]
        assert not any(k.endswith("_configs") for r in config["receivers"] for k in r), config["receivers"]
        # an alert is taken and shown (not delivered anywhere)
        alert = [{"labels": {"alertname": "BotStackTest", "severity": "critical"}}]
        status, _, _ = request(
            am, "POST", "/api/v2/alerts", body=json.dumps(alert).encode(),
            headers={"Content-Type": "application/json"}, source="127.0.0.1",
        )  # fmt: skip
        assert status == 200
        until(
            "Alertmanager lists the alert",
            lambda: any(
                a["labels"]["alertname"] == "BotStackTest"
                for a in request(am, "GET", "/api/v2/alerts", source="127.0.0.1")[2]
            ),
            10,
        )
        row = until(
            "the paper node trades bars",
            lambda: r if (r := store.run("stack-nosecrets")) and r["bars_done"] > 0 else None,
            30,
        )
    finally:
        down = stack("down", "--dir", str(workdir))
        assert down.returncode == 0, down.stdout + down.stderr
    stopped = store.run("stack-nosecrets")
    assert stopped is not None and stopped["status"] == "stopped" and stopped["bars_done"] >= row["bars_done"]

    again = stack(*up)  # the same command: the node resumes its run, from where it stopped
    try:
        assert again.returncode == 0, again.stderr[-3000:]
        log = (workdir / "logs" / "node.log").read_text()
        assert "run stack-nosecrets exists (stopped): resuming it" in log, log[-2000:]
        until(
            "the resumed run goes on",
            lambda: (
                (r := store.run("stack-nosecrets"))["status"] == "running"
                and r["bars_done"] > stopped["bars_done"]
            ),
            30,
        )
    finally:
        down = stack("down", "--dir", str(workdir))
        assert down.returncode == 0, down.stdout + down.stderr
    assert [r["run_id"] for r in store.runs()].count("stack-nosecrets") == 1


def yaml_load(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = stack(
            "up", "--dir", str(tmp_path / "s"), "--free-ports", "--port", str(port),
            "--secrets-dir", str(secrets(tmp_path / "secrets")),
        )  # fmt: skip
    _one_line_refusal(done, f"port 127.0.0.1:{port} (nginx) is already in use")
    assert not (tmp_path / "s" / "state.json").exists()


def test_prometheus_file_rendered_with_local_targets(tmp_path: Path) -> None:
    import yaml

    sys.path.insert(0, str(REPO / "deploy" / "local"))
    from stack import PROMETHEUS_CONFIG, render_prometheus

    source = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    replicas = [(f"127.0.0.1:{7001 + i}", {"replica": f"r{i + 1}"}) for i in range(3)]
    path = render_prometheus(
        PROMETHEUS_CONFIG,
        tmp_path,
        {"api": replicas, "node": [("127.0.0.1:7464", {})], "alertmanager": [("127.0.0.1:7093", {})]},
    )
    rendered = yaml.safe_load(path.read_text())
    # the stack file's jobs, rules and intervals, each job's discovery now a local list
    assert [j["job_name"] for j in rendered["scrape_configs"]] == [
        j["job_name"] for j in source["scrape_configs"]
    ]
    assert rendered["global"] == source["global"]
    assert rendered["rule_files"] == [str(PROMETHEUS_CONFIG.parent / r) for r in source["rule_files"]]
    assert rendered["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:7093"]}]}]}
    listed = {}
    for job in rendered["scrape_configs"]:
        assert [k for k in job if k.endswith("configs")] == ["file_sd_configs"], job
        (target_file,) = job["file_sd_configs"][0]["files"]
        listed[job["job_name"]] = [
            t for group in json.loads(Path(target_file).read_text()) for t in group["targets"]
        ]
    assert listed["api"] == ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"]
    assert listed["bot"] == ["127.0.0.1:7464"]
    if shutil.which("promtool"):
        done = subprocess.run(
            ["promtool", "check", "config", str(path)], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stdout + done.stderr
    # a file with no api job gets one
    bare = tmp_path / "bare" / "prometheus.yml"
    bare.parent.mkdir()
    bare.write_text("scrape_configs:\n  - job_name: bot\n    static_configs: [{targets: ['x:1']}]\n")
    jobs = yaml.safe_load(render_prometheus(bare, bare.parent, {"api": replicas}).read_text())[
        "scrape_configs"
    ]
    assert [j["job_name"] for j in jobs] == ["api", "bot"]
