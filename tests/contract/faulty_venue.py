"""A fault-injecting wrapper around any simulated VenueClient, driven by a seeded RNG: it refuses (429),
loses requests, times out after the order landed (a 5xx or no answer), acknowledges late, splits fills
into parts, repeats and reorders its stream, and lets a fill arrive after a cancel request.

What the inner venue did is the truth the node must end up agreeing with: the wrapper only delays,
repeats, reorders and splits the inner venue's own events, and answers `fetch_order` from them. One order
is kept: an order's closing event (canceled, expired, cancel refused) never overtakes its own fills, as a
venue's close carries the filled quantity and `OrderCanceled` has no field for it.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from botnft.domain.errors import NetworkError, RateLimited, RequestTimeout
from botnft.domain.events import (
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from botnft.domain.orders import Order, OrderStatus
from botnft.domain.reports import OrderStatusReport

S = OrderStatus
CLOSING = (OrderCanceled, OrderExpired, OrderCancelRejected)


@dataclass(frozen=True)
class Faults:
    """Probabilities per request (create, cancel, fetch) or per event."""

    refuse: float = 0.1  # 429: not at the venue
    lost: float = 0.05  # no answer, and the request never arrived
    timeout: float = 0.1  # no answer, but the order landed
    server_error: float = 0.05  # 5xx after the order landed
    late: float = 0.3  # the answer carries nothing: every event comes later on the stream
    partial: float = 0.4  # a fill arrives in two parts
    duplicate: float = 0.2  # an event is delivered twice
    reorder: float = 0.3  # a released batch of events arrives shuffled
    fetch_fails: float = 0.2  # fetch_order itself times out


class FaultyVenue:
    """Wraps `inner` (a simulated venue); everything it does not intercept is the inner venue's."""

    def __init__(self, inner: Any, rng: random.Random, faults: Faults | None = None) -> None:
        self.inner = inner
        self.rng = rng
        self.faults = faults if faults is not None else Faults()
        self.has = {**dict(inner.has), "fetchOrder": True}
        #: client order id -> times it reached the inner venue (must never exceed 1)
        self.landed: Counter[str] = Counter()
        self.orders: dict[str, Order] = {}
        self.status: dict[str, OrderStatus] = {}
        #: what the inner venue filled, per client order id, and every trade id it stands for
        self.filled: Counter[str] = Counter()
        self.trade_ids: set[str] = set()
        self.held: list[tuple[int, object]] = []  # (process calls still to wait, event)
        self.injected: Counter[str] = Counter()
        self._trades = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    # requests ---------------------------------------------------------------------------------------
    def create_order(self, order: Order) -> list[object]:
        f = self.faults
        r = self.rng.random()
        if r < f.refuse:
            self.injected["refuse"] += 1
            raise RateLimited("429 Too Many Requests")
        r -= f.refuse
        if r < f.lost:
            self.injected["lost"] += 1
            raise RequestTimeout("no answer (the request was lost)")
        r -= f.lost
        events = self._land(order)
        if r < f.timeout + f.server_error:
            self._hold(events)
            if r < f.timeout:
                self.injected["timeout"] += 1
                raise RequestTimeout("no answer (the order landed)")
            self.injected["server_error"] += 1
            raise NetworkError("503 Service Unavailable")
        if self.rng.random() < f.late:
            self.injected["late"] += 1
            self._hold(events)
            return []
        return events

    def cancel_order(self, client_order_id: str) -> list[object]:
        events = self._convert(list(self.inner.cancel_order(client_order_id)))
        if not events and self.status.get(client_order_id) is S.FILLED:
            # the order traded before the cancel reached it: the fills come, then the cancel is refused
            self.injected["fill_after_cancel"] += 1
            events = [OrderCancelRejected(self._ts(), client_order_id, "order already filled")]
        if events and (self._has_held_fills(client_order_id) or self.rng.random() < self.faults.late):
            self._hold(events)
            return []
        return events

    def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        if self.rng.random() < self.faults.fetch_fails:
            self.injected["fetch_fails"] += 1
            raise RequestTimeout("no answer to fetch_order")
        order = self.orders.get(client_order_id)
        if order is None:
            return None
        return OrderStatusReport(
            self._ts(),
            client_order_id,
            "V-" + client_order_id,
            order.instrument,
            order.side,
            order.amount,
            Decimal(self.filled[client_order_id]),
            self.status[client_order_id],
        )

    # the stream ---------------------------------------------------------------------------------------
    def next_event_index(self, bars: Any, lo: int, hi: int) -> int:
        k = self.inner.next_event_index(bars, lo, hi)
        return min(k, lo) if self.held else k

    def process(self, bars: Any, j: int) -> list[object]:
        out: list[object] = []
        if self.inner.next_event_index(bars, j, j + 1) == j:
            out += self._convert(list(self.inner.process(bars, j)))
            if out and self.rng.random() < self.faults.late:
                self._hold(out)
                out = []
        due = [e for wait, e in self.held if wait <= 1]
        self.held = [(wait - 1, e) for wait, e in self.held if wait > 1]
        out += self._deliver(due)
        return out

    def flush(self) -> list[object]:
        """Everything still held back (the end of a run: the stream catches up)."""
        due, self.held = [e for _, e in self.held], []
        return self._deliver(due)

    # internals ----------------------------------------------------------------------------------------
    def _land(self, order: Order) -> list[object]:
        coid = order.client_order_id
        self.landed[coid] += 1
        if self.landed[coid] > 1:
            return []  # an idempotent venue ignores a second copy; the test reports it was sent
        self.orders[coid] = order
        self.status[coid] = S.ACCEPTED
        return self._convert(list(self.inner.create_order(order)))

    def _convert(self, events: list[object]) -> list[object]:
        """Record what the inner venue said, give each fill a trade id and maybe split it in two."""
        out: list[object] = []
        for ev in events:
            coid = getattr(ev, "client_order_id", None)
            if isinstance(ev, OrderFilled) and coid in self.orders:
                self.filled[coid] += ev.qty
                if self.filled[coid] >= self.orders[coid].amount:
                    self.status[coid] = S.FILLED
                out += self._split(ev)
                continue
            if coid in self.orders and not self.status[coid].is_terminal:
                if isinstance(ev, OrderRejected):
                    self.status[coid] = S.REJECTED
                elif isinstance(ev, OrderCanceled):
                    self.status[coid] = S.CANCELED
                elif isinstance(ev, OrderExpired):
                    self.status[coid] = S.EXPIRED
            out.append(ev)
        return out

    def _split(self, fill: OrderFilled) -> list[OrderFilled]:
        lot = self.inner.instruments()[fill.instrument].lot_size
        half = (fill.qty / 2 / lot).to_integral_value(rounding=ROUND_DOWN) * lot
        if self.rng.random() >= self.faults.partial or half <= 0 or half >= fill.qty:
            return [self._traded(fill)]
        self.injected["partial"] += 1
        share = half / fill.qty
        fee1 = _part(fill.fee, share)
        quote1 = None if fill.quote_qty is None else _part(fill.quote_qty, share)
        first = dataclasses.replace(fill, qty=half, fee=fee1, quote_qty=quote1)
        second = dataclasses.replace(
            fill,
            qty=fill.qty - half,
            fee=fill.fee - fee1,
            quote_qty=None if fill.quote_qty is None or quote1 is None else fill.quote_qty - quote1,
        )
        return [self._traded(first), self._traded(second)]

    def _traded(self, fill: OrderFilled) -> OrderFilled:
        self._trades += 1
        trade_id = f"T{self._trades}"
        self.trade_ids.add(trade_id)
        return dataclasses.replace(fill, trade_id=trade_id)

    def _hold(self, events: list[object]) -> None:
        for ev in events:
            wait = self.rng.randint(1, 3)
            if isinstance(ev, CLOSING):  # not before the same order's fills
                coid = ev.client_order_id
                wait = max([wait, *(w for w, e in self.held if _fill_of(e, coid))])
            self.held.append((wait, ev))

    def _has_held_fills(self, coid: str) -> bool:
        return any(_fill_of(e, coid) for _, e in self.held)

    def _deliver(self, events: list[object]) -> list[object]:
        out: list[object] = []
        for ev in events:
            out.append(ev)
            if self.rng.random() < self.faults.duplicate:
                self.injected["duplicate"] += 1
                out.append(ev)
        if len(out) > 1 and self.rng.random() < self.faults.reorder:
            self.injected["reorder"] += 1
            self.rng.shuffle(out)
            filled = {e.client_order_id for e in out if isinstance(e, OrderFilled)}
            last = [e for e in out if isinstance(e, CLOSING) and e.client_order_id in filled]
            out = [e for e in out if not any(e is x for x in last)] + last
        return out

    def _ts(self) -> int:
        return int(getattr(self.inner, "now_ns", 0) or 0)


def _part(amount: Decimal, share: Decimal) -> Decimal:
    """`amount x share` on `amount`'s own decimal grid, rounded down: the two parts add up exactly."""
    exp = amount.as_tuple().exponent
    assert isinstance(exp, int)
    return (amount * share).quantize(Decimal(1).scaleb(exp), rounding=ROUND_DOWN)


def _fill_of(event: object, coid: str) -> bool:
    return isinstance(event, OrderFilled) and event.client_order_id == coid
