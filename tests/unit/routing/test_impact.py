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


def _plain_step(x, y, w, beta, *, k, ridge):
    """One IRLS step written plainly: np.where for the Huber weights, np.linalg.solve."""

    def wmed(v, wt):
        order = np.argsort(v)
        cw = np.cumsum(wt[order])
        return float(v[order][min(int(np.searchsorted(cw, 0.5 * cw[-1])), len(v) - 1)])

    if beta is None:  # the cold start: the weighted ridge least squares
        xtw = x.T * w
        return np.linalg.solve(xtw @ x + ridge * np.eye(x.shape[1]), xtw @ y)
    if isinstance(beta, str):  # "median": the cold start before: the weighted median of y, slopes 0
        beta = np.zeros(x.shape[1])
        beta[0] = wmed(y, w)
        return beta
    r = y - x @ beta
    scale = max(1.4826 * wmed(np.abs(r), w), 1e-6)
    a = np.abs(r) / (k * scale)
    ww = w * np.where(a <= 1.0, 1.0, 1.0 / np.maximum(a, 1e-300))
    xtw = x.T * ww
    return np.linalg.solve(xtw @ x + ridge * np.eye(x.shape[1]), xtw @ y)


def _plain_irls(x, y, w, *, k, ridge, start=None, tol=1e-13, max_iter=20_000):
    """The IRLS without extrapolation, run to a step below ``tol``: β and the number of steps."""
    beta = _plain_step(x, y, w, None, k=k, ridge=ridge) if start is None else np.array(start, dtype=float)
    for step in range(1, max_iter + 1):
        new = _plain_step(x, y, w, beta, k=k, ridge=ridge)
        if float(np.max(np.abs(new - beta))) < tol:
            return new, step
        beta = new
    return beta, max_iter


def _mixture(rng, n, zeros=0.35):
    """Fills like the routed backtests': a third exactly as the static model said (z = 0), the rest a
    size-dependent correction with noise and 5 % large outliers."""
    u = rng.normal(-4.0, 1.0, n)
    z = 0.3 + 0.05 * (u + 4.0) + 0.1 * rng.standard_normal(n)
    z[rng.random(n) < 0.05] += 2.0
    z[rng.random(n) < zeros] = 0.0
    return u, z


