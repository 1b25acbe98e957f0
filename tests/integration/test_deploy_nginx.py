"""Production nginx (deploy/nginx/nginx.conf.j2 with deploy/render_stack.py's values), on loopback with
Debian's nginx: the committed nginx.stack.conf is a fresh render; `nginx -t` passes on the same render with
only the addresses, paths and DNS re-resolution swapped for local ones; then, served for real in front of
two upstreams (one dead) with a self-signed certificate generated here: every request succeeds (failover),
the client address is CF-Connecting-IP only from a listed peer, one copy of each security header, HSTS,
413 for a body over the limit, 301 from plain HTTP."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
sys.path.insert(0, str(REPO / "deploy"))
sys.path.insert(0, str(REPO / "deploy" / "nginx"))

import render_stack  # noqa: E402
from topology import render  # noqa: E402

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(tmp: Path) -> dict[str, str]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return {"cert": str(cert), "key": str(key)}


def local_values(tmp: Path, upstreams: list[str], **extra: Any) -> dict[str, Any]:
    values = render_stack.stack_values()
    values.update(
        prefix=str(tmp),
        user=None,
        error_log_path=str(tmp / "logs" / "error.log"),
        access_log_path=str(tmp / "logs" / "access.log"),
        listen=f"127.0.0.1:{free_port()}",
        http_listen=f"127.0.0.1:{free_port()}",
        tls=self_signed(tmp),
        upstreams=upstreams,
        resolver=None,  # Debian's nginx 1.22 has no `server ... resolve` (1.27.3+); the stack's image has
        **extra,
    )
    (tmp / "logs").mkdir(exist_ok=True)
    (tmp / "temp").mkdir(exist_ok=True)
    return values


def test_the_committed_stack_config_is_a_fresh_render() -> None:
    done = subprocess.run([sys.executable, str(REPO / "deploy" / "render_stack.py"), "--check"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_local_render_differs_from_the_stack_only_in_addresses_paths_and_dns(tmp_path: Path) -> None:
    stack = (REPO / "deploy" / "nginx" / "nginx.stack.conf").read_text().splitlines()
    local = render(**local_values(tmp_path, ["127.0.0.1:9"])).splitlines()
    allowed = ("user ", "pid ", "error_log ", "access_log ", "_temp_path ", "listen ", "ssl_certificate",
               "server ", "resolver", "zone api", "# replicas by name")  # fmt: skip
    only_stack = [x for x in stack if x not in local]
    only_local = [x for x in local if x not in stack]
    for line in only_stack + only_local:
        assert any(line.strip().startswith(a) or a in line for a in allowed), line


def test_nginx_t_accepts_the_production_render(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(**local_values(tmp_path, ["127.0.0.1:9", "127.0.0.1:10"])))
    done = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr


class Echo(BaseHTTPRequestHandler):
    """Answers with the X-Forwarded-For nginx sent, and a security header of its own (to be replaced)."""

    def do_GET(self) -> None:
        body = json.dumps({"xff": self.headers.get("X-Forwarded-For")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    backend = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    dead = f"127.0.0.1:{free_port()}"  # nothing listens: a replica that died
    values = local_values(
        tmp_path,
        [dead, f"127.0.0.1:{backend.server_address[1]}"],
        cloudflare_ranges=["127.0.0.2/32"],  # the peer that stands for Cloudflare
        edge_rate=1000,
        edge_burst=1000,
        max_body="64k",
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(**values))
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    port = int(values["listen"].rsplit(":", 1)[1])
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.05)
    try:
        yield {"port": port, "http_port": int(values["http_listen"].rsplit(":", 1)[1])}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        backend.shutdown()


def https(port: int, path: str, source: str = "127.0.0.1", method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:  # fmt: skip
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def test_served_failover_real_ip_headers_limits_redirect(served: dict[str, Any]) -> None:
    port = served["port"]
    # one upstream is dead: every request still succeeds (the next upstream is tried)
    for _ in range(10):
        status, _, _ = https(port, "/v1/health")
        assert status == 200
    # CF-Connecting-IP believed from the listed peer only
    _, _, body = https(port, "/", source="127.0.0.2", headers={"CF-Connecting-IP": "203.0.113.7"})
    assert json.loads(body)["xff"] == "203.0.113.7"
    _, _, body = https(port, "/", source="127.0.0.3", headers={"CF-Connecting-IP": "203.0.113.7"})
    assert json.loads(body)["xff"] == "127.0.0.3"
    _, _, body = https(port, "/", source="127.0.0.3", headers={"X-Forwarded-For": "203.0.113.9"})
    assert json.loads(body)["xff"] == "127.0.0.3"
    # security headers: one copy each, the edge's
    status, headers, _ = https(port, "/")
    assert headers.get_all("X-Frame-Options") == ["DENY"]
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
    assert headers.get_all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
    # request size limit
    status, headers, _ = https(port, "/upload", method="POST", body=b"x" * 100_000)
    assert status == 413
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
    # plain HTTP answers 301 to https
    conn = http.client.HTTPConnection("127.0.0.1", served["http_port"], timeout=10)
    conn.request("GET", "/v1/health?x=1", headers={"Host": "bot.example"})
    r = conn.getresponse()
    assert r.status == 301 and r.headers["Location"] == "https://bot.example/v1/health?x=1"
    conn.close()
