"""Acceptance: a 10x long held into the sharpest fall of the bundled SOL perp data is liquidated exactly
when its maintenance margin is breached, by the size and fees Drift's liquidation math gives.

The window is measured, not assumed: the entry is the hourly close with the deepest fall to the lowest
low of the next 48 hours (in the bundled 2024-01 .. 2026-05 data: 2025-10-08/09, before the 10 October
2025 crash). The breach bar is computed here independently, from the fill, the funding payments and
``drift_math``; the liquidation step is recomputed here from ``max_pct_to_liquidate``,
``base_to_cover_margin_shortage``, ``liquidation_fee`` and ``perp_if_fee``.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import ClassVar

import numpy as np
import pytest

from botnft.backtest.driver import SimulationDriver
from botnft.data import bundle
from botnft.data.bars import BarBatch, align_mark
from botnft.data.loader import load_candles
from botnft.domain import drift_margin as mg
from botnft.domain.events import FundingApplied, OrderFilled, PositionLiquidated
from botnft.domain.orders import Order, Side
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.node import TradingNode
from botnft.ports import BarArrays
from botnft.risk.gate import RiskGate, RiskLimits
from botnft.risk.sizing import FixedSize
from botnft.strategy.base import Signal
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift import SimDrift
from botnft.venues.sim.drift_liquidation import ceil_to_step
from botnft.venues.sim.drift_oracle import slot_of
from botnft.venues.sim.drift_params import SOL_PERP, DriftStateParams

E6 = 10**6
E9 = 10**9
COLLATERAL = 1_000
LEVERAGE = 10
WINDOW = 48


@pytest.fixture(scope="module")
def sol() -> BarBatch:
    bars = load_candles(bundle.get("sol-perp-1h").path)
    return align_mark(bars, load_candles(bundle.get("sol-perp-mark-1h").path))


def deepest_fall(bars: BarBatch, window: int) -> int:
    """Index of the close with the deepest fall to the lowest low of the next ``window`` bars."""
    lows = np.lib.stride_tricks.sliding_window_view(bars.low[1:], window)
    falls = lows.min(axis=1) / bars.close[: len(lows)] - 1
    return int(np.argmin(falls))


@pytest.fixture(scope="module")
def crash(sol: BarBatch) -> tuple[BarBatch, int, Decimal]:
    """(bars around the crash, entry bar index in them, order size for 10x)."""
    entry = deepest_fall(sol, WINDOW)
    lo, hi = entry - 200, entry + WINDOW + 1
    bars = sol.slice(lo, hi)
    qty = (Decimal(COLLATERAL * LEVERAGE) / Decimal(repr(float(sol.close[entry])))).quantize(
        Decimal("0.01"), rounding=ROUND_DOWN
    )
    return bars, entry - lo, qty


def run(venue: SimDrift, bars: BarBatch, entry: int, qty: Decimal) -> list[tuple[int, object]]:
    """Open the long at the entry bar's close, then drive the venue as the node does: (bar, event)."""
    venue.set_cursor(bars, entry)
    ts = int(bars.ts_ns[entry]) + bars.interval_ns
    events: list[tuple[int, object]] = [
        (entry, e) for e in venue.create_order(Order("L-1", SOL_PERP.instrument_id, Side.BUY, qty, ts))
    ]
    i, n = entry + 1, len(bars)
    while i < n:
        k = venue.next_event_index(bars, i, n)
        if k >= n:
            break
        events.extend((k, e) for e in venue.process(bars, k))
        i = k + 1
    return events


def quantized(price: float) -> int:
    return round(price * E6 / SOL_PERP.order_tick_size) * SOL_PERP.order_tick_size


def low_time(bars: BarBatch, k: int) -> int:
    """When bar k's path reaches its low: a third in for an up bar (O-L-H-C), two thirds for a down bar."""
    up = quantized(float(bars.close[k])) >= quantized(float(bars.open[k]))
    return int(bars.ts_ns[k]) + (1 if up else 2) * bars.interval_ns // 3


def test_the_window_is_the_deepest_48_hour_fall_in_the_bundled_data(sol: BarBatch, crash: tuple) -> None:
    bars, entry, _ = crash
    fall = float(bars.low[entry + 1 :].min()) / float(bars.close[entry]) - 1
    assert fall < -0.30  # the October 2025 crash: SOL fell by more than 30% within two days
    assert np.datetime64(int(bars.ts_ns[entry]), "ns").astype("datetime64[D]") == np.datetime64("2025-10-08")


