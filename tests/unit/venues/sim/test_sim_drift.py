"""SimDrift: orders, fills, funding, margin and oracle validity, on small synthetic candle series.

Expected values are computed here from ``drift_math`` (already checked against upstream) and the
documented fill model, never read back from the venue.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from botnft.data.bars import BarBatch
from botnft.domain import drift_margin as mg
from botnft.domain.events import (
    FundingApplied,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    PositionLiquidated,
)
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift import SimDrift
from botnft.venues.sim.drift_curve import DriftLiquidityParams
from botnft.venues.sim.drift_market import ExternalFunding
from botnft.venues.sim.drift_oracle import OracleInjection
from botnft.venues.sim.drift_params import BTC_PERP, SLOT_NS, SOL_PERP, DriftStateParams

HOUR = 3_600 * 10**9
T0 = 1_735_689_600 * 10**9  # 2025-01-01T00:00Z, on the hour
SOL = SOL_PERP.instrument_id
E6 = 10**6
E9 = 10**9


def bars_from(
    closes: list[float],
    *,
    lows: dict[int, float] | None = None,
    highs: dict[int, float] | None = None,
    volume: float = 1e6,
    start: int = T0,
    mark_bps: float | None = None,
) -> BarBatch:
    """Hourly candles: each opens at the previous close; highs/lows at the body unless overridden."""
    c = np.asarray(closes, dtype=np.float64)
    o = np.concatenate([[c[0]], c[:-1]])
    h = np.maximum(o, c)
    lo = np.minimum(o, c)
    for i, v in (lows or {}).items():
        lo[i] = v
    for i, v in (highs or {}).items():
        h[i] = v
    ts = start + HOUR * np.arange(len(c), dtype=np.int64)
    mark_open = mark_close = None
    if mark_bps is not None:
        mark_open, mark_close = o * (1 + mark_bps / 1e4), c * (1 + mark_bps / 1e4)
    return BarBatch(ts, o, h, lo, c, np.full(len(c), volume), HOUR, mark_open, mark_close)


def order(
    side: Side,
    qty: str,
    *,
    coid: str = "O-1",
    kind: OrderType = OrderType.MARKET,
    price: str | None = None,
    trigger: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    instrument: InstrumentId = SOL,
) -> Order:
    return Order(
        coid,
        instrument,
        side,
        Decimal(qty),
        0,
        order_type=kind,
        price=None if price is None else Decimal(price),
        trigger_price=None if trigger is None else Decimal(trigger),
        tif=tif,
        reduce_only=reduce_only,
    )


def place(venue: SimDrift, bars: BarBatch, j: int, o: Order) -> list:
    """What the node does at bar j's close: set the cursor, then create the order."""
    venue.set_cursor(bars, j)
    return list(venue.create_order(o))


def drive(venue: SimDrift, bars: BarBatch, lo: int, hi: int | None = None) -> list:
    """The node's loop without a strategy: wake the venue where it has work, collect its events."""
    hi = len(bars) if hi is None else hi
    out: list = []
    i = lo
    while i < hi:
        k = venue.next_event_index(bars, i, hi)
        if k >= hi:
            break
        out.extend(venue.process(bars, k))
        i = k + 1
    return out


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def expected_taker_fill(direction: str, oracle: int, tick: int, state: DriftStateParams) -> tuple[int, int]:
    """(slot, price) of the JIT fill: the first auction slot at or through oracle ± jit spread."""
    start, end = dm.auction_prices(direction, oracle)
    start, end = dm.standardize_price(start, tick, direction), dm.standardize_price(end, tick, direction)
    spread = oracle * state.jit_spread_bps // 10_000
    target = oracle + spread if direction == "long" else oracle - spread
    for k in range(state.auction_duration + 1):
        dur = state.auction_duration
        p = dm.auction_price(
            direction, start_price=start, end_price=end, order_slot=0, slot=k, duration=dur, tick_size=tick
        )
        if (direction == "long" and p >= target) or (direction == "short" and p <= target):
            return k, p
    raise AssertionError("the auction never reaches the JIT quote")


