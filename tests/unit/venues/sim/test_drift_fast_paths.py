"""SimDrift's per-bar fast paths give what the straightforward code gives, bit for bit.

The references below are the code as it was before the fast paths (kept here, test-only): the market
replay cranking one point at a time through ``drift_math.new_twap`` / ``sanitize`` and
``funding_rate_long_short``, the tape's bar walk for ``path_raw``, the numpy one-bar liquidation scan,
the vAMM bands through ``standardize_price``. Each fast path is driven against its reference on the
bundled SOL candles (with a gap, a stale oracle, an external funding series, positions large enough
for the AMM's capped funding and a fee pool small enough for failed updates) and on random inputs, and
a 10x long driven into the October 2025 crash is liquidated at the same bar, by the same events, with
and without the one-bar scan.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from math import isqrt
from typing import Any

import numpy as np
import pytest
import test_sim_drift_crash as crash_case
from test_drift_catch_up import HOUR, bars_with_a_gap, market, state

from botnft.data import bundle
from botnft.data.bars import align_mark
from botnft.data.loader import load_candles
from botnft.domain.events import PositionLiquidated
from botnft.venues.sim import drift_liquidation
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift import SimDrift
from botnft.venues.sim.drift_account import position_margin_ratio
from botnft.venues.sim.drift_curve import DriftLiquidityParams, amm_levels
from botnft.venues.sim.drift_liquidation import liquidation_scan
from botnft.venues.sim.drift_market import (
    FIVE_MINUTES,
    FORMULA,
    MARK_ORACLE_MAX_DIVERGENCE,
    NS,
    FundingUpdate,
    MarketState,
    _round_half_even,
    sanitize,
)
from botnft.venues.sim.drift_oracle import OracleSample, PriceTape, valid_for
from botnft.venues.sim.drift_params import SOL_PERP, DriftStateParams
from botnft.venues.sim.intmath import tdiv


# ------------------------------------------------------------------------------------------------
# references: the code before the fast paths
# ------------------------------------------------------------------------------------------------
def reference_path_raw(tape: PriceTape, after_ns: int, until_ns: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    prev_end: int | None = None
    for ch, a, b in tape._bars_overlapping(after_ns, until_ns):
        interval = ch.interval
        offsets = [i * interval // 3 for i in range(4)]
        for k in range(a, b):
            t0 = ch.ts_py[k]
            pts, marks = ch.pts_py[k], ch.marks_py[k]
            first = 1 if t0 == prev_end else 0
            end = t0 + interval
            for i in range(first, 4):
                t = t0 + offsets[i]
                if after_ns < t <= until_ns:
                    out.append((t, pts[i], marks[i]))
            prev_end = end
    return out


class ReferenceMarket(MarketState):
    """``MarketState`` replaying one crank at a time, as before the fast paths."""

    def advance(self, t_ns: int, account_base: int) -> list[FundingUpdate]:
        period = self.params.funding_period
        if self.t_ns is None:
            start = self.tape.start_ns
            if start is None or start > t_ns:
                return []
            self.t_ns = start - 1
            self.last_funding_rate_ts = (start // NS) // period * period
        if t_ns <= self.t_ns:
            return []
        out: list[FundingUpdate] = []
        step = period * NS
        boundary = ((self.t_ns // NS) // period + 1) * step
        tape = self.tape
        points = reference_path_raw(tape, self.t_ns, t_ns)
        n = len(points)
        i = 0
        while True:
            if i < n and not self._retry:
                point = points[i]
                if point[0] < boundary or boundary > t_ns:
                    self._twap_point(*point)
                    i += 1
                    continue
            if boundary <= t_ns and (i >= n or boundary < points[i][0]):
                s = tape.sample(boundary)
                if s is not None:
                    self._crank(s, account_base, out, boundary_crank=True)
                boundary += step
                continue
            if i >= n:
                break
            point = points[i]
            on_boundary = point[0] == boundary
            self._crank(tape._sample(*point, point[0]), account_base, out, boundary_crank=on_boundary)
            if on_boundary:
                boundary += step
            i += 1
        self.t_ns = t_ns
        return out

    def _twap_point(self, ts_ns: int, price: int, mark: int) -> bool:
        if price <= 0:
            return False
        now = ts_ns // NS
        self._last_oracle, self._last_point = None, (ts_ns, price, mark)
        if self.oracle_twap == 0:
            self.oracle_twap = self.oracle_twap_5min = price
            self.mark_twap = mark
            self.oracle_twap_ts = self.mark_twap_ts = now
            return True
        den = self._den
        period = self.params.funding_period
        capped = sanitize(price, self.oracle_twap, den)
        ts = self.oracle_twap_ts
        self.oracle_twap = dm.new_twap(capped, now, self.oracle_twap, ts, period)
        self.oracle_twap_5min = dm.new_twap(capped, now, self.oracle_twap_5min, ts, FIVE_MINUTES)
        self.oracle_twap_ts = now
        capped_mark = sanitize(mark, self.mark_twap, den)
        self.mark_twap = dm.new_twap(capped_mark, now, self.mark_twap, self.mark_twap_ts, period)
        self.mark_twap_ts = now
        return True

    def _rate(self, ts_ns: int) -> tuple[int, str]:
        p = self.params
        frac = None if self.external is None else self.external.rate_at(ts_ns)
        if self.external is None or frac is None:
            rate = dm.funding_rate(
                self.mark_twap, self.oracle_twap, period=p.funding_period, tier=p.contract_tier
            )
            return rate, FORMULA
        exact = Fraction(frac) * self.oracle_twap * dm.FUNDING_RATE_BUFFER * p.funding_period
        return round(exact / self.external.interval_s), self.external.source

    def _update_funding(self, s: OracleSample, account_base: int, out: list[FundingUpdate]) -> None:
        p = self.params
        now = s.ts_ns // NS
        if dm.time_until_funding_update(now, self.last_funding_rate_ts, p.funding_period) > 0:
            self._retry = False
            return
        twap5 = self.oracle_twap_5min
        if (
            not valid_for(self.validity(s), "funding")
            or twap5 <= 0
            or abs(s.mark - twap5) * 1_000_000 // twap5 > MARK_ORACLE_MAX_DIVERGENCE
        ):
            self._retry = True
            return
        rate, source = self._rate(s.ts_ns)
        try:
            long_rate, short_rate, total = dm.funding_rate_long_short(
                rate,
                base_with_amm=account_base,
                base_long=p.background_open_interest + max(account_base, 0),
                base_short=-p.background_open_interest + min(account_base, 0),
                total_exchange_fee=self.total_exchange_fee,
                total_fee_minus_distributions=self.total_fee_minus_distributions,
            )
        except ValueError:
            self._retry = True
            return
        self._retry = False
        self.funding_sources[source] = self.funding_sources.get(source, 0) + 1
        self.total_fee_minus_distributions = total
        self.cumulative_funding_rate_long += long_rate
        self.cumulative_funding_rate_short += short_rate
        self.last_24h_avg_funding_rate = dm.new_twap(
            rate, now, self.last_24h_avg_funding_rate, self.last_funding_rate_ts, dm.TWENTY_FOUR_HOUR
        )
        self.last_funding_rate = rate
        self.last_funding_rate_ts = now
        upd = FundingUpdate(
            s.ts_ns,
            rate,
            long_rate,
            short_rate,
            self.cumulative_funding_rate_long,
            self.cumulative_funding_rate_short,
            self.mark_twap,
            self.oracle_twap,
        )
        self.funding_history.append(upd)
        out.append(upd)


def reference_market(fast: MarketState) -> ReferenceMarket:
    """A reference replay of the same market (params, tape, rails, external series)."""
    return ReferenceMarket(fast.params, fast.tape, fast.rails, fast.external)


# ------------------------------------------------------------------------------------------------
# the market replay
# ------------------------------------------------------------------------------------------------
SMALL_POOL = replace(SOL_PERP, amm_fee_pool=20 * 10**6)  # the AMM's capped funding and failed updates


@pytest.mark.parametrize("params", [SOL_PERP, SMALL_POOL], ids=["pool", "small-pool"])
@pytest.mark.parametrize("base", [0, 25 * 10**9, -40 * 10**9, 3 * 10**15, -3 * 10**15])
def test_the_replay_is_the_reference_replay_whatever_the_steps(params: Any, base: int) -> None:
    bars = bars_with_a_gap()
    end = int(bars.ts_ns[-1]) + HOUR
    fast = market(bars)
    fast = MarketState(params, fast.tape, fast.rails, fast.external)
    ref = reference_market(fast)
    rng = random.Random(base % 1000 + params.amm_fee_pool % 997)
    t = int(bars.ts_ns[0]) - 1
    while t < end:
        # steps of every size: inside a bar, on a path point, on a boundary, across many bars
        t = min(end, t + rng.choice([1, HOUR // 3, HOUR // 2, HOUR, 7 * HOUR, rng.randrange(1, 3 * HOUR)]))
        assert fast.advance(t, base) == ref.advance(t, base)
        assert state(fast) == state(ref)
    assert len(fast.funding_history) > 200
    if abs(base) == 3 * 10**15 and params is SMALL_POOL:  # the AMM pays more than its pool allows
        assert any(u.rate_long != u.rate_short for u in fast.funding_history)


def test_the_twap_run_is_new_twap_and_sanitize_point_by_point() -> None:
    """Random points (non-positive oracles, marks below zero, equal and earlier times, long gaps)."""
    rng = random.Random(7)
    tape = PriceTape(tick=SOL_PERP.order_tick_size, conf_bps=5)
    for tier in ("A", "C", "Speculative"):
        params = replace(SOL_PERP, contract_tier=tier)
        fast, ref = MarketState(params, tape, STATE_RAILS), ReferenceMarket(params, tape, STATE_RAILS)
        t = 10**12
        for _ in range(4000):
            t += rng.choice([0, -NS, NS, 300 * NS, 1200 * NS, 4000 * NS, 10**5 * NS])
            price = rng.choice([rng.randrange(1, 10**9), 0, -5, rng.randrange(10**8, 2 * 10**8)])
            mark = price + rng.randrange(-(10**7), 10**7) if rng.random() < 0.9 else -rng.randrange(1, 10**6)
            point = (t, price, mark)
            fast._twap_run([point], 0, 1)
            ref._twap_point(*point)
            assert (fast.oracle_twap, fast.oracle_twap_5min, fast.oracle_twap_ts) == (
                ref.oracle_twap,
                ref.oracle_twap_5min,
                ref.oracle_twap_ts,
            )
            assert (fast.mark_twap, fast.mark_twap_ts, fast.last_oracle) == (
                ref.mark_twap,
                ref.mark_twap_ts,
                ref.last_oracle,
            )


STATE_RAILS = DriftStateParams().guard_rails


def test_path_raw_is_the_bar_walk() -> None:
    bars = bars_with_a_gap()
    tape = market(bars).tape
    ts = np.asarray(bars.ts_ns).tolist()
    rng = random.Random(3)
    windows = [(ts[0] - HOUR, ts[-1] + 2 * HOUR), (ts[99], ts[107]), (ts[99] + HOUR, ts[106])]
    for _ in range(3000):
        a = rng.randrange(ts[0] - 2 * HOUR, ts[-1] + 2 * HOUR)
        windows.append((a, a + rng.choice([0, 1, HOUR // 3, HOUR, rng.randrange(0, 30 * HOUR)])))
        k = rng.randrange(len(ts))
        windows.append((ts[k] + rng.choice([0, HOUR // 3, HOUR]), ts[k] + HOUR))
    for after, until in windows:
        assert tape.path_raw(after, until) == reference_path_raw(tape, after, until)
    assert len(tape.path_raw(ts[0] - 1, ts[-1] + HOUR)) == 3 * len(ts) + 1 + 1  # one gap: one more open


# ------------------------------------------------------------------------------------------------
# the one-bar liquidation scan
# ------------------------------------------------------------------------------------------------
def reference_excess(
    px: float, base: float, quote: float, worst: float, ratio: float, weight: float, fixed: float
) -> float:
    upnl = base * px + quote
    weighted = upnl * weight if upnl > 0 else upnl
    return weighted - worst * px * ratio - fixed


def reference_scan_one(core: Any, bars: Any, j: int, headroom: float) -> bool:
    """The one-bar ``liquidation_scan`` as it was (primary-market positions): True where risky."""
    a = core.account
    if not any(p.base_asset_amount for p in a.positions.values()):
        return False
    buffer = core.state.liquidation_margin_buffer_ratio if a.being_liquidated else 0
    total = a.usdc / 1e6
    notional = 0.0
    for idx, pos in a.positions.items():
        if pos.is_empty:
            continue
        params = core.params[idx]
        lows, highs = core.tapes[idx].batch_extremes(bars)
        low, high = float(lows[j : j + 1][0]), float(highs[j : j + 1][0])
        worst = abs(pos.worst_case_base())
        ratio = (position_margin_ratio(params, worst, "maintenance", a.high_leverage) + buffer) / 1e4
        base, quote = pos.base_asset_amount / 1e9, pos.quote_asset_amount / 1e6
        weight = params.unrealized_pnl_maintenance_asset_weight / 1e4
        fixed = pos.open_orders * dm.OPEN_ORDER_MARGIN_REQUIREMENT / 1e6

        terms = (base, quote, worst / 1e9, ratio, weight, fixed)
        total = total + min(reference_excess(low, *terms), reference_excess(high, *terms))
        notional += worst / 1e9 * high
    return bool(total < 0.01 + (1e-7 + headroom) * notional)


def test_the_one_bar_scan_is_the_reference_scan_at_and_around_its_threshold() -> None:
    bars = bars_with_a_gap()
    venue = SimDrift([SOL_PERP], collateral=Decimal(1000))
    venue.set_cursor(bars, 0)
    core = venue.core
    pos = core.account.position(SOL_PERP.market_index)
    rng = random.Random(11)
    n = len(bars.ts_ns)
    lows, _ = core.tapes[core.primary].batch_extremes(bars)
    risky = safe = 0
    for _ in range(6000):
        j = rng.randrange(n)
        size = rng.choice([0, 1, -1]) * rng.randrange(1, 400) * 10**8
        pos.base_asset_amount = size
        # entries that put the threshold right at the bar's low: breach by a hair, or not
        entry = -int(size * float(lows[j])) // 1000 if size else 0
        pos.quote_asset_amount = pos.quote_entry_amount = entry + rng.randrange(-(10**7), 10**7)
        pos.open_orders = rng.choice([0, 0, 1, 2])
        pos.open_bids, pos.open_asks = rng.choice([(0, 0), (10**10, 0), (0, -(10**10))])
        core.account.usdc = rng.randrange(0, 3 * 10**8)
        core.account.being_liquidated = rng.random() < 0.2
        headroom = rng.choice([0.0, 0.005 * 3, 1e-4])
        expected = reference_scan_one(core, bars, j, headroom)
        got = liquidation_scan(core, bars, j, j + 1, headroom=headroom) == j
        assert got == expected
        risky += expected
        safe += not expected
    assert risky > 500 and safe > 500


def test_a_long_driven_into_the_crash_is_liquidated_at_the_same_bar_without_the_one_bar_scan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # test_sim_drift_crash's window: a 10x long from the close before the deepest 48-hour fall
    sol = align_mark(
        load_candles(bundle.get("sol-perp-1h").path), load_candles(bundle.get("sol-perp-mark-1h").path)
    )
    at = crash_case.deepest_fall(sol, crash_case.WINDOW)
    bars, entry = sol.slice(at - 200, at + crash_case.WINDOW + 1), 200
    qty = (Decimal(10_000) / Decimal(repr(float(sol.close[at])))).quantize(Decimal("0.01"))
    run = crash_case.run
    fast_events = run(SimDrift([SOL_PERP], collateral=Decimal(1_000)), bars, entry, qty)
    monkeypatch.setattr(drift_liquidation, "_scan_bar", lambda *args: None)  # the numpy scan only
    slow_events = run(SimDrift([SOL_PERP], collateral=Decimal(1_000)), bars, entry, qty)
    liquidated = [(k, e) for k, e in fast_events if isinstance(e, PositionLiquidated)]
    assert liquidated  # the crash liquidates the 10x long
    assert fast_events == slow_events  # same bars, same events (times, sizes, prices, fees)


# ------------------------------------------------------------------------------------------------
# the vAMM bands, integer helpers
# ------------------------------------------------------------------------------------------------
def reference_amm_levels(
    direction: int, oracle: int, limit: int, liq: DriftLiquidityParams, tick: int, step: int
) -> list[tuple[int, int, str]]:
    big_b = liq.amm_base_reserve
    big_q = liq.amm_quote_reserve or big_b
    if big_b <= 0:
        return []
    base_peg = oracle if liq.amm_peg is None else oracle * liq.amm_peg[0] // liq.amm_peg[1]
    if liq.amm_spreads is None:
        half = base_peg * liq.amm_half_spread_bps // 10_000
    else:
        half = base_peg * liq.amm_spreads[0 if direction > 0 else 1] // 1_000_000
    peg = base_peg + half if direction > 0 else base_peg - half
    start = peg * big_q // big_b
    if start <= 0 or (direction > 0 and start >= limit) or (direction < 0 and start <= limit):
        return []
    out = []
    x0, i = 0, 1
    side = "short" if direction > 0 else "long"
    while True:
        edge = start * (10_000 + direction * i * liq.amm_band_bps) // 10_000
        last = (direction > 0 and edge >= limit) or (direction < 0 and (edge <= limit or edge <= 0))
        if last:
            edge = limit
        root = isqrt(big_b * big_q * peg // edge)
        x1 = (big_b - root if direction > 0 else root - big_b) // step * step
        if direction > 0:
            x1 = min(x1, (big_b - 1) // step * step)
        if x1 > x0:
            num = peg * big_b * big_q
            if direction > 0:
                price = dm.standardize_price(-(-num // ((big_b - x0) * (big_b - x1))), tick, side)
            else:
                price = dm.standardize_price(num // ((big_b + x0) * (big_b + x1)), tick, side)
            if (direction > 0 and price <= limit) or (direction < 0 and 0 < price >= limit):
                out.append((price, x1 - x0, "amm"))
            x0 = x1
        if last:
            return out
        i += 1


def test_amm_levels_are_the_reference_bands() -> None:
    rng = random.Random(5)
    nonempty = 0
    for _ in range(2000):
        reserve = rng.choice([10**9, rng.randrange(10**10, 10**14)])
        liq = DriftLiquidityParams(
            jit_max_base=0,
            dlob_levels=(),
            amm_base_reserve=reserve,
            amm_quote_reserve=rng.choice([0, reserve * rng.randrange(90, 110) // 100]),
            amm_band_bps=rng.choice([1, 2, 5, 25]),
            amm_peg=rng.choice([None, (rng.randrange(10**8, 2 * 10**8), rng.randrange(10**8, 2 * 10**8))]),
            amm_spreads=rng.choice([None, (rng.randrange(0, 5000), rng.randrange(0, 5000))]),
        )
        oracle = rng.randrange(10**6, 10**9)
        direction = rng.choice([1, -1])
        limit = oracle + direction * oracle * rng.randrange(0, 300) // 10_000
        tick, step = rng.choice([(100, 10**7), (1000, 10**6), (1, 1)])
        got = amm_levels(direction, oracle, limit, liq, tick, step)
        assert got == reference_amm_levels(direction, oracle, limit, liq, tick, step)
        nonempty += bool(got)
    assert nonempty > 500


def test_tdiv_truncates_toward_zero() -> None:
    rng = random.Random(1)
    for _ in range(20000):
        a = rng.choice([rng.randrange(-(10**30), 10**30), rng.randrange(-9, 10)])
        b = rng.choice([rng.randrange(-(10**20), 10**20), rng.randrange(-9, 10)]) or 7
        q = abs(a) // abs(b)
        assert tdiv(a, b) == (q if (a >= 0) == (b >= 0) else -q)
    with pytest.raises(ZeroDivisionError):
        tdiv(1, 0)


def test_round_half_even_is_fractions_round() -> None:
    rng = random.Random(2)
    for _ in range(5000):
        num, den = rng.randrange(-(10**12), 10**12), rng.randrange(1, 10**6)
        assert _round_half_even(num, den) == round(Fraction(num, den))
    assert [_round_half_even(n, 2) for n in (1, 3, -1, -3)] == [0, 2, 0, -2]


@pytest.mark.parametrize("period", [1, 2, 3, 3600, 28_800, 7_919])
def test_next_funding_ns_is_the_wait_rule_on_and_off_schedule(period: int) -> None:
    """``next_funding_ns``'s on-schedule shortcut against ``time_until_funding_update``: last updates on
    the period's grid and off it (late updates), and a pending retry."""
    fast = MarketState(replace(SOL_PERP, funding_period=period), PriceTape(tick=1, conf_bps=5), STATE_RAILS)
    rng = random.Random(period)
    lasts = [rng.randrange(0, 10**6) * period for _ in range(300)] + [
        rng.randrange(0, 10**10) for _ in range(300)
    ]
    for last in lasts:
        fast.last_funding_rate_ts = last
        expected = (last + dm.time_until_funding_update(last, last, period)) * 10**9
        assert fast.next_funding_ns() == expected
    fast._retry, fast.t_ns = True, 5 * 10**9
    assert fast.next_funding_ns() == 5 * 10**9 + 1
