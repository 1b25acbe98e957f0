"""Paper and live nodes (`/v1/nodes`, the runs `bot paper` and `bot live` keep in the database): list,
status, positions, open orders (read); start a paper node or resume a stopped one, stop, kill (trade).

Kill is `bot kill`: the run's kill flag is set in the database; the node polls it, cancels its orders,
flattens through its risk gate and halts. Stop is the node's SIGTERM (cancel its orders, stop), sent only
to a node process on this host. Start runs `bot paper` as a process of its own (the API never trades)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from botnft.api.auth import Principal, require_scopes
from botnft.api.problems import ProblemError
from botnft.api.routes.common import AUTHED, AUTHED_404, AUTHED_404_409, Strict, blocking, iso, not_found
from botnft.api.routes.jobs import BacktestJobSpec, checked_spec
from botnft.domain.errors import UserError
from botnft.storage.journal import PaperStore

RUN_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
NodeId = Annotated[str, Field(pattern=RUN_ID)]
NodeKind = Literal["paper", "live"]
NodeStatus = Literal["running", "stopped", "killed", "finished", "crashed"]
#: journal kinds that change what is open
_CLOSING = {"OrderCanceled", "OrderRejected", "OrderExpired"}

router = APIRouter(prefix="/v1/nodes", tags=["nodes"])


class NodeOut(Strict):
    run_id: str
    kind: NodeKind
    status: NodeStatus
    bars_done: int
    last_event: str | None
    created_at: str | None
    kill_requested: bool


class NodeDetail(NodeOut):
    strategy: str | None
    data: str | None
    fills: int | None
    orders: int | None
    open_orders: int | None
    final_equity: str | None
    final_position: str | None
    halted: dict[str, str]
    summary: dict[str, Any] | None


class Positions(Strict):
    run_id: str
    positions: dict[str, dict[str, str]]
    venue_positions: dict[str, dict[str, str]]
    balances: dict[str, dict[str, str]]


class OpenOrder(Strict):
    client_order_id: str
    instrument: str | None
    side: str | None
    amount: str | None
    filled: str
    status: str
    submitted_ts_ns: int


class OpenOrders(Strict):
    run_id: str
    orders: list[OpenOrder]


class StartNode(Strict):
    """A new paper node: a backtest spec replayed at `speed` times the bars' own pace (null: as fast as it
    goes), journaled and killable."""

    spec: BacktestJobSpec = Field(default_factory=BacktestJobSpec)
    run_id: NodeId | None = None
    speed: float | None = Field(default=None, gt=0, le=1e9)


class Action(Strict):
    run_id: str
    status: NodeStatus
    detail: str


def _store(request: Request) -> PaperStore:
    store = getattr(request.app.state, "paper_store", None)
    if store is None:
        store = request.app.state.paper_store = PaperStore(request.app.state.engine)
    return store


def alive(pid: int | None) -> bool:
    """A process with this id runs on this host (not a zombie)."""
    if not pid or pid == os.getpid():
        return False
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rpartition(")")[2].split()[0] != "Z"
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _status(row: dict[str, Any]) -> Any:
    if row["status"] == "running" and row["pid"] and not alive(row["pid"]) and Path("/proc").is_dir():
        return "crashed"  # its process is gone: what `bot kill` would record
    return str(row["status"])


def _node(row: dict[str, Any]) -> dict[str, Any]:
    last = row["last_event_ts"]
    return {
        "run_id": row["run_id"],
        "kind": "live" if isinstance(row["spec"], dict) and row["spec"].get("live") else "paper",
        "status": _status(row),
        "bars_done": row["bars_done"] or 0,
        "last_event": None if last is None else iso(_from_ns(last)),
        "created_at": iso(row["created_at"]),
        "kill_requested": bool(row["kill_requested"]),
    }


def _from_ns(ts_ns: int) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)


def _plain_map(value: Any) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        return {}
    return {str(k): {str(a): str(q) for a, q in v.items()} for k, v in value.items() if isinstance(v, dict)}


async def _row(request: Request, run_id: str) -> dict[str, Any]:
    if not re.fullmatch(RUN_ID, run_id):
        raise not_found(f"node {run_id[:64]!r}")
    row = await blocking(_store(request).run, run_id)
    if row is None:
        raise not_found(f"node {run_id!r}")
    return row


@router.get("", response_model=list[NodeOut], responses=AUTHED, dependencies=[require_scopes("read")])
async def list_nodes(
    request: Request, status: NodeStatus | None = None, kind: NodeKind | None = None
) -> list[NodeOut]:
    """Paper and live runs, oldest first."""
    rows = [_node(r) for r in await blocking(_store(request).runs)]
    return [
        NodeOut(**n)
        for n in rows
        if (status is None or n["status"] == status) and (kind in (None, n["kind"]))
    ]


@router.get(
    "/{run_id}", response_model=NodeDetail, responses=AUTHED_404, dependencies=[require_scopes("read")]
)
async def node_status(request: Request, run_id: str) -> NodeDetail:
    """A node's state: what `bot status RUN_ID` shows, with its last saved summary."""
    row = await _row(request, run_id)
    s = dict(row["summary"] or {})
    spec = dict(row["spec"] or {})

    def count(name: str) -> int | None:
        value = s.get(name)
        return value if isinstance(value, int) else None

    return NodeDetail(
        **_node(row),
        strategy=spec.get("strategy"),
        data=spec.get("data"),
        fills=count("fills"),
        orders=count("orders"),
        open_orders=count("open_orders"),
        final_equity=None if s.get("final_equity") is None else str(s["final_equity"]),
        final_position=None if s.get("final_position") is None else str(s["final_position"]),
        halted={str(k): str(v) for k, v in dict(s.get("halted") or {}).items()},
        summary=s or None,
    )


