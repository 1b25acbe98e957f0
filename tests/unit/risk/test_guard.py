"""The liquidation guard's model, the ATR it reads, its limits, margin-capped sizing and denial reasons."""

from decimal import Decimal as D
from types import SimpleNamespace

import numpy as np
import pytest

from botnft.domain.errors import RiskDenied, UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp
from botnft.domain.orders import Order, Side
from botnft.risk.gate import RiskContext, RiskGate
from botnft.risk.guard import AccountModel, LiquidationGuard
from botnft.risk.limits import GuardLimits
from botnft.risk.sizing import (
    CashFraction,
    MarginCapped,
    kelly_fraction,
    risk_capped_qty,
    vol_target_leverage,
)
from botnft.risk.volatility import AtrTracker

PERP = Perp(InstrumentId("SOL-PERP", "DRIFT"), "SOL", "USDC", D("0.0001"), D("0.01"), D("0.01"))


def bars(close, high=None, low=None):
    close = np.asarray(close, dtype=np.float64)
    return SimpleNamespace(
        close=close,
        high=close + 1 if high is None else np.asarray(high, dtype=np.float64),
        low=close - 1 if low is None else np.asarray(low, dtype=np.float64),
        ts_ns=np.arange(len(close), dtype=np.int64) * 3_600_000_000_000,
    )


def test_the_size_cap_is_the_smaller_of_the_buffer_and_the_atr_distance_closed_forms():
    m = AccountModel(p0=100.0, total=1_000.0, base=1.0, m=0.05)
    # buffer: 1000 >= 2 * 0.05 * 100 * q  -> q <= 100; ATR: liquidation 10 ATRs (10) away:
    # long liquidation at q: (q*100 - 1000) / (q * 0.95); distance 100 - that >= 10 -> q <= 1000 / 14.5
    assert m.max_size(1_000.0, 100.0, 1.0, 2.0, 10.0) == pytest.approx(1_000 / 14.5)
    assert m.max_size(1_000.0, 100.0, 0.0, 2.0, 10.0) == pytest.approx(100.0)
    short = AccountModel(p0=100.0, total=1_000.0, base=-1.0, m=0.05)
    assert short.max_size(1_000.0, 100.0, 1.0, 2.0, 10.0) == pytest.approx(1_000 / 15.5)


def test_at_the_capped_size_the_liquidation_price_is_exactly_the_atr_distance_away():
    q = 1_000 / 15.5  # the short's cap above
    # short liquidates where 1000 - q (p - 100) = 0.05 q p
    p_liq = (1_000 + 100 * q) / (1.05 * q)
    assert p_liq - 100 == pytest.approx(10.0)


def test_atr_warms_up_as_a_mean_then_follows_wilders_recursion():
    t = AtrTracker(2)
    out = t.update(bars([10.0, 10.0, 10.0], high=[11, 13, 10.5], low=[10, 10, 9.5]))
    # true ranges 1, 3, 1 -> mean 1, mean 2, then 2 + (1 - 2) / 2
    assert list(out) == [1.0, 2.0, 1.5]


def test_atr_gives_the_same_values_whatever_the_batching():
    rng = np.random.default_rng(7)
    c = 100 + np.cumsum(rng.normal(size=200))
    whole = AtrTracker(14).update(bars(c))
    t = AtrTracker(14)
    parts = np.concatenate([t.update(bars(c[i : i + 9])) for i in range(0, 200, 9)])
    assert np.array_equal(whole, parts)


@pytest.mark.parametrize(
    ("field", "value"),
    [("buffer", 0.5), ("atr_multiple", -1.0), ("atr_period", 0), ("restore", 0.9), ("max_drawdown", 1.5)],
)
def test_a_bad_guard_limit_is_a_user_error_naming_the_field(field, value):
    with pytest.raises(UserError, match=f"risk.{field}"):
        GuardLimits(**{field: value})


def test_the_guard_caps_an_entry_so_it_opens_with_the_restored_buffer():
    flat = lambda price: (1_000.0, 0.0, 0.0)  # noqa: E731  (no position yet)
    limits = GuardLimits(buffer=2.0, atr_multiple=0.0, restore=1.0, min_distance=0.0)
    g = LiquidationGuard(flat, PERP, limits, lambda q: 0.05)
    b = bars([100.0])  # ATR of the first bar: its range, 2
    g.on_batch(b)
    # buffer alone: 1000 >= 2 * 0.05 * 100 * q -> q <= 100
    assert g.cap(D(500), b, 0) == D(100)
    assert g.cap(D(50), b, 0) == D(50)
    assert g.cap(D(-500), b, 0) == D(-100)


def test_a_guard_that_only_measures_never_caps_or_wakes():
    pos = lambda price: (1_000.0 + 20 * (price - 100), 20 * price * 0.05, 20.0)  # noqa: E731
    g = LiquidationGuard(pos, PERP, GuardLimits(), lambda q: 0.05, enabled=False)
    b = bars([100.0, 60.0, 40.0])
    g.on_batch(b)
    assert g.cap(D(500), b, 0) == D(500)
    assert g.next_event_index(b, 0, 3) == 3
    assert g.record.max_leverage == pytest.approx(20 * 60 / 200)  # 1200 / (1000 - 800)


