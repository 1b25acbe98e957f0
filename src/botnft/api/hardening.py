"""Request hardening as plain ASGI middleware: a request body size limit (413), a request time limit
(503 once exceeded), and security headers on every response (CSP, nosniff, frame-ancestors and
X-Frame-Options, Referrer-Policy, HSTS when the connection is TLS or the setting says the proxy is)."""

from __future__ import annotations

import logging
from typing import Any

import anyio
from fastapi import HTTPException
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from botnft.api.problems import problem_response

API_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (  # Swagger UI / ReDoc from the app's own files; a page adds its inline script's hash
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000; includeSubDomains"

log = logging.getLogger("botnft.api")


class BodyTooLarge(HTTPException):
    """Raised while a body is read past the limit: FastAPI re-raises HTTPExceptions as they are."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuses a body larger than `limit` bytes: at once from Content-Length, or while it streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    status = 413 if declared > self.limit else 400
                    detail = (
                        f"the request body is larger than {self.limit} bytes"
                        if status == 413
                        else "bad Content-Length"
                    )
                    await problem_response(status, detail, instance=scope["path"])(scope, receive, send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)


class TimeLimitMiddleware:
    """Answers 503 when a request's handler has not started its response within `seconds`. Streaming
    responses and WebSockets are not cut once started. Work in a worker thread runs on, unanswered."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        timed_out = False
        with anyio.move_on_after(self.seconds) as cancel:
            await self.app(scope, receive, tracking)
        if cancel.cancelled_caught:
            timed_out = True
        if timed_out and not started:
            response = problem_response(
                503,
                f"the request took longer than {self.seconds:g} s",
                kind="timeout",
                instance=scope["path"],
            )
            await response(scope, receive, send)


class SecurityHeadersMiddleware:
    """Security headers on every HTTP response. Being the outermost layer, it also turns an unexpected
    error from any layer below into the plain 500 problem (with the headers), logged server-side."""

    def __init__(self, app: ASGIApp, *, hsts: bool, replica: str | None = None) -> None:
        self.app = app
        self.hsts = hsts
        self.replica = replica

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOCS_PATHS)
        tls = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _set_default(headers, "Content-Security-Policy", DOCS_CSP if docs else API_CSP)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                if self.hsts or tls:
                    headers["Strict-Transport-Security"] = HSTS
                if self.replica:
                    headers["X-Replica"] = self.replica
            await send(message)

        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await with_headers(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:  # a bug below: logged here, answered as a bare 500 that keeps the headers
            if started:
                raise
            log.error("unhandled error on %s %s", scope.get("method"), scope["path"], exc_info=exc)
            response = problem_response(500, "an internal error occurred", instance=scope["path"])
            await response(scope, receive, with_headers)


def _set_default(headers: MutableHeaders, name: str, value: Any) -> None:
    if name not in headers:  # a page (the console) may send a stricter or more specific policy
        headers[name] = value


class RedactQueryFilter(logging.Filter):
    """Drops the query string from uvicorn's access-log lines: a WebSocket `?token=` must never be logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?[redacted]", *args[3:])
        return True
