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

Fitting. ``z = ln((y + δ)/(s + δ))`` is regressed on ``[1, ln u − c]`` with the **Huber** loss, the
residual scale being the weighted MAD, plus a small ridge pulling ``θ`` toward 0 (no correction). Huber
in log space targets roughly the conditional median, which a monotone transform preserves, so the fit is
aimed at the mean absolute error we score it on, and a heavy-tailed outlier (a fill that landed late, a
sandwich) moves it little. Precisely, with forgetting weights ``w``, the fit is a fixed point ``θ = T(θ)``
of the reweighting step::

    σ(θ) = max(1.4826 · wmedian(|r|, w), 1e-6),   r = z − X θ
    T(θ) = argmin_b Σ wᵢ hᵢ (zᵢ − xᵢ·b)² + ridge·|b|²,   hᵢ = min(1, k σ(θ) / |rᵢ|)

(``wmedian``: the smallest ``|r|`` whose cumulative weight, in increasing order, reaches half the total),
i.e. a root of the Huber normal equations ``Σ wᵢ ψ(rᵢ) xᵢ = ridge·θ`` at the scale the root itself has.
It is found by iterating ``T`` (IRLS), :func:`huber_irls`:

* start: the venue's previous fit, re-expressed about the new centre ``c`` (one fill came in, the fixed
  point moved a little); a venue's first fit starts from the weighted ridge least squares (``T`` with
  every ``hᵢ = 1``);
* the iteration converges linearly, at times slowly (contraction ratios up to 0.99 on real fills, where
  a cluster of fills exactly at the static estimate makes ``σ`` small); after two plain steps that
  shrink by a ratio ``ρ`` in (0, 0.99) it jumps ahead by the rest of the geometric series (Aitken's
  Δ²), which shortens the path without moving the fixed point;
* it stops when a plain step moves ``θ0`` and ``θ1`` by less than ``tol`` (1e-6: a relative change of
  1e-6 in the predicted ``s + δ``, far below a bp), or on a 2-cycle (a step back within ``tol`` of the
  ``θ`` two steps before; the midpoint of the two), or after ``max_iter`` steps (the last ``θ``; the
  next fit carries on from it).

The warm start makes a fit depend on the venue's earlier fits, but only within about ``10·tol`` (a
warm-started fit equals a cold one that far; the unit tests check it) unless the cap stopped one; the
same fills in the same order give the same fits, bit for bit.

Memory is bounded: each venue keeps its last ``window`` fills, weighted by exponential forgetting
(``0.5 ** (age / half_life)``, age in fills), so the model follows a drifting liquidity. With fewer than
``min_fills`` fills, or for a venue never seen, ``predict`` returns the static estimate unchanged.