@pytest.mark.parametrize("seed", range(40))
def test_huber_irls_reaches_the_fixed_point_of_the_plain_irls(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 500))
    p = 2 if seed % 5 else 3
    u = rng.normal(size=(n, p - 1)) * rng.uniform(0.1, 5.0)
    y = u @ rng.normal(size=p - 1) + rng.standard_t(2, size=n) * rng.uniform(0.01, 2.0)
    if seed % 7 == 0:
        y[: n // 2] = 0.0  # ties in the residuals' median
    w = np.power(0.5, np.arange(n - 1, -1, -1.0) / 150.0)
    x = np.column_stack([np.ones(n), u - u.mean(axis=0)])
    ridge = float(seed % 3)
    ref, steps = _plain_irls(x, y, w, k=1.345, ridge=ridge)
    assert steps < 20_000  # the reference did converge
    got = huber_irls(x, y, w, k=1.345, ridge=ridge, tol=1e-11, max_iter=1_000)
    assert got == pytest.approx(ref, abs=1e-8)


@pytest.mark.parametrize("start", [None, (5.0, -3.0), (0.2, 0.9)])
def test_the_fit_recovers_a_known_line_through_noise_and_one_sided_outliers(start):
    """Each x carries a pair of points: inliers at ±e about the line, outliers at +a and −b with a ≠ b
    (both far beyond the Huber threshold). At the true line every pair's ψ cancels (ψ is odd and clips
    both outliers to ±kσ), so the line is exactly the fixed point, while least squares is pulled away."""
    rng = np.random.default_rng(21)
    m = 150
    t = rng.uniform(-2.0, 2.0, m)
    up = 0.05 * np.abs(rng.standard_normal(m))
    down = up.copy()
    out = rng.random(m) < 0.15
    up[out] = rng.uniform(30.0, 60.0, out.sum())
    down[out] = rng.uniform(200.0, 500.0, out.sum())
    xs = np.repeat(t, 2)
    y = 0.7 + 0.3 * xs + np.stack([up, -down], axis=1).ravel()
    x = np.column_stack([np.ones(2 * m), xs])
    w = np.ones(2 * m)
    got = huber_irls(x, y, w, k=1.345, ridge=0.0, tol=1e-12, max_iter=500, start=start)
    assert got == pytest.approx([0.7, 0.3], abs=1e-9)
    ls = np.linalg.lstsq(x, y, rcond=None)[0]
    assert abs(ls[0] - 0.7) > 5.0  # the outliers are not symmetric: least squares misses badly


def test_a_fit_that_crept_to_the_step_cap_now_reaches_its_fixed_point():
    """Half the fills at z = 0: from the weighted median of y (the old cold start, inside that cluster)
    the residual scale starts near 0 and the plain IRLS creeps out of the cluster, still far off after
    50 steps (it needs about 340). From the least-squares start with extrapolation the fit is at the
    same fixed point within 25 steps."""
    u, z = _mixture(np.random.default_rng(2), 25, zeros=0.5)
    w = np.power(0.5, np.arange(24, -1, -1.0) / 150.0)
    x = np.column_stack([np.ones(25), u - np.dot(w, u) / w.sum()])
    ref, steps = _plain_irls(x, z, w, k=1.345, ridge=1.0)
    assert steps < 100  # from the least-squares start even the plain IRLS gets there
    median = _plain_step(x, z, w, "median", k=1.345, ridge=1.0)
    old, old_steps = _plain_irls(x, z, w, k=1.345, ridge=1.0, start=median)
    assert old == pytest.approx(ref, abs=1e-10) and old_steps > 300  # one fixed point, reached slowly
    capped, _ = _plain_irls(x, z, w, k=1.345, ridge=1.0, start=median, tol=1e-9, max_iter=50)
    assert float(np.max(np.abs(capped - ref))) > 0.05
    fit = huber_irls(x, z, w, k=1.345, ridge=1.0, tol=1e-9, max_iter=25)
    assert fit == pytest.approx(ref, abs=1e-7)


def test_a_warm_started_fit_equals_a_cold_one_within_the_tolerance():
    """The model warm-starts each fit from the venue's previous one; over 300 fills (the window of 120
    rolling over) every fit equals a cold-started plain IRLS on the same window within 1e-5 — ten times the
    model's tolerance of 1e-6 on a step — all derived here from the fills, not read from the model."""
    cfg = ImpactModelConfig(window=120, min_fills=20)
    model = ImpactModel(cfg)
    rng = np.random.default_rng(12)
    u_all, z_all = _mixture(rng, 300)
    d = cfg.floor_bps
    us: list[float] = []
    zs: list[float] = []
    worst = 0.0
    for i in range(300):
        ratio, s = math.exp(u_all[i]), 20.0 * rng.random()
        realised = (s + d) * math.exp(z_all[i]) - d  # so that ln((realised + δ) / (s + δ)) = z
        model.update(VENUE, ImpactFeatures(s, ratio), realised)
        us.append(math.log(ratio))
        zs.append(math.log((realised + d) / (s + d)))
        if i + 1 < cfg.min_fills:
            assert model.fit(VENUE) is None
            continue
        fit = model.fit(VENUE)
        assert fit is not None
        uu, zz = np.array(us[-cfg.window :]), np.array(zs[-cfg.window :])
        n = len(zz)
        w = 0.5 ** (np.arange(n - 1, -1, -1.0) / cfg.half_life)
        c = float(np.sum(w * uu) / np.sum(w))
        x = np.column_stack([np.ones(n), uu - c])
        ref, steps = _plain_irls(x, zz, w, k=cfg.huber_k, ridge=cfg.ridge)
        assert steps < 20_000 and fit.n == n and fit.center == pytest.approx(c, abs=1e-12)
        worst = max(worst, abs(fit.theta0 - ref[0]), abs(fit.theta1 - ref[1]))
    assert worst < 1e-5


def test_a_two_cycle_settles_on_its_midpoint_whichever_state_comes_first():
    """Four points where the plain IRLS never converges: from the cold start it falls into a 2-cycle
    (the weighted-median scale switches between two residuals) and alternates between A and B forever.
    The fit stops on the revisit with (A + B) / 2, whether it enters at A or at B (up to rounding)."""
    t = np.array([0.8621620435901293, 1.9030268139310396, -0.14245789737915523, 0.7052230634014439])
    y = np.array([0.0, 0.34793418530223424, -0.524001351604599, 0.0])
    x = np.column_stack([np.ones(4), t - t.mean()])
    w = np.ones(4)
    step = _plain_step(x, y, w, "median", k=1.345, ridge=0.1)
    for _ in range(500):
        step = _plain_step(x, y, w, step, k=1.345, ridge=0.1)
    a = step
    b = _plain_step(x, y, w, a, k=1.345, ridge=0.1)
    assert float(np.max(np.abs(a - b))) > 1e-4  # a real cycle, not convergence
    assert _plain_step(x, y, w, b, k=1.345, ridge=0.1) == pytest.approx(a, abs=1e-14)
    mid = 0.5 * (a + b)
    cold = huber_irls(x, y, w, k=1.345, ridge=0.1, max_iter=500)
    assert cold == pytest.approx(mid, abs=1e-8)  # stopped when back within tol = 1e-9 of a state
    from_a = huber_irls(x, y, w, k=1.345, ridge=0.1, max_iter=2, start=a)
    from_b = huber_irls(x, y, w, k=1.345, ridge=0.1, max_iter=2, start=b)
    assert from_a == pytest.approx(mid, abs=1e-12)  # two steps suffice ...
    assert from_b == pytest.approx(mid, abs=1e-12)  # ... and the entry point does not matter


def test_a_bad_tolerance_is_refused() -> None:
    with pytest.raises(ValueError, match="tol"):
        ImpactModelConfig(tol=0.0)
