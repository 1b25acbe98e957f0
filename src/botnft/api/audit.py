"""The audit log: one row per state-changing call (POST, PUT, PATCH, DELETE) — who, what, when, from
where, and the result — written by `AuditMiddleware` for every route, and by `AuditLog.record` for actions
outside HTTP (the `bot user` commands). Never holds a request body, so never a password or token.

A route may add to its row: `request.state.audit_principal` (who, when no token authenticated the call,
e.g. the user name a login tried) and `request.state.audit_detail` (a small JSON-able dict).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import Engine, insert, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from botnft.storage.tables import AuditEntry

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = logging.getLogger("botnft.api.audit")


class AuditLog:
    def __init__(self, engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._engine = engine
        self._now = now

    def record(
        self,
        *,
        principal: str | None,
        action: str,
        method: str,
        path: str,
        client_ip: str | None,
        status: int,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                insert(AuditEntry).values(
                    at=self._now(),
                    principal=principal[:80] if principal else None,
                    action=action[:200],
                    method=method[:10],
                    path=path[:500],
                    client_ip=client_ip[:64] if client_ip else None,
                    status=status,
                    detail=detail,
                )
            )

    def entries(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest entries first (for the admin routes and the tests)."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()
        return [
            {
                "at": row.at,
                "principal": row.principal,
                "action": row.action,
                "method": row.method,
                "path": row.path,
                "client_ip": row.client_ip,
                "status": row.status,
                "detail": row.detail,
            }
            for row in rows
        ]


def _who(state: dict[str, Any]) -> str | None:
    principal = state.get("principal")
    if principal is not None:
        return str(principal.subject)
    fallback = state.get("audit_principal")
    return str(fallback) if fallback else None


class AuditMiddleware:
    """Records every state-changing HTTP call after its response (including refusals: 401, 403, 422)."""

    def __init__(self, app: ASGIApp, audit: AuditLog) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            await self._write(scope, status)

    async def _write(self, scope: Scope, status: int) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        route = scope.get("route")
        template = getattr(route, "path", None) or scope["path"]
        client = scope.get("client")
        ip = state.get("client_ip") or (client[0] if client else None)
        detail = state.get("audit_detail")
        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(
                    lambda: self.audit.record(
                        principal=_who(state),
                        action=f"{scope['method']} {template}",
                        method=scope["method"],
                        path=scope["path"],
                        client_ip=ip,
                        status=status,
                        detail=detail if isinstance(detail, dict) else None,
                    )
                )
        except Exception as exc:  # the call is done; a lost audit row is logged, never the request body
            log.error("audit row not written for %s %s: %s", scope["method"], template, type(exc).__name__)
