"""The local API topology on loopback: nginx (Debian's /usr/sbin/nginx, a foreground child with its own
prefix, pid, logs and temp files in a temporary folder, never port 80) in front of N `bot serve` replicas
sharing one database (SQLite in the folder, or `database=` a URL), one signing key and one Redis. Used by
bench/api_ratelimit.py, bench/api_load.py, the nginx integration tests and deploy/local/stack.py (which
adds the other services with `spawn`); every process it starts is stopped by its pid.

    with Topology(Path(tmp), replicas=3) as topo:
        topo.url          # http://127.0.0.1:<nginx port>
        topo.replica_urls # the replicas, directly

Ports left at 0 are picked free; a port given that is already taken is a `TopologyError` naming it.

`render(**values)` renders nginx.conf.j2 (also: `python deploy/nginx/topology.py --render ...`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEMPLATE = HERE / "nginx.conf.j2"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BOT = str(Path(sys.executable).with_name("bot"))

DEFAULTS: dict[str, Any] = {
    "worker_processes": 1,
    "worker_connections": 4096,
    "error_log_level": "error",
    "access_log": False,
    "edge_rate": 10,
    "edge_burst": 20,
    "proxy_bind": None,
}


def render(**values: Any) -> str:
    """nginx.conf for `listen` (host:port), `upstreams` (host:port list) and `prefix` (a folder), with
    `edge_rate` (r/s per client address, 0: no edge limit), `edge_burst`, `proxy_bind` and the rest of
    DEFAULTS overridable."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template(TEMPLATE.name).render(**{**DEFAULTS, **values})


