"""Paper venues: the simulated venues behind a thin adapter that behaves like a real venue towards the
node, keeping and persisting their own state apart from the node's journal."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botnft.backtest.paper.state import crash_point, dumps, loads
from botnft.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO
from botnft.domain.orders import Order, OrderStatus
from botnft.domain.reports import FillReport, MassStatus, OrderStatusReport, PositionReport
from botnft.ports import BarArrays, SimulatedVenue, VenueEvent

S = OrderStatus


@dataclass(slots=True)
class OrderBookEntry:
    """One order as the venue knows it."""

    venue: str
    order: Order
    status: OrderStatus = S.SUBMITTED
    filled: Decimal = ZERO
    venue_order_id: str | None = None
    ts_ns: int = 0


@dataclass(slots=True)
class VenueRecord:
    """What the venue side remembers besides the venues' own state (persisted with it)."""

    last_bar_ts: dict[str, int] = field(default_factory=dict)  # venue -> last bar it processed
    cursor_ts: dict[str, int] = field(default_factory=dict)
    created: dict[str, list[Any]] = field(default_factory=dict)  # coid -> events create_order returned
    canceled: dict[str, list[Any]] = field(default_factory=dict)
    bar_events: dict[tuple[str, int], list[Any]] = field(default_factory=dict)
    executions: dict[str, int] = field(default_factory=dict)  # coid -> times the venue executed it
    orders: dict[str, OrderBookEntry] = field(default_factory=dict)
    trades: list[tuple[str, FillReport, OrderFilled]] = field(default_factory=list)  # venue, report, event

    def note(self, venue: str, events: Sequence[Any]) -> bool:
        """Update the order book and trade list from `events`; True when they hold a fill."""
        filled = False
        for ev in events:
            entry = self.orders.get(getattr(ev, "client_order_id", ""))
            if isinstance(ev, OrderFilled):
                filled = True
                n = len(self.trades) + 1
                trade_id = ev.trade_id or f"{venue}-T{n}"
                self.trades.append(
                    (venue, FillReport(
                        ev.ts_ns, trade_id, ev.client_order_id, None, ev.instrument, ev.side, ev.qty,
                        ev.price, ev.fee, ev.fee_asset, ev.liquidity,
                    ), ev)
                )  # fmt: skip
                if entry is not None:
                    entry.filled += ev.qty
                    entry.status = S.FILLED if entry.filled >= entry.order.amount else S.PARTIALLY_FILLED
            elif entry is None:
                continue
            elif isinstance(ev, OrderAccepted):
                entry.venue_order_id = ev.venue_order_id
                if entry.status is S.SUBMITTED:
                    entry.status = S.ACCEPTED
            elif isinstance(ev, OrderCanceled):
                entry.status = S.CANCELED
            elif isinstance(ev, OrderRejected):
                entry.status = S.REJECTED
            elif isinstance(ev, OrderExpired):
                entry.status = S.EXPIRED
            if entry is not None:
                entry.ts_ns = ev.ts_ns
        return filled


class PaperVenues:
    """The venue side of one paper run: every simulated venue, its record, and their persistence.

    It persists its state and record (all venues of a run together: the Solana venues share a wallet and
    pools) right after an order or a cancel, and after the node's turn on a bar that brought a fill
    (`settle`); `save(bar, version, blob)` may fail, and the venue
    goes on and saves at its next change, as a venue whose database hiccups would. A second
    `create_order` with a known client order id returns the order already made, never a second one; a
    bar the venue has processed is never processed again (a node replaying from an older snapshot gets
    the events the venue sent then, as a real venue's trade history gives them). The adapters also answer
    the reconciliation queries the simulated venues lack: `fetch_order`, `fetch_my_trades`, `mass_status`.
    """

    def __init__(self, venues: Mapping[str, SimulatedVenue], save: Callable[[int, int, bytes], None]) -> None:
        self.venues = dict(venues)
        self.record = VenueRecord()
        self.version = 0
        self.bar = -1  # the last bar the paper driver released to the venues
        self.dirty = False
        self.filled = False  # a bar's fill waits for `settle`
        self._save = save
        self.adapters = {name: PaperVenue(self, name) for name in self.venues}

    def state(self) -> bytes:
        return dumps((self.venues, self.record, self.bar))

    def restore(self, blob: bytes, version: int) -> None:
        """Take the venues' persisted state (their objects are replaced: the adapters follow)."""
        self.venues, self.record, self.bar = loads(blob)
        self.version = version

    def persist(self) -> None:
        self.version += 1
        self.dirty = True
        self.filled = False
        try:
            self._save(self.bar, self.version, self.state())
        except Exception:  # the database is away: saved at the next change or flush
            return
        self.dirty = False

    def settle(self) -> None:
        """After the node's turn on a bar: persist a fill the bar brought (funding waits for the next
        change). Not before the node's turn, so that the node's orders on the bar do not wait for it; a
        crash before it loses nothing: the venues' state is then the one before the bar, which they
        process again, as they did, when the node replays it."""
        if self.filled:
            self.persist()
            crash_point("venue-fill")

    def flush(self, *, force: bool = False) -> None:
        """Persist what is not saved yet (bars processed since, a save that failed; everything with
        `force`); raises while the database is away. Forced before every node snapshot: the venues'
        persisted state never trails the node's."""
        if self.dirty or force:
            self.filled = False
            self.version += 1
            self._save(self.bar, self.version, self.state())
            self.dirty = False

    def sends(self, client_order_id: str) -> int:
        return self.record.executions.get(client_order_id, 0)


