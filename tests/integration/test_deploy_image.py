"""What the image runs besides the bot, without a Docker engine: the entrypoint turns the database password
secret into the URL (quoted, so any character survives) and execs the command; the health probe answers
0/1 for a healthy, failing or absent endpoint; a paper node serves its metrics on BOT_METRICS_HOST (the
stack sets 0.0.0.0 so that Prometheus reaches it over the overlay network)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "deploy" / "docker" / "entrypoint.py"
HEALTH = REPO / "deploy" / "docker" / "healthcheck.py"
PRINT_URLS = "import os; print(os.environ['BOT_DATABASE_URL']); print(os.environ.get('BOT_API_DATABASE_URL'))"


def entry(tmp: Path, password: str | None, *cmd: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    if password is not None:
        secret = tmp / "postgres_password"
        secret.write_text(password)
        full["BOT_DATABASE_PASSWORD_FILE"] = str(secret)
    full.update(env)
    return subprocess.run([sys.executable, str(ENTRYPOINT), *cmd], capture_output=True, text=True, env=full,
                          timeout=30)  # fmt: skip


def test_the_password_lands_quoted_in_the_urls(tmp_path: Path) -> None:
    raw = "p@ss:/w rd%?#\n"  # the secret file's trailing newline is not part of it
    url = "postgresql+psycopg://bot:__PASSWORD__@postgres:5432/bot"
    done = entry(
        tmp_path, raw, sys.executable, "-c", PRINT_URLS, BOT_DATABASE_URL=url, BOT_API_DATABASE_URL=url
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == second == "postgresql+psycopg://bot:p%40ss%3A%2Fw%20rd%25%3F%23@postgres:5432/bot"
    parsed = sa.engine.make_url(first)
    assert (parsed.password, parsed.host, parsed.database) == ("p@ss:/w rd%?#", "postgres", "bot")


def test_without_a_secret_the_environment_is_left_alone(tmp_path: Path) -> None:
    done = entry(tmp_path, None, sys.executable, "-c", PRINT_URLS, BOT_DATABASE_URL="sqlite:///x.db")
    assert done.stdout.splitlines() == ["sqlite:///x.db", "None"]


@pytest.mark.parametrize(("password", "says"), [("", "is empty"), ("\n", "is empty")])
def test_an_empty_secret_is_one_line_and_exit_2(tmp_path: Path, password: str, says: str) -> None:
    done = entry(tmp_path, password, "true", BOT_DATABASE_URL="postgresql://bot:__PASSWORD__@h/bot")
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_missing_secret_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = entry(tmp_path, None, "true", BOT_DATABASE_PASSWORD_FILE=str(tmp_path / "nope"))
    assert done.returncode == 2 and "No such file" in done.stderr and len(done.stderr.splitlines()) == 1


class Status(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = int(self.path.strip("/") or 200)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Status)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield int(srv.server_address[1])
    finally:
        srv.shutdown()


def probe(url: str) -> int:
    env = {**os.environ, "BOT_HEALTH_URL": url, "BOT_HEALTH_TIMEOUT_S": "2"}
    return subprocess.run([sys.executable, str(HEALTH)], env=env, capture_output=True, timeout=30).returncode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_health_probe(server: int) -> None:
    assert probe(f"http://127.0.0.1:{server}/200") == 0
    assert probe(f"http://127.0.0.1:{server}/503") == 1
    assert probe(f"http://127.0.0.1:{free_port()}/") == 1
    assert probe("none") == 0  # pid 1 of this machine is alive


def test_a_paper_node_serves_metrics_on_bot_metrics_host(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "BOT_METRICS_HOST": "127.0.0.2"}
    args = ["paper", "--db-url", f"sqlite:///{tmp_path / 'bot.db'}", "--speed", "1",
            "--metrics-port", str(port), "--start", "2024-03-01", "--end", "2024-03-08"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "botnft.cli", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        body = b""
        while time.monotonic() < deadline and not body:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.2:{port}/metrics", timeout=1) as r:
                    body = r.read()
            except OSError:
                time.sleep(0.2)
        assert b"bot_" in body
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
