"""funding_carry on the bundled SOL perp data (Drift + Raydium CLMM): the filled net delta stays inside
its band at every bar close, how long it is outside in event time, and a run whose spot leg is refused so
the net-delta monitor re-hedges on the cheapest venue.

The event-time figures are rebuilt here from the run's fills (spot + perp, in the order they came), not
read from the runner."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_FLOOR
from decimal import Decimal as D

import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings
from botnft.domain.orders import Side

SLOT_NS = 400_000_000


def _run(notional: str, end: datetime, cash: D):  # type: ignore[no-untyped-def]
    spec = BacktestSpec(
        data="sol-perp-1h",
        strategy="funding_carry",
        params={"notional": notional},
        venues=("drift", "raydium_clmm"),
        fill="next-open",
        start=datetime(2025, 10, 1, tzinfo=UTC),
        end=end,
        cash=cash,
        liquidity=LiquiditySettings().model_dump(),
    )
    session = build_backtest(spec)
    run_backtest(session)
    return session


def _event_time(fills, band: D):  # type: ignore[no-untyped-def]
    """(max |net|, [(start, end) of each stretch outside the band]) from the fills in order."""
    net, peak, since, out = D(0), D(0), None, []
    for f in fills:
        net += f.qty if f.side is Side.BUY else -f.qty
        peak = max(peak, abs(net))
        if abs(net) > band and since is None:
            since = f.ts_ns
        elif abs(net) <= band and since is not None:
            out.append((since, f.ts_ns))
            since = None
    return peak, out, since


@pytest.fixture(scope="module")
def carried():  # type: ignore[no-untyped-def]
    return _run("1000", datetime(2025, 10, 15, tzinfo=UTC), D(100_000))


def test_the_filled_net_delta_is_inside_its_band_at_every_bar_close(carried) -> None:  # type: ignore[no-untyped-def]
    s = carried.node.carry.summary()
    assert s["share_filled_inside_band"] == 1.0
    assert D(s["max_abs_filled_net_delta"]) == 0  # both legs of every change fill inside one bar


def test_between_the_two_fills_of_a_change_the_net_is_out_for_one_auction_slot_at_most(carried) -> None:  # type: ignore[no-untyped-def]
    fills = carried.node.record.fills
    # the smallest band of the run: 2 % of a leg at the highest price (1000 USDC a leg)
    top = max(float(x) for x in carried.data.bars.high)
    band = D("0.02") * (D(1000) / D(repr(top))).quantize(D("0.01"), rounding=ROUND_FLOOR)
    peak, stretches, open_at_end = _event_time(fills, band)
    assert open_at_end is None
    assert stretches, "the run changes its carry: each change is a swap, then the perp a slot later"
    assert all(0 < end - start <= SLOT_NS for start, end in stretches)
    s = carried.node.carry.summary()
    assert D(s["max_abs_filled_net_delta_any_time"]) == peak
    assert s["seconds_filled_outside_band"] == pytest.approx(sum(e - b for b, e in stretches) / 1e9)


def test_a_refused_spot_leg_is_rehedged_on_the_perp_in_the_same_bar() -> None:
    # 1,000,000 USDC a leg: the swap's price would move past the 200 bps slippage guard, so the gate
    # refuses the spot child; the monitor sees the perp short in flight unhedged and buys it back on the
    # cheapest venue that can take it, Drift, before either fills
    session = _run("1000000", datetime(2025, 10, 8, tzinfo=UTC), D(100_000_000))
    s = session.node.carry.summary()
    assert s["rehedges"] >= 1
    assert "slippage" in {r.reason for r in session.node.record.rejections}
    by_instant: dict[tuple[int, str, Side], D] = defaultdict(D)
    for f in session.node.record.fills:
        by_instant[(f.ts_ns, str(f.instrument), f.side)] += f.qty
    first = min(t for t, inst, _ in by_instant if inst.startswith("SOL-PERP"))
    sold = by_instant[(first, "SOL-PERP.DRIFT", Side.SELL)]
    bought = by_instant[(first, "SOL-PERP.DRIFT", Side.BUY)]
    spot = sum(q for (t, inst, _), q in by_instant.items() if t <= first and not inst.startswith("SOL-PERP"))
    assert sold > 0 and bought == sold and spot == 0  # the re-hedge undid the lone perp leg
    # the leg: 1,000,000 USDC at the decision bar's close, down to the 0.01 lot
    close = next(
        D(repr(float(c)))
        for ts, c in zip(session.data.bars.ts_ns, session.data.bars.close, strict=True)
        if int(ts) + 3_600 * 10**9 == first - first % (3_600 * 10**9)
    )
    assert sold == (D(1_000_000) / close).quantize(D("0.01"), rounding=ROUND_FLOOR)
    assert s["share_filled_inside_band"] == 1.0