class PaperVenue:
    """One venue as the node and the paper driver see it (the `SimulatedVenue` port plus reports)."""

    def __init__(self, side: PaperVenues, name: str) -> None:
        self.side = side
        self.name = name

    @property
    def raw(self) -> Any:
        return self.side.venues[self.name]

    @property
    def has(self) -> Mapping[str, bool]:
        return {**self.raw.has, "idempotentClientOrderId": True, "fetchOrder": True, "fetchMyTrades": True}

    @property
    def fee_rate(self) -> Decimal:
        return getattr(self.raw, "fee_rate", ZERO)

    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return self.raw.instruments()  # type: ignore[no-any-return]

    def liquidity(self, instrument: InstrumentId) -> Any:
        return self.raw.liquidity(instrument)

    # commands: exactly once per client order id ---------------------------------------------------
    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        rec = self.side.record
        coid = order.client_order_id
        if coid in rec.created:
            return list(rec.created[coid])  # the order already made, never a second one
        rec.orders[coid] = OrderBookEntry(self.name, order, ts_ns=order.ts_ns)
        events = list(self.raw.create_order(order))
        rec.created[coid] = events
        rec.executions[coid] = rec.executions.get(coid, 0) + 1
        filled = rec.note(self.name, events)
        self.side.persist()
        if filled:
            crash_point("venue-fill")
        return events

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        rec = self.side.record
        if client_order_id in rec.canceled:
            return list(rec.canceled[client_order_id])
        events = list(self.raw.cancel_order(client_order_id))
        rec.canceled[client_order_id] = events
        rec.note(self.name, events)
        self.side.persist()
        return events

    # the venue's own clock: bars it has processed are never processed again ------------------------
    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        if lo >= hi:
            return hi
        ts = int(bars.ts_ns[lo])
        if ts <= self.side.record.last_bar_ts.get(self.name, -1):
            return lo if (self.name, ts) in self.side.record.bar_events else hi
        return self.raw.next_event_index(bars, lo, hi)  # type: ignore[no-any-return]

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        rec = self.side.record
        ts = int(bars.ts_ns[j])
        if ts <= rec.last_bar_ts.get(self.name, -1):
            return list(rec.bar_events.get((self.name, ts), ()))
        events = list(self.raw.process(bars, j))
        rec.last_bar_ts[self.name] = ts
        self.side.dirty = True
        if events:
            rec.bar_events[(self.name, ts)] = events
            if rec.note(self.name, events):  # persisted by `settle` once the node has had the bar
                self.side.filled = True
        return events

    def set_cursor(self, bars: BarArrays, j: int) -> None:
        ts = int(bars.ts_ns[j])
        if ts <= self.side.record.cursor_ts.get(self.name, -1):
            return  # the node replays a bar the venue has seen: it does not go back in time
        self.side.record.cursor_ts[self.name] = ts
        self.side.dirty = True
        self.raw.set_cursor(bars, j)

    # queries ------------------------------------------------------------------------------------------
    def fetch_open_orders(self) -> Sequence[Order]:
        return self.raw.fetch_open_orders()  # type: ignore[no-any-return]

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return self.raw.fetch_positions()  # type: ignore[no-any-return]

    def fetch_balance(self) -> Mapping[str, Decimal]:
        return self.raw.fetch_balance()  # type: ignore[no-any-return]

    def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        entry = self.side.record.orders.get(client_order_id)
        if entry is None or entry.venue != self.name:
            return None
        o = entry.order
        return OrderStatusReport(
            entry.ts_ns, client_order_id, entry.venue_order_id, o.instrument, o.side, o.amount,
            min(entry.filled, o.amount), entry.status,
        )  # fmt: skip

    def fetch_order_reports(self) -> list[OrderStatusReport]:
        out = []
        for coid, entry in self.side.record.orders.items():
            if entry.venue == self.name:
                report = self.fetch_order(coid)
                assert report is not None
                out.append(report)
        return out

    def fetch_my_trades(self, since_ns: int | None = None) -> list[FillReport]:
        return [
            r
            for venue, r, _ in self.side.record.trades
            if venue == self.name and (since_ns is None or r.ts_ns >= since_ns)
        ]

    def fill_events(self) -> list[OrderFilled]:
        """The venue's own fill events, in order (its trade stream, replayed)."""
        return [ev for venue, _, ev in self.side.record.trades if venue == self.name]

    def position_reports(self, ts_ns: int) -> list[PositionReport]:
        return [PositionReport(ts_ns, i, qty) for i, qty in self.fetch_positions().items()]

    def mass_status(self, ts_ns: int) -> MassStatus:
        return MassStatus(
            self.name,
            ts_ns,
            tuple(self.fetch_order_reports()),
            tuple(self.fetch_my_trades()),
            tuple(self.position_reports(ts_ns)),
            tuple(self.fetch_balance().items()),
        )
