"""The guard's stop-loss, take-profit and trailing stop resting at SimDrift as trigger orders, against the
same exits held by the node, on hand-made hourly candles whose ATR is known (every bar's true range is 1).

The expected exit bar, instant and price band come from the candles: the oracle path of a down bar runs
open -> high (+20 min) -> low (+40 min) -> close; a triggered market order fills in its auction, which
starts at the oracle and ends 0.5 % past it (``auction_prices``: oracle / 200)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings, RiskSettings
from botnft.data.bars import BarBatch, MarketData
from botnft.domain.errors import UserError
from botnft.domain.events import OrderFilled
from botnft.domain.orders import OrderType, Side
from botnft.risk.limits import GuardLimits

HOUR = 3_600 * 10**9
T0 = 1_735_689_600 * 10**9  # 2025-01-01T00:00Z


def candles(closes: list[float], lows: dict[int, float] | None = None) -> MarketData:
    """Each bar opens at the previous close; high and low half a unit past the body (true range 1)
    unless a low is given."""
    c = np.asarray(closes, dtype=np.float64)
    o = np.concatenate([[c[0]], c[:-1]])
    h = np.maximum(o, c) + 0.5
    lo = np.minimum(o, c) - 0.5
    for i, v in (lows or {}).items():
        lo[i] = v
    ts = T0 + HOUR * np.arange(len(c), dtype=np.int64)
    bars = BarBatch(ts, o, h, lo, c, np.full(len(c), 1e6), HOUR, o.copy(), c.copy())
    return MarketData("hand", "perp", "SOL", bars, None)


def wilder_atr(bars: BarBatch, period: int) -> list[float]:
    """Reference ATR: mean of the true ranges for the first ``period`` bars, then Wilder's smoothing."""
    out, atr, prev = [], 0.0, None
    for k in range(len(bars.close)):
        h, lo = float(bars.high[k]), float(bars.low[k])
        tr = h - lo if prev is None else max(h - lo, abs(h - prev), abs(lo - prev))
        atr = atr + (tr - atr) / min(k + 1, period)
        out.append(atr)
        prev = float(bars.close[k])
    return out


def run(md: MarketData, **risk: object) -> tuple[dict, list[OrderFilled], object]:
    spec = BacktestSpec(
        data="hand",
        venue="drift",
        strategy="hold",
        params={"leverage": "1"},
        cash=Decimal(1_000),
        liquidity=LiquiditySettings().model_dump(),
    )
    session = build_backtest(spec, md, risk=RiskSettings(**risk))  # type: ignore[arg-type]
    result = run_backtest(session)
    node = session.node
    return result.stats.to_json(), list(node.record.fills), node.guard


# the long enters in bar 1 at ~100 (ATR 1); bar 10 falls from 100 (high 100.5) to 89 at +40 min, closes 90
CRASH = [100.0] * 10 + [90.0, 90.0, 90.0]


def test_a_venue_stop_fills_inside_the_crash_bar_at_its_trigger_where_the_node_exits_a_bar_later() -> None:
    md = candles(CRASH, lows={10: 89.0})
    stats, fills, guard = run(md, stop_atr=3.0)
    entry, exit_ = fills[0], fills[-1]
    assert entry.side is Side.BUY and exit_.side is Side.SELL and exit_.qty == entry.qty
    trigger = Decimal(100) - 3  # the entry bar's close minus 3 ATRs, on the tick grid
    t10 = T0 + 10 * HOUR
    t_high, t_low = t10 + HOUR // 3, t10 + 2 * HOUR // 3
    t_cross = t_high + (100_500_000 - 97_000_000) * (t_low - t_high) // (100_500_000 - 89_000_000) + 1
    assert t_cross <= exit_.ts_ns < t_cross + 60 * 400_000_000  # within the auction (<= 60 slots)
    assert trigger * Decimal("0.995") <= exit_.price <= trigger
    assert dict(stats["stops_by_kind"]) == {"stop": 1}
    assert guard.venue_stops.placed == 1
    assert stats["venue_stops_placed"] == 1 and stats["venue_stops_moved"] == 0

    stats_node, fills_node, _ = run(md, stop_atr=3.0, stops_at_venue=False)
    node_exit = fills_node[-1]
    # held by the node: out at bar 10's close with a market order that fills in bar 11, near 90
    assert t10 + HOUR < node_exit.ts_ns < t10 + 2 * HOUR
    assert Decimal(90) * Decimal("0.99") <= node_exit.price <= Decimal(90) * Decimal("1.01")
    assert dict(stats_node["stops_by_kind"]) == {"stop": 1}
    assert stats_node["venue_stops_placed"] == 0  # held by the node: nothing rests on the venue