# ---------------------------------------------------------------------------------------------------
# rejections: events with a specific reason, never exceptions
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("o", "reason"),
    [
        (order(Side.BUY, "0.001"), "below_min_size"),
        (order(Side.BUY, "0.015"), "off_lot"),
        (order(Side.BUY, "1", kind=OrderType.LIMIT, price="99.00005"), "off_tick"),
        (order(Side.BUY, "1", kind=OrderType.LIMIT, price="105.5"), "outside_oracle_band"),
        (order(Side.SELL, "1", kind=OrderType.LIMIT, price="94.5"), "outside_oracle_band"),
        (order(Side.BUY, "500"), "insufficient_collateral"),
        (order(Side.SELL, "1", reduce_only=True), "reduce_only_would_increase"),
        (
            order(Side.BUY, "1", kind=OrderType.LIMIT, price="100", tif=TimeInForce.POST_ONLY),
            "post_only_would_cross",
        ),
        (order(Side.BUY, "1", instrument=BTC_PERP.instrument_id), "unknown_market"),
    ],
)
def test_an_invalid_order_is_rejected_with_its_reason_as_an_event(o: Order, reason: str) -> None:
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    events = place(venue, bars_from([100.0] * 3), 1, o)
    assert len(events) == 1
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason == reason
    assert events[0].client_order_id == o.client_order_id
    assert venue.fetch_open_orders() == []


def test_a_reduce_only_order_is_rejected_when_it_would_flip_the_position() -> None:
    bars = bars_from([100.0] * 5)
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    place(venue, bars, 0, order(Side.BUY, "1"))
    drive(venue, bars, 1, 2)
    assert venue.fetch_positions() == {SOL: Decimal(1)}
    rejected = place(venue, bars, 1, order(Side.SELL, "1.5", coid="O-2", reduce_only=True))
    assert [e.reason for e in of(rejected, OrderRejected)] == ["reduce_only_would_increase"]


def test_an_order_is_rejected_when_the_oracle_is_stale_for_margin() -> None:
    bars = bars_from([100.0] * 4)
    stale = OracleInjection(T0 + 2 * HOUR - 10**9, T0 + 3 * HOUR, delay_slots=121)
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), oracle_injections={"SOL-PERP": [stale]})
    events = place(venue, bars, 1, order(Side.BUY, "1"))
    assert [e.reason for e in of(events, OrderRejected)] == ["oracle_invalid"]
    # one slot less stale is still valid for margin (stale only for the AMM): the order is accepted
    just_fresh = OracleInjection(T0 + 2 * HOUR - 10**9, T0 + 3 * HOUR, delay_slots=120)
    ok = SimDrift([SOL_PERP], collateral=Decimal(1_000), oracle_injections={"SOL-PERP": [just_fresh]})
    assert of(place(ok, bars, 1, order(Side.BUY, "1")), OrderAccepted)


def test_an_order_is_rejected_when_the_oracle_confidence_is_too_wide() -> None:
    bars = bars_from([100.0] * 4)
    wide = OracleInjection(T0, T0 + 4 * HOUR, conf_bps=201)  # > 2% for tier B
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), oracle_injections={"SOL-PERP": [wide]})
    assert [e.reason for e in place(venue, bars, 1, order(Side.BUY, "1"))] == ["oracle_invalid"]


# ---------------------------------------------------------------------------------------------------
# fills
# ---------------------------------------------------------------------------------------------------
def test_a_market_order_fills_in_the_next_bar_at_the_auction_price_a_jit_maker_takes() -> None:
    bars = bars_from([100.0, 100.0, 101.0, 101.0])
    state = DriftStateParams()
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), state=state)
    accepted = place(venue, bars, 1, order(Side.BUY, "2"))
    assert of(accepted, OrderAccepted)
    assert venue.next_event_index(bars, 2, 4) == 2
    events = drive(venue, bars, 2)
    (fill,) = of(events, OrderFilled)
    slot, price = expected_taker_fill("long", 100 * E6, SOL_PERP.order_tick_size, state)
    quote = 2 * E9 * price // E9
    fee = dm.taker_maker_fees(quote, taker_fee_numerator=35, maker_rebate_numerator=0, denominator=100_000)[0]
    assert fill.ts_ns == T0 + 2 * HOUR + slot * SLOT_NS
    assert fill.price == Decimal(price).scaleb(-6)
    assert fill.qty == Decimal(2)
    assert fill.fee == Decimal(fee).scaleb(-6)
    assert fill.liquidity == "taker"
    assert fill.price > Decimal(100)  # the taker pays through the oracle by the auction step
    assert venue.ledger()["fee_pool"] == fee
    assert venue.account.conservation_residual() == 0


