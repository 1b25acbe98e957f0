"""The order manager: client order ids, idempotent submission, and the one place order state changes.

Every order event passes through `apply()`, which writes it to the journal *before* it changes the order,
so a crash can be recovered by replaying the journal. `submit()` is idempotent on the client order id and
retries only `Retryable` venue errors, with the same id (DESIGN C3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from botnft.domain.errors import Rejected, Retryable
from botnft.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from botnft.domain.orders import Order, OrderStatus
from botnft.ports import Journal, VenueClient, VenueEvent


class _NullJournal:
    __slots__ = ()

    def append(self, event: object) -> None:
        return None


class OrderManager:
    __slots__ = ("_journal", "_orders", "_publish", "max_retries", "retries")

    def __init__(
        self,
        publish: Callable[[object], None],
        journal: Journal | None = None,
        *,
        max_retries: int = 3,
    ) -> None:
        self._publish = publish
        self._journal: Journal = journal if journal is not None else _NullJournal()
        self._orders: dict[str, Order] = {}
        self.max_retries = max_retries
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
        if order.client_order_id in self._orders:
            return False
        self._orders[order.client_order_id] = order
        self.apply(
            OrderSubmitted(order.ts_ns, order.client_order_id, order.instrument, order.side, order.amount)
        )
        events = self._send(order, venue)
        for ev in events:
            self._publish(ev)
        return True

    def reject(self, order: Order, reason: str, message: str) -> None:
        """Record an order refused before it reached a venue (e.g. by the risk gate)."""
        self._orders.setdefault(order.client_order_id, order)
        self._publish(OrderRejected(order.ts_ns, order.client_order_id, order.instrument, reason, message))

    def _send(self, order: Order, venue: VenueClient) -> Sequence[VenueEvent]:
        attempt = 0
        while True:
            try:
                return venue.create_order(order)
            except Retryable as exc:
                attempt += 1
                self.retries += 1
                if attempt > self.max_retries:
                    return [
                        OrderRejected(
                            order.ts_ns, order.client_order_id, order.instrument, "retries", str(exc)
                        )
                    ]
            except Rejected as exc:
                return [
                    OrderRejected(order.ts_ns, order.client_order_id, order.instrument, exc.reason, str(exc))
                ]

    # the one place order state changes ------------------------------------------------------------
    def apply(self, event: object) -> None:
        """Journal `event`, then apply it to its order. Unknown ids and illegal transitions raise."""
        self._journal.append(event)
        if isinstance(event, OrderFilled):
            if event.client_order_id == "liquidation":
                return
            self._orders[event.client_order_id].apply_fill(event.qty, event.price, event.fee)
        elif isinstance(event, OrderSubmitted):
            self._orders[event.client_order_id].transition(OrderStatus.SUBMITTED)
        elif isinstance(event, OrderAccepted):
            order = self._orders[event.client_order_id]
            order.venue_order_id = event.venue_order_id
            order.transition(OrderStatus.ACCEPTED)
        elif isinstance(event, OrderRejected):
            self._orders[event.client_order_id].transition(OrderStatus.REJECTED)
        elif isinstance(event, OrderCanceled):
            self._orders[event.client_order_id].transition(OrderStatus.CANCELED)
        elif isinstance(event, OrderExpired):
            self._orders[event.client_order_id].transition(OrderStatus.EXPIRED)
