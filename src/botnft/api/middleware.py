"""Who is calling, and how often: the client-IP and rate-limit middleware `create_app` puts in its stack
(`build_middleware(settings)`).

Client IP: the socket's peer address, unless the peer is one of the trusted proxies (`trusted_proxies`:
addresses or networks, e.g. the nginx in front), in which case it is the right-most X-Forwarded-For
entry that is not itself a trusted proxy. A client talking to the app directly cannot choose its identity
by sending X-Forwarded-For; behind nginx (which overwrites the header with `$remote_addr`) neither can a
client talking to nginx. The address is left in `scope["state"]["client_ip"]` (`request.state.client_ip`)
for the rate limit, the login throttle and the audit log.

Rate limit: every HTTP request and WebSocket handshake counts against its client IP (`rate_limit`,
default 5/second, shared through Redis when `redis_url` is set: see `botnft.api.ratelimit`), except the
console's static files. Allowed responses carry `RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset` and `RateLimit-Policy`; a refused one is a 429 problem with `Retry-After`, or 503 with
`Retry-After` when the shared store is down and the call is a write (fail closed).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from botnft.api.problems import problem_response
from botnft.api.ratelimit import Decision, RateLimiter, build_limiter
from botnft.api.settings import ApiSettings
from botnft.domain.errors import UserError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

log = logging.getLogger("botnft.api")

EXEMPT_PREFIXES = ("/console/static/", "/docs/static/")
"""Paths the rate limit does not count: the console's and the API docs' own scripts and style sheets."""


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """`127.0.0.1`, `10.0.0.0/8`, `::1`: a one-line `UserError` for anything else."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise UserError(f"bad trusted proxy {entry!r}: give an IP address or a network") from None
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str | None:
    """The caller's address given the socket peer, the X-Forwarded-For header values (in order) and the
    trusted proxies. A malformed or absent header from a trusted proxy leaves the proxy's own address."""
    if peer is None:
        return None
    address = _ip(peer)
    if address is None or not _trusted(address, proxies):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        hop_address = _ip(hop)
        if hop_address is None:
            break
        if not _trusted(hop_address, proxies):
            return str(hop_address)
        address = hop_address
    return str(address)


class ClientIpMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[Network]) -> None:
        self.app = app
        self.proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            peer = client[0] if client else None
            headers = scope.get("headers", ())
            forwarded = [value.decode("latin-1") for name, value in headers if name == b"x-forwarded-for"]
            state = scope.setdefault("state", {})
            state["client_ip"] = client_address(peer, forwarded, self.proxies)
        await self.app(scope, receive, send)


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    headers = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_s),
        "RateLimit-Policy": f"{decision.limit};w={decision.window_s}",
    }
    if not decision.allowed:
        headers["Retry-After"] = str(max(1, decision.reset_s))
    return headers


class RateLimitMiddleware:
    """Counts each request against `scope["state"]["client_ip"]` (set by `ClientIpMiddleware`, outside)."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        client = scope.get("client")
        key = state.get("client_ip") or (client[0] if client else "unknown")
        method = scope.get("method", "GET") if scope["type"] == "http" else "GET"
        decision = await self.limiter.check(key, method)
        state["rate_limit"] = decision
        headers = rate_limit_headers(decision)
        if not decision.allowed:
            if decision.unavailable:
                response = problem_response(
                    503,
                    "the rate limit store is unreachable: write calls are refused until it is back",
                    kind="rate-limit-unavailable",
                    instance=scope["path"],
                    headers={"Retry-After": headers["Retry-After"]},
                )
            else:
                response = problem_response(
                    429,
                    f"more than {decision.limit} requests in {decision.window_s} s from this address",
                    kind="rate-limited",
                    instance=scope["path"],
                    headers=headers,
                )
            if scope["type"] == "websocket":
                await _refuse_websocket(scope, receive, send, response)
            else:
                await response(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in headers.items():
                    out[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send, response: ASGIApp) -> None:
    """The refusal as an HTTP response to the handshake where the server supports it, else a close before
    accept (the client sees 403)."""
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await response(scope, receive, send)  # Starlette sends it as websocket.http.response.*
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": "rate limited"})


def build_middleware(settings: ApiSettings) -> list[Middleware]:
    """The client-IP middleware, then the rate limit (one limiter per app: its Redis connections live on
    the app's event loop)."""
    proxies = parse_networks(settings.trusted_proxies)
    limiter = build_limiter(settings.rate_limit, settings.redis_url)
    where = "shared through Redis" if settings.redis_url else "kept by this process only (no redis_url)"
    log.info(
        "rate limit %s per client IP, %s; X-Forwarded-For believed from %s",
        settings.rate_limit,
        where,
        ", ".join(map(str, proxies)) or "no proxy",
    )
    if settings.workers > 1 and not settings.redis_url:
        log.warning("%d workers without redis_url: each keeps its own rate-limit window", settings.workers)
    return [
        Middleware(ClientIpMiddleware, trusted_proxies=proxies),
        Middleware(RateLimitMiddleware, limiter=limiter),
    ]