def test_a_market_order_expires_when_no_liquidity_takes_it_within_its_limit() -> None:
    # a 2-bps JIT quote that the auction (0.5% over 10 slots) always reaches; make it unreachable, and
    # give the market no resting orders and no vAMM
    state = DriftStateParams(jit_spread_bps=80)
    bars = bars_from([100.0] * 4)
    empty = replace(
        SOL_PERP, liquidity=DriftLiquidityParams(jit_max_base=0, dlob_levels=(), amm_base_reserve=0)
    )
    venue = SimDrift([empty], collateral=Decimal(1_000), state=state)
    place(venue, bars, 1, order(Side.BUY, "1"))
    events = drive(venue, bars, 2)
    assert of(events, OrderFilled) == []
    (expired,) = of(events, OrderExpired)
    assert expired.ts_ns == T0 + 2 * HOUR + state.market_order_ttl_s * 10**9


def test_a_limit_order_rests_then_fills_as_maker_when_the_price_trades_through_it() -> None:
    bars = bars_from([100.0, 100.0, 99.0, 99.5, 97.0, 98.0], lows={3: 98.6, 4: 96.5})
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    accepted = place(venue, bars, 1, order(Side.BUY, "3", kind=OrderType.LIMIT, price="98"))
    assert of(accepted, OrderAccepted)
    assert venue.next_event_index(bars, 2, 6) == 4  # bar 2 bottoms at 99, bar 3 at 98.6, bar 4 at 96.5
    events = drive(venue, bars, 2)
    (fill,) = of(events, OrderFilled)
    quote = 3 * 98 * E6
    rebate = quote * 25 // 1_000_000  # 0.25 bps maker rebate, rounded down
    assert fill.price == Decimal(98)
    assert fill.liquidity == "maker"
    assert fill.fee == -Decimal(rebate).scaleb(-6)
    assert T0 + 4 * HOUR < fill.ts_ns < T0 + 5 * HOUR
    assert venue.account.conservation_residual() == 0


def test_a_limit_that_only_touches_its_price_does_not_fill() -> None:
    bars = bars_from([100.0, 100.0, 99.0], lows={2: 98.0})
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    place(venue, bars, 1, order(Side.BUY, "1", kind=OrderType.LIMIT, price="98"))
    assert of(drive(venue, bars, 2), OrderFilled) == []
    assert [o.client_order_id for o in venue.fetch_open_orders()] == ["O-1"]


def test_a_post_only_order_below_the_oracle_rests_and_fills_as_maker() -> None:
    bars = bars_from([100.0, 100.0, 99.0], lows={2: 98.5})
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    place(venue, bars, 1, order(Side.BUY, "1", kind=OrderType.LIMIT, price="99", tif=TimeInForce.POST_ONLY))
    (fill,) = of(drive(venue, bars, 2), OrderFilled)
    assert fill.liquidity == "maker"
    assert fill.price == Decimal(99)


def test_a_reduce_only_order_fills_to_reduce_the_position() -> None:
    bars = bars_from([100.0] * 6)
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    place(venue, bars, 0, order(Side.BUY, "2"))
    drive(venue, bars, 1, 2)
    place(venue, bars, 1, order(Side.SELL, "0.5", coid="O-2", reduce_only=True))
    (fill,) = of(drive(venue, bars, 2, 3), OrderFilled)
    assert fill.side is Side.SELL
    assert venue.fetch_positions() == {SOL: Decimal("1.5")}


def test_an_ioc_order_fills_what_the_bar_allows_and_cancels_the_rest() -> None:
    state = DriftStateParams(max_participation=0.01)  # 1% of a 100-SOL bar: 1 SOL
    bars = bars_from([100.0] * 4, volume=100.0)
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), state=state)
    place(venue, bars, 1, order(Side.BUY, "3", tif=TimeInForce.IOC))
    events = drive(venue, bars, 2)
    (fill,) = of(events, OrderFilled)
    (cancel,) = of(events, OrderCanceled)
    assert fill.qty == Decimal(1)
    assert cancel.reason == "ioc_remaining"
    assert cancel.ts_ns >= fill.ts_ns
    assert venue.fetch_positions() == {SOL: Decimal(1)}
    assert venue.fetch_open_orders() == []