def test_the_guard_wakes_at_the_first_bar_that_breaches_and_sizes_back_to_the_buffer():
    base = [20.0]
    pos = lambda price: (1_000.0 + base[0] * (price - 100), base[0] * price * 0.05, base[0])  # noqa: E731
    g = LiquidationGuard(
        pos, PERP, GuardLimits(buffer=2.0, atr_multiple=0.0, restore=1.0, min_distance=0.0), lambda q: 0.05
    )
    # 20 @ 100: 1000 / (0.05 * 2000) = 10 requirements; at 80: 600 / 80 = 7.5; at 60: 200 / 60 = 3.3;
    # at a low of 58: 160 / 58 < 2 * ... 160 / (0.05 * 20 * 58) = 2.76 > 2; at 55: 100 / 55 = 1.8 < 2
    b = bars([100.0, 80.0, 60.0, 57.0], low=[99, 79, 58, 55])
    g.on_batch(b)
    assert g.next_event_index(b, 0, 4) == 3
    # at the close 57: equity 140, cap 140 / (2 * 0.05 * 57) = 24.56 > 20: the buffer holds at the close
    assert g.target(b, 3) is None
    b2 = bars([100.0, 50.0], low=[99, 49])
    g.on_batch(b2)
    # at 50: equity 0 -> everything goes
    assert g.target(b2, 1) == D(0)


def test_margin_capped_sizing_stops_where_the_initial_margin_and_fee_use_the_usable_equity():
    sizer = MarginCapped(CashFraction(D(10)), lambda q: 0.1, usable=D("0.98"))
    # 10x of 1000 at 10 wants 1000 SOL; 0.1 * 10 * q <= 980 -> q <= 980
    assert sizer.target(1.0, D(10), D(1_000), D(0), PERP) == D("980.00")
    assert sizer.target(-1.0, D(10), D(1_000), D(0), PERP) == D("-980.00")
    assert sizer.target(0.5, D(10), D(1_000), D(0), PERP) == D("500.00")


def test_denials_are_counted_by_reason():
    gate = RiskGate()
    ctx = RiskContext(D(100), D(0), D(1_000), D(1_000), D("0.001"))
    with pytest.raises(RiskDenied):
        gate.check(Order("O-1", PERP.id, Side.BUY, D(200), 0), PERP, ctx)
    with pytest.raises(RiskDenied):
        gate.check(Order("O-2", PERP.id, Side.SELL, D(1), 0, reduce_only=True), PERP, ctx)
    assert dict(gate.reasons) == {"leverage": 1, "reduce_only": 1}


def test_each_denial_is_published_as_an_event_with_its_reason():
    gate = RiskGate()
    seen = []
    gate.publish = seen.append
    ctx = RiskContext(D(100), D(0), D(1_000), D(1_000), D("0.001"))
    with pytest.raises(RiskDenied):
        gate.check(Order("O-7", PERP.id, Side.BUY, D(200), 5), PERP, ctx)
    assert [(e.ts_ns, e.client_order_id, e.reason) for e in seen] == [(5, "O-7", "leverage")]


def test_volatility_targeting_scales_leverage_to_the_target_and_caps_it():
    assert vol_target_leverage(0.02, 0.01, 5.0) == 2.0
    assert vol_target_leverage(0.20, 0.01, 5.0) == 5.0
    assert vol_target_leverage(0.02, 0.0, 5.0) == 0.0


def test_kelly_is_scaled_and_capped():
    # mean 1 %, variance 0.0004 (2 % sd): full Kelly 25x, half 12.5x, capped at 2
    assert kelly_fraction(0.01, 0.0004, scale=1.0, cap=100.0) == pytest.approx(25.0)
    assert kelly_fraction(0.01, 0.0004, cap=100.0) == pytest.approx(12.5)
    assert kelly_fraction(0.01, 0.0004, cap=2.0) == 2.0
    assert kelly_fraction(-0.01, 0.0004, cap=2.0) == -2.0


def test_max_risk_per_trade_sizes_so_the_stop_loses_at_most_the_share():
    # 1 % of 10,000 = 100 at risk; a stop 3 below the entry: 33.33 SOL on the 0.01 grid
    assert risk_capped_qty(D(10_000), D("0.01"), D(3), PERP) == D("33.33")
    assert risk_capped_qty(D(10_000), D("0.01"), D(0), PERP) == D(0)
    assert risk_capped_qty(D(1), D("0.01"), D(3), PERP) == D(0)  # below the minimum order


def rich_long(price):  # 20 long with collateral so large that no margin test ever fires
    return (1_000_000.0 + 20 * (price - 100), 20 * price * 0.05, 20.0)


def quiet(**kw):
    return GuardLimits(buffer=1.0, atr_multiple=0.0, min_distance=0.0, **kw)


def test_a_volatility_stop_fires_at_the_bar_whose_low_reaches_it_and_flattens_at_its_close():
    g = LiquidationGuard(rich_long, PERP, quiet(stop_atr=3.0), lambda q: 0.05)
    # ATR 2 (every bar's range is 2 and no gap is larger); stop 100 - 3 * 2 = 94; bar 2's low 93.5 reaches it
    b = bars([100.0, 98.0, 96.0, 95.0], high=[101, 99, 97, 96], low=[99, 97, 93.5, 94])
    g.on_batch(b)
    assert g.next_event_index(b, 0, 4) == 2
    assert g.target(b, 2) == D(0)
    assert g.record.stops_triggered == 1


def test_a_trailing_stop_follows_the_best_close_and_a_fixed_one_does_not():
    closes = [100.0, 101.0, 102.0, 103.0, 100.0]
    b = bars(closes)  # ranges 2, moves of 1: ATR 2 until the last bar; levels close - 3 -> 97 .. 100
    trailing = LiquidationGuard(rich_long, PERP, quiet(stop_atr=1.5, trailing=True), lambda q: 0.05)
    trailing.on_batch(b)
    assert trailing.next_event_index(b, 0, 5) == 4  # the last low, 99, is under the trailed 100
    fixed = LiquidationGuard(rich_long, PERP, quiet(stop_atr=1.5), lambda q: 0.05)
    fixed.on_batch(b)
    assert fixed.next_event_index(b, 0, 5) == 5  # 97 is never reached