def test_a_take_profit_rests_above_a_long_and_fires_on_the_rise() -> None:
    # bar 6 rises 100 -> 104 (low 99.5 at +20 min, high 104.5 at +40 min): passes 100 + 2 ATRs = 102
    md = candles([100.0] * 6 + [104.0] * 4)
    stats, fills, guard = run(md, take_profit_atr=2.0)
    exit_ = fills[-1]
    t6 = T0 + 6 * HOUR
    t_low, t_high = t6 + HOUR // 3, t6 + 2 * HOUR // 3
    t_cross = t_low + (102_000_000 - 99_500_000) * (t_high - t_low) // (104_500_000 - 99_500_000) + 1
    assert exit_.side is Side.SELL
    assert t_cross <= exit_.ts_ns < t_cross + 60 * 400_000_000
    # a sell taker: at most the oracle just past 102, at least the auction's end 0.5 % under it
    assert Decimal(102) * Decimal("0.995") <= exit_.price <= Decimal("102.0001")
    assert dict(stats["stops_by_kind"]) == {"take_profit": 1}
    exits = guard.venue_stops.exits
    assert exits == {} or all(not e.order.status.is_open for e in exits.values())


def test_a_trailing_stop_is_moved_on_the_venue_and_fires_at_the_trailed_level() -> None:
    # up 1 a bar from 100 to 110 (ATR 1): the trail (close - 3 ATRs) climbs to 107; bar 16 drops to 100
    closes = [100.0] * 5 + [100.0 + k for k in range(1, 11)] + [110.0, 100.0, 100.0]
    md = candles(closes, lows={16: 99.5})
    stats, fills, guard = run(md, stop_atr=3.0, trailing=True)
    vs = guard.venue_stops
    assert vs.moved >= 1  # the trigger followed the closes
    exit_ = fills[-1]
    assert exit_.side is Side.SELL
    assert T0 + 16 * HOUR < exit_.ts_ns < T0 + 17 * HOUR
    # the trail: the best of close - 3 ATRs since the entry (bar 1); the resting trigger lags it by less
    # than the step (0.25 ATR) and never passes it
    atr = wilder_atr(md.bars, 14)
    trail = max(closes[k] - 3 * atr[k] for k in range(1, 16))
    low_end = Decimal(repr(trail - 0.25 * max(atr))) * Decimal("0.995")
    assert low_end <= exit_.price <= Decimal(repr(trail))
    assert dict(stats["stops_by_kind"]) == {"stop": 1}
    # without trailing the stop stays at 97 and bar 16 (low 99.5) never reaches it
    stats_fixed, _, _ = run(md, stop_atr=3.0)
    assert stats_fixed["stops_triggered"] == 0


def test_the_exits_are_reduce_only_trigger_orders_for_the_whole_position() -> None:
    md = candles([100.0] * 8)
    _, fills, guard = run(md, stop_atr=3.0, take_profit_atr=5.0)
    held = fills[0].qty
    exits = guard.venue_stops.exits
    assert set(exits) == {"stop", "take_profit"}
    for kind, level in (("stop", Decimal(97)), ("take_profit", Decimal(105))):
        o = exits[kind].order
        assert o.order_type is OrderType.STOP_MARKET and o.reduce_only and o.side is Side.SELL
        assert o.amount == held and o.trigger_price == level and o.status.is_open


def test_a_negative_trail_step_is_a_user_error() -> None:
    with pytest.raises(UserError, match="trail_step_atr"):
        GuardLimits(trail_step_atr=-1.0)