class TopologyError(RuntimeError):
    """A process of the topology could not start (one line naming what)."""


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Something listens on `port` (as a server would bind it: SO_REUSEADDR, so the TIME_WAIT
    connections a stopped server leaves do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def http_get(host: str, port: int, path: str, timeout: float = 2.0) -> tuple[int, dict[str, str], bytes]:
    """A one-shot HTTP/1.1 GET (no client library: this runs in any interpreter)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
    }
    return int(lines[0].split()[1]), headers, body


def wait_http(port: int, path: str, deadline_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    end = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise TopologyError(f"process exited with {proc.returncode} before answering on port {port}")
        try:
            status, _, _ = http_get("127.0.0.1", port, path, timeout=1.0)
            if status < 500:
                return
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise TopologyError(f"nothing answered on 127.0.0.1:{port}{path} within {deadline_s} s ({last})")


@dataclass
class Topology:
    """nginx + `replicas` × `bot serve` on 127.0.0.1, in `workdir` (created; left for inspection)."""

    workdir: Path
    replicas: int = 3
    rate_limit: str = "5/second"
    redis_url: str | None = "redis://127.0.0.1:6379/0"
    edge_rate: int = DEFAULTS["edge_rate"]
    edge_burst: int = DEFAULTS["edge_burst"]
    #: nginx connects to the replicas from this address, the only one they trust for X-Forwarded-For
    proxy_bind: str = "127.0.0.254"
    nginx_workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    #: the nginx port and the replicas' ports (0 / empty: free ones)
    port: int = 0
    replica_ports: list[int] = field(default_factory=list)
    #: a database URL shared by everything; None: SQLite in the folder
    database: str | None = None
    #: a folder of secret files (`bot_api_signing_key`, ...); None: the signing key is made in the folder
    secrets_dir: Path | None = None
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _names: dict[int, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def replica_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.replica_ports]

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.workdir / 'bot.sqlite'}"

    @property
    def processes(self) -> list[tuple[str, int]]:
        """(name, pid) of every process started and not yet stopped, in start order."""
        return [(self._names[proc.pid], proc.pid) for proc in self._procs]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        env.update(
            {
                "BOT_CONFIG": str(self.workdir / "bot.toml"),
                "BOT_DATABASE_URL": self.database_url,
                "BOT_API_DATABASE_URL": self.database_url,
                "BOT_API_DATA_DIR": str(self.workdir / "data"),
                "BOT_API_RATE_LIMIT": self.rate_limit,
                "BOT_API_TRUSTED_PROXIES": self.proxy_bind,
                "BOT_API_SECRETS_DIR": str(self.secrets_dir or self.workdir / "no-secrets"),
                "BOT_API_ARGON2_TIME_COST": "1",
                "BOT_API_ARGON2_MEMORY_KIB": "8192",
            }
        )
        if self.redis_url:
            env["BOT_API_REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def bot(self, *args: str, stdin: str | None = None) -> str:
        """Run a `bot` command against this topology's database (e.g. `user add`); its stdout."""
        done = subprocess.run(
            [BOT, *args],
            check=False,
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.workdir,
            timeout=120,
        )
        if done.returncode != 0:
            raise TopologyError(
                f"bot {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}"
            )
        return done.stdout

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start `argv` in its own session (stopped with the topology), output to logs/<name>.log."""
        with (self.workdir / "logs" / f"{name}.log").open("wb") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env if env is not None else self.env(),
                cwd=self.workdir,
                start_new_session=True,
            )
        self._procs.append(proc)
        self._names[proc.pid] = name
        return proc

    def _ports(self) -> None:
        if not self.replica_ports:
            self.replica_ports = [free_port() for _ in range(self.replicas)]
        if len(self.replica_ports) != self.replicas:
            raise TopologyError(
                f"{self.replicas} replicas need {self.replicas} ports, not {self.replica_ports}"
            )
        self.port = self.port or free_port()
        for what, port in [("nginx", self.port)] + [
            (f"replica {i + 1}", p) for i, p in enumerate(self.replica_ports)
        ]:
            if port_taken(port):
                raise TopologyError(f"port 127.0.0.1:{port} ({what}) is already in use")

    def start(self) -> Topology:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self._ports()
        (self.workdir / "bot.toml").touch()  # the defaults, never the repository's file
        self.bot("db", "upgrade")
        # one signing key for every replica, made before they start (they would race to create it)
        subprocess.run(
            [sys.executable, "-c", "from botnft.api.settings import load_api_settings as s;"
             "from botnft.api.auth.keys import load_keyring as k; k(s())"],
            env=self.env(), cwd=self.workdir, check=True, timeout=60,
        )  # fmt: skip
        for index, port in enumerate(self.replica_ports, start=1):
            env = {**self.env(), "BOT_API_REPLICA": f"r{index}"}
            self.spawn(f"replica{index}", [BOT, "serve", "--port", str(port)], env)
        for proc, port in zip(self._procs, self.replica_ports, strict=True):
            wait_http(port, "/v1/health", 60, proc)
        prefix = self.workdir / "nginx"
        for sub in ("logs", "temp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(
            render(
                listen=f"127.0.0.1:{self.port}",
                upstreams=[f"127.0.0.1:{port}" for port in self.replica_ports],
                prefix=str(prefix),
                edge_rate=self.edge_rate,
                edge_burst=self.edge_burst,
                proxy_bind=self.proxy_bind,
                worker_processes=self.nginx_workers,
            )
        )
        check = subprocess.run(
            [NGINX, "-t", "-q", "-c", str(conf), "-p", str(prefix)],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check.returncode != 0:
            raise TopologyError(f"nginx -t refused {conf}: {check.stderr.strip()}")
        nginx = self.spawn("nginx", [NGINX, "-c", str(conf), "-p", str(prefix)])
        wait_http(self.port, "/v1/health", 30, nginx)
        return self

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT if self._names.get(proc.pid) == "nginx" else signal.SIGTERM)
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self._procs.clear()

    def detach(self) -> None:
        """Forget the processes without stopping them (they run on; stop them by pid, `stop_pids`)."""
        self._procs.clear()

    def __enter__(self) -> Topology:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def running(pid: int) -> bool:
    """`pid` exists and is not a zombie (an exited child nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def group_members(pgid: int) -> list[int]:
    """The running processes of process group `pgid` (a spawned process and its own children)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                found.append(int(entry))
    return found


def stop_pids(pids: list[tuple[str, int]], timeout_s: float = 15.0) -> list[str]:
    """Stop processes a topology started (each leads its own process group), by pid, after the topology
    object is gone: SIGTERM to each (nginx: SIGQUIT, its graceful stop), last started first; whatever
    is left of their groups after `timeout_s` gets SIGKILL. The names of those still running are
    returned (none, normally)."""
    for name, pid in reversed(pids):
        if running(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and any(group_members(pid) for _, pid in pids):
        time.sleep(0.1)
    for _, pid in pids:
        if group_members(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    end = time.monotonic() + 5
    while time.monotonic() < end and any(group_members(pid) for _, pid in pids):
        time.sleep(0.1)
    return [name for name, pid in pids if group_members(pid)]


def main() -> None:
    ap = argparse.ArgumentParser(description="Render nginx.conf for the local topology.")
    ap.add_argument("--listen", default="127.0.0.1:8080")
    ap.add_argument("--upstream", action="append", default=[], help="host:port of a replica (repeat)")
    ap.add_argument("--prefix", required=True, help="nginx prefix folder (pid, logs, temp files)")
    ap.add_argument("--edge-rate", type=int, default=DEFAULTS["edge_rate"], help="r/s per address; 0: none")
    ap.add_argument("--edge-burst", type=int, default=DEFAULTS["edge_burst"])
    ap.add_argument("--proxy-bind", default=None)
    a = ap.parse_args()
    upstreams = a.upstream or ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"]
    sys.stdout.write(
        render(
            listen=a.listen,
            upstreams=upstreams,
            prefix=a.prefix,
            edge_rate=a.edge_rate,
            edge_burst=a.edge_burst,
            proxy_bind=a.proxy_bind,
        )
    )


if __name__ == "__main__":
    main()