The evaluation in ``bench/impact_model.py`` uses a synthetic replay — a stand-in until real fills exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from botnft.domain.liquidity import AnyLiquidity

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


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
    tol: float = 1e-6

    def __post_init__(self) -> None:
        if self.window < 2 or self.min_fills < 2:
            raise ValueError("ImpactModelConfig.window and min_fills must be >= 2")
        for name in ("half_life", "huber_k", "floor_bps"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"ImpactModelConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if self.ridge < 0.0 or not self.max_factor > 1.0 or self.max_iter < 1 or not self.tol > 0.0:
            raise ValueError(
                "ImpactModelConfig: ridge >= 0, max_factor > 1, max_iter >= 1 and tol > 0 required"
            )


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
    """One venue's last ``window`` fills, oldest first, in ``buf[:, lo:hi]`` (row 0: ``ln(size / depth)``,
    row 1: ``ln((realised + δ) / (static + δ))``); the buffer holds two windows so the live rows move
    back to the start once a window, not on every fill."""

    __slots__ = ("buf", "fit", "hi", "last", "lo", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.buf: FloatArray = np.empty((2, 2 * window), dtype=np.float64)
        self.lo = self.hi = 0
        self.fit: Fit | None = None  # the current fit (None once a fill arrives after it)
        self.last: Fit | None = None  # the latest fit made, the next one's warm start

    def __len__(self) -> int:
        return self.hi - self.lo

    def append(self, u: float, z: float) -> None:
        if self.hi == self.buf.shape[1]:
            n = self.hi - self.lo
            self.buf[:, :n] = self.buf[:, self.lo : self.hi]
            self.lo, self.hi = 0, n
        self.buf[0, self.hi] = u
        self.buf[1, self.hi] = z
        self.hi += 1
        if self.hi - self.lo > self.window:
            self.lo += 1


_RHO_MAX = 0.99  # the largest contraction ratio an extrapolation trusts (a jump of at most 99 steps)


def huber_irls(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
    *,
    k: float,
    ridge: float,
    max_iter: int = 50,
    tol: float = 1e-9,
    start: FloatArray | tuple[float, float] | None = None,
) -> FloatArray:
    """Weighted Huber regression of ``y`` on the columns of ``x`` with the weighted-MAD scale, ridge
    ``ridge·|β|²``: the fixed point of the IRLS step ``T`` (see the module docstring), found by IRLS
    with extrapolation.

    ``T(β)``: the residual scale ``σ`` = 1.4826 × the weighted median of ``|y − xβ|`` (at least 1e-6),
    then the weighted least squares with Huber weights ``min(1, kσ/|r|)`` and the ridge. From ``start``
    (a warm start: a previous fit) or else the weighted ridge least squares (``T`` with every Huber
    weight 1), each step is one ``T``; after two plain steps ``d₁``, ``d₂`` that shrink by a ratio
    ``ρ = d₂·d₁ / d₁·d₁`` in (0, 0.99), the iterate jumps ``d₂·ρ/(1 − ρ)`` further — the sum of the
    remaining geometric steps (Aitken's Δ²) — which changes the path, not the fixed point. It stops at
    the first of: a step that moves every coefficient by less than ``tol`` (the new ``β``); a 2-cycle,
    two plain steps that bring every coefficient back within ``tol`` (the midpoint of the two
    alternating ``β``, whichever came first); ``max_iter`` steps (the last ``β``).
    """
    p = x.shape[1]
    if p == 2:
        fast = _huber_irls_2(
            x[:, 0], x[:, 1], y, w, k=k, ridge=ridge, max_iter=max_iter, tol=tol, start=start
        )
        if fast is not None:
            return fast
    pen = ridge * np.eye(p)
    xt = x.T
    beta: FloatArray
    if start is None:  # the weighted ridge least squares: T with every Huber weight 1
        beta = np.asarray(np.linalg.solve((xt * w) @ x + pen, (xt * w) @ y), dtype=np.float64)
    else:
        beta = np.array(start, dtype=np.float64)
    before: FloatArray | None = None  # the iterate two plain steps back
    step: FloatArray | None = None  # the previous plain step
    for _ in range(max_iter):
        ar = np.abs(y - x @ beta)
        scale = max(1.4826 * _weighted_median(ar, w), 1e-6)
        hub = 1.0 / np.maximum(ar / (k * scale), 1.0)
        xtw = xt * (w * hub)
        new = np.asarray(np.linalg.solve(xtw @ x + pen, xtw @ y), dtype=np.float64)
        d = new - beta
        if float(np.max(np.abs(d))) < tol:
            return new
        if before is not None and float(np.max(np.abs(new - before))) < tol:
            return np.asarray(0.5 * (new + beta), dtype=np.float64)
        rho = float(d @ step) / float(step @ step) if step is not None else 0.0
        if 0.0 < rho < _RHO_MAX:
            beta, before, step = new + d * (rho / (1.0 - rho)), None, None
        else:
            beta, before, step = new, beta, d
    return beta


def _huber_irls_2(
    x0: FloatArray | None,
    x1: FloatArray,
    y: FloatArray,
    w: FloatArray,
    *,
    k: float,
    ridge: float,
    max_iter: int,
    tol: float,
    start: FloatArray | tuple[float, float] | None,
) -> FloatArray | None:
    """`huber_irls` with the two columns ``x0`` (None: the intercept, ones) and ``x1``, in fewer numpy
    calls: the five sums of the 2 × 2 normal equations come from one product with the stacked columns'
    products, the residuals' sort starts from the last step's order, and the 2 × 2 solve (Gaussian
    elimination with partial pivoting), the tests and the extrapolation run on Python floats; None where
    a pivot is zero (`huber_irls` then takes `np.linalg.solve`, which raises)."""
    n = len(y)
    last = n - 1
    absolute, maximum, accumulate = np.abs, np.maximum, np.add.accumulate
    prods = np.empty((5, n))
    if x0 is None:  # an intercept: the column of ones
        prods[0] = 1.0
        prods[1] = x1
        prods[3] = y
    else:
        np.multiply(x0, x0, out=prods[0])
        np.multiply(x0, x1, out=prods[1])
        np.multiply(x0, y, out=prods[3])
    np.multiply(x1, x1, out=prods[2])
    np.multiply(x1, y, out=prods[4])

    def solve(weights: FloatArray) -> tuple[float, float] | None:
        a00, a01, a11, r0, r1 = (prods @ weights).tolist()
        a00 += ridge
        a11 += ridge
        a10 = a01
        if abs(a10) > abs(a00):
            a00, a01, a10, a11, r0, r1 = a10, a11, a00, a01, r1, r0
        if a00 == 0.0:
            return None
        m = a10 * (1.0 / a00)
        u11 = a11 - m * a01
        if u11 == 0.0:
            return None
        n1 = (r1 - m * r0) / u11
        return (r0 - a01 * n1) / a00, n1

    if start is None:  # the weighted ridge least squares: T with every Huber weight 1
        ls = solve(w)
        if ls is None:
            return None
        b0, b1 = ls
    else:
        b0, b1 = (float(b) for b in start)
    p0 = p1 = math.nan  # the iterate two plain steps back (nan: none)
    s0 = s1 = 0.0  # the previous plain step (0: none)
    order: IntArray | None = None
    for _ in range(max_iter):
        ar = absolute(y - b1 * x1 - b0) if x0 is None else absolute(y - (b0 * x0 + b1 * x1))
        # The residuals move little from step to step: the last step's order leaves them nearly sorted,
        # which the stable sort (a merge sort) finishes in about linear time.
        order = ar.argsort(kind="stable") if order is None else order[ar[order].argsort(kind="stable")]
        cw = accumulate(w[order])
        i = int(cw.searchsorted(0.5 * cw[-1]))
        sigma = 1.4826 * float(ar[order[i if i < last else last]])  # 1.4826 × the weighted median
        inv = 1.0 / (k * (sigma if sigma > 1e-6 else 1e-6))  # 1 / (k·σ)
        new = solve(w / maximum(ar * inv, 1.0))
        if new is None:
            return None
        n0, n1 = new
        d0, d1 = n0 - b0, n1 - b1
        if abs(d0) < tol and abs(d1) < tol:
            return np.array((n0, n1))
        if abs(n0 - p0) < tol and abs(n1 - p1) < tol:  # a 2-cycle (false while p is nan)
            return np.array((0.5 * (n0 + b0), 0.5 * (n1 + b1)))
        ss = s0 * s0 + s1 * s1
        rho = (d0 * s0 + d1 * s1) / ss if ss > 0.0 else 0.0
        if 0.0 < rho < _RHO_MAX:  # jump by the remaining geometric steps; start afresh
            g = rho / (1.0 - rho)
            b0, b1, p0, p1, s0, s1 = n0 + d0 * g, n1 + d1 * g, math.nan, math.nan, 0.0, 0.0
        else:
            b0, b1, p0, p1, s0, s1 = n0, n1, b0, b1, d0, d1
    return np.array((b0, b1))


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
        self._weights: FloatArray | None = None  # forgetting weights of a full window, oldest first

    def venues(self) -> tuple[str, ...]:
        return tuple(self._venues)

    def n_fills(self, venue: str) -> int:
        """Fills currently held for ``venue`` (at most ``window``)."""
        v = self._venues.get(venue)
        return len(v) if v is not None else 0

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
        v.append(math.log(features.size_over_depth), math.log((y + d) / (features.static_bps + d)))
        v.fit = None

    def fit(self, venue: str) -> Fit | None:
        """The venue's current fit, or ``None`` while it has fewer than ``min_fills`` fills."""
        v = self._venues.get(venue)
        if v is None or len(v) < self.config.min_fills:
            return None
        if v.fit is None:
            v.fit = self._fit(v)
        return v.fit

    def _fit(self, v: _Venue) -> Fit:
        cfg = self.config
        n = len(v)
        u, z = v.buf[0, v.lo : v.hi], v.buf[1, v.lo : v.hi]
        if self._weights is None:  # ages window - 1 … 0; a fit of n fills takes the last n
            age = np.arange(cfg.window - 1, -1, -1, dtype=np.float64)
            self._weights = np.power(0.5, age / cfg.half_life)
        w = self._weights[cfg.window - n :]
        center = float(np.dot(w, u) / w.sum())
        x1 = u - center
        start = None
        if v.last is not None:  # the previous fit, re-expressed about the new centre
            t0, t1 = v.last.theta0, v.last.theta1
            start = (t0 + t1 * (center - v.last.center), t1)
        k, ridge = cfg.huber_k, cfg.ridge
        beta = _huber_irls_2(
            None, x1, z, w, k=k, ridge=ridge, max_iter=cfg.max_iter, tol=cfg.tol, start=start
        )
        if beta is None:  # a zero pivot: the general path, whose solve raises
            x = np.column_stack([np.ones(n), x1])
            beta = huber_irls(x, z, w, k=k, ridge=ridge, max_iter=cfg.max_iter, tol=cfg.tol, start=start)
        fit = v.last = Fit(float(beta[0]), float(beta[1]), center, n)
        return fit

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
