"""Drift trigger orders in SimDrift: ``TriggerMarket`` and ``TriggerLimit`` with a trigger price and a
trigger condition (``above`` / ``below``), usually reduce-only: the venue-placed stop-loss and take-profit.

As the program does (``programs/drift/src``):

* ``math/orders.rs::order_satisfies_trigger_condition``: an ``above`` order triggers when the oracle is
  strictly above its trigger price, a ``below`` order when it is strictly below. The simulator tests the
  oracle path inside each bar (``drift_oracle.PriceTape.first_cross``), so the order triggers at the first
  instant the path passes the level, and ``SimDrift.next_event_index`` wakes the driver at the first bar
  whose range goes through it.
* ``controller/orders.rs::trigger_order`` / ``update_trigger_order_params``: once triggered the order
  starts an auction from the oracle at that instant and takes as a market order does (a ``TriggerLimit``
  up to its limit price, then rests as a limit order); its size counts in the position's open bids or
  asks only from then on. A reduce-only trigger finding no position to reduce is cancelled at its fill.
* ``modify_order`` is a cancel and a new place with the merged parameters: ``modify_trigger`` moves an
  untriggered order's trigger price (a trailing stop following the extreme), on the market's tick grid.

A domain ``Order`` has no trigger condition, so the condition is armed by client order id before
``create_order`` (``SimDrift.arm_trigger``); an order placed without one gets the stop's condition (a
sell triggers below, a buy above).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderType, Side

TriggerCondition = Literal["above", "below"]
CONDITIONS: Final = ("above", "below")


def satisfies(condition: str, oracle_price: int, trigger_price: int) -> bool:
    """``order_satisfies_trigger_condition``: strictly past the trigger price."""
    if condition == "above":
        return oracle_price > trigger_price
    if condition == "below":
        return oracle_price < trigger_price
    raise ValueError(f"unknown trigger condition {condition!r}; expected 'above' or 'below'")


def stop_condition(side: Side) -> TriggerCondition:
    """The condition of a stop-loss on ``side``: a sell (closing a long) fires on a fall, a buy on a rise."""
    return "below" if side is Side.SELL else "above"


def exit_condition(side: Side, kind: str) -> TriggerCondition:
    """The condition of an exit order on ``side``: ``stop`` (loss) or ``take_profit`` (the other way)."""
    stop = stop_condition(side)
    if kind == "stop":
        return stop
    if kind == "take_profit":
        return "above" if stop == "below" else "below"
    raise ValueError(f"unknown exit kind {kind!r}; expected 'stop' or 'take_profit'")


def trigger_market(
    client_order_id: str,
    instrument: InstrumentId,
    side: Side,
    amount: Decimal,
    trigger_price: Decimal,
    ts_ns: int,
    *,
    reduce_only: bool = True,
) -> Order:
    """A ``TriggerMarket`` order (a market order once triggered)."""
    return Order(
        client_order_id,
        instrument,
        side,
        amount,
        ts_ns,
        order_type=OrderType.STOP_MARKET,
        trigger_price=trigger_price,
        reduce_only=reduce_only,
    )


def trigger_limit(
    client_order_id: str,
    instrument: InstrumentId,
    side: Side,
    amount: Decimal,
    trigger_price: Decimal,
    price: Decimal,
    ts_ns: int,
    *,
    reduce_only: bool = True,
) -> Order:
    """A ``TriggerLimit`` order: a limit order at ``price`` once triggered (a limit with a trigger)."""
    return Order(
        client_order_id,
        instrument,
        side,
        amount,
        ts_ns,
        order_type=OrderType.LIMIT,
        price=price,
        trigger_price=trigger_price,
        reduce_only=reduce_only,
    )


class TriggerConditions:
    """The trigger conditions armed for orders about to be placed, by client order id."""

    def __init__(self) -> None:
        self._armed: dict[str, TriggerCondition] = {}

    def arm(self, client_order_id: str, condition: str) -> None:
        if condition not in CONDITIONS:
            raise ValueError(f"unknown trigger condition {condition!r}; expected 'above' or 'below'")
        self._armed[client_order_id] = "above" if condition == "above" else "below"

    def take(self, order: Order) -> TriggerCondition:
        """The condition armed for ``order`` (forgotten once read), else the stop's."""
        return self._armed.pop(order.client_order_id, stop_condition(order.side))


def checked_trigger(value: Decimal, tick: int, precision: int) -> int | str:
    """``value`` in native units, or why it cannot be a trigger price (non-positive, off the tick grid)."""
    if value <= 0:
        return f"trigger price must be positive, got {value}"
    scaled = value * precision
    if scaled != scaled.to_integral_value() or int(scaled) % tick:
        return f"trigger price {value} is not a multiple of {Decimal(tick) / precision}"
    return int(scaled)
