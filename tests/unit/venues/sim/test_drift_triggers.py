"""SimDrift trigger orders (``drift_triggers``): TriggerMarket / TriggerLimit with an explicit condition,
triggered by the oracle path strictly past the trigger price, and moved by ``modify_trigger``.

Each expected bar, instant and price is derived here from the hand-made candles (the oracle path of a
bar runs open -> low -> high -> close for an up bar, open -> high -> low -> close for a down bar, one point
every third of the bar) and the documented auction fill, never read back from the venue's fills.
"""

from __future__ import annotations

from decimal import Decimal

from test_sim_drift import (
    E6,
    HOUR,
    SOL,
    T0,
    bars_from,
    drive,
    expected_taker_fill,
    of,
    order,
    place,
)

from botnft.domain.events import OrderCanceled, OrderFilled, OrderRejected
from botnft.domain.orders import Side
from botnft.venues.sim.drift import SimDrift
from botnft.venues.sim.drift_params import SLOT_NS, SOL_PERP, DriftStateParams
from botnft.venues.sim.drift_triggers import exit_condition, satisfies, trigger_limit, trigger_market


def _long(venue: SimDrift, bars: object, qty: str = "1") -> None:
    """A long opened at bar 0's close (it fills in bar 1), driven to the end of bar 1."""
    place(venue, bars, 0, order(Side.BUY, qty))  # type: ignore[arg-type]
    fills = of(drive(venue, bars, 1, 2), OrderFilled)  # type: ignore[arg-type]
    assert sum(f.qty for f in fills) == Decimal(qty)


def _cross(t_a: int, p_a: float, t_b: int, p_b: float, level: float) -> int:
    """First instant (ns) the straight path from (t_a, p_a) to (t_b, p_b) is strictly past ``level``."""
    a, b, lv = round(p_a * E6), round(p_b * E6), round(level * E6)
    return t_a + abs(a - lv) * (t_b - t_a) // abs(a - b) + 1


def test_the_condition_is_strict_as_order_satisfies_trigger_condition() -> None:
    assert satisfies("above", 105_000_001, 105_000_000)
    assert not satisfies("above", 105_000_000, 105_000_000)
    assert satisfies("below", 94_999_999, 95_000_000)
    assert not satisfies("below", 95_000_000, 95_000_000)
    assert exit_condition(Side.SELL, "stop") == "below"
    assert exit_condition(Side.SELL, "take_profit") == "above"
    assert exit_condition(Side.BUY, "stop") == "above"
    assert exit_condition(Side.BUY, "take_profit") == "below"