@router.get(
    "/{run_id}/positions",
    response_model=Positions,
    responses=AUTHED_404,
    dependencies=[require_scopes("read")],
)
async def node_positions(request: Request, run_id: str) -> Positions:
    """Per venue: the node's positions (perps by instrument, spot holdings by asset), the venues' own
    view, and balances (live nodes), as of its last saved summary."""
    row = await _row(request, run_id)
    s = dict(row["summary"] or {})
    return Positions(
        run_id=run_id,
        positions=_plain_map(s.get("positions")),
        venue_positions=_plain_map(s.get("venue_positions")),
        balances=_plain_map(s.get("balances")),
    )


def open_orders(entries: list[Any]) -> list[dict[str, Any]]:
    """The orders the journal shows submitted and neither filled in full nor closed (canceled, rejected,
    expired), in the order they were submitted."""
    from decimal import Decimal

    orders: dict[str, dict[str, Any]] = {}
    for _seq, ts_ns, kind, payload, _data in entries:
        cid = payload.get("client_order_id") if isinstance(payload, dict) else None
        if not isinstance(cid, str):
            continue
        if kind == "OrderSubmitted":
            orders[cid] = {
                "client_order_id": cid,
                "instrument": payload.get("instrument"),
                "side": payload.get("side"),
                "amount": payload.get("amount"),
                "filled": Decimal(0),
                "status": "submitted",
                "submitted_ts_ns": int(ts_ns),
            }
        elif cid in orders and kind == "OrderAccepted":
            orders[cid]["status"] = "accepted"
        elif cid in orders and kind == "OrderFilled":
            order = orders[cid]
            order["filled"] += Decimal(str(payload.get("qty", "0")))
            amount = order["amount"]
            if amount is not None and order["filled"] >= Decimal(str(amount)):
                del orders[cid]
            else:
                order["status"] = "partially_filled"
        elif cid in orders and kind in _CLOSING:
            del orders[cid]
    return [{**o, "filled": str(o["filled"])} for o in orders.values()]


@router.get(
    "/{run_id}/orders",
    response_model=OpenOrders,
    responses=AUTHED_404,
    dependencies=[require_scopes("read")],
)
async def node_open_orders(request: Request, run_id: str) -> OpenOrders:
    """The node's open orders, folded from its journal (submitted, not filled in full, not closed)."""
    await _row(request, run_id)
    kinds = ("OrderSubmitted", "OrderAccepted", "OrderFilled", *_CLOSING)
    entries = await blocking(lambda: _store(request).entries(run_id, 0, kinds))
    return OpenOrders(run_id=run_id, orders=[OpenOrder(**o) for o in open_orders(entries)])


async def _wait_for(request: Request, run_id: str, until: float, leave: str = "running") -> dict[str, Any]:
    import anyio

    row = await _row(request, run_id)
    while _status(row) == leave and time.monotonic() < until:
        await anyio.sleep(0.05)
        row = await _row(request, run_id)
    return row


@router.post(
    "/{run_id}/kill", response_model=Action, responses=AUTHED_404_409, summary="The kill switch (bot kill)"
)
async def kill_node(
    request: Request,
    run_id: str,
    principal: Annotated[Principal, require_scopes("trade")],
    wait: Annotated[float, Query(ge=0, le=10, description="seconds to wait for the node to halt")] = 5.0,
) -> Action:
    """Flag the node's kill: it cancels every order, flattens and halts (within a second when running).
    The answer says whether it halted within `wait` seconds."""
    row = await _row(request, run_id)
    status = _status(row)
    if status == "crashed" and row["status"] == "running":
        await blocking(_store(request).set_status, run_id, "crashed")
    if status != "running":
        raise ProblemError(409, f"node {run_id} is {status}, not running", kind="not-running")
    await blocking(_store(request).request_kill, run_id)
    row = await _wait_for(request, run_id, time.monotonic() + wait)
    now = _status(row)
    return Action(
        run_id=run_id, status=now, detail="halted" if now != "running" else "kill flagged; not halted yet"
    )


