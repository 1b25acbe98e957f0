"""What a `bot optimize` trial is scored on: fold windows, a fold's after-cost returns, the trial's score."""

from __future__ import annotations

import math
import statistics
from dataclasses import replace

import numpy as np
import pytest

from botnft.data.bars import MarketData
from botnft.domain.errors import UserError
from botnft.research import optimize_eval as ev


def test_folds_tile_the_tail_after_a_warmup() -> None:
    w = ev.Windows(folds=3, fold_bars=100, warmup=50)
    assert w.bounds(1000, "m") == [(649, 700, 800), (749, 800, 900), (849, 900, 1000)]
    assert w.bounds(351, "m")[0] == (0, 51, 151)  # the least data: warm-up bars and the bar before the window
    with pytest.raises(
        UserError,
        match="too little data for the windows: m has 350 bars, 3 folds of 100 after a warm-up of 50 "
        "need 351",
    ):
        w.bounds(350, "m")
    for bad, flag in ((ev.Windows(0, 100, 0), "--folds"), (ev.Windows(1, 5, 0), "--fold-bars"),
                      (ev.Windows(1, 100, -1), "--warmup")):  # fmt: skip
        with pytest.raises(UserError, match=flag):
            bad.check()


def test_the_score_is_the_mean_annualised_fold_sharpe() -> None:
    rng = np.random.default_rng(3)
    folds = [rng.normal(0.001, 0.01, 50), rng.normal(-0.0005, 0.02, 80)]
    per_year = 8760.0
    s = ev.score(folds, per_year)
    by_hand = [
        statistics.mean(f.tolist()) / statistics.stdev(f.tolist()) * math.sqrt(per_year) for f in folds
    ]
    assert s.fold_sharpe == pytest.approx(by_hand, rel=1e-12)
    assert s.value == pytest.approx(sum(by_hand) / 2, rel=1e-12)
    pooled = [*folds[0].tolist(), *folds[1].tolist()]
    assert s.n_obs == 130
    assert s.sr == pytest.approx(statistics.mean(pooled) / statistics.stdev(pooled), rel=1e-12)
    m = statistics.fmean(pooled)
    m2 = sum((x - m) ** 2 for x in pooled) / 130
    assert s.skew == pytest.approx(sum((x - m) ** 3 for x in pooled) / 130 / m2**1.5, rel=1e-9)
    assert s.kurt == pytest.approx(sum((x - m) ** 4 for x in pooled) / 130 / m2**2, rel=1e-9)
    assert s.fold_return[0] == pytest.approx(math.prod(1 + x for x in folds[0].tolist()) - 1, rel=1e-12)


def _setup(**kw: object) -> ev.Setup:
    return ev.Setup("hold", ("sol-spot-1h",), ev.Windows(2, 200, 50), **kw)  # type: ignore[arg-type]


def test_a_fold_scores_only_its_window_and_sees_nothing_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    setup = _setup()
    plan = ev.fold_plan(setup)
    md = ev.market("sol-spot-1h", None, None)
    n = len(md.bars)
    assert plan == [("sol-spot-1h", n - 451, n - 400, n - 200), ("sol-spot-1h", n - 251, n - 200, n)]
    _, lo, a, b = plan[0]
    r = ev.run_fold(setup, {"leverage": "1"}, plan[0])
    assert len(r) == b - a
    # hold on a spot book: one buy before the window, then a constant quantity, so each bar's return is
    # quantity x price change / previous equity: the implied quantity is the same on every bar
    close = md.bars.close
    equity = np.cumprod(np.r_[1.0, 1.0 + r])  # relative to the equity at bar a-1
    moved = np.diff(close[a - 1 : b]) != 0
    qty = (r * equity[:-1])[moved] / np.diff(close[a - 1 : b])[moved]
    assert qty.min() > 0 and np.allclose(qty, qty[0], rtol=1e-9)
    # altering every bar after the fold, or before its warm-up, changes none of its returns
    bars = md.bars
    altered = replace(bars, close=np.r_[bars.close[:lo] * 3, bars.close[lo:b], bars.close[b:] * 0.5],
                      open=np.r_[bars.open[:lo] * 3, bars.open[lo:b], bars.open[b:] * 0.5])  # fmt: skip
    monkeypatch.setattr(ev, "market", lambda *_: MarketData(md.name, md.market, md.base, altered, md.funding))
    assert np.array_equal(ev.run_fold(setup, {"leverage": "1"}, plan[0]), r)


def test_setup_round_trips_through_the_study() -> None:
    s = _setup(fixed={"side": "long"}, venue="sim", fee_bps="5", start_ns=1, end_ns=2, seed=7)
    assert ev.Setup.from_json(s.to_json()) == s


def test_markets_scored_together_share_one_bar_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    md = ev.market("sol-spot-1h", None, None)
    four_hours = replace(md.bars, interval_ns=4 * 3600 * 10**9)
    fake = {"a": md, "b": MarketData("b", md.market, md.base, four_hours, None)}
    monkeypatch.setattr(ev, "market", lambda name, *_: fake[name])
    assert ev.periods_per_year(replace(_setup(), data=("a",))) == 365 * 24  # bars a year: 365 days of hours
    with pytest.raises(UserError, match="one interval to be scored together: a 60 min, b 240 min"):
        ev.periods_per_year(replace(_setup(), data=("a", "b")))
    assert ev.fold_labels(replace(_setup(), data=("a", "b"))) == ["a #1", "a #2", "b #1", "b #2"]
