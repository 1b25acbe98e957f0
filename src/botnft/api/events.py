"""The event stream (`/v1/ws/events?node=RUN_ID`): a node's fills, orders, risk state and equity as JSON
messages over a WebSocket, to clients holding an access token with the read scope.

The token comes in the `token` query parameter or, when there is none, in the first message
(`{"token": "..."}`, within 10 s). A refused client is closed with 4401 (no or bad token), 4403 (no read
scope) or 4404 (no such node); a stream is closed with 4401 when its token expires. The server follows
the node's journal and run row (every `poll_s`):

- `{"type": "hello", "node", "status", "after"}` once;
- `{"type": "order" | "fill" | "risk", "seq", "ts_ns", "kind", "data"}` per journal entry after `after`
  (default: the journal's end when the client connected; `after=0` sends the history first);
- `{"type": "status", "status", "kill_requested", "halted", "bars_done"}` when any of them changes;
- `{"type": "equity", "equity", "position"}` when the node's last saved equity changes.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from sqlalchemy import Table, func, select

from botnft.storage.errors import StorageError
from botnft.storage.journal import PaperStore
from botnft.storage.tables import JournalEntry

ENTRIES: Table = JournalEntry.__table__  # type: ignore[assignment]
ORDER_KINDS = frozenset(
    {
        "OrderSubmitted",
        "OrderAccepted",
        "OrderCanceled",
        "OrderRejected",
        "OrderExpired",
        "OrderPendingCancel",
        "OrderCancelRejected",
        "OrderSubmitRefused",
        "OrderStatusUnknown",
    }
)
FILL_KINDS = frozenset({"OrderFilled", "PositionLiquidated", "FundingApplied", "BankruptcyResolved"})
RISK_KINDS = frozenset({"kill", "reconcile", "divergence"})
KINDS = ORDER_KINDS | FILL_KINDS | RISK_KINDS
#: journal entries sent per poll at most (a long history goes out in several rounds)
BATCH = 500
AUTH_TIMEOUT_S = 10.0

router = APIRouter(tags=["events"])


def _type_of(kind: str) -> str:
    if kind in FILL_KINDS:
        return "fill"
    if kind in RISK_KINDS:
        return "risk"
    return "order"


def _last_seq(store: PaperStore, run_id: str) -> int:
    with store.engine.connect() as connection:
        value = connection.execute(select(func.max(ENTRIES.c.seq)).where(ENTRIES.c.run_id == run_id)).scalar()
    return int(value or 0)


def _entries(store: PaperStore, run_id: str, after: int) -> list[Any]:
    return store.entries(run_id, after, KINDS)[:BATCH]


async def _authorise(websocket: WebSocket, token: str | None) -> str | None:
    """Accept the socket and check its token; the token, or None (closed) when refused."""
    await websocket.accept()
    if not token:
        try:
            with anyio.fail_after(AUTH_TIMEOUT_S):
                first = await websocket.receive_text()
            message = json.loads(first)
            token = message.get("token") if isinstance(message, dict) else None
        except (TimeoutError, ValueError, WebSocketDisconnect):
            token = None
    principal = websocket.app.state.tokens.verify_access(token) if isinstance(token, str) and token else None
    if principal is None:
        await websocket.close(code=4401, reason="an access token is required")
        return None
    if "read" not in principal.scopes:
        await websocket.close(code=4403, reason="this stream needs the scope read")
        return None
    return str(token)


def _status(row: dict[str, Any]) -> dict[str, Any]:
    summary = dict(row["summary"] or {})
    return {
        "type": "status",
        "status": row["status"],
        "kill_requested": bool(row["kill_requested"]),
        "halted": {str(k): str(v) for k, v in dict(summary.get("halted") or {}).items()},
        "bars_done": row["bars_done"] or 0,
    }


def _equity(row: dict[str, Any]) -> dict[str, Any] | None:
    summary = dict(row["summary"] or {})
    if summary.get("final_equity") is None:
        return None
    position = summary.get("final_position")
    return {
        "type": "equity",
        "equity": str(summary["final_equity"]),
        "position": None if position is None else str(position),
    }


@router.websocket("/v1/ws/events")
async def events(
    websocket: WebSocket,
    node: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")],
    token: Annotated[str | None, Query(max_length=4096)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    poll_s: Annotated[float, Query(ge=0.05, le=10)] = 0.25,
) -> None:
    token = await _authorise(websocket, token)
    if token is None:
        return
    store = PaperStore(websocket.app.state.engine)
    try:
        row = await anyio.to_thread.run_sync(store.run, node)
        if row is None:
            await websocket.close(code=4404, reason=f"no node {node}")
            return
        seq = after if after is not None else await anyio.to_thread.run_sync(_last_seq, store, node)
        await websocket.send_json({"type": "hello", "node": node, "status": row["status"], "after": seq})
        said: dict[str, Any] = {}
        async with anyio.create_task_group() as group:

            async def watch_disconnect() -> None:
                try:
                    while True:
                        await websocket.receive_text()
                except WebSocketDisconnect:
                    pass
                group.cancel_scope.cancel()

            group.start_soon(watch_disconnect)
            while True:
                if websocket.app.state.tokens.verify_access(token) is None:
                    await websocket.close(code=4401, reason="the access token expired")
                    group.cancel_scope.cancel()
                    break
                entries = await anyio.to_thread.run_sync(_entries, store, node, seq)
                for entry_seq, ts_ns, kind, payload, _data in entries:
                    message = {"type": _type_of(kind), "seq": entry_seq, "ts_ns": ts_ns, "kind": kind}
                    await websocket.send_json({**message, "data": payload})
                    seq = entry_seq
                now = await anyio.to_thread.run_sync(store.run, node)
                if now is not None:
                    for update in (_status(now), _equity(now)):
                        if update is not None and said.get(update["type"]) != update:
                            said[update["type"]] = update
                            await websocket.send_json(update)
                if len(entries) < BATCH:
                    await anyio.sleep(poll_s)
    except StorageError:
        await websocket.close(code=1011, reason="the database is unavailable")
    except (WebSocketDisconnect, RuntimeError):
        return
