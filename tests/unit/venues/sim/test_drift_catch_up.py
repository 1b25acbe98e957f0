"""SimDrift's market replay (oracle and mark TWAPs, hourly funding) caught up in one call from its last
state is the replay stepped at every bar, and at every crank: the same TWAPs, funding updates, cumulative
rates, retries and last oracle sample, whether a boundary falls on a path point or in a gap (where the
ageing oracle blocks funding), and when a stale oracle blocks an update so that the keeper retries at
the next crank, inside a bar."""

from __future__ import annotations

import numpy as np
import pytest

from botnft.data.bars import BarBatch
from botnft.data.bundle import get
from botnft.data.loader import load_candles
from botnft.venues.sim.drift_market import ExternalFunding, MarketState
from botnft.venues.sim.drift_oracle import OracleInjection, PriceTape
from botnft.venues.sim.drift_params import SOL_PERP, DriftStateParams

HOUR = 3_600 * 10**9
STATE = DriftStateParams()


def bars_with_a_gap(n: int = 240) -> BarBatch:
    """The first `n` bundled SOL-PERP hours with hours 100-105 missing (a gap the oracle ages through)."""
    b = load_candles(get("sol-perp-1h").path)
    keep = np.r_[0:100, 106:n]
    return BarBatch(
        *(np.asarray(getattr(b, f))[keep] for f in ("ts_ns", "open", "high", "low", "close", "volume")),
        b.interval_ns,
    )


def market(bars: BarBatch) -> MarketState:
    ts = np.asarray(bars.ts_ns)
    # a stale oracle over hour 30's close (the boundary of hour 31) until 30 min past it: funding retries
    stale = OracleInjection(int(ts[30]) + HOUR - 60 * 10**9, int(ts[31]) + HOUR // 2, delay_slots=500)
    tape = PriceTape(
        tick=SOL_PERP.order_tick_size,
        conf_bps=STATE.oracle_conf_bps,
        mark_basis_bps=7.0,
        injections=(stale,),
    )
    tape.extend(bars)
    # an external series over the first half (rates changing every 8 h), Drift's formula afterwards
    pub = ts[0] + np.arange(0, 120, 8, dtype=np.int64) * HOUR
    rates = np.linspace(-2e-4, 3e-4, len(pub))
    external = ExternalFunding(pub, rates, 8 * 3_600, int(ts[120]), "series")
    return MarketState(SOL_PERP, tape, STATE.guard_rails, external)


def state(m: MarketState) -> dict[str, object]:
    return {
        "t": m.t_ns,
        "twaps": (m.oracle_twap, m.oracle_twap_5min, m.oracle_twap_ts, m.mark_twap, m.mark_twap_ts),
        "funding": (
            m.cumulative_funding_rate_long,
            m.cumulative_funding_rate_short,
            m.last_funding_rate,
            m.last_funding_rate_ts,
            m.last_24h_avg_funding_rate,
            m.total_fee_minus_distributions,
            m.next_funding_ns(),
        ),
        "history": list(m.funding_history),
        "sources": dict(m.funding_sources),
        "last_oracle": m.last_oracle,
    }


@pytest.mark.parametrize("base", [0, 25 * 10**9, -40 * 10**9])
def test_catching_up_at_once_equals_stepping_every_bar_and_every_crank(base: int) -> None:
    bars = bars_with_a_gap()
    end = int(bars.ts_ns[-1]) + HOUR
    once = market(bars)
    updates_once = once.advance(end, base)

    per_bar = market(bars)
    updates_bar = []
    for t in np.asarray(bars.ts_ns).tolist():
        updates_bar += per_bar.advance(t + HOUR // 2, base)  # inside the bar
        updates_bar += per_bar.advance(t + HOUR, base)  # at its close
    updates_bar += per_bar.advance(end, base)

    per_crank = market(bars)
    cranks = [p.ts_ns for p in per_crank.tape.path_points(int(bars.ts_ns[0]) - 1, end)]
    updates_crank = []
    for t in [*cranks, *range(int(bars.ts_ns[0]), end + 1, HOUR)]:  # every path point, every boundary
        updates_crank += per_crank.advance(t, base)
    updates_crank += per_crank.advance(end, base)

    assert updates_once == updates_bar == updates_crank == once.funding_history
    assert state(once) == state(per_bar) == state(per_crank)
    # the replay did what it should: both sources paid, the stale oracle moved an update inside a bar
    assert set(once.funding_sources) == {"series", "drift formula"}
    assert len(once.funding_history) > 200
    late = [u.ts_ns for u in once.funding_history if u.ts_ns % HOUR]
    assert late == [int(bars.ts_ns[31]) + 2 * HOUR // 3]  # the first crank past the stale window
    assert once.last_oracle == per_crank.tape.path_points(end - HOUR, end)[-1]
