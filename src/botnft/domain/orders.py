"""Orders in ccxt's vocabulary and their lifecycle as a transition table (DESIGN C2, C3).

An `Order` changes only through `transition()` (status) and `apply_fill()`; an illegal transition raises
`IllegalTransition` and is never ignored. PENDING_SUBMIT (refused for now, to be re-sent), UNKNOWN (sent, no
answer) and PENDING_CANCEL (cancel requested, not confirmed) are states a live venue makes necessary.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from botnft.domain.errors import IllegalTransition, InvalidOrder
from botnft.domain.ids import InstrumentId
from botnft.domain.money import ZERO


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class OrderStatus(StrEnum):
    INITIALIZED = "initialized"
    PENDING_SUBMIT = "pending_submit"
    SUBMITTED = "submitted"
    UNKNOWN = "unknown"
    ACCEPTED = "accepted"
    TRIGGERED = "triggered"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    PENDING_CANCEL = "pending_cancel"

    @property
    def is_open(self) -> bool:
        return self in _OPEN

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


S = OrderStatus
_OPEN = frozenset(
    {S.PENDING_SUBMIT, S.SUBMITTED, S.UNKNOWN, S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED, S.PENDING_CANCEL}
)
_TERMINAL = frozenset({S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED})
#: a fill reported after the order closed (it traded before the cancel took effect) is still recorded
LATE_FILL_OK = frozenset({S.CANCELED, S.EXPIRED})

#: Allowed status changes. Fills may arrive before the venue's acknowledgement (fast venues), so
#: SUBMITTED may go straight to a fill state. SUBMITTED -> PENDING_SUBMIT is a refusal that may be retried
#: (rate limit); SUBMITTED -> UNKNOWN a request without an answer, resolved by asking the venue. A partial
#: fill while a cancel is pending keeps PENDING_CANCEL; a rejected cancel returns to the working state.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.INITIALIZED: frozenset({S.PENDING_SUBMIT, S.SUBMITTED, S.REJECTED}),
    S.PENDING_SUBMIT: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELED}),
    S.SUBMITTED: frozenset(
        {
            S.PENDING_SUBMIT,
            S.UNKNOWN,
            S.ACCEPTED,
            S.REJECTED,
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.CANCELED,
            S.EXPIRED,
            S.PENDING_CANCEL,
        }
    ),
    S.UNKNOWN: frozenset(
        {S.UNKNOWN, S.SUBMITTED, S.ACCEPTED, S.REJECTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}
    ),
    S.ACCEPTED: frozenset(
        {S.TRIGGERED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.PENDING_CANCEL}
    ),
    S.TRIGGERED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.REJECTED, S.PENDING_CANCEL}
    ),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.PENDING_CANCEL}),
    S.PENDING_CANCEL: frozenset(
        {
            S.PENDING_CANCEL,
            S.FILLED,
            S.CANCELED,
            S.EXPIRED,
            S.SUBMITTED,
            S.ACCEPTED,
            S.TRIGGERED,
            S.PARTIALLY_FILLED,
        }
    ),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


class Order:
    """A client order. Fields follow ccxt: amount, filled, remaining, average, cost, fee, status."""

    __slots__ = (
        "_before_cancel",
        "amount",
        "client_order_id",
        "cost",
        "fee",
        "filled",
        "instrument",
        "order_type",
        "price",
        "reduce_only",
        "side",
        "status",
        "tif",
        "trigger_price",
        "ts_ns",
        "venue_order_id",
    )

    def __init__(
        self,
        client_order_id: str,
        instrument: InstrumentId,
        side: Side,
        amount: Decimal,
        ts_ns: int,
        *,
        order_type: OrderType = OrderType.MARKET,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
    ) -> None:
        if amount <= ZERO:
            raise InvalidOrder(f"order amount must be positive, got {amount}", reason="non_positive_size")
        if order_type is OrderType.LIMIT and price is None:
            raise InvalidOrder("a limit order needs a price", reason="missing_price")
        if order_type is OrderType.STOP_MARKET and trigger_price is None:
            raise InvalidOrder("a stop order needs a trigger price", reason="missing_trigger")
        self.client_order_id = client_order_id
        self.instrument = instrument
        self.side = side
        self.amount = amount
        self.ts_ns = ts_ns
        self.order_type = order_type
        self.price = price
        self.trigger_price = trigger_price
        self.tif = tif
        self.reduce_only = reduce_only
        self.status = OrderStatus.INITIALIZED
        self.filled = ZERO
        self.cost = ZERO
        self.fee = ZERO
        self.venue_order_id: str | None = None
        self._before_cancel = OrderStatus.INITIALIZED

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    @property
    def average(self) -> Decimal | None:
        return self.cost / self.filled if self.filled else None

    def transition(self, to: OrderStatus) -> None:
        """Move to `to` if the table allows it; otherwise raise `IllegalTransition`."""
        if to not in TRANSITIONS[self.status]:
            raise IllegalTransition(f"order {self.client_order_id}: {self.status.value} -> {to.value}")
        if to is OrderStatus.PENDING_CANCEL and self.status is not OrderStatus.PENDING_CANCEL:
            self._before_cancel = self.status
        self.status = to

    def cancel_rejected(self) -> None:
        """The venue refused the cancel (the order is still working): back to the state before the request."""
        if self.status is not OrderStatus.PENDING_CANCEL:
            raise IllegalTransition(f"order {self.client_order_id}: no cancel pending ({self.status.value})")
        back = self._before_cancel
        if back is OrderStatus.ACCEPTED and self.filled:
            back = OrderStatus.PARTIALLY_FILLED
        self.transition(back)

    def apply_fill(self, qty: Decimal, price: Decimal, fee: Decimal) -> None:
        """Record a fill; moves to PARTIALLY_FILLED or FILLED (a partial fill keeps a pending cancel
        pending; a fill reported after a cancel or expiry is recorded and the order stays closed).
        Overfills raise."""
        if qty <= ZERO or qty > self.amount - self.filled:
            raise IllegalTransition(
                f"order {self.client_order_id}: fill of {qty} with {self.amount - self.filled} remaining"
            )
        status = self.status
        if status in _TERMINAL and status not in LATE_FILL_OK:
            raise IllegalTransition(f"order {self.client_order_id}: fill on a {status.value} order")
        self.filled += qty
        self.cost += qty * price
        self.fee += fee
        if status in LATE_FILL_OK:
            return
        if self.filled == self.amount:
            self.transition(OrderStatus.FILLED)
        elif status is OrderStatus.PENDING_CANCEL:
            self.transition(OrderStatus.PENDING_CANCEL)
        else:
            self.transition(OrderStatus.PARTIALLY_FILLED)

    def __repr__(self) -> str:
        return (
            f"Order({self.client_order_id} {self.side.value} {self.amount} {self.instrument} "
            f"{self.order_type.value} {self.status.value} filled={self.filled})"
        )
