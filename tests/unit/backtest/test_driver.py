"""The simulation driver: it alone steps the simulated venues; clock timers fire inside a batch at their
own time, between the bars around them, whatever the batch size."""

from dataclasses import replace
from decimal import Decimal as D

import numpy as np
import pytest

from botnft.backtest.driver import SimulationDriver
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest, load_market_data
from botnft.data.bars import BarBatch, MarketData

HOUR = 3_600_000_000_000


def flat_session(n=50):
    ts = np.arange(n, dtype=np.int64) * HOUR
    flat = np.full(n, 100.0)
    bars = BarBatch(ts, flat, flat, flat, flat, np.ones(n), HOUR)
    return build_backtest(BacktestSpec(strategy="sma_cross"), MarketData("flat", "spot", "SOL", bars, None))


@pytest.mark.parametrize("batch", [1, 7, 50])
def test_timers_fire_at_their_own_time_between_bars_whatever_the_batch_size(batch):
    s = flat_session()
    fired: list = []
    clock = s.clock
    seen: list[int] = []
    s.venues["SIM"].process = lambda bars, j, _f=s.venues["SIM"].process: (
        seen.append(int(bars.ts_ns[j])) or _f(bars, j)
    )
    clock.set_time_alert(
        "mid", 10 * HOUR + HOUR // 2, lambda e: fired.append((e.name, clock.now_ns(), list(seen)))
    )
    clock.set_timer("every-20h", 20 * HOUR, lambda e: fired.append((e.name, clock.now_ns(), list(seen))))
    driver = SimulationDriver(s.node, clock, s.venues)
    driver.run(s.data.bars.chunks(batch))
    # the alert fires at 10.5 h, before bar 11 is processed; the driver woke at bars 11, 20 and 40 only
    assert [(name, t) for name, t, _ in fired] == [
        ("mid", 10 * HOUR + HOUR // 2),
        ("every-20h", 20 * HOUR),
        ("every-20h", 40 * HOUR),
    ]
    assert [before for _, _, before in fired] == [[], [11 * HOUR], [11 * HOUR, 20 * HOUR]]
    assert s.node.record.bars == 50


def test_a_batch_of_one_and_a_batch_of_all_give_the_same_fills_through_the_driver():
    md = load_market_data("sol-spot-1h")
    data = MarketData(md.name, md.market, md.base, md.bars.slice(20_000, 21_500), None)
    runs = []
    for batch in (1, 1_500):
        s = build_backtest(replace(BacktestSpec(strategy="sma_cross", size=D(1)), batch_bars=batch), data)
        SimulationDriver(s.node, s.clock, s.venues).run(s.data.bars.chunks(batch))
        runs.append([(f.ts_ns, f.side, f.qty, f.price) for f in s.node.record.fills])
    assert runs[0] == runs[1] and len(runs[0]) > 10


def test_passive_venues_are_not_asked_and_asking_them_changes_nothing():
    """Raydium pools and Jupiter declare themselves passive (no work between wake-ups): the driver skips
    their `next_event_index` and `process`, and a run that asks them anyway gives the same record."""
    md = load_market_data("sol-perp-1h")
    data = MarketData(md.name, md.market, md.base, md.bars.slice(0, 1_200), None)
    spec = BacktestSpec(data="sol-perp-1h", venues=("solana",), params={"short": "true"}, seed=5)
    records = []
    for ask_all in (False, True):
        s = build_backtest(spec, data)
        driver = SimulationDriver(s.node, s.clock, s.venues)
        if ask_all:
            driver.stepping = list(driver.venues)
        else:
            assert {type(v).__name__ for v in driver.venues if v not in driver.stepping} == {
                "SimRaydium",
                "SimJupiter",
            }
        driver.run(s.data.bars.chunks(400))
        rec = s.node.record
        records.append(([repr(f) for f in rec.fills], [e.tobytes() for e in rec.equity]))
    assert records[0] == records[1] and records[0][0]
