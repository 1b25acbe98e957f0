"""Learned impact: each venue's static slippage estimate, recalibrated online from realised fills.

Model (per venue). With ``s`` the static impact in bps (the venue's own liquidity walked by the cost
model, fee excluded, measured from the venue mid), ``u = size / depth`` (depth: base tradable within
100 bp of the mid, :func:`botnft.routing.adapt.depth_base`) and a floor ``δ`` (``floor_bps``)::

    realised + δ  ≈  (s + δ) · exp(θ0 + θ1 · (ln u − c))

a multiplicative correction that is a power law in ``u`` (``c`` is the window's weighted mean of ``ln u``,
so ``θ0`` is the typical correction). It captures "the pool is shallower than it shows" (``θ0 > 0``) and
costs that grow faster or slower with size than the static curve (``θ1 ≠ 0``, e.g. sandwiching of large
swaps). ``δ`` keeps the log defined for near-zero and slightly negative realised slippage (realised
values are clipped at ``−δ/2``).

Fitting. ``z = ln((y + δ)/(s + δ))`` is regressed on ``[1, ln u − c]`` with the **Huber** loss by
iteratively reweighted least squares, the residual scale re-estimated each step by the weighted MAD,
plus a small ridge pulling ``θ`` toward 0 (no correction). Huber in log space targets roughly the
conditional median, which a monotone transform preserves, so the fit is aimed at the mean absolute
error we score it on, and a heavy-tailed outlier (a fill that landed late, a sandwich) moves it little.

Memory is bounded: each venue keeps its last ``window`` fills, weighted by exponential forgetting
(``0.5 ** (age / half_life)``, age in fills), so the model follows a drifting liquidity. With fewer than
``min_fills`` fills, or for a venue never seen, ``predict`` returns the static estimate unchanged.

The evaluation in ``bench/impact_model.py`` uses a synthetic replay — a stand-in until real fills exist.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from botnft.domain.liquidity import AnyLiquidity

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ImpactFeatures:
    """What the model sees of one trade: the static impact (bps, >= 0) and its size / venue depth."""

    static_bps: float
    size_over_depth: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.static_bps) and self.static_bps >= 0.0):
            raise ValueError(f"static_bps must be finite and >= 0, got {self.static_bps!r}")
        if not (math.isfinite(self.size_over_depth) and self.size_over_depth > 0.0):
            raise ValueError(f"size_over_depth must be finite and > 0, got {self.size_over_depth!r}")


@dataclass(frozen=True, kw_only=True)
class ImpactModelConfig:
    """Defaults: a window of 500 fills per venue, a 150-fill half-life, Huber k = 1.345 (95 % efficient
    under Gaussian noise), a 1 bp log floor, a weak ridge, 20 fills before any correction, and a
    correction bounded to [1/10, 10]."""

    window: int = 500
    half_life: float = 150.0
    huber_k: float = 1.345
    floor_bps: float = 1.0
    ridge: float = 1.0
    min_fills: int = 20
    max_factor: float = 10.0
    max_iter: int = 50

    def __post_init__(self) -> None:
        if self.window < 2 or self.min_fills < 2:
            raise ValueError("ImpactModelConfig.window and min_fills must be >= 2")
        for name in ("half_life", "huber_k", "floor_bps"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"ImpactModelConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if self.ridge < 0.0 or not self.max_factor > 1.0 or self.max_iter < 1:
            raise ValueError("ImpactModelConfig: ridge >= 0, max_factor > 1 and max_iter >= 1 required")


@dataclass(frozen=True)
class Fit:
    """One venue's fitted correction: ``θ0``, ``θ1``, the centre ``c`` of ``ln u``, and the fills used."""

    theta0: float
    theta1: float
    center: float
    n: int

    def factor(self, size_over_depth: float) -> float:
        """The multiplicative correction applied to ``s + δ`` at this size."""
        return math.exp(self.theta0 + self.theta1 * (math.log(size_over_depth) - self.center))


class _Venue:
    __slots__ = ("fit", "u", "z")

    def __init__(self, window: int) -> None:
        self.u: deque[float] = deque(maxlen=window)  # ln(size / depth)
        self.z: deque[float] = deque(maxlen=window)  # ln((realised + δ) / (static + δ))
        self.fit: Fit | None = None