def test_a_take_profit_triggers_above_at_the_first_bar_whose_range_crosses_and_fills_as_a_market_order() -> (
    None
):
    # bar 3 tops at 104.99 (no trigger), bar 4 (up: 103 -> low 103 -> high 107 -> 106) passes 105
    bars = bars_from([100.0, 100.0, 101.0, 103.0, 106.0, 105.0], highs={3: 104.99, 4: 107.0})
    state = DriftStateParams()
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), state=state)
    _long(venue, bars)
    tp = trigger_market("TP-1", SOL, Side.SELL, Decimal(1), Decimal(105), 0)
    venue.arm_trigger("TP-1", "above")
    place(venue, bars, 1, tp)
    assert of(drive(venue, bars, 2, 4), OrderFilled) == []
    (fill,) = of(drive(venue, bars, 4), OrderFilled)
    t4 = T0 + 4 * HOUR
    t_cross = _cross(t4 + HOUR // 3, 103.0, t4 + 2 * HOUR // 3, 107.0, 105.0)
    oracle = venue.core.tapes[0].sample(t_cross)
    assert oracle is not None and oracle.price >= 105 * E6  # (1 ns past the level: on it at 1e-6)
    slot, price = expected_taker_fill("short", oracle.price, SOL_PERP.order_tick_size, state)
    assert fill.ts_ns == t_cross + slot * SLOT_NS
    assert fill.price == Decimal(price).scaleb(-6)
    assert fill.side is Side.SELL and fill.qty == 1
    assert venue.fetch_positions() == {}


def test_a_below_trigger_needs_the_oracle_strictly_below() -> None:
    # bar 2 bottoms exactly at the trigger (no trigger); bar 3 one tick under it
    bars = bars_from([100.0, 100.0, 98.0, 98.0, 98.0], lows={2: 97.0, 3: 96.9999})
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    _long(venue, bars)
    place(venue, bars, 1, trigger_market("SL-1", SOL, Side.SELL, Decimal(1), Decimal(97), 0))
    assert of(drive(venue, bars, 2, 3), OrderFilled) == []
    (fill,) = of(drive(venue, bars, 3), OrderFilled)
    # bar 3 is flat at 98 with a low of 96.9999 at +20 min: the path crosses between the open and the low
    assert T0 + 3 * HOUR < fill.ts_ns < T0 + 3 * HOUR + HOUR // 3 + 30 * SLOT_NS


def test_a_trigger_limit_not_marketable_when_triggered_rests_and_fills_as_a_maker_at_its_price() -> None:
    # bar 4 (96 -> high 96 -> low 94 -> 95? no: down to 94) passes 95: triggered; its limit 96 is above
    # the oracle, so it rests; bar 5 tops at 95; bar 6 (up: 95 -> 95 -> 97 -> 97) passes 96: maker fill
    bars = bars_from([100.0, 100.0, 100.0, 96.0, 94.0, 95.0, 97.0, 98.0])
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    _long(venue, bars)
    sl = trigger_limit("SL-1", SOL, Side.SELL, Decimal(1), Decimal(95), Decimal(96), 0)
    venue.arm_trigger("SL-1", "below")
    place(venue, bars, 1, sl)
    events = drive(venue, bars, 2, 6)
    assert of(events, OrderFilled) == []
    (rec,) = venue.core.orders.values()
    assert rec.triggered and rec.in_book  # triggered in bar 4, resting with its size in the open asks
    assert venue.account.positions[0].open_asks == -1_000_000_000
    (fill,) = of(drive(venue, bars, 6), OrderFilled)
    t6 = T0 + 6 * HOUR
    assert fill.ts_ns == _cross(t6 + HOUR // 3, 95.0, t6 + 2 * HOUR // 3, 97.0, 96.0)
    assert fill.price == Decimal(96)
    assert fill.liquidity == "maker"
    assert venue.fetch_positions() == {}


def test_modify_trigger_moves_a_trailing_stop_and_only_the_new_level_fires() -> None:
    # bar 3 bottoms at 96.5: above the first stop (95), below the moved one (97)
    bars = bars_from([100.0, 100.0, 101.0, 99.0, 99.0], lows={3: 96.5})
    control = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    _long(control, bars)
    place(control, bars, 1, trigger_market("SL-1", SOL, Side.SELL, Decimal(1), Decimal(95), 0))
    assert of(drive(control, bars, 2), OrderFilled) == []  # 95 is never reached
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    _long(venue, bars)
    place(venue, bars, 1, trigger_market("SL-1", SOL, Side.SELL, Decimal(1), Decimal(95), 0))
    assert venue.modify_trigger("SL-1", Decimal("97.000001")) is not None  # off the tick grid
    assert venue.modify_trigger("NOPE", Decimal(97)) is not None
    assert venue.modify_trigger("SL-1", Decimal(97)) is None
    (fill,) = of(drive(venue, bars, 2), OrderFilled)
    t3 = T0 + 3 * HOUR  # a down bar: 101 -> high 101 at +20 min -> low 96.5 at +40 min
    t_cross = _cross(t3 + HOUR // 3, 101.0, t3 + 2 * HOUR // 3, 96.5, 97.0)
    assert t_cross <= fill.ts_ns <= t_cross + 30 * SLOT_NS
    assert venue.modify_trigger("SL-1", Decimal(98)) is not None  # gone once filled


def test_a_reduce_only_trigger_left_after_the_position_closed_is_cancelled_not_opened() -> None:
    # the stop (below 97) closes the long in bar 3; the take-profit (above 103) triggers in bar 5
    bars = bars_from([100.0, 100.0, 100.0, 96.0, 100.0, 104.0, 104.0])
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    _long(venue, bars)
    place(venue, bars, 1, trigger_market("SL-1", SOL, Side.SELL, Decimal(1), Decimal(97), 0))
    venue.arm_trigger("TP-1", "above")
    place(venue, bars, 1, trigger_market("TP-1", SOL, Side.SELL, Decimal(1), Decimal(103), 0))
    events = drive(venue, bars, 2)
    assert [f.client_order_id for f in of(events, OrderFilled)] == ["SL-1"]
    assert [(c.client_order_id, c.reason) for c in of(events, OrderCanceled)] == [("TP-1", "reduce_only")]
    assert venue.fetch_positions() == {}


def test_a_reduce_only_trigger_without_a_position_is_refused() -> None:
    bars = bars_from([100.0] * 3)
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    events = place(venue, bars, 1, trigger_market("SL-1", SOL, Side.SELL, Decimal(1), Decimal(97), 0))
    assert [e.reason for e in of(events, OrderRejected)] == ["reduce_only_would_increase"]


def test_the_venue_wakes_the_driver_at_the_first_bar_whose_range_crosses_the_trigger() -> None:
    # flat (no funding to wake for): a buy stop entering above 105; bar 3 tops at 104.99, bar 5 at 105.5
    bars = bars_from([100.0, 100.0, 101.0, 103.0, 104.0, 104.0, 104.0], highs={3: 104.99, 5: 105.5})
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    place(
        venue, bars, 1, trigger_market("B-1", SOL, Side.BUY, Decimal(1), Decimal(105), 0, reduce_only=False)
    )
    assert venue.next_event_index(bars, 2, len(bars)) == 5
    assert venue.next_event_index(bars, 2, 5) == 5  # nothing before the span's end
    venue.modify_trigger("B-1", Decimal(104))
    assert venue.next_event_index(bars, 2, len(bars)) == 3  # 103 -> 104.99 passes 104 in bar 3