def test_a_fill_or_kill_order_that_the_bar_cannot_fill_whole_is_cancelled_unfilled() -> None:
    state = DriftStateParams(max_participation=0.01)
    bars = bars_from([100.0] * 4, volume=100.0)
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), state=state)
    place(venue, bars, 1, order(Side.BUY, "3", tif=TimeInForce.FOK))
    events = drive(venue, bars, 2)
    assert of(events, OrderFilled) == []
    assert [e.reason for e in of(events, OrderCanceled)] == ["ioc_unfilled"]


def test_a_stop_market_order_triggers_when_the_oracle_crosses_then_fills_as_a_market_order() -> None:
    bars = bars_from([100.0, 100.0, 99.0, 98.0, 96.0, 97.0], lows={3: 97.5, 4: 94.0})
    state = DriftStateParams()
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), state=state)
    place(venue, bars, 0, order(Side.BUY, "1"))
    drive(venue, bars, 1, 2)
    place(venue, bars, 1, order(Side.SELL, "1", coid="S-1", kind=OrderType.STOP_MARKET, trigger="95"))
    assert of(drive(venue, bars, 2, 4), OrderFilled) == []  # bar 3 bottoms at 97.5: no trigger
    events = drive(venue, bars, 4)
    (fill,) = of(events, OrderFilled)
    # bar 4 is a down bar: open 98 -> high 98 -> low 94 at +40 min -> close 96; the oracle passes 95 on
    # the way to the low, the auction starts there from the oracle at that instant
    t_high, t_low = T0 + 4 * HOUR + HOUR // 3, T0 + 4 * HOUR + 2 * HOUR // 3
    t_cross = t_high + (98 * E6 - 95 * E6) * (t_low - t_high) // (98 * E6 - 94 * E6) + 1
    oracle = venue.core.tapes[0].sample(t_cross)
    assert oracle is not None
    slot, price = expected_taker_fill("short", oracle.price, SOL_PERP.order_tick_size, state)
    assert fill.ts_ns == t_cross + slot * SLOT_NS
    assert fill.price == Decimal(price).scaleb(-6)
    assert fill.side is Side.SELL
    assert venue.fetch_positions() == {}


def test_a_cancelled_order_releases_its_open_order_margin() -> None:
    bars = bars_from([100.0] * 3)
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    place(venue, bars, 1, order(Side.BUY, "1", kind=OrderType.LIMIT, price="90"))
    assert venue.margin("initial").margin_requirement > 0
    assert of(list(venue.cancel_order("O-1")), OrderCanceled)
    assert venue.margin("initial").margin_requirement == 0
    assert venue.fetch_open_orders() == []


# ---------------------------------------------------------------------------------------------------
# funding
# ---------------------------------------------------------------------------------------------------
def _long_for(hours: int, *, mark_bps: float, qty: str = "10", **kw: object) -> tuple[SimDrift, list]:
    bars = bars_from([100.0] * (hours + 2), mark_bps=mark_bps)
    venue = SimDrift([SOL_PERP], collateral=Decimal(10_000), **kw)  # type: ignore[arg-type]
    place(venue, bars, 0, order(Side.BUY, qty))
    return venue, drive(venue, bars, 1)


def test_longs_pay_funding_when_the_mark_is_above_the_oracle() -> None:
    _, events = _long_for(6, mark_bps=30)
    payments = [e.payment for e in of(events, FundingApplied)]
    assert payments and all(p > 0 for p in payments)


def test_longs_receive_funding_when_the_mark_is_well_below_the_oracle() -> None:
    _, events = _long_for(6, mark_bps=-30)
    payments = [e.payment for e in of(events, FundingApplied)]
    assert payments and all(p < 0 for p in payments)


def test_funding_is_settled_on_every_hour() -> None:
    _, events = _long_for(8, mark_bps=10)
    times = [e.ts_ns for e in of(events, FundingApplied)]
    assert times == [T0 + k * HOUR for k in range(2, 11)]  # fills at 01:00+, bars close up to 10:00


