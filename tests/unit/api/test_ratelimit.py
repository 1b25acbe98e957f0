"""The rate limit (the shared test settings raise it; these tests set it back to 5/s): 5 requests/s per
client IP shared through Redis by every replica (two apps on one Redis stand for two replicas), the client
IP from X-Forwarded-For only behind a trusted proxy, the headers, and Redis down (a closed port): writes
refused with 503, reads limited per replica.

Expected counts are the limit's own arithmetic (5 per moving second), not the limiter's output."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from limits.aio.storage import MemoryStorage
from limits.errors import StorageError
from starlette.testclient import WebSocketDenialResponse

from botnft.api.app import create_app
from botnft.api.middleware import client_address, parse_networks
from botnft.api.ratelimit import RateLimiter, parse_limit, redis_storage_uri
from botnft.api.settings import ApiSettings
from botnft.domain.errors import UserError

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMIT = 5


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fresh_ip() -> str:
    """A client address no other test (or earlier run within the window) used: keys live in a shared Redis."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def clients(make_settings: Callable[..., ApiSettings]) -> Iterator[Callable[..., TestClient]]:
    with ExitStack() as stack:

        def open_client(ip: str, **settings: object) -> TestClient:
            app = create_app(make_settings(**{"rate_limit": f"{LIMIT}/second", **settings}))
            return stack.enter_context(TestClient(app, raise_server_exceptions=False, client=(ip, 40000)))

        yield open_client


# -- client IP ----------------------------------------------------------------------------------------


def test_client_ip_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    proxies = parse_networks(["127.0.0.1", "10.1.0.0/16"])
    assert client_address("203.0.113.9", ["1.2.3.4"], proxies) == "203.0.113.9"  # not a proxy: ignored
    assert client_address("127.0.0.1", ["1.2.3.4"], proxies) == "1.2.3.4"
    assert client_address("127.0.0.1", [], proxies) == "127.0.0.1"  # no header: the proxy itself
    # a chain: the right-most hop that is not a trusted proxy (the left ones are the client's to forge)
    assert client_address("127.0.0.1", ["6.6.6.6, 198.51.100.7, 10.1.2.3"], proxies) == "198.51.100.7"
    assert client_address("127.0.0.1", ["6.6.6.6", "198.51.100.7"], proxies) == "198.51.100.7"
    assert client_address("127.0.0.1", ["not-an-ip"], proxies) == "127.0.0.1"
    assert client_address("127.0.0.1", ["[2001:db8::1]:443"], proxies) == "2001:db8::1"
    with pytest.raises(UserError, match="bad trusted proxy"):
        parse_networks(["nginx"])


def test_limit_and_url_parsing() -> None:
    item = parse_limit("5/second")
    assert (item.amount, item.get_expiry()) == (5, 1)
    with pytest.raises(UserError, match="bad rate limit"):
        parse_limit("five a second")
    assert redis_storage_uri("redis://h:1/2") == "async+redis://h:1/2"
    with pytest.raises(UserError, match="bad redis_url"):
        redis_storage_uri("http://h")


# -- the limit through Redis ----------------------------------------------------------------------------


@needs_redis
def test_counts_headers_and_window(clients: Callable[..., TestClient]) -> None:
    ip = _fresh_ip()
    client = clients(ip, redis_url=REDIS_URL)
    answers = [client.get("/v1/health") for _ in range(LIMIT + 2)]
    assert [a.status_code for a in answers] == [200] * LIMIT + [429, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:LIMIT]] == ["4", "3", "2", "1", "0"]
    assert all(a.headers["RateLimit-Limit"] == "5" for a in answers)
    assert answers[0].headers["RateLimit-Policy"] == "5;w=1"
    refused = answers[-1]
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert refused.json()["type"].endswith("/rate-limited")
    time.sleep(1.05)  # the first five leave the moving window
    assert client.get("/v1/health").status_code == 200


@needs_redis
def test_replicas_share_one_limit(clients: Callable[..., TestClient]) -> None:
    ip = _fresh_ip()
    replicas = [clients(ip, redis_url=REDIS_URL, replica=f"r{i}") for i in range(3)]
    statuses = [replicas[i % 3].get("/v1/health").status_code for i in range(12)]
    assert statuses.count(200) == LIMIT  # not 3 x 5: the window lives in Redis
    # the same three replicas without Redis: each keeps its own window (the contrast)
    alone = [clients(ip, replica=f"m{i}") for i in range(3)]
    statuses = [alone[i % 3].get("/v1/health").status_code for i in range(12)]
    assert statuses.count(200) == 12


