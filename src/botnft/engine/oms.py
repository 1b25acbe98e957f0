"""The order manager: client order ids, idempotent submission, and the one place order state changes.

Every order event passes through `apply()`, which writes it to the journal *before* it changes the order,
so a crash can be recovered by replaying the journal; a duplicate or stale event (a fill delivered twice,
an ack after the fill) is recognised there and changes nothing. `submit()` is idempotent on the client
order id. A refused request (rate limit) is re-sent with the same id after a backoff with jitter; a request
without an answer makes the order UNKNOWN, resolved by asking the venue (`fetch_order`), never by resending
blindly (DESIGN C3, §3b).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from botnft.domain.errors import RateLimited, Rejected, Retryable
from botnft.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitRefused,
    OrderSubmitted,
)
from botnft.domain.orders import TRANSITIONS, Order, OrderStatus
from botnft.domain.reports import OrderStatusReport
from botnft.ports import Clock, Journal, VenueClient, VenueEvent

S = OrderStatus
_WORKING = frozenset({S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED, S.PENDING_CANCEL})


class _NullJournal:
    __slots__ = ()

    def append(self, event: object) -> None:
        return None


class OrderManager:
    __slots__ = (
        "_attempts",
        "_clock",
        "_journal",
        "_orders",
        "_publish",
        "_rng",
        "_trades",
        "_venues",
        "backoff_cap_ns",
        "backoff_ns",
        "max_retries",
        "retries",
    )

    def __init__(
        self,
        publish: Callable[[object], None],
        journal: Journal | None = None,
        *,
        max_retries: int = 3,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        backoff_ns: int = 250_000_000,
        backoff_cap_ns: int = 30_000_000_000,
    ) -> None:
        """Without a `clock`, retries happen at once (a simulated venue never asks us to wait); with one,
        the n-th retry waits a random time in [d/2, d], d = min(cap, backoff x 2^(n-1)), drawn from `rng`
        (seeded by the caller, DESIGN C4)."""
        self._publish = publish
        self._journal: Journal = journal if journal is not None else _NullJournal()
        self._orders: dict[str, Order] = {}
        self._venues: dict[str, VenueClient] = {}
        self._attempts: dict[str, int] = {}
        self._trades: set[tuple[str, str]] = set()
        self._clock = clock
        self._rng = rng if rng is not None else random.Random(0)
        self.max_retries = max_retries
        self.backoff_ns = backoff_ns
        self.backoff_cap_ns = backoff_cap_ns
        self.retries = 0

    # queries --------------------------------------------------------------------------------------
    def get(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def open_orders(self) -> list[Order]:
        return [o for o in self._orders.values() if o.status.is_open]

    def orders(self) -> list[Order]:
        return list(self._orders.values())

    # commands -------------------------------------------------------------------------------------
    def submit(self, order: Order, venue: VenueClient) -> bool:
        """Send `order` to `venue`. Returns False (and sends nothing) if this client order id was seen."""
        coid = order.client_order_id
        if coid in self._orders:
            return False
        self._orders[coid] = order
        self._venues[coid] = venue
        self._attempts[coid] = 0
        self._send(order)
        return True

    def reject(self, order: Order, reason: str, message: str) -> None:
        """Record an order refused before it reached a venue (e.g. by the risk gate)."""
        self._orders.setdefault(order.client_order_id, order)
        self._publish(OrderRejected(order.ts_ns, order.client_order_id, order.instrument, reason, message))

    def cancel(self, order: Order, reason: str = "canceled") -> None:
        """Ask the venue to cancel `order`. It stays PENDING_CANCEL (and may still fill) until the venue
        confirms; an order not yet at the venue (waiting for its retry) is cancelled here at once."""
        coid = order.client_order_id
        status = order.status
        if status is S.PENDING_SUBMIT:
            self._publish(OrderCanceled(self._now(order), coid, reason))
            return
        if status is S.PENDING_CANCEL or (status not in _WORKING and status is not S.SUBMITTED):
            return  # a cancel is on its way; or closed, or unknown: nothing to cancel until resolved
        self.apply(OrderPendingCancel(self._now(order), coid, reason))
        self._cancel(order)

    def _cancel(self, order: Order) -> None:
        coid = order.client_order_id
        try:
            events = self._venues[coid].cancel_order(coid)
        except Retryable:
            self.retries += 1
            self._later(order, "cancel", lambda: self._cancel_again(coid))
            return
        except Rejected as exc:
            events = [OrderCancelRejected(self._now(order), coid, str(exc))]
        for ev in events:
            self._publish(ev)

    def _cancel_again(self, coid: str) -> None:
        order = self._orders[coid]
        if order.status is S.PENDING_CANCEL:
            self._cancel(order)

    # sending, retrying, resolving -----------------------------------------------------------------
    def _send(self, order: Order) -> None:
        coid = order.client_order_id
        venue = self._venues[coid]
        while True:
            self.apply(OrderSubmitted(order.ts_ns, coid, order.instrument, order.side, order.amount))
            try:
                events: Sequence[VenueEvent] = venue.create_order(order)
            except Rejected as exc:
                events = [OrderRejected(self._now(order), coid, order.instrument, exc.reason, str(exc))]
            except RateLimited as exc:  # refused: the order is certainly not at the venue
                if self._out_of_retries(order, exc, maybe_sent=False):
                    return
                if self._clock is not None:
                    retry_ns = self._clock.now_ns() + self._delay(coid)
                    self.apply(OrderSubmitRefused(self._now(order), coid, str(exc), retry_ns))
                    name = f"resend:{coid}:{self._attempts[coid]}"
                    self._clock.set_time_alert(name, retry_ns, partial(self._resend_after, coid))
                    return
                self.apply(OrderSubmitRefused(self._now(order), coid, str(exc), self._now(order)))
                continue
            except Retryable as exc:  # no answer: the order may or may not be at the venue
                self.apply(OrderStatusUnknown(self._now(order), coid, str(exc)))
                if self._out_of_retries(order, exc, maybe_sent=True) or self._resolve(order):
                    return
                continue
            for ev in events:
                self._publish(ev)
            return

    def _out_of_retries(self, order: Order, exc: Exception, *, maybe_sent: bool) -> bool:
        """Count a retry; past `max_retries` an order certainly not at the venue (or at one that cannot be
        asked) is rejected, and one that may be there stays UNKNOWN and is asked about later."""
        coid = order.client_order_id
        self._attempts[coid] += 1
        self.retries += 1
        if self._attempts[coid] <= self.max_retries:
            return False
        if maybe_sent and hasattr(self._venues[coid], "fetch_order"):
            self._later(order, "query", lambda: self._query_again(coid))
        else:
            self._publish(OrderRejected(self._now(order), coid, order.instrument, "retries", str(exc)))
        return True

    def _resolve(self, order: Order) -> bool:
        """Ask the venue about an UNKNOWN order. Returns False when it is safe to send it again: the venue
        says it has no such order, or it cannot be asked but is idempotent on the client order id."""
        coid = order.client_order_id
        venue = self._venues[coid]
        fetch: Any = getattr(venue, "fetch_order", None)
        if fetch is None:
            # a venue that cannot be asked and would execute a second copy: leave it UNKNOWN
            return getattr(venue, "has", {}).get("idempotentClientOrderId", True) is False
        try:
            report: OrderStatusReport | None = fetch(coid)
        except Retryable:
            self.retries += 1
            self._later(order, "query", lambda: self._query_again(coid))
            return True
        if report is None:
            return False
        self._adopt(order, report)
        return True

    def _query_again(self, coid: str) -> None:
        order = self._orders[coid]
        if order.status is S.UNKNOWN and not self._resolve(order):
            self._send(order)

    def _adopt(self, order: Order, report: OrderStatusReport) -> None:
        """Take the venue's word for an order we lost track of; its fills come from the venue's stream."""
        coid, ts = order.client_order_id, report.ts_ns
        st = report.status
        if st is S.REJECTED:
            self._publish(OrderRejected(ts, coid, order.instrument, "rejected", "venue reports it rejected"))
        elif st is S.CANCELED:
            self._publish(OrderCanceled(ts, coid, "canceled"))
        elif st is S.EXPIRED:
            self._publish(OrderExpired(ts, coid))
        else:
            self._publish(OrderAccepted(ts, coid, report.venue_order_id or coid))

    def _resend_after(self, coid: str, _event: object) -> None:
        order = self._orders[coid]
        if order.status is S.PENDING_SUBMIT:
            self._send(order)

    def _delay(self, coid: str) -> int:
        d = min(self.backoff_cap_ns, self.backoff_ns << max(self._attempts[coid] - 1, 0))
        return d // 2 + int(self._rng.random() * (d - d // 2))

    def _later(self, order: Order, what: str, action: Callable[[], None]) -> None:
        coid = order.client_order_id
        self._attempts[coid] = self._attempts.get(coid, 0) + 1
        if self._clock is None:
            if self._attempts[coid] <= self.max_retries:
                action()
            return
        at = self._clock.now_ns() + self._delay(coid)
        self._clock.set_time_alert(f"{what}:{coid}:{self._attempts[coid]}", at, lambda _e: action())

    def _now(self, order: Order) -> int:
        return self._clock.now_ns() if self._clock is not None else order.ts_ns

    # the one place order state changes ------------------------------------------------------------
    def apply(self, event: object) -> bool:
        """Journal `event`, then apply it to its order; returns False (journaling nothing) for a duplicate
        or stale event. Unknown ids and illegal transitions raise."""
        if isinstance(event, OrderFilled):
            coid = event.client_order_id
            if coid == "liquidation":
                self._journal.append(event)
                return True
            order = self._orders[coid]
            if event.trade_id is not None:
                key = (coid, event.trade_id)
                if key in self._trades:
                    return False
                self._trades.add(key)
            self._journal.append(event)
            order.apply_fill(event.qty, event.price, event.fee)
            return True
        order = self._orders[event.client_order_id]  # type: ignore[attr-defined]
        status = order.status
        to: OrderStatus
        if isinstance(event, OrderSubmitted):
            to = S.SUBMITTED
        elif isinstance(event, OrderAccepted):
            if order.venue_order_id is None:
                order.venue_order_id = event.venue_order_id
            if status not in (S.SUBMITTED, S.UNKNOWN):
                return False  # a repeated ack, or one that arrives after the order traded or closed
            to = S.ACCEPTED
        elif isinstance(event, OrderRejected):
            if status.is_terminal:
                return False
            if status is S.PENDING_CANCEL:
                return self._rejected_while_canceling(order, event)
            to = S.REJECTED
        elif isinstance(event, OrderCanceled):
            if status.is_terminal:
                return False  # already canceled, or it filled before the cancel took effect
            to = S.CANCELED
        elif isinstance(event, OrderExpired):
            if status.is_terminal:
                return False
            to = S.EXPIRED
        elif isinstance(event, OrderSubmitRefused):
            to = S.PENDING_SUBMIT
        elif isinstance(event, OrderStatusUnknown):
            to = S.UNKNOWN
        elif isinstance(event, OrderPendingCancel):
            to = S.PENDING_CANCEL
        elif isinstance(event, OrderCancelRejected):
            if status is not S.PENDING_CANCEL:
                return False
            self._journal.append(event)
            order.cancel_rejected()
            return True
        else:
            raise TypeError(f"not an order event: {event!r}")
        self._journal.append(event)
        order.transition(to)
        return True

    def _rejected_while_canceling(self, order: Order, event: OrderRejected) -> bool:
        """The venue's late answer to the submission is a rejection, and our cancel crossed it: the order
        never worked, so it is rejected. (One the venue had accepted cannot be rejected: a stale event.)"""
        order.cancel_rejected()
        if S.REJECTED not in TRANSITIONS[order.status]:
            order.transition(S.PENDING_CANCEL)
            return False
        self._journal.append(event)
        order.transition(S.REJECTED)
        return True
