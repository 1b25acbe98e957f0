"""`bot optimize`'s summary and report: the best trial, and its deflated Sharpe ratio given every complete
trial (computed here from the paper's formulas, independently of botnft.research.stats)."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import optuna
import pytest

from botnft.research import optimize as opt
from botnft.research import optimize_eval as ev
from botnft.research import optimize_report
from botnft.research import optimize_space as sp

GAMMA = 0.5772156649015329
N = statistics.NormalDist()


def _dsr(sr: float, t: int, n: int, skew: float, kurt: float, var: float) -> float:
    """Bailey and López de Prado (2014): the expected best of n skill-less Sharpe ratios, then the
    probabilistic Sharpe ratio against it."""
    sr0 = math.sqrt(var) * ((1 - GAMMA) * N.inv_cdf(1 - 1 / n) + GAMMA * N.inv_cdf(1 - 1 / (n * math.e)))
    return N.cdf((sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))


def _study() -> tuple[optuna.Study, list[float]]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    dist = {"fast": optuna.distributions.IntDistribution(3, 15)}
    srs = [0.01, 0.035, -0.02, 0.028, 0.005]
    for k, sr in enumerate(srs):
        study.add_trial(optuna.create_trial(
            value=sr * 93.6, params={"fast": 3 + k}, distributions=dist,
            user_attrs={"sr": sr, "n_obs": 600, "skew": -0.3 + 0.1 * k, "kurt": 4.0 + k,
                        "fold_sharpe": [sr * 90, sr * 97], "fold_return": [0.01, 0.02], "max_drawdown": 0.05},
        ))  # fmt: skip
    study.add_trial(
        optuna.create_trial(state=optuna.trial.TrialState.FAIL, params={"fast": 9}, distributions=dist)
    )
    return study, srs


def test_the_best_trial_is_deflated_by_the_number_of_complete_trials(tmp_path: Path) -> None:
    study, srs = _study()
    setup = ev.Setup("ema_cross", ("sol-spot-1h",), ev.Windows(2, 300, 100))
    space = {"fast": sp.Param("fast", "int", 3, 15)}
    opened = opt.Opened(study, setup, space, 7, True, 2, 3, None)
    log = opt.RunLog([0, 1, 2, 3, 4, 5], 1, 1.5)
    s = opt.summary(opened, log, "sqlite:///x.db", opt.Evaluator())
    b = s["best"]
    assert b["number"] == 1 and b["params"] == {"fast": 4}  # the highest objective
    assert b["n_trials"] == 5  # the failed trial is not a trial of the strategy
    assert s["trials"] == {"complete": 5, "fail": 1}
    expected = _dsr(0.035, 600, 5, -0.2, 5.0, statistics.variance(srs))
    assert b["deflated_sharpe"] == pytest.approx(expected, rel=1e-9)
    assert b["folds"] == ["sol-spot-1h #1", "sol-spot-1h #2"]
    # more trials of the same quality deflate the best one further
    assert _dsr(0.035, 600, 50, -0.2, 5.0, statistics.variance(srs)) < expected
    html = optimize_report.render({**s, "report": ""})
    assert "Deflated Sharpe ratio given 5 trials: " + f"{expected:.3f}" in html
    assert html.count('<figure class="chart"') >= 2 and "fast=4" in html
    path = optimize_report.write(s, tmp_path / "r")
    assert path.read_text() == html and (tmp_path / "r" / "summary.json").exists()


def test_no_complete_trial_is_said_plainly() -> None:
    study = optuna.create_study(direction="maximize")
    setup = ev.Setup("ema_cross", ("sol-spot-1h",), ev.Windows(2, 300, 100))
    opened = opt.Opened(study, setup, {"fast": sp.Param("fast", "int", 3, 15)}, 0, True, 2, 3, None)
    s = opt.summary(opened, opt.RunLog([], 0, 0.0), "x", opt.Evaluator())
    assert s["best"] is None and "No trial completed." in optimize_report.render(s)