@needs_redis
def test_forwarded_for_is_believed_only_from_a_trusted_proxy(clients: Callable[..., TestClient]) -> None:
    proxy = _fresh_ip()
    behind = clients(proxy, redis_url=REDIS_URL, trusted_proxies=(proxy,))
    # two clients behind the proxy: separate windows
    a, b = _fresh_ip(), _fresh_ip()
    for who in (a, b):
        statuses = [behind.get("/v1/health", headers={"X-Forwarded-For": who}).status_code for _ in range(6)]
        assert statuses == [200] * LIMIT + [429]
    # a direct client (not trusted) rotating forged headers stays one key
    direct = clients(_fresh_ip(), redis_url=REDIS_URL, trusted_proxies=(proxy,))
    statuses = [
        direct.get("/v1/health", headers={"X-Forwarded-For": _fresh_ip()}).status_code for _ in range(7)
    ]
    assert statuses == [200] * LIMIT + [429, 429]


@needs_redis
def test_writes_count_too(clients: Callable[..., TestClient]) -> None:
    client = clients(_fresh_ip(), redis_url=REDIS_URL)
    form = {"grant_type": "password", "username": "nobody", "password": "x" * 12}
    statuses = [client.post("/v1/auth/token", data=form).status_code for _ in range(LIMIT + 1)]
    assert 429 not in statuses[:LIMIT] and statuses[LIMIT] == 429


# -- Redis down -----------------------------------------------------------------------------------------


def test_redis_down_reads_degrade_per_replica_writes_fail_closed(clients: Callable[..., TestClient]) -> None:
    down = f"redis://127.0.0.1:{_closed_port()}/0"
    ip = _fresh_ip()
    replicas = [clients(ip, redis_url=down, replica=f"r{i}") for i in range(2)]
    statuses = [replicas[i % 2].get("/v1/health").status_code for i in range(14)]
    assert statuses.count(200) == 2 * LIMIT  # each replica's own window: 5 each
    assert set(statuses) == {200, 429}
    form = {"grant_type": "password", "username": "nobody", "password": "x" * 12}
    refused = replicas[0].post("/v1/auth/token", data=form)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["type"].endswith("/rate-limit-unavailable")
    # nothing was written: the refusal comes before the route and the audit log
    assert replicas[0].app.state.audit.entries() == []  # type: ignore[attr-defined]


def test_without_redis_the_limit_is_per_replica_and_writes_pass(clients: Callable[..., TestClient]) -> None:
    client = clients(_fresh_ip())
    form = {"grant_type": "password", "username": "nobody", "password": "x" * 12}
    assert client.post("/v1/auth/token", data=form).status_code in (400, 401)
    statuses = [client.get("/v1/health").status_code for _ in range(LIMIT + 1)]
    assert statuses == [200] * (LIMIT - 1) + [429, 429]  # the POST counted


def test_websocket_handshake_is_limited(make_settings: Callable[..., ApiSettings]) -> None:
    app: FastAPI = create_app(make_settings(rate_limit=f"{LIMIT}/second"))

    @app.websocket("/v1/ws/probe")
    async def probe(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app, client=(_fresh_ip(), 1)) as client:
        for _ in range(LIMIT):
            with client.websocket_connect("/v1/ws/probe") as ws:
                assert ws.receive_text() == "hi"
        with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect("/v1/ws/probe"):
            pass
        assert refused.value.status_code == 429
        assert refused.value.headers["Retry-After"] == "1"


class FlakyStore(MemoryStorage):
    """A memory store that can be switched off (a stand-in for Redis going away and coming back)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls = 0

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        self.calls += 1
        if self.down:
            raise StorageError(ConnectionError("down"))
        return await super().acquire_entry(key, limit, expiry, amount)


def test_store_down_then_back() -> None:
    store = FlakyStore()
    now = [0.0]
    limiter = RateLimiter(parse_limit("5/second"), store, retry_s=2.0, monotonic=lambda: now[0])

    async def scenario() -> None:
        first = await limiter.check("a", "GET")
        assert first.allowed and not first.degraded and first.remaining == 4
        store.down = True
        write = await limiter.check("a", "POST")
        assert (write.allowed, write.unavailable, write.reset_s) == (False, True, 2)
        calls = store.calls
        reads = [await limiter.check("a", "GET") for _ in range(6)]
        assert [r.allowed for r in reads] == [True] * 5 + [False]  # this replica's own window
        assert all(r.degraded for r in reads)
        assert store.calls == calls  # not asked again before retry_s
        now[0] = 2.5
        store.down = False
        back = await limiter.check("a", "POST")
        assert back.allowed and not back.degraded and back.remaining == 3  # the shared window kept its 1
        assert limiter.shared_failures == 1

    asyncio.run(scenario())
