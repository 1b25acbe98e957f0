"""The executor's bookkeeping: a parent's child orders (what fill events said, and when a child is settled
enough for its leg to go on: closed, or resting at the venue with no deadline to wait for), and what
trading on each venue cost."""

from __future__ import annotations

from dataclasses import dataclass, field
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


class ChildBook:
    """Every child the executor sent (`all`, for fill accounting) and those not yet closed (`open`)."""

    __slots__ = ("all", "open")

    def __init__(self) -> None:
        self.all: dict[str, ChildOrder] = {}
        self.open: dict[str, ChildOrder] = {}

    def add(self, child: ChildOrder) -> None:
        self.all[child.order.client_order_id] = child

    def sent(self, child: ChildOrder) -> None:
        """After the send: an order the venue has not closed yet is open."""
        if not child.order.status.is_terminal:
            self.open[child.order.client_order_id] = child

    def on_fill(self, client_order_id: str, qty: Decimal) -> None:
        child = self.all.get(client_order_id)
        if child is not None:
            child.filled += qty

    def update(self, client_order_id: str) -> tuple[ChildOrder | None, Decimal]:
        """After an event of this order: (the open child it concerned, or None; the quantity a released
        child leaves unfilled now that the venue closed it)."""
        child = self.open.get(client_order_id)
        if child is None or not child.order.status.is_terminal:
            return child, ZERO
        del self.open[client_order_id]
        left = child.order.amount - child.filled if child.released else ZERO
        return child, left

    def working_signed(self, instrument: object = None, side: object = None) -> Decimal:
        """Base units the open children still trade (signed), on `instrument` and `side` when given."""
        return sum(
            (
                c.working_signed()
                for c in self.open.values()
                if instrument in (None, c.order.instrument) and side in (None, c.order.side)
            ),
            ZERO,
        )


@dataclass(slots=True)
class VenueExecution:
    """Running totals of what trading on one venue cost, in quote."""

    fills: int = 0
    qty: Decimal = ZERO
    notional: Decimal = ZERO
    fees: Decimal = ZERO
    shortfall: Decimal = ZERO  # side-signed (price - arrival mid) x qty: > 0 means we paid away

    def as_dict(self) -> dict[str, object]:  # Decimals stay Decimals: the summary renders them
        bps = float(self.shortfall / self.notional * 10_000) if self.notional else 0.0
        return {
            "fills": self.fills,
            "qty": self.qty,
            "notional": self.notional,
            "fees": self.fees,
            "slippage": self.shortfall.quantize(Decimal("0.00000001")),
            "slippage_bps": round(bps, 4),
        }


@dataclass(slots=True)
class ExecutionStats:
    per_venue: dict[str, VenueExecution] = field(default_factory=dict)
    parents: int = 0
    children: int = 0
    reroutes: int = 0
    unfilled: Decimal = ZERO
    #: per routed fill: (venue, static impact bps, learned prediction bps, realised bps)
    impact_log: list[tuple[str, float, float, float]] = field(default_factory=list)

    def impact_errors(self, warmup: int = 50) -> dict[str, float]:
        """Mean absolute error (bps) of the static and the learned impact estimates on fills after each
        venue's first `warmup` fills; every prediction was made before its fill was learned from."""
        seen: dict[str, int] = {}
        static_err: list[float] = []
        learned_err: list[float] = []
        for venue, static, predicted, realised in self.impact_log:
            seen[venue] = seen.get(venue, 0) + 1
            if seen[venue] > warmup:
                static_err.append(abs(static - realised))
                learned_err.append(abs(predicted - realised))
        n = len(static_err)
        return {
            "fills": n,
            "static_mae_bps": sum(static_err) / n if n else float("nan"),
            "learned_mae_bps": sum(learned_err) / n if n else float("nan"),
        }

    def total_cost(self) -> Decimal:
        return sum((v.fees + v.shortfall for v in self.per_venue.values()), ZERO)