def test_each_funding_payment_equals_drift_funding_payment_on_the_cumulative_rate_to_the_unit() -> None:
    venue, events = _long_for(8, mark_bps=12)
    history = venue.markets[0].funding_history
    funding = of(events, FundingApplied)
    base = 10 * E9
    # the position opened after the update at 01:00; each settlement covers one update
    after_open = [u for u in history if u.ts_ns >= funding[0].ts_ns]
    assert len(after_open) == len(funding)
    previous = [u for u in history if u.ts_ns < funding[0].ts_ns][-1].cumulative_long
    for ev, upd in zip(funding, after_open, strict=True):
        expected = -dm.funding_payment(upd.cumulative_long - previous, base)
        assert ev.payment == Decimal(expected).scaleb(-6)
        assert ev.ts_ns == upd.ts_ns
        previous = upd.cumulative_long
    assert sum(u.rate_long for u in history) == venue.markets[0].cumulative_funding_rate_long
    assert sum(u.rate_short for u in history) == venue.markets[0].cumulative_funding_rate_short


def test_funding_rates_come_from_the_mark_and_oracle_twaps_with_the_offset() -> None:
    venue, _ = _long_for(4, mark_bps=0)
    for u in venue.markets[0].funding_history:
        assert u.rate == dm.funding_rate(u.mark_twap, u.oracle_twap, tier="B")
    # with mark == oracle only the offset remains: longs pay oracle/5000 per day, /24 per hour
    assert venue.markets[0].funding_history[-1].rate == 100 * E6 // 5000 * 1000 // 24


def test_the_receiving_side_is_capped_by_the_amm_fee_pool() -> None:
    import dataclasses

    poor = dataclasses.replace(SOL_PERP, amm_fee_pool=10 * E6)  # the AMM may pay out ~$1.7 an hour
    bars = bars_from([100.0] * 6, mark_bps=30)
    venue = SimDrift([poor], collateral=Decimal(10_000))
    place(venue, bars, 0, order(Side.SELL, "500"))  # short: the AMM is long and pays the shorts
    drive(venue, bars, 1)
    capped = [u for u in venue.markets[0].funding_history if u.rate_short != u.rate]
    assert capped, "the fee pool should cap what shorts receive"
    for u in capped:
        assert 0 < u.rate_short < u.rate  # shorts receive less; longs still pay the full rate
        assert u.rate_long == u.rate


def test_a_stale_oracle_blocks_the_funding_update() -> None:
    bars = bars_from([100.0] * 8, mark_bps=10)
    stale = OracleInjection(T0 + 4 * HOUR - 600 * 10**9, T0 + 5 * HOUR - 10**9, delay_slots=500)
    venue = SimDrift([SOL_PERP], collateral=Decimal(10_000), oracle_injections={"SOL-PERP": [stale]})
    place(venue, bars, 0, order(Side.BUY, "10"))
    events = drive(venue, bars, 1)
    times = [e.ts_ns for e in of(events, FundingApplied)]
    assert T0 + 4 * HOUR not in times
    assert times == [T0 + k * HOUR for k in (2, 3, 5, 6, 7, 8)]


def test_a_gap_in_the_data_longer_than_the_staleness_limit_blocks_funding_inside_it() -> None:
    full = bars_from([100.0] * 10, mark_bps=10)
    keep = np.array([0, 1, 2, 3, 7, 8, 9])  # bars 4-6 missing: 04:00 .. 07:00 has no oracle update
    assert full.mark_open is not None and full.mark_close is not None
    cols = (full.ts_ns, full.open, full.high, full.low, full.close, full.volume)
    bars = BarBatch(*(c[keep] for c in cols), HOUR, full.mark_open[keep], full.mark_close[keep])
    venue = SimDrift([SOL_PERP], collateral=Decimal(10_000))
    place(venue, bars, 0, order(Side.BUY, "10"))
    times = [e.ts_ns for e in of(drive(venue, bars, 1), FundingApplied)]
    assert times == [T0 + k * HOUR for k in (2, 3, 4, 7, 8, 9, 10)]  # 05:00 and 06:00 fall in the gap


def test_an_external_funding_series_sets_the_rate_scaled_to_the_hour() -> None:
    series = ExternalFunding(
        np.array([T0 - 8 * HOUR, T0 + 4 * HOUR], dtype=np.int64), np.array([0.0004, -0.0008])
    )
    venue, events = _long_for(6, mark_bps=0, external_funding={"SOL-PERP": series})
    for u in venue.markets[0].funding_history:
        frac = 0.0004 if u.ts_ns < T0 + 4 * HOUR else -0.0008
        assert u.rate == round(Fraction(frac) * u.oracle_twap * 1000 * 3600 / (8 * 3600))
    signs = [e.payment > 0 for e in of(events, FundingApplied)]
    assert signs == [True, True, False, False, False, False, False]