def huber_irls(
    x: FloatArray, y: FloatArray, w: FloatArray, *, k: float, ridge: float, max_iter: int = 50
) -> FloatArray:
    """Weighted Huber regression of ``y`` on the columns of ``x`` by IRLS, ridge ``ridge·|β|²``.

    The residual scale is the weighted MAD × 1.4826, re-estimated each iteration; stops when ``β``
    moves less than 1e-9.
    """
    p = x.shape[1]
    if p == 2:
        fast = _huber_irls_2(x, y, w, k=k, ridge=ridge, max_iter=max_iter)
        if fast is not None:
            return fast
    pen = ridge * np.eye(p)
    xt = x.T
    # Start from the weighted median of y (a robust intercept), slopes 0.
    beta: FloatArray = np.zeros(p, dtype=np.float64)
    beta[0] = _weighted_median(y, w)
    for _ in range(max_iter):
        ar = np.abs(y - x @ beta)
        scale = 1.4826 * _weighted_median(ar, w)
        scale = max(scale, 1e-6)
        # Huber weights: 1 inside k·scale, k·scale/|r| beyond (1/max(a, 1) is both, bit for bit)
        hub = 1.0 / np.maximum(ar / (k * scale), 1.0)
        xtw = xt * (w * hub)
        new = _solve(xtw @ x + pen, xtw @ y)
        if all(abs(b1 - b0) < 1e-9 for b1, b0 in zip(new.tolist(), beta.tolist(), strict=True)):
            return np.asarray(new, dtype=np.float64)
        beta = np.asarray(new, dtype=np.float64)
    return beta


def _huber_irls_2(
    x: FloatArray, y: FloatArray, w: FloatArray, *, k: float, ridge: float, max_iter: int
) -> FloatArray | None:
    """`huber_irls` with two columns, the same operations on the same arrays (so the same bits) with the
    step's 2 × 2 solve (`_solve`'s) and the convergence test on Python floats, the weighted median
    inlined; None where a pivot is zero (`huber_irls` then takes `np.linalg.solve`, which raises)."""
    pen = ridge * np.eye(2)
    xt = x.T
    last = len(y) - 1
    absolute, maximum = np.abs, np.maximum

    def median(v: FloatArray) -> float:
        order = v.argsort()
        cw = w[order].cumsum()
        i = int(cw.searchsorted(0.5 * cw[-1]))
        return float(v[order[i if i < last else last]])

    b0, b1 = median(y), 0.0
    beta = np.array((b0, b1))
    for _ in range(max_iter):
        ar = absolute(y - x @ beta)
        scale = 1.4826 * median(ar)
        scale = max(scale, 1e-6)
        hub = 1.0 / maximum(ar / (k * scale), 1.0)
        xtw = xt * (w * hub)
        (a00, a01), (a10, a11) = (xtw @ x + pen).tolist()
        r0, r1 = (xtw @ y).tolist()
        if abs(a10) > abs(a00):  # LAPACK's gesv, as `_solve`
            a00, a01, a10, a11, r0, r1 = a10, a11, a00, a01, r1, r0
        if a00 == 0.0:
            return None
        m = a10 * (1.0 / a00)
        u11 = a11 - m * a01
        if u11 == 0.0:
            return None
        n1 = (r1 - m * r0) / u11
        n0 = (r0 - a01 * n1) / a00
        if abs(n0 - b0) < 1e-9 and abs(n1 - b1) < 1e-9:
            return np.array((n0, n1))
        b0, b1 = n0, n1
        beta = np.array((b0, b1))
    return beta


def _solve(a: FloatArray, b: FloatArray) -> FloatArray:
    """``np.linalg.solve(a, b)``; a 2 × 2 system is solved in Python floats the way LAPACK's ``gesv``
    does it (partial pivoting, the pivot column scaled by the pivot's reciprocal, back substitution by
    division), which gives its result bit for bit without the call's overhead. A singular system takes
    ``np.linalg.solve``, which raises as before."""
    if a.shape != (2, 2) or b.shape != (2,):
        return np.asarray(np.linalg.solve(a, b), dtype=np.float64)
    (a00, a01), (a10, a11) = a.tolist()
    b0, b1 = b.tolist()
    if abs(a10) > abs(a00):
        a00, a01, a10, a11, b0, b1 = a10, a11, a00, a01, b1, b0
    if a00 == 0.0:
        return np.asarray(np.linalg.solve(a, b), dtype=np.float64)
    m = a10 * (1.0 / a00)
    u11 = a11 - m * a01
    if u11 == 0.0:
        return np.asarray(np.linalg.solve(a, b), dtype=np.float64)
    x1 = (b1 - m * b0) / u11
    return np.array(((b0 - a01 * x1) / a00, x1))


