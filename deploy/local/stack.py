"""The stack's topology on one machine, without a Docker engine (`make stack`, `make stack-down`):

    nginx (Debian) -> 3 x `bot serve` replicas      (deploy/nginx/nginx.conf.j2, rendered with loopback ports)
    a backtest job worker (python -m botnft.api.jobs)
    a paper node (`bot paper --metrics-port`)
    Prometheus (deploy/prometheus/prometheus.yml and alerts.yml, every job's targets a local file_sd list)
    Alertmanager (deploy/alertmanager/alertmanager.yml)

all on 127.0.0.1, against the local PostgreSQL and Redis. deploy/nginx/topology.py starts nginx and the
replicas; this adds the rest with its `spawn`. State (pids, logs, rendered configs, Prometheus and
Alertmanager data) lives in one folder (default .stack/): `down` stops every process recorded there by
its pid (checked against its start time, so a reused pid is never signalled) and leaves nothing running.

    python deploy/local/stack.py up [--dir .stack] [--database-url URL] [--redis-url URL] [--free-ports]
    python deploy/local/stack.py status|down [--dir .stack]

A missing config file, program or secret, a port in use, an unreachable PostgreSQL or Redis: one line
naming it on stderr and exit 2, with nothing left running.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "deploy" / "nginx"))

from topology import (  # noqa: E402
    TEMPLATE,
    Topology,
    TopologyError,
    free_port,
    port_taken,
    running,
    stop_pids,
    wait_http,
)

PROMETHEUS_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.stack.yml"
ALERTMANAGER_CONFIG = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bot_stack"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
#: fixed loopback ports of `make stack` (--free-ports: any free ones)
DEFAULT_PORTS = {"nginx": 8080, "api": 8001, "node": 9464, "prometheus": 9090, "alertmanager": 9093}
SIGNING_KEY_SECRET = "bot_api_signing_key"
STATE = "state.json"
#: a Prometheus job is given local targets by the words in its name
ROLES = {
    "api": ("api",),
    "node": ("bot", "node", "paper", "live"),
    "alertmanager": ("alertmanager",),
    "prometheus": ("prometheus",),
}
#: where the stack's services read their Docker secrets; locally, the files of --secrets-dir
DOCKER_SECRETS = "/run/secrets/"


class StackError(Exception):
    """A one-line reason the stack cannot start."""


@dataclass
class Ports:
    nginx: int
    replicas: list[int]
    node: int
    prometheus: int
    alertmanager: int

    @classmethod
    def choose(cls, replicas: int, free: bool, nginx: int | None) -> Ports:
        if free:
            return cls(
                nginx or free_port(), [free_port() for _ in range(replicas)], *(free_port() for _ in range(3))
            )
        d = DEFAULT_PORTS
        api = [d["api"] + i for i in range(replicas)]
        return cls(nginx or d["nginx"], api, d["node"], d["prometheus"], d["alertmanager"])

    def named(self) -> list[tuple[str, int]]:
        return [
            ("nginx", self.nginx),
            *((f"replica{i}", p) for i, p in enumerate(self.replicas, start=1)),
            ("node metrics", self.node),
            ("prometheus", self.prometheus),
            ("alertmanager", self.alertmanager),
        ]


@dataclass
class Options:
    workdir: Path
    database_url: str = DEFAULT_DATABASE
    redis_url: str = DEFAULT_REDIS
    replicas: int = 3
    free_ports: bool = False
    port: int | None = None
    #: secret files: what the Alertmanager config reads from /run/secrets, and the API's `bot_api_*`
    #: (optional: without bot_api_signing_key the replicas share one generated in the folder)
    secrets_dir: Path | None = None  # None: <workdir>/secrets
    rate_limit: str = "5/second"
    paper_data: str = "sol-spot-1h"
    paper_speed: str = "36000"
    #: the paper node's run: resumed by the next `make stack` if it was stopped or crashed (a finished or
    #: killed run stops the node with one line: pick another id)
    paper_run_id: str = "stack-paper"
    prometheus_config: Path = PROMETHEUS_CONFIG
    alertmanager_config: Path = ALERTMANAGER_CONFIG
    extra_env: dict[str, str] = field(default_factory=dict)


def _program(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or next(
            (str(p) for d in ("/usr/sbin", "/usr/bin") if (p := Path(d) / name).exists()), None
        )
        if found:
            return found
    raise StackError(f"missing program: {names[0]} (make system-tools installs it)")


def _start_time(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


# -- checks before anything starts ---
def _check_files(o: Options) -> None:
    for path in (TEMPLATE, o.prometheus_config, o.alertmanager_config):
        if not path.is_file():
            raise StackError(f"missing config file: {path}")
    for rules in _rule_files(o.prometheus_config):
        if not rules.is_file():
            raise StackError(f"missing config file: {rules} (rule_files of {o.prometheus_config})")
    if not _alerts_delivered(o):
        return  # none of them: alerts go nowhere (null receivers), said at start
    for secret in _alertmanager_secrets(o.alertmanager_config):
        path = _secrets(o) / secret
        if not path.is_file():
            raise StackError(f"missing secret: {path} (read by {o.alertmanager_config})")


def _alerts_delivered(o: Options) -> bool:
    """Whether any secret file the Alertmanager config reads is there (all of them must be then); with none,
    the stack runs a local config whose receivers have no integration (alerts are delivered nowhere)."""
    return any((_secrets(o) / name).is_file() for name in _alertmanager_secrets(o.alertmanager_config))


def render_alertmanager(source: Path, secrets_dir: Path, delivered: bool) -> str:
    """The Alertmanager config for the local stack: the Swarm file with its /run/secrets files read from
    `secrets_dir`; without the secrets (`delivered` false) the same routes and inhibitions whose receivers are
    null receivers (no integration: alerts are shown by Alertmanager, sent nowhere)."""
    import yaml

    if delivered:
        return source.read_text().replace(DOCKER_SECRETS, f"{secrets_dir}/")
    config = _load_yaml(source)
    config["receivers"] = [{"name": r["name"]} for r in config.get("receivers") or []]
    head = "# rendered by deploy/local/stack.py: no alert secrets, so every receiver is a null receiver\n"
    return head + yaml.safe_dump(config, sort_keys=False)


def _secrets(o: Options) -> Path:
    return (o.secrets_dir or o.workdir / "secrets").resolve()


def _alertmanager_secrets(path: Path) -> list[str]:
    """The names of the Docker secret files (/run/secrets/NAME) the Alertmanager config reads."""
    import re

    return sorted(set(re.findall(re.escape(DOCKER_SECRETS) + r"([A-Za-z0-9_.-]+)", path.read_text())))


def _check_ports(ports: Ports) -> None:
    for name, port in ports.named():
        if port_taken(port):
            raise StackError(f"port 127.0.0.1:{port} ({name}) is already in use")


def _check_redis(url: str) -> None:
    import socket

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(b"PING\r\n")
            answer = s.recv(64)
    except OSError as exc:
        raise StackError(f"Redis at {host}:{port} does not answer: {exc.strerror or exc}") from None
    if not answer.startswith(b"+PONG"):
        raise StackError(f"Redis at {host}:{port} refused PING: {answer.decode(errors='replace').strip()}")


def _ensure_database(url: str) -> None:
    """Connect; a PostgreSQL database that does not exist yet is created (through `postgres`)."""
    import sqlalchemy as sa

    from botnft.storage import make_engine
    from botnft.storage.db import driver_reason

    engine = make_engine(url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect():
            return
    except sa.exc.DBAPIError as error:
        reason = driver_reason(error)
        missing = engine.url.get_backend_name() == "postgresql" and "does not exist" in reason
        if not missing:
            raise StackError(f"database {shown}: {reason}") from None
    finally:
        engine.dispose()
    admin = make_engine(engine.url.set(database="postgres")).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{engine.url.database}"')
    except sa.exc.DBAPIError as error:
        raise StackError(f"cannot create database {shown}: {driver_reason(error)}") from None
    finally:
        admin.dispose()


# -- Prometheus: the stack's file, each job's targets from a local list ---
def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise StackError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(loaded, dict):
        raise StackError(f"{path}: not a YAML mapping")
    return loaded


def _rule_files(path: Path) -> list[Path]:
    if not path.is_file():
        return []
    return [(path.parent / r).resolve() for r in _load_yaml(path).get("rule_files") or [] if "*" not in r]


def _role(job: str) -> str | None:
    return next((role for role, words in ROLES.items() if any(w in job.lower() for w in words)), None)


def render_prometheus(
    source: Path, out_dir: Path, targets: dict[str, list[tuple[str, dict[str, str]]]]
) -> Path:
    """The stack's prometheus.yml with: rule files by absolute path, alerts sent to the local
    Alertmanager, and each scrape job's service discovery (static, dns_sd, ...) replaced by a file_sd list
    of its local targets (by the job's role: api, node, alertmanager; none for a job with no local
    counterpart, e.g. an exporter). A stack file without an api job gets one. `targets[role]` are
    (host:port, labels)."""
    import yaml

    config = _load_yaml(source)
    config["rule_files"] = [str((source.parent / r).resolve()) for r in config.get("rule_files") or []]
    alerting = [{"targets": [t for t, _ in targets.get("alertmanager", [])]}]
    config["alerting"] = {"alertmanagers": [{"static_configs": alerting}]}
    jobs = config.setdefault("scrape_configs", [])
    if not any(_role(job.get("job_name", "")) == "api" for job in jobs):
        jobs.insert(0, {"job_name": "api"})
    (out_dir / "targets").mkdir(parents=True, exist_ok=True)
    for job in jobs:
        name = job["job_name"]
        for key in [k for k in job if k.endswith("_sd_configs") or k == "static_configs"]:
            del job[key]
        listed = targets.get(_role(name) or "", [])
        target_file = out_dir / "targets" / f"{name}.json"
        target_file.write_text(json.dumps([{"targets": [t], "labels": labels} for t, labels in listed]))
        job["file_sd_configs"] = [{"files": [str(target_file)], "refresh_interval": "5s"}]
    path = out_dir / "prometheus.yml"
    shown = source.relative_to(REPO) if source.is_relative_to(REPO) else source
    path.write_text(
        f"# rendered by deploy/local/stack.py from {shown}\n" + yaml.safe_dump(config, sort_keys=False)
    )
    return path


def _tool_check(argv: list[str], what: Path) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        return  # promtool / amtool missing: the server's own start reports a bad file
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        detail = next(
            (ln for ln in lines if "FAILED" in ln or "error" in ln.lower()), lines[-1] if lines else ""
        )
        raise StackError(f"{what}: {detail}")


# -- up / down / status ---
def read_state(workdir: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((workdir / STATE).read_text())
    except (OSError, ValueError):
        return None
    return state


def _live(state: dict[str, Any]) -> list[tuple[str, int]]:
    """The recorded processes still running as the same processes (pid and start time)."""
    return [
        (p["name"], p["pid"])
        for p in state.get("processes", [])
        if running(p["pid"]) and _start_time(p["pid"]) == p.get("start_time")
    ]


def _record(workdir: Path, topology: Topology, ports: Ports, o: Options, complete: bool) -> dict[str, Any]:
    state = {
        "complete": complete,
        "url": f"http://127.0.0.1:{ports.nginx}",
        "ports": {"nginx": ports.nginx, "replicas": ports.replicas, "node": ports.node,
                  "prometheus": ports.prometheus, "alertmanager": ports.alertmanager},
        "database_url": o.database_url,
        "redis_url": o.redis_url,
        "processes": [{"name": n, "pid": p, "start_time": _start_time(p)} for n, p in topology.processes],
    }  # fmt: skip
    (workdir / STATE).write_text(json.dumps(state, indent=1))
    return state


def _last_line(workdir: Path, name: str) -> str:
    log = workdir / "logs" / f"{name}.log"
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    return lines[-1][:300] if lines else f"see {log}"


def _wait(workdir: Path, name: str, proc: subprocess.Popen[bytes], port: int, path: str) -> None:
    try:
        wait_http(port, path, 60, proc)
    except TopologyError:
        code = proc.poll()
        how = f"exited with {code}" if code is not None else f"did not answer on 127.0.0.1:{port}{path}"
        raise TopologyError(f"{name} {how}: {_last_line(workdir, name)}") from None


def up(o: Options) -> tuple[str, dict[str, Any]]:
    """Start the stack in `o.workdir`; (a one-line summary, the state). Already running: its line."""
    workdir = o.workdir.resolve()
    previous = read_state(workdir)
    if previous is not None:
        live = _live(previous)
        if live:
            return (
                f"stack already running: {previous['url']} ({len(live)} processes, state in {workdir}; "
                "`make stack-down` stops it)",
                previous,
            )
        (workdir / STATE).unlink()
    _check_files(o)
    nginx_bin = _program("nginx")
    prometheus_bin = _program("prometheus")
    alertmanager_bin = _program("prometheus-alertmanager", "alertmanager")
    ports = Ports.choose(o.replicas, o.free_ports, o.port)
    _check_ports(ports)
    _check_redis(o.redis_url)
    _ensure_database(o.database_url)
    del nginx_bin  # the topology finds nginx itself; checked here to fail before anything starts

    workdir.mkdir(parents=True, exist_ok=True)
    am_dir, prom_dir = workdir / "alertmanager", workdir / "prometheus"
    for d in (am_dir / "data", prom_dir / "data", workdir / "logs"):
        d.mkdir(parents=True, exist_ok=True)
    delivered = _alerts_delivered(o)
    (am_dir / "alertmanager.yml").write_text(
        render_alertmanager(o.alertmanager_config, _secrets(o), delivered)
    )
    _tool_check(["amtool", "check-config", str(am_dir / "alertmanager.yml")], o.alertmanager_config)
    replicas = [(f"127.0.0.1:{p}", {"replica": f"r{i}"}) for i, p in enumerate(ports.replicas, start=1)]
    prom_file = render_prometheus(
        o.prometheus_config,
        prom_dir,
        {
            "api": replicas,
            "node": [(f"127.0.0.1:{ports.node}", {"node": "paper"})],
            "alertmanager": [(f"127.0.0.1:{ports.alertmanager}", {})],
            "prometheus": [(f"127.0.0.1:{ports.prometheus}", {})],
        },
    )
    _tool_check(["promtool", "check", "config", str(prom_file)], o.prometheus_config)

    topology = Topology(
        workdir,
        replicas=o.replicas,
        rate_limit=o.rate_limit,
        redis_url=o.redis_url,
        port=ports.nginx,
        replica_ports=list(ports.replicas),
        database=o.database_url,
        secrets_dir=_secrets(o),
        extra_env={"BOT_API_JOB_WORKERS": "0", **o.extra_env},  # the worker below runs the jobs
    )
    try:
        topology.start()
        _record(workdir, topology, ports, o, complete=False)
        env = topology.env()
        worker = topology.spawn("worker", [sys.executable, "-m", "botnft.api.jobs", "--workers", "1"], env)
        node = topology.spawn(
            "node",
            [
                str(Path(sys.executable).with_name("bot")), "paper", "--data", o.paper_data,
                "--speed", o.paper_speed, "--metrics-port", str(ports.node), "--log-format", "json",
                "--run-id", o.paper_run_id, "--resume-if-exists",
            ],
            env,
        )  # fmt: skip
        alertmanager = topology.spawn(
            "alertmanager",
            [
                alertmanager_bin, f"--config.file={am_dir / 'alertmanager.yml'}",
                f"--storage.path={am_dir / 'data'}", f"--web.listen-address=127.0.0.1:{ports.alertmanager}",
                "--cluster.listen-address=",
            ],
        )  # fmt: skip
        prometheus = topology.spawn(
            "prometheus",
            [
                prometheus_bin, f"--config.file={prom_file}", f"--storage.tsdb.path={prom_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{ports.prometheus}", "--storage.tsdb.retention.time=1d",
            ],
        )  # fmt: skip
        _record(workdir, topology, ports, o, complete=False)
        _wait(workdir, "node", node, ports.node, "/metrics")
        _wait(workdir, "alertmanager", alertmanager, ports.alertmanager, "/-/ready")
        _wait(workdir, "prometheus", prometheus, ports.prometheus, "/-/ready")
        time.sleep(0.5)
        if worker.poll() is not None:
            raise TopologyError(f"worker exited with {worker.returncode}: {_last_line(workdir, 'worker')}")
        state = _record(workdir, topology, ports, o, complete=True)
    except BaseException as exc:
        topology.stop()
        (workdir / STATE).unlink(missing_ok=True)
        if isinstance(exc, TopologyError):
            raise StackError(str(exc).splitlines()[0]) from None
        raise
    topology.detach()
    line = (
        f"stack up: {state['url']} (nginx -> {o.replicas} API replicas), job worker, paper node, "
        f"Prometheus http://127.0.0.1:{ports.prometheus}, "
        f"Alertmanager http://127.0.0.1:{ports.alertmanager}; state in {workdir}"
    )
    if not delivered:
        line = (
            f"alerts are not delivered anywhere: no secret files in {_secrets(o)} (Alertmanager runs "
            f"with null receivers; its alerts at http://127.0.0.1:{ports.alertmanager})\n{line}"
        )
    return line, state


def down(workdir: Path) -> tuple[str, bool]:
    """Stop every process recorded in `workdir`; (a one-line summary, nothing left running)."""
    workdir = workdir.resolve()
    state = read_state(workdir)
    if state is None:
        return f"stack not running (no {workdir / STATE})", True
    live = _live(state)
    left = stop_pids(live)
    if left:
        return f"stack down: still running after SIGKILL: {', '.join(left)}", False
    (workdir / STATE).unlink(missing_ok=True)
    return f"stack down: {len(live)} processes stopped", True


def status(workdir: Path) -> tuple[str, bool]:
    state = read_state(workdir.resolve())
    if state is None:
        return "stack not running", False
    live = {name for name, _ in _live(state)}
    rows = [
        f"{p['name']:<13} pid {p['pid']:<8} {'running' if p['name'] in live else 'EXITED'}"
        for p in state["processes"]
    ]
    every = len(live) == len(state["processes"])
    head = f"stack at {state['url']}: {len(live)}/{len(state['processes'])} processes running"
    return "\n".join([head, *rows]), every


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="deploy/local/stack.py", description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["up", "down", "status"])
    ap.add_argument("--dir", type=Path, default=Path(os.environ.get("BOT_STACK_DIR", REPO / ".stack")))
    ap.add_argument("--database-url", default=os.environ.get("BOT_STACK_DATABASE_URL", DEFAULT_DATABASE))
    ap.add_argument("--redis-url", default=os.environ.get("BOT_STACK_REDIS_URL", DEFAULT_REDIS))
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--port", type=int, default=None, help="nginx's port (default 8080)")
    ap.add_argument("--free-ports", action="store_true", help="any free loopback ports, not the fixed ones")
    ap.add_argument(
        "--secrets-dir",
        type=Path,
        default=None,
        help="secret files: those deploy/alertmanager/alertmanager.yml reads from /run/secrets, and "
        f"optionally {SIGNING_KEY_SECRET} (default: <dir>/secrets)",
    )
    ap.add_argument("--rate-limit", default="5/second")
    ap.add_argument("--paper-data", default="sol-spot-1h")
    ap.add_argument("--paper-speed", default="36000", help="the paper node's speed (36000: 10 1h-bars/s)")
    ap.add_argument(
        "--paper-run-id",
        default="stack-paper",
        help="the paper node's run id: resumed if the database has it stopped or crashed",
    )
    ap.add_argument("--prometheus-config", type=Path, default=PROMETHEUS_CONFIG)
    ap.add_argument("--alertmanager-config", type=Path, default=ALERTMANAGER_CONFIG)
    a = ap.parse_args(argv)
    try:
        if a.action == "up":
            if not 1 <= a.replicas <= 16:
                raise StackError("--replicas must be in [1, 16]")
            options = Options(
                workdir=a.dir, database_url=a.database_url, redis_url=a.redis_url, replicas=a.replicas,
                free_ports=a.free_ports, port=a.port, secrets_dir=a.secrets_dir, rate_limit=a.rate_limit,
                paper_data=a.paper_data, paper_speed=a.paper_speed, paper_run_id=a.paper_run_id,
                prometheus_config=a.prometheus_config,
                alertmanager_config=a.alertmanager_config,
            )  # fmt: skip
            line, _ = up(options)
            print(line)
            return 0
        line, ok = down(a.dir) if a.action == "down" else status(a.dir)
        print(line)
        return 0 if ok else 1
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