@router.post("/{run_id}/stop", response_model=Action, responses=AUTHED_404_409, summary="Stop a node")
async def stop_node(
    request: Request,
    run_id: str,
    principal: Annotated[Principal, require_scopes("trade")],
    wait: Annotated[float, Query(ge=0, le=10)] = 5.0,
) -> Action:
    """Send the node's process SIGTERM (it cancels its orders and stops; resumable with start). Only a
    node running on this host can be stopped this way; kill works from anywhere."""
    row = await _row(request, run_id)
    status = _status(row)
    if status != "running":
        raise ProblemError(409, f"node {run_id} is {status}, not running", kind="not-running")
    try:
        os.kill(int(row["pid"]), signal.SIGTERM)
    except (ProcessLookupError, PermissionError, TypeError):
        raise ProblemError(
            409, f"node {run_id}'s process is not one this server can signal; use kill", kind="not-local"
        ) from None
    row = await _wait_for(request, run_id, time.monotonic() + wait)
    now = _status(row)
    return Action(
        run_id=run_id, status=now, detail="stopped" if now != "running" else "stop sent; still running"
    )


def _spawn(request: Request, args: list[str], run_id: str) -> None:
    settings = request.app.state.settings
    folder = settings.key_dir().parent / "nodes"
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BOT_DATABASE_URL": settings.resolved_database_url()}
    with open(folder / f"{run_id}.log", "ab") as log:
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "botnft.cli",
                "paper",
                *args,
                "--metrics-port",
                "0",
                "--log-format",
                "json",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def _paper_args(spec: dict[str, Any], run_id: str, speed: float | None) -> list[str]:
    args = ["--run-id", run_id, "--speed", "max" if speed is None else repr(speed), "--json"]
    flags = {
        "data": "--data",
        "strategy": "--strategy",
        "venue": "--venue",
        "route": "--route",
        "vehicle": "--vehicle",
        "fee_bps": "--fee-bps",
        "size": "--size",
        "cash_fraction": "--cash-fraction",
        "cash": "--cash",
    }
    for key, flag in flags.items():
        if spec.get(key) is not None:
            args += [flag, str(spec[key])]
    if spec.get("fill_given"):
        args += ["--fill", str(spec["fill"])]
    for key in ("start", "end"):
        if spec.get(key):
            args += [f"--{key}", str(spec[key])[:10]]
    if spec.get("venues"):
        args += ["--venues", ",".join(spec["venues"])]
    for key, value in dict(spec.get("params") or {}).items():
        args += ["--param", f"{key}={value}"]
    return [*args, "--seed", str(spec.get("seed", 0))]


async def _started(request: Request, run_id: str, until: float) -> dict[str, Any] | None:
    import anyio

    while time.monotonic() < until:
        row = await blocking(_store(request).run, run_id)
        if row is not None and row["status"] == "running" and row["pid"]:
            return row
        await anyio.sleep(0.1)
    return None


@router.post(
    "", status_code=202, response_model=Action, responses=AUTHED_404_409, summary="Start a paper node"
)
async def start_node(
    request: Request, body: StartNode, principal: Annotated[Principal, require_scopes("trade")]
) -> Action:
    """Start `bot paper` with this spec as a process of its own; answers once the run is in the database
    (or after 20 s, with status stopped and the reason in the node's log)."""
    import secrets
    from datetime import UTC, datetime

    import anyio

    try:
        spec = await anyio.to_thread.run_sync(checked_spec, body.spec)
    except UserError as error:
        raise ProblemError(422, str(error), kind="invalid-spec") from None
    run_id = body.run_id or f"paper-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    if await blocking(_store(request).run, run_id) is not None:
        raise ProblemError(409, f"a node {run_id!r} exists already", kind="exists")
    _spawn(request, _paper_args(spec, run_id, body.speed), run_id)
    row = await _started(request, run_id, time.monotonic() + 20)
    if row is None:
        return Action(run_id=run_id, status="stopped", detail="the node did not start; see its log")
    return Action(run_id=run_id, status=_status(row), detail="started")


@router.post("/{run_id}/start", response_model=Action, responses=AUTHED_404_409, summary="Resume a node")
async def resume_node(
    request: Request, run_id: str, principal: Annotated[Principal, require_scopes("trade")]
) -> Action:
    """Resume a stopped or crashed paper node (`bot paper --resume`) as a process of its own. A live
    node is resumed with `bot live --resume` (its venue settings and keys are not the API's)."""
    row = await _row(request, run_id)
    node = _node(row)
    if node["kind"] == "live":
        raise ProblemError(409, f"node {run_id} is live: resume it with bot live --resume", kind="live-node")
    if node["status"] not in ("stopped", "crashed"):
        raise ProblemError(409, f"node {run_id} is {node['status']}: nothing to resume", kind="not-resumable")
    speed = dict(row["summary"] or {}).get("speed")
    args = ["--resume", run_id, "--speed", str(speed) if speed is not None else "max", "--json"]
    before = row["pid"]
    _spawn(request, args, run_id)

    async def restarted() -> dict[str, Any] | None:
        import anyio

        until = time.monotonic() + 20
        while time.monotonic() < until:
            now = await blocking(_store(request).run, run_id)
            if now is not None and now["status"] == "running" and now["pid"] != before:
                return now
            await anyio.sleep(0.1)
        return None

    now = await restarted()
    if now is None:
        return Action(run_id=run_id, status=node["status"], detail="the node did not start; see its log")
    return Action(run_id=run_id, status=_status(now), detail="resumed")