# ---------------------------------------------------------------------------------------------------
# margin
# ---------------------------------------------------------------------------------------------------
def test_initial_margin_carries_the_imf_size_premium_and_free_collateral_follows() -> None:
    bars = bars_from([100.0] * 4)
    venue = SimDrift([SOL_PERP], collateral=Decimal(100_000))
    place(venue, bars, 0, order(Side.BUY, "2000"))
    drive(venue, bars, 1, 2)
    size = 2_000 * E9
    ratio = mg.margin_ratio(size, imr=500, mmr=300, imf_factor=SOL_PERP.imf_factor, kind="initial")
    assert ratio > SOL_PERP.margin_ratio_initial  # the size premium is in force at 2,000 SOL
    oracle = venue.core.tapes[0].sample(venue.core.now)
    assert oracle is not None
    liability = size * oracle.price // E9
    mc = venue.margin("initial")
    assert mc.margin_requirement == liability * ratio // 10_000
    pos = venue.account.positions[0]
    upnl = size * oracle.price // E9 + pos.quote_asset_amount
    assert mc.total_collateral == venue.account.usdc + min(upnl, 100 * E6)
    assert mc.free_collateral == max(0, mc.total_collateral - mc.margin_requirement)
    maint = venue.margin("maintenance")
    assert (
        maint.margin_requirement
        == liability
        * mg.margin_ratio(size, imr=500, mmr=300, imf_factor=SOL_PERP.imf_factor, kind="maintenance")
        // 10_000
    )


def test_an_order_that_would_breach_initial_margin_is_rejected_and_one_just_inside_is_accepted() -> None:
    bars = bars_from([100.0] * 3)
    size = 10 * E9
    ratio = mg.margin_ratio(size, imr=500, mmr=300, imf_factor=SOL_PERP.imf_factor, kind="initial")
    requirement = size * 100 * E6 // E9 * ratio // 10_000 + dm.OPEN_ORDER_MARGIN_REQUIREMENT
    fee, _ = dm.tier_fees(size * 100 * E6 // E9, DriftStateParams().fee_tier)
    needed = requirement + fee
    short = SimDrift([SOL_PERP], collateral=Decimal(needed - 1).scaleb(-6))
    assert [e.reason for e in place(short, bars, 1, order(Side.BUY, "10"))] == ["insufficient_collateral"]
    enough = SimDrift([SOL_PERP], collateral=Decimal(needed).scaleb(-6))
    assert of(place(enough, bars, 1, order(Side.BUY, "10")), OrderAccepted)


def test_the_liquidation_price_is_where_maintenance_free_collateral_runs_out() -> None:
    bars = bars_from([100.0] * 3)
    venue = SimDrift([SOL_PERP], collateral=Decimal(100))
    place(venue, bars, 0, order(Side.BUY, "10"))
    drive(venue, bars, 1, 2)
    liq = venue.liquidation_price("SOL-PERP")
    assert liq is not None and Decimal(90) < liq < Decimal(100)
    mc = venue.margin("maintenance")
    ratio = mg.margin_ratio(10 * E9, imr=500, mmr=300, imf_factor=SOL_PERP.imf_factor, kind="maintenance")
    expected = dm.perp_liquidation_price(
        100 * E6, mc.total_collateral - mc.margin_requirement, 10 * E9, ratio
    )
    assert liq == Decimal(expected).scaleb(-6)


# ---------------------------------------------------------------------------------------------------
# several markets, cross margin
# ---------------------------------------------------------------------------------------------------
def test_a_second_market_fed_from_its_own_candles_counts_in_cross_margin_and_is_liquidated() -> None:
    sol = bars_from([100.0] * 8)
    btc = bars_from([50_000.0, 50_000.0, 50_000.0, 52_000.0, 58_000.0, 58_000.0, 58_000.0, 58_000.0])
    venue = SimDrift([SOL_PERP, BTC_PERP], collateral=Decimal(1_500), feeds={"BTC-PERP": btc})
    place(venue, sol, 0, order(Side.BUY, "10"))
    place(venue, sol, 0, order(Side.SELL, "0.2", coid="B-1", instrument=BTC_PERP.instrument_id))
    fills = of(drive(venue, sol, 1, 2), OrderFilled)
    assert {f.instrument for f in fills} == {SOL, BTC_PERP.instrument_id}
    mc = venue.margin("maintenance")
    expected = 0
    for params, base, price in ((SOL_PERP, 10 * E9, 100 * E6), (BTC_PERP, 2 * E9 // 10, 50_000 * E6)):
        imr, mmr = params.margin_ratio_initial, params.margin_ratio_maintenance
        ratio = mg.margin_ratio(base, imr=imr, mmr=mmr, imf_factor=params.imf_factor, kind="maintenance")
        expected += base * price // E9 * ratio // 10_000
    assert mc.margin_requirement == expected
    events = drive(venue, sol, 2)
    assert {e.instrument for e in of(events, FundingApplied)} == {SOL, BTC_PERP.instrument_id}
    liquidations = of(events, PositionLiquidated)
    assert liquidations, "a 20% BTC rally against a 10x cross-margined short must liquidate it"
    assert liquidations[0].instrument == BTC_PERP.instrument_id  # the largest liability goes first
    assert T0 + 4 * HOUR <= liquidations[0].ts_ns <= T0 + 5 * HOUR
    assert venue.account.conservation_residual() == 0


def test_a_marketable_limit_left_with_size_takes_again_at_the_next_bar() -> None:
    state = DriftStateParams(max_participation=0.01)
    bars = bars_from([100.0] * 5, volume=100.0)  # 1 SOL a bar
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), state=state)
    place(venue, bars, 1, order(Side.BUY, "2", kind=OrderType.LIMIT, price="100.5"))
    events = drive(venue, bars, 2)
    fills = of(events, OrderFilled)
    assert [f.qty for f in fills] == [Decimal(1), Decimal(1)]
    assert all(f.liquidity == "taker" and f.price < Decimal("100.5") for f in fills)
    assert fills[1].ts_ns > T0 + 3 * HOUR  # the second lot at the next bar's open auction


def test_a_market_order_expires_unfilled_while_the_oracle_is_stale() -> None:
    bars = bars_from([100.0] * 4)
    stale = OracleInjection(T0 + 2 * HOUR + 1, T0 + 3 * HOUR, delay_slots=121)
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), oracle_injections={"SOL-PERP": [stale]})
    assert of(place(venue, bars, 1, order(Side.BUY, "1")), OrderAccepted)
    events = drive(venue, bars, 2)
    assert of(events, OrderFilled) == []
    assert len(of(events, OrderExpired)) == 1


