"""The learned impact model: recovers structured corrections, shrugs off outliers, forgets, and beats the
static model on held-out fills of the (synthetic) bench replay."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from botnft.routing.impact import ImpactFeatures, ImpactModel, ImpactModelConfig, huber_irls

VENUE = "SOL/USDC.RAYDIUM"


def feed(model: ImpactModel, rng: np.random.Generator, n: int, truth: object, venue: str = VENUE) -> None:
    for _ in range(n):
        u = float(np.exp(rng.uniform(np.log(0.01), np.log(2.0))))
        s = 50.0 * u
        model.update(venue, ImpactFeatures(s, u), truth(s, u))  # type: ignore[operator]


def test_a_venue_never_seen_predicts_the_static_estimate() -> None:
    assert ImpactModel().predict(VENUE, ImpactFeatures(12.5, 0.1)) == 12.5


def test_too_few_fills_keep_the_static_estimate() -> None:
    model = ImpactModel(ImpactModelConfig(min_fills=20))
    feed(model, np.random.default_rng(0), 19, lambda s, u: 3 * s)
    assert model.fit(VENUE) is None
    assert model.predict(VENUE, ImpactFeatures(10.0, 0.2)) == 10.0


def test_a_constant_multiplicative_correction_is_recovered() -> None:
    model = ImpactModel(ImpactModelConfig(ridge=0.0))
    feed(model, np.random.default_rng(1), 200, lambda s, u: 2.0 * (s + 1.0) - 1.0)
    fit = model.fit(VENUE)
    assert fit is not None
    assert math.exp(fit.theta0) == pytest.approx(2.0, rel=1e-6)
    assert fit.theta1 == pytest.approx(0.0, abs=1e-6)
    assert model.predict(VENUE, ImpactFeatures(30.0, 0.5)) == pytest.approx(61.0, rel=1e-6)


def test_a_size_dependent_correction_is_recovered_as_a_power_law() -> None:
    model = ImpactModel(ImpactModelConfig(ridge=0.0))
    feed(model, np.random.default_rng(2), 300, lambda s, u: 1.5 * (s + 1.0) * u**0.3 - 1.0)
    assert model.predict(VENUE, ImpactFeatures(40.0, 0.8)) == pytest.approx(
        1.5 * 41.0 * 0.8**0.3 - 1, rel=1e-6
    )


def test_heavy_outliers_barely_move_the_fit() -> None:
    rng = np.random.default_rng(3)
    model = ImpactModel()

    def truth(s: float, u: float) -> float:
        y = 2.0 * s * math.exp(0.1 * rng.standard_normal())
        return y + 500.0 if rng.random() < 0.1 else y  # 10 % of fills 500 bps off

    feed(model, rng, 400, truth)
    pred = model.predict(VENUE, ImpactFeatures(50.0, 1.0))
    assert pred == pytest.approx(2.0 * 51.0 - 1.0, rel=0.08)


def test_memory_is_bounded_by_the_window() -> None:
    model = ImpactModel(ImpactModelConfig(window=50))
    feed(model, np.random.default_rng(4), 500, lambda s, u: s)
    assert model.n_fills(VENUE) == 50


def test_the_model_follows_a_regime_change_by_forgetting() -> None:
    model = ImpactModel(ImpactModelConfig(window=400, half_life=30.0))
    rng = np.random.default_rng(5)
    feed(model, rng, 300, lambda s, u: 1.0 * s)
    feed(model, rng, 150, lambda s, u: 3.0 * (s + 1.0) - 1.0)  # liquidity fell to a third
    assert model.predict(VENUE, ImpactFeatures(20.0, 0.4)) == pytest.approx(62.0, rel=0.05)


def test_venues_are_calibrated_separately() -> None:
    model = ImpactModel(ImpactModelConfig(ridge=0.0))
    rng = np.random.default_rng(6)
    feed(model, rng, 100, lambda s, u: 2.0 * (s + 1.0) - 1.0, venue="A")
    feed(model, rng, 100, lambda s, u: 0.5 * (s + 1.0) - 1.0, venue="B")
    f = ImpactFeatures(9.0, 0.3)
    assert model.predict("A", f) == pytest.approx(19.0, rel=1e-6)
    assert model.predict("B", f) == pytest.approx(4.0, rel=1e-6)
    assert set(model.venues()) == {"A", "B"}


def test_the_correction_is_bounded() -> None:
    model = ImpactModel(ImpactModelConfig(max_factor=10.0, ridge=0.0))
    feed(model, np.random.default_rng(7), 100, lambda s, u: 1000.0 * (s + 1.0))
    assert model.predict(VENUE, ImpactFeatures(9.0, 0.3)) == pytest.approx(10.0 * 10.0 - 1.0)


def test_huber_irls_matches_least_squares_on_clean_data_and_resists_an_outlier() -> None:
    x = np.column_stack([np.ones(50), np.linspace(-1, 1, 50)])
    y = 1.0 + 2.0 * x[:, 1]
    w = np.ones(50)
    assert huber_irls(x, y, w, k=1.345, ridge=0.0) == pytest.approx([1.0, 2.0], abs=1e-8)
    y_bad = y.copy()
    y_bad[10] += 1_000.0
    noisy = y_bad + 0.01 * np.random.default_rng(8).standard_normal(50)
    assert huber_irls(x, noisy, w, k=1.345, ridge=0.0) == pytest.approx([1.0, 2.0], abs=0.05)


@pytest.mark.parametrize(
    ("static", "ratio", "message"),
    [(-1.0, 0.1, "static_bps"), (math.nan, 0.1, "static_bps"), (1.0, 0.0, "size_over_depth")],
)
def test_bad_features_are_refused(static: float, ratio: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ImpactFeatures(static, ratio)


def test_a_non_finite_realised_slippage_is_refused() -> None:
    with pytest.raises(ValueError, match="realised_bps"):
        ImpactModel().update(VENUE, ImpactFeatures(1.0, 0.1), math.inf)


def test_a_bad_model_config_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        ImpactModelConfig(window=1)
    with pytest.raises(ValueError, match="half_life"):
        ImpactModelConfig(half_life=0.0)


# --- held-out evaluation on the bench replay (synthetic: a stand-in until real fills exist) ---------


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[3] / "bench" / "impact_model.py"
    spec = importlib.util.spec_from_file_location("bench_impact_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_the_learned_model_beats_the_static_one_on_held_out_fills() -> None:
    bench = _bench()
    scores = bench.evaluate(bench.replay(n=2_000, seed=11), train_frac=0.7)
    assert scores.n_test == 600
    assert scores.frozen_mae < 0.8 * scores.static_mae  # frozen at the end of training: truly held out
    assert scores.online_mae < scores.static_mae


def _reference_irls(x, y, w, *, k, ridge, max_iter=50):
    """The IRLS written plainly: np.where for the Huber weights, np.linalg.solve, np.max for the step."""

    def wmed(v, wt):
        order = np.argsort(v)
        cw = np.cumsum(wt[order])
        return float(v[order][min(int(np.searchsorted(cw, 0.5 * cw[-1])), len(v) - 1)])

    beta = np.zeros(x.shape[1])
    beta[0] = wmed(y, w)
    for _ in range(max_iter):
        r = y - x @ beta
        scale = max(1.4826 * wmed(np.abs(r), w), 1e-6)
        a = np.abs(r) / (k * scale)
        ww = w * np.where(a <= 1.0, 1.0, 1.0 / np.maximum(a, 1e-300))
        xtw = x.T * ww
        new = np.linalg.solve(xtw @ x + ridge * np.eye(x.shape[1]), xtw @ y)
        if float(np.max(np.abs(new - beta))) < 1e-9:
            return new
        beta = new
    return beta


@pytest.mark.parametrize("seed", range(40))
def test_huber_irls_gives_the_plain_irls_result_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 500))
    p = 2 if seed % 5 else 3
    u = rng.normal(size=(n, p - 1)) * rng.uniform(0.1, 5.0)
    y = u @ rng.normal(size=p - 1) + rng.standard_t(2, size=n) * rng.uniform(0.01, 2.0)
    if seed % 7 == 0:
        y[: n // 2] = 0.0  # ties in the residuals' median
    w = np.power(0.5, np.arange(n - 1, -1, -1.0) / 150.0)
    x = np.column_stack([np.ones(n), u - u.mean(axis=0)])
    got = huber_irls(x, y, w, k=1.345, ridge=float(seed % 3))
    assert got.tobytes() == _reference_irls(x, y, w, k=1.345, ridge=float(seed % 3)).tobytes()


def test_the_two_by_two_solve_is_lapacks_bit_for_bit():
    from botnft.routing.impact import _solve

    rng = np.random.default_rng(11)
    for _ in range(20_000):
        a = rng.normal(size=(2, 2)) * 10.0 ** rng.uniform(-4, 4, size=(2, 2))
        b = rng.normal(size=2) * 10.0 ** rng.uniform(-4, 4, size=2)
        assert _solve(a, b).tobytes() == np.linalg.solve(a, b).tobytes()
    with pytest.raises(np.linalg.LinAlgError):
        _solve(np.array([[1.0, 2.0], [2.0, 4.0]]), np.ones(2))
