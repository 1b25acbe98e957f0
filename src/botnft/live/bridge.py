"""The bridge from the synchronous node to an async venue adapter (`ExecutionClient`).

`LiveVenue` is the venue as the node's order manager sees it (the `VenueClient` port): a command flushes
the journal first (the intent is on disk before anything is sent), then runs on the venues' loop and waits
for the venue's acknowledgement with a deadline. Past the deadline the order manager marks the order
UNKNOWN and asks the venue with `fetch_order` (by client order id), never sending it again blindly.

Whatever happens to an order afterwards (accepted, fills, cancel, expiry, rejection) is learnt from the
venue's reports by `EventPump`: it polls the orders it tracks (`fetch_order`) and the account's trades
(`fetch_my_trades`), and hands the domain events the node already handles to the node's thread through a
queue, per order in the order accepted -> fills -> closed. A fill is identified by its trade id, so one
seen twice is sent once (and the order manager drops a repeat anyway).
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botnft.domain.events import OrderAccepted, OrderCanceled, OrderExpired, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO
from botnft.domain.orders import Order, OrderStatus, OrderType
from botnft.domain.reports import FillReport, MassStatus, OrderStatusReport
from botnft.live.io import IoLoop
from botnft.ports import BarArrays, ExecutionClient, VenueEvent

S = OrderStatus

#: (kind, venue name, payload) items the node's thread takes from the inbox
Inbox = queue.Queue[tuple[str, str, Any]]


def fill_event(report: FillReport) -> OrderFilled:
    """A venue's trade report as the node's fill event (its trade id keeps a repeat from counting twice)."""
    return OrderFilled(
        report.ts_ns, report.client_order_id, report.instrument, report.side, report.qty, report.price,
        report.fee, report.fee_asset, report.liquidity, trade_id=report.trade_id,
    )  # fmt: skip


def closing_event(report: OrderStatusReport) -> VenueEvent | None:
    """The event that closes an order the venue reports closed without (more) fills."""
    coid, ts = report.client_order_id, report.ts_ns
    if report.status is S.CANCELED:
        return OrderCanceled(ts, coid, "canceled")
    if report.status is S.EXPIRED:
        return OrderExpired(ts, coid)
    if report.status is S.REJECTED:
        return OrderRejected(ts, coid, report.instrument, "rejected", "the venue reports it rejected")
    return None


@dataclass(slots=True)
class Tracked:
    """An order the pump follows until the venue reports it closed and every fill of it was seen."""

    instrument: InstrumentId
    accepted: bool = False
    filled: Decimal = ZERO
    trades: set[str] = field(default_factory=set)


class LiveVenue:
    """One live venue for the node (sync), over `client` (async) on `io`'s loop. `before_send` runs before
    every command (the journal's flush); `timeout_s` bounds each call."""

    def __init__(
        self,
        client: ExecutionClient,
        io: IoLoop,
        inbox: Inbox,
        *,
        before_send: Callable[[], None] = lambda: None,
        timeout_s: float = 10.0,
        name: str | None = None,
        quoter: Callable[[InstrumentId], Awaitable[Any]] | None = None,
    ) -> None:
        self.client = client
        self.quoter = quoter
        self.io = io
        self.inbox = inbox
        self.before_send = before_send
        self.timeout_s = timeout_s
        self.name: str = name or client.name  # the venue of its instruments' ids, which the node routes by
        self.tracked: dict[str, Tracked] = {}
        self.lock = threading.Lock()
        self.sent: list[str] = []  # client order ids of every create request, in order (for the summary)
        self._instruments: Mapping[InstrumentId, Instrument] | None = None

    @property
    def has(self) -> Mapping[str, bool]:
        return self.client.has

    @property
    def streams(self) -> bool:
        """The adapter delivers its orders' events itself (`stream()`); else the pump polls for them."""
        return callable(getattr(self.client, "stream", None))

    @property
    def fee_rate(self) -> Decimal:
        return Decimal(getattr(self.client, "fee_rate", ZERO))

    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        if self._instruments is None:
            self._instruments = dict(self.client.instruments())
        return self._instruments

    def liquidity(self, instrument: InstrumentId) -> Any:
        """The venue's liquidity snapshot for the router: from `quoter` (its book, or a ladder of its
        quotes: botnft.live.quotes), else the adapter's own `liquidity` (sync or async), else None."""
        if self.quoter is not None:
            return self.io.call(_awaited(self.quoter(instrument)), self.timeout_s)
        get = getattr(self.client, "liquidity", None)
        if get is None:
            return None
        value = get(instrument)
        if inspect.isawaitable(value):
            return self.io.call(_awaited(value), self.timeout_s)
        return value

    def _call(self, coro: Any) -> Any:
        return self.io.call(coro, self.timeout_s)

    # commands ---------------------------------------------------------------------------------------
    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        """Send `order` (after the journal holds its intent); the venue's events come from the pump.
        A timeout raises `RequestTimeout` (the order manager asks with `fetch_order`); a rejection
        raises `Rejected`."""
        self.before_send()
        self.track(order.client_order_id, order.instrument)
        self.sent.append(order.client_order_id)
        try:
            ack = self._call(self.client.create_order(order))
        except Exception as exc:
            if not _maybe_sent(exc):
                self.untrack(order.client_order_id)
            raise
        if ack.venue_order_id is not None and not self.streams:
            self.put(OrderAccepted(ack.ts_ns, order.client_order_id, ack.venue_order_id))
        return []

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        self.before_send()
        self._call(self.client.cancel_order(client_order_id))
        return []  # OrderCanceled (or a last fill) comes from the pump

    # queries ----------------------------------------------------------------------------------------
    def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        report: OrderStatusReport | None = self._call(self.client.fetch_order(client_order_id))
        if report is not None and report.status is not S.REJECTED:
            self.track(client_order_id, report.instrument)  # its fills and close come from the pump
        return report

    def fetch_open_orders(self) -> Sequence[Order]:
        reports = self._call(self.client.fetch_open_orders())
        return [_order(r) for r in reports]

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return {p.instrument: p.qty for p in self._call(self.client.fetch_positions())}

    def fetch_balance(self) -> Mapping[str, Decimal]:
        return dict(self._call(self.client.fetch_balance()))

    def mass_status(self, since_ns: int | None = None) -> MassStatus:
        status: MassStatus = self._call(self.client.mass_status(since_ns))
        return status

    # the bar driver steps simulated venues; a live venue works on its own -----------------------------
    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        return hi

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        return ()

    def set_cursor(self, bars: BarArrays, j: int) -> None:
        return None

    # tracking ---------------------------------------------------------------------------------------
    def track(self, client_order_id: str, instrument: InstrumentId) -> None:
        with self.lock:
            self.tracked.setdefault(client_order_id, Tracked(instrument))

    def untrack(self, client_order_id: str) -> None:
        with self.lock:
            self.tracked.pop(client_order_id, None)

    def put(self, event: object) -> None:
        self.inbox.put(("event", self.name, event))


async def _awaited(value: Any) -> Any:
    return await value


def _maybe_sent(exc: BaseException) -> bool:
    """True when the request may have reached the venue (no answer), so the order stays tracked."""
    from botnft.domain.errors import RateLimited, Rejected, Retryable

    return isinstance(exc, Retryable) and not isinstance(exc, RateLimited | Rejected)


def _order(r: OrderStatusReport) -> Order:
    order = Order(r.client_order_id, r.instrument, r.side, r.amount, r.ts_ns, order_type=OrderType.MARKET)
    order.status = r.status
    order.filled = r.filled
    order.venue_order_id = r.venue_order_id
    return order


class EventPump:
    """Puts `venue`'s order events in the inbox: the adapter's own `stream()` where it has one, else
    polls the tracked orders and the trades every `poll_s`."""

    def __init__(self, venue: LiveVenue, *, poll_s: float = 0.2, since_ns: int | None = None) -> None:
        self.venue = venue
        self.poll_s = poll_s
        self.since_ns = since_ns
        self.errors = 0
        self.last_error: str | None = None

    async def run(self) -> None:
        if self.venue.streams:
            await self._relay()
            return
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a Retryable or a bug in an adapter: say so, keep polling
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.venue.inbox.put(("warning", self.venue.name, self.last_error))
            await asyncio.sleep(self.poll_s)

    async def _relay(self) -> None:
        while True:
            try:
                async for event in self.venue.client.stream():  # type: ignore[attr-defined]
                    self.venue.put(event)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream broke: say so and open it again
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.venue.inbox.put(("warning", self.venue.name, self.last_error))
                await asyncio.sleep(self.poll_s)

    async def poll(self) -> int:
        """One round; returns how many events it put in the inbox."""
        venue, client = self.venue, self.venue.client
        with venue.lock:
            wanted = list(venue.tracked)
        if not wanted:
            return 0
        reports: dict[str, OrderStatusReport | None] = {}
        for coid in wanted:
            reports[coid] = await client.fetch_order(coid)
        by_trades = client.has.get("fetchMyTrades", True)
        trades = await client.fetch_my_trades(self.since_ns) if by_trades else ()
        by_order: dict[str, list[FillReport]] = {}
        for t in sorted(trades, key=lambda t: (t.ts_ns, t.trade_id)):
            by_order.setdefault(t.client_order_id, []).append(t)
        sent = 0
        for coid in wanted:
            report = reports[coid]
            with venue.lock:
                track = venue.tracked.get(coid)
            if report is None or track is None:
                continue  # not at the venue (yet): the order manager resolves an unknown order itself
            events: list[object] = []
            if not track.accepted and report.status is not S.SUBMITTED and report.status is not S.REJECTED:
                track.accepted = True
                events.append(OrderAccepted(report.ts_ns, coid, report.venue_order_id or coid))
            for t in by_order.get(coid, ()):
                if t.trade_id not in track.trades:
                    track.trades.add(t.trade_id)
                    track.filled += t.qty
                    events.append(fill_event(t))
            if not by_trades and report.filled > track.filled and report.average is not None:
                # a venue without a trade history: the report's cumulative fill is the fill
                qty, track.filled = report.filled - track.filled, report.filled
                events.append(OrderFilled(
                    report.ts_ns, coid, report.instrument, report.side, qty, report.average, ZERO, "",
                    trade_id=f"{coid}:{report.filled}",
                ))  # fmt: skip
            if report.status.is_terminal and track.filled >= report.filled:
                closing = closing_event(report)
                if closing is not None:
                    events.append(closing)
                venue.untrack(coid)
            for ev in events:
                venue.put(ev)
            sent += len(events)
        return sent