@pytest.mark.parametrize(("delay", "fills"), [(0, 1), (11, 0)])
def test_the_vamm_fills_only_with_an_oracle_fresh_for_the_amm(delay: int, fills: int) -> None:
    # JIT makers quote 80 bps through the oracle: beyond the auction's 50 bps; no resting orders. Only
    # the vAMM (1M SOL reserves, 5 bps half spread) can fill, and it needs an oracle at most 10 slots old
    state = DriftStateParams(jit_spread_bps=80, oracle_delay_slots=delay)
    bars = bars_from([100.0] * 4, highs={2: 101.0})
    amm_only = replace(
        SOL_PERP, liquidity=DriftLiquidityParams(jit_max_base=0, dlob_levels=(), amm_base_reserve=10**15)
    )
    venue = SimDrift([amm_only], collateral=Decimal(1_000), state=state)
    assert of(place(venue, bars, 1, order(Side.BUY, "1", kind=OrderType.LIMIT, price="101")), OrderAccepted)
    events = drive(venue, bars, 2, 3)
    assert len(of(events, OrderFilled)) == fills
    if fills:
        (fill,) = of(events, OrderFilled)
        # first 5-bps band of x·y=k from the peg 100.05: it ends where (B/(B-x))² = 1.0005, x ≈ 249.91
        # SOL (floored to 0.01); its average price 100.05·B/(B-x) = 100.075006…, rounded up to the tick
        assert fill.price == Decimal("100.0751")
        assert fill.ts_ns == T0 + 2 * HOUR + state.auction_duration * SLOT_NS
    else:
        assert [o.client_order_id for o in venue.fetch_open_orders()] == ["O-1"]  # it rests


def test_a_constant_oracle_delay_beyond_120_slots_blocks_every_order() -> None:
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000), state=DriftStateParams(oracle_delay_slots=121))
    assert [e.reason for e in place(venue, bars_from([100.0] * 3), 1, order(Side.BUY, "1"))] == [
        "oracle_invalid"
    ]
