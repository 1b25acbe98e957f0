"""A routed parent's child orders as the executor tracks them: what fill events said, and when a child
is settled enough for its leg to go on (closed, or resting at the venue with no deadline to wait for)."""

from __future__ import annotations

from decimal import Decimal

from botnft.domain.money import ZERO
from botnft.domain.orders import Order, OrderStatus

S = OrderStatus
#: at the venue and trading (or able to): a resting order
WORKING = frozenset({S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED})


class ChildOrder:
    """One child. `filled` counts only what `OrderFilled` events reported (each delivered once by the
    order manager); `planned` is the router's size for it (the order may be smaller: a spot sell is capped
    by the holding). A child without a deadline that rests at the venue counts as committed: its leg goes
    on, and if the venue later closes it unfilled, the rest is reported unfilled."""

    __slots__ = ("deadline_ns", "filled", "order", "planned", "released")

    def __init__(self, order: Order, planned: Decimal, deadline_ns: int | None) -> None:
        self.order = order
        self.planned = planned
        self.deadline_ns = deadline_ns
        self.filled = ZERO
        #: True once its leg has gone on counting it as committed
        self.released = False

    @property
    def settled(self) -> bool:
        status = self.order.status
        if status.is_terminal:
            return True
        return self.deadline_ns is None and status in WORKING

    def committed(self) -> Decimal:
        """What the leg may count: the filled quantity, plus the rest while it rests at the venue."""
        if self.order.status.is_terminal:
            return self.filled
        return self.order.amount

    def working_signed(self) -> Decimal:
        """Base units still to trade (signed by side) while the order is open."""
        if self.order.status.is_terminal:
            return ZERO
        rest = self.order.amount - self.filled
        return rest * self.order.side.sign