def test_a_10x_long_is_liquidated_exactly_at_the_first_bar_that_breaches_maintenance(crash: tuple) -> None:
    bars, entry, qty = crash
    state = DriftStateParams()
    venue = SimDrift([SOL_PERP], collateral=Decimal(COLLATERAL), state=state)
    events = run(venue, bars, entry, qty)

    fill = next(e for _, e in events if isinstance(e, OrderFilled))
    base = int(fill.qty * E9)
    entry_quote = base * int(fill.price * E6) // E9
    assert entry_quote * LEVERAGE // 10 >= (COLLATERAL - 15) * E6  # it is a 10x position
    mmr = mg.margin_ratio(base, imr=500, mmr=300, imf_factor=SOL_PERP.imf_factor, kind="maintenance")

    # independent breach search: cash after the fee and the funding paid so far, valued at each low
    cash = COLLATERAL * E6 - int(fill.fee * E6)
    funding = sorted((e.ts_ns, int(e.payment * E6)) for _, e in events if isinstance(e, FundingApplied))
    breach = None
    for k in range(entry + 1, len(bars)):
        t_low = low_time(bars, k)
        paid = sum(p for t, p in funding if t <= t_low)
        low = quantized(float(bars.low[k]))
        total = cash - paid + base * low // E9 - entry_quote
        requirement = base * low // E9 * mmr // 10_000
        if total < requirement:
            breach = (k, t_low, low, cash - paid)
            break
    assert breach is not None
    k_breach, t_low, oracle, usdc = breach

    liquidations = [(k, e) for k, e in events if isinstance(e, PositionLiquidated)]
    assert liquidations, "the crash must liquidate a 10x long"
    assert all(k >= k_breach for k, _ in liquidations)  # (1) nothing before the breach bar
    k_first, first = liquidations[0]
    assert k_first == k_breach  # (2) at exactly that bar, at its low
    assert first.ts_ns == t_low
    assert first.price == Decimal(oracle).scaleb(-6)

    # (3) size and fees from Drift's liquidation math for that state
    buffer = state.liquidation_margin_buffer_ratio
    liability = base * oracle // E9
    total = usdc + base * oracle // E9 - entry_quote
    shortage = liability * mmr // 10_000 + liability * buffer // 10_000 - total
    ratio_with_buffer = mmr + buffer
    slot = slot_of(t_low)
    liq_fee = dm.liquidation_fee(
        SOL_PERP.liquidator_fee, dm.max_liquidation_fee(SOL_PERP.liquidator_fee, 300), slot, slot
    )
    if_fee = dm.perp_if_fee(
        shortage, base, ratio_with_buffer, liq_fee, oracle, E6, SOL_PERP.if_liquidation_fee
    )
    to_cover = ceil_to_step(
        dm.base_to_cover_margin_shortage(shortage, ratio_with_buffer, liq_fee, if_fee, oracle, E6),
        SOL_PERP.order_step_size,
    )
    initial, duration = state.initial_pct_to_liquidate, state.liquidation_duration
    pct = dm.max_pct_to_liquidate(
        shortage, slot=slot, last_active_slot=slot, initial_pct=initial, duration=duration
    )
    size = ceil_to_step(min(base, to_cover * pct // dm.LIQUIDATION_PCT_PRECISION), SOL_PERP.order_step_size)
    value = size * oracle // E9
    fee = value * liq_fee // E6 + value * if_fee // E6
    assert first.qty == Decimal(size).scaleb(-9)
    assert first.fee == Decimal(fee).scaleb(-6)
    step = venue.liquidations[0]
    used = (
        step.margin_shortage,
        step.liquidator_fee_rate,
        step.if_fee_rate,
        step.base_to_cover,
        step.max_pct,
    )
    assert used == (shortage, liq_fee, if_fee, to_cover, pct)

    # liquidation goes on at later checks until margin is restored or the position is gone
    assert len(liquidations) >= 2
    assert venue.account.conservation_residual() == 0
    assert venue.fetch_positions() == {} or venue.margin("maintenance").meets


class _LongAt:
    """Go long (exposure 1) at one bar, identified by its open time."""

    name: ClassVar[str] = "long_at"

    def __init__(self, ts_ns: int) -> None:
        self.ts_ns = ts_ns

    def on_bars(self, bars: BarArrays) -> list[Signal]:
        hit = np.flatnonzero(np.asarray(bars.ts_ns) == self.ts_ns)
        return [(int(hit[0]), 1.0)] if hit.size else []


@pytest.mark.parametrize("batch", [100_000, 24, 1])
def test_the_trading_node_sees_the_same_liquidation_whatever_its_batch_size(crash: tuple, batch: int) -> None:
    bars, entry, qty = crash
    direct = SimDrift([SOL_PERP], collateral=Decimal(COLLATERAL))
    expected = [e for _, e in run(direct, bars, entry, qty) if isinstance(e, PositionLiquidated)]

    venue = SimDrift([SOL_PERP], collateral=Decimal(COLLATERAL))
    inst = SOL_PERP.instrument()
    portfolio = Portfolio({inst.id: inst})
    portfolio.deposit("DRIFT", "USDC", Decimal(COLLATERAL))
    clock = SimClock(int(bars.ts_ns[0]))
    node = TradingNode(
        clock=clock,
        strategy=_LongAt(int(bars.ts_ns[entry])),
        instrument=inst,
        venues={"DRIFT": venue},
        portfolio=portfolio,
        sizer=FixedSize(qty),
        risk=RiskGate(RiskLimits(max_leverage=Decimal(LEVERAGE))),
        fee_rate=Decimal("0.00035"),
    )
    driver = SimulationDriver(node, clock, {"DRIFT": venue})
    for chunk in bars.chunks(batch):
        driver.on_batch(chunk)
    assert node.record.rejections == []
    assert node.record.liquidations == expected
    # the portfolio mirrors the venue from the events alone (BankruptcyResolved carries the insurance
    # fund's cover of a bankrupt account)
    assert portfolio.balance("DRIFT", "USDC") == venue.fetch_balance()["USDC"]
    assert portfolio.positions[inst.id].qty == venue.fetch_positions().get(inst.id, Decimal(0))
