"""The guard's stop-loss and take-profit as reduce-only trigger orders resting at the venue, where it has
them (``has["triggerOrders"]``: Drift's TriggerMarket orders, ``venues.sim.drift_triggers``).

The venue then fires them on its own oracle, inside the bar, at the first instant past the level (a node
holding them itself only sees the bar once it closed). A trailing stop is moved on the venue
(``modify_trigger``, Drift's ``modify_order``) when the guard's trailing level has moved far enough; a
position that changed size gets its orders cancelled and placed again for the new size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Protocol

from botnft.domain.ids import ClientOrderIdFactory
from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO, to_decimal
from botnft.domain.orders import Order, OrderType, Side


class TriggerVenue(Protocol):
    has: object

    def arm_trigger(self, client_order_id: str, condition: str) -> None: ...

    def modify_trigger(self, client_order_id: str, trigger_price: Decimal) -> str | None: ...


class OrderSink(Protocol):
    def submit(self, order: Order, venue: Any) -> bool: ...

    def cancel(self, order: Order, reason: str = "canceled") -> None: ...

    def open_orders(self) -> list[Order]: ...


def has_trigger_orders(venue: object) -> bool:
    has = getattr(venue, "has", None)
    return bool(has is not None and has.get("triggerOrders")) and hasattr(venue, "arm_trigger")


@dataclass(slots=True)
class _Exit:
    kind: str  # stop | take_profit
    order: Order
    level: Decimal


class VenueStops:
    """Keeps at most one stop-loss and one take-profit trigger order for ``instrument``'s position."""

    def __init__(
        self,
        venue: TriggerVenue,
        orders: OrderSink,
        instrument: Instrument,
        drain: Callable[[], None],
        now_ns: Callable[[], int],
        ids: ClientOrderIdFactory | None = None,
    ) -> None:
        self.venue = venue
        self.orders = orders
        self.instrument = instrument
        self.drain = drain
        self.now_ns = now_ns
        self.ids = ids or ClientOrderIdFactory("X")
        self.exits: dict[str, _Exit] = {}
        self.placed = 0  # trigger orders sent
        self.moved = 0  # trigger prices moved on the venue
        self._counted: set[str] = set()

    # what is resting --------------------------------------------------------------------------------
    def level(self, kind: str) -> float | None:
        """The trigger price resting for ``kind`` (None: none)."""
        e = self.exits.get(kind)
        return None if e is None or not e.order.status.is_open else float(e.level)

    def covers(self, base: Decimal, kinds: tuple[str, ...]) -> bool:
        """Each of ``kinds`` rests untriggered for exactly ``|base|`` on the closing side."""
        side = Side.SELL if base > ZERO else Side.BUY
        for kind in kinds:
            e = self.exits.get(kind)
            if e is None or not e.order.status.is_open or e.order.filled:
                return False
            if e.order.amount != abs(base) or e.order.side is not side:
                return False
        return True

    def entry_pending(self) -> bool:
        """An order of the node's own (not one of these exits) still works at the venue for the
        instrument: once it fills, the exits are to be placed."""
        ours = {e.order.client_order_id for e in self.exits.values()}
        return any(
            o.instrument == self.instrument.id and o.client_order_id not in ours
            for o in self.orders.open_orders()
        )

    def filled_exits(self) -> list[str]:
        """The kinds of the exit orders that filled since the last call (each counted once)."""
        out = []
        for e in self.exits.values():
            coid = e.order.client_order_id
            if e.order.filled > ZERO and coid not in self._counted:
                self._counted.add(coid)
                out.append(e.kind)
        return out

    # acting ----------------------------------------------------------------------------------------
    def sync(self, base: Decimal, levels: dict[str, float | None]) -> None:
        """Make the resting exits match the position ``base`` and the guard's ``levels`` (kind -> price,
        None: no such exit); flat: cancel whatever rests."""
        if base == ZERO:
            for kind in list(self.exits):
                self._cancel(kind)
            return
        side = Side.SELL if base > ZERO else Side.BUY
        qty = abs(base)
        for kind, raw in levels.items():
            e = self.exits.get(kind)
            if raw is None or not raw > 0.0:
                if e is not None:
                    self._cancel(kind)
                continue
            level = self._on_tick(raw, side, kind)
            o = None if e is None else e.order
            same = o is not None and o.status.is_open and not o.filled and o.amount == qty and o.side is side
            if e is not None and o is not None and same:  # the same position: move its trigger if need be
                if level != e.level and self.venue.modify_trigger(o.client_order_id, level) is None:
                    e.level = level
                    self.moved += 1
                continue
            if e is not None:
                self._cancel(kind)
            self._place(kind, side, qty, level)

    def _on_tick(self, raw: float, side: Side, kind: str) -> Decimal:
        """The level on the tick grid, rounded away from the position's side of it (a stop below a long
        down, a take-profit above it up): never nearer the price than the guard asked."""
        tick = self.instrument.tick_size
        below = (side is Side.SELL) == (kind == "stop")
        rounding = ROUND_FLOOR if below else ROUND_CEILING
        return (to_decimal(raw) / tick).to_integral_value(rounding=rounding) * tick

    def _place(self, kind: str, side: Side, qty: Decimal, level: Decimal) -> None:
        below = (side is Side.SELL) == (kind == "stop")
        order = Order(
            self.ids.next(),
            self.instrument.id,
            side,
            qty,
            self.now_ns(),
            order_type=OrderType.STOP_MARKET,
            trigger_price=level,
            reduce_only=True,
        )
        self.venue.arm_trigger(order.client_order_id, "below" if below else "above")
        self.exits[kind] = _Exit(kind, order, level)
        self.placed += 1
        self.orders.submit(order, self.venue)
        self.drain()

    def _cancel(self, kind: str) -> None:
        e = self.exits.pop(kind)
        if e.order.status.is_open:
            self.orders.cancel(e.order, "exit_replaced")
            self.drain()
