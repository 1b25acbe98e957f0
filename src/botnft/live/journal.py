"""The live node's journal (the `Journal` port) in the paper runs' store: every order event the order
manager applies, written before it acts on a venue (each venue command flushes it first), plus the marks
of each life of the run (its wire prefix and the balances it started from), read back at a restart."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botnft.backtest.paper.journal import render
from botnft.domain.events import OrderFilled, OrderSubmitted
from botnft.domain.orders import OrderStatus
from botnft.ports import Clock
from botnft.storage.journal import Entry, PaperStore

_CLOSING = {
    "OrderCanceled": OrderStatus.CANCELED,
    "OrderRejected": OrderStatus.REJECTED,
    "OrderExpired": OrderStatus.EXPIRED,
}


class LiveJournal:
    def __init__(
        self,
        store: PaperStore,
        run_id: str,
        clock: Clock,
        *,
        seq: int = 0,
        log: Callable[[str], None] = print,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.clock = clock
        self.seq = seq
        self.buffer: list[Entry] = []
        self.bars_done = 0
        self.last_event_ts: int | None = None
        self.log = log

    def append(self, event: object) -> None:
        self.record(type(event).__name__, int(getattr(event, "ts_ns", self.clock.now_ns())), event)

    def record(self, kind: str, ts_ns: int, obj: Any, payload: dict[str, Any] | None = None) -> None:
        self.seq += 1
        self.last_event_ts = ts_ns
        self.buffer.append((self.seq, ts_ns, kind, payload or render(obj), pickle.dumps(obj)))

    def flush(self) -> None:
        """Write what is buffered (and the run's progress) in one transaction; raises if the database is
        away, so nothing is sent whose intent is not written."""
        self.store.append(self.run_id, self.buffer, self.bars_done, self.last_event_ts)
        self.buffer = []


@dataclass(slots=True)
class JournaledOrder:
    """What the journal says of one order: its intent, the life (wire prefix) that sent it, its last
    journaled status and the trades the node applied."""

    prefix: str
    submitted: OrderSubmitted
    status: OrderStatus = OrderStatus.SUBMITTED
    trades: set[str] = field(default_factory=set)  # the venue's trade ids of the fills applied
    unnamed: int = 0  # fills applied without a trade id (a simulated venue's), in order
    filled: Decimal = Decimal(0)

    @property
    def wire_id(self) -> str:
        return self.prefix + self.submitted.client_order_id


@dataclass(slots=True)
class JournalView:
    """The journal of a run's earlier lives, read back."""

    lives: list[dict[str, Any]] = field(default_factory=list)  # each life's mark, in order
    orders: dict[str, JournaledOrder] = field(default_factory=dict)  # by wire id
    fills: list[tuple[str, OrderFilled]] = field(default_factory=list)  # (prefix, fill) in order
    last_seq: int = 0
    bars: int = 0
    last_bar_ts: int | None = None


def read_journal(store: PaperStore, run_id: str) -> JournalView:
    view = JournalView()
    prefix = ""
    by_node: dict[str, JournaledOrder] = {}
    for seq, _ts, kind, payload, data in store.entries(run_id):
        view.last_seq = seq
        if kind == "life":
            prefix = str(payload["prefix"])
            view.lives.append(dict(payload))
            by_node = {}
            continue
        if kind == "bar":
            view.bars += 1
            view.last_bar_ts = max(_ts, view.last_bar_ts or _ts)
            continue
        if data is None:
            continue
        if kind == "OrderSubmitted":
            ev = pickle.loads(data)
            rec = JournaledOrder(prefix, ev)
            by_node[ev.client_order_id] = view.orders[prefix + ev.client_order_id] = rec
            continue
        if kind == "OrderFilled":
            ev = pickle.loads(data)
            view.fills.append((prefix, ev))
            rec_f = by_node.get(ev.client_order_id)
            if rec_f is not None:
                if ev.trade_id:
                    rec_f.trades.add(ev.trade_id)
                else:
                    rec_f.unnamed += 1
                rec_f.filled += ev.qty
            continue
        status = _CLOSING.get(kind)
        coid = payload.get("client_order_id")
        if coid is not None and coid in by_node:
            rec_s = by_node[coid]
            if status is not None:
                rec_s.status = status
            elif kind == "OrderAccepted" and rec_s.status is OrderStatus.SUBMITTED:
                rec_s.status = OrderStatus.ACCEPTED
            elif kind == "OrderStatusUnknown":
                rec_s.status = OrderStatus.UNKNOWN
    return view