def _weighted_median(v: FloatArray, w: FloatArray) -> float:
    order = v.argsort()
    cw = w[order].cumsum()
    i = int(cw.searchsorted(0.5 * cw[-1]))
    return float(v[order[min(i, len(v) - 1)]])


class ImpactModel:
    """Per-venue online recalibration of the static impact estimate (see the module docstring).

    ``update`` records a realised fill (slippage in bps vs the venue mid at decision time, fees
    excluded — the same quantity as the cost model's ``impact``); ``predict`` gives the corrected
    estimate. Fits are refreshed lazily, on the first ``predict`` after an update.
    """

    def __init__(self, config: ImpactModelConfig | None = None) -> None:
        self.config = config if config is not None else ImpactModelConfig()
        self._venues: dict[str, _Venue] = {}
        self._weights: dict[int, FloatArray] = {}  # forgetting weights by number of fills

    def venues(self) -> tuple[str, ...]:
        return tuple(self._venues)

    def n_fills(self, venue: str) -> int:
        """Fills currently held for ``venue`` (at most ``window``)."""
        v = self._venues.get(venue)
        return len(v.z) if v is not None else 0

    def update(self, venue: str, features: ImpactFeatures, realised_bps: float) -> None:
        """Record one realised fill on ``venue``."""
        if not isinstance(features, ImpactFeatures):
            raise ValueError(f"features must be ImpactFeatures, got {features!r}")
        if isinstance(realised_bps, bool) or not math.isfinite(realised_bps):
            raise ValueError(f"realised_bps must be a finite number, got {realised_bps!r}")
        d = self.config.floor_bps
        y = max(float(realised_bps), -0.5 * d)
        v = self._venues.get(venue)
        if v is None:
            v = self._venues[venue] = _Venue(self.config.window)
        v.u.append(math.log(features.size_over_depth))
        v.z.append(math.log((y + d) / (features.static_bps + d)))
        v.fit = None

    def fit(self, venue: str) -> Fit | None:
        """The venue's current fit, or ``None`` while it has fewer than ``min_fills`` fills."""
        v = self._venues.get(venue)
        if v is None or len(v.z) < self.config.min_fills:
            return None
        if v.fit is None:
            v.fit = self._fit(v)
        return v.fit

    def _fit(self, v: _Venue) -> Fit:
        cfg = self.config
        n = len(v.z)
        u = np.fromiter(v.u, dtype=np.float64, count=n)
        z = np.fromiter(v.z, dtype=np.float64, count=n)
        w = self._weights.get(n)
        if w is None:  # the same for every fit of n fills
            age = np.arange(n - 1, -1, -1, dtype=np.float64)
            w = self._weights[n] = np.power(0.5, age / cfg.half_life)
        center = float(np.sum(w * u) / np.sum(w))
        x = np.column_stack([np.ones(n), u - center])
        beta = huber_irls(x, z, w, k=cfg.huber_k, ridge=cfg.ridge, max_iter=cfg.max_iter)
        return Fit(float(beta[0]), float(beta[1]), center, n)

    def predict(self, venue: str, features: ImpactFeatures) -> float:
        """Expected impact in bps for a trade with these features on ``venue``."""
        if not isinstance(features, ImpactFeatures):
            raise ValueError(f"features must be ImpactFeatures, got {features!r}")
        f = self.fit(venue)
        if f is None:
            return features.static_bps
        d = self.config.floor_bps
        lim = math.log(self.config.max_factor)
        e = f.theta0 + f.theta1 * (math.log(features.size_over_depth) - f.center)
        e = min(max(e, -lim), lim)
        return (features.static_bps + d) * math.exp(e) - d


def static_impact(
    snapshot: AnyLiquidity, side: str, base: float, reference: float
) -> tuple[ImpactFeatures, float]:
    """The static model's view of trading ``base`` on ``snapshot``: its features (impact in bps of
    ``base × reference`` against the venue's own mid, fees excluded, and size over depth) and the venue mid
    the realised slippage of the fill is later measured from (so model and fills speak of one quantity)."""
    from botnft.routing.adapt import check_side, depth_base, mid, to_source

    s = check_side(side)
    venue_mid = mid(snapshot)
    free_curve = to_source(snapshot, s, fee_bps=0.0)
    if s == "buy":
        impact = free_curve.input_for("buy", base) - base * venue_mid
    else:
        impact = base * venue_mid - free_curve.output("sell", base)
    notional = base * reference
    static_bps = max(impact / notional * 1e4, 0.0) if notional > 0 and math.isfinite(impact) else 0.0
    depth = depth_base(snapshot, s)
    return ImpactFeatures(static_bps, base / depth if depth > 0 else 1e6), venue_mid
