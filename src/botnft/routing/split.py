"""The split solver: divide one order across liquidity sources for the best total output.

Problem. Each source ``i`` turns ``x_i`` of the input asset into ``out_i(x_i)`` of the output asset,
after fees; every ``out_i`` is increasing and concave (see :mod:`botnft.routing.sources`). Exact input:
maximise ``Σ out_i(x_i)`` subject to ``Σ x_i = amount``, ``x_i >= 0``. Exact output: minimise
``Σ x_i`` subject to ``Σ out_i(x_i) = amount``. Both have the same optimality condition: every source
that receives flow has the same marginal rate ``λ`` (output per unit input, after fees), and every
source left out has a marginal at zero no better than ``λ``.

Algorithm — exact water-filling. Each source is a chain of segments, constant-product curves
``a*x/(b+x)`` (CPMM pools, CLMM ranges, perp vAMMs) and flat book levels. The marginal values at
which a curve segment starts (``a/b``) or is exhausted, and the rates of the flat segments, are the
breakpoints of the aggregate demand ``D(λ) = Σ x_i(λ)``. They are sorted once, then swept from the
best rate down. Between two breakpoints the set of partly-used curve segments is fixed and, since a
curve segment takes ``x(λ) = sqrt(a*b/λ) − b``, ``D(λ) = K + S/√λ`` with ``S = Σ sqrt(a*b)``: the
sweep stops in the interval that contains the amount and solves ``λ = (S / (amount − K))²`` in closed
form. (Exact output: ``Σ out = K' + Σa − S·√λ``, also closed form.) A flat level at rate ``r`` is a
jump of ``D`` at ``λ = r``; if the amount falls inside the jump, the level is the marginal source and
is filled partly. No bisection, no tolerance: the cost is one sort plus one pass over breakpoints.

Quantization. A source with ``lot``/``min_size`` (input-asset units) must receive 0 or a multiple of
``lot`` that is at least ``min_size``. From the continuous optimum each such allocation is rounded
down to the nearest valid size; the input freed (exact output: the output missing) is handed back
greedily and in bulk — the venue whose next increment has the best rate takes as many increments as
keep it ahead of the runner-up and of the continuous sources' marginal — and the continuous sources
are re-solved exactly at the end. Allocations only grow after the rounding and the output is
concave, so the loss against the continuous optimum is at most, per venue, the output of one
increment ``max(lot, min_size rounded up to a lot)`` (tested). Input that no venue can take on its
lot grid (no continuous source left) is reported as ``remainder``.

Only the standard library is used: for a handful of sources, plain floats beat numpy's per-call
overhead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from botnft.routing.sources import (
    EV_FLAT,
    EV_START,
    INF,
    SOURCE_TYPES,
    Curve,
    Event,
    PooledSource,
    Side,
    Source,
)

AmountIn = Literal["base", "quote"]

_SOURCE_SET = frozenset(SOURCE_TYPES)
_KEY = 1 << 24  # active-segment key = source index * _KEY + segment index
_sqrt = math.sqrt


@dataclass(frozen=True)
class Split:
    """The solver's answer. Amounts are floats in base/quote units.

    ``allocations[i]`` is the input asset (quote for a buy, base for a sell) sent to ``sources[i]``
    and ``outputs[i]`` the output asset it returns after fees; ``filled = Σ outputs`` and
    ``spent = Σ allocations``. ``remainder`` is the part of ``amount`` (same unit as ``amount``: input
    for exact input, output for exact output) that could not be routed: all liquidity exhausted, or,
    with lot sizes and no continuous source, less than one lot left over. It is never silently
    dropped: exact input has ``spent + remainder == amount``, exact output
    ``filled + remainder >= amount`` (with lots the fill may overshoot by less than one lot's output).
    ``marginal_price`` (quote per base, fees included) is the price of the last unit at the
    continuous optimum — the common marginal of all sources used; ``avg_price`` is quote per base
    over the whole fill. Both are ``nan`` when nothing was routed.
    """

    side: Side
    amount_in: AmountIn
    amount: float
    allocations: tuple[float, ...]
    outputs: tuple[float, ...]
    filled: float
    spent: float
    remainder: float
    marginal_price: float
    avg_price: float

    @property
    def exact_output(self) -> bool:
        """True when ``amount`` is the output asset (buy with base amount, sell with quote amount)."""
        return (self.side == "buy") == (self.amount_in == "base")


class _Solution:
    __slots__ = ("alloc", "lam", "outs", "routed")

    def __init__(self, alloc: list[float], outs: list[float], lam: float, routed: float) -> None:
        self.alloc = alloc  # input per source
        self.outs = outs  # output per source
        self.lam = lam  # common marginal rate (output per input); nan if nothing routed
        self.routed = routed  # part of the target reached (input or output units)


_Sweep = tuple[list[float], list[Event], list[int], list[int]]


def _sweep_order(curves: Sequence[Curve]) -> _Sweep:
    """All breakpoints of all sources, and their order from the best marginal rate down."""
    keys: list[float] = []
    events: list[Event] = []
    owner: list[int] = []
    for i, c in enumerate(curves):
        k = c.keys
        keys += k
        events += c.events
        owner += [i] * len(k)
    # Sorting indices on float keys is about twice as fast as sorting (key, i, event) tuples.
    return keys, events, owner, sorted(range(len(keys)), key=keys.__getitem__, reverse=True)


def _spread(
    active: dict[int, tuple[int, float, float, float, float]],
    lam: float,
    full: list[float],
    fout: list[float],
) -> tuple[int, float, tuple[int, float, float, float, float]]:
    """Give each active curve segment its flow at the common marginal ``lam`` (adds to ``full``/``fout``);
    return the segment that took the most, where the caller puts the rounding residual."""
    u = 1.0 / _sqrt(lam)
    best_i, best_x, best = -1, -1.0, (0, 0.0, 0.0, 0.0, 0.0)
    for seg in active.values():
        i, a, b, root, cap = seg
        x = root * u - b
        x = 0.0 if x < 0.0 else min(x, cap)
        if x > best_x:
            best_i, best_x, best = i, x, seg
        full[i] += x
        fout[i] += a * x / (b + x)
    return best_i, best_x, best


def _waterfill(
    curves: Sequence[Curve], target: float, exact_out: bool, sweep: _Sweep | None = None
) -> _Solution:
    """Continuous optimum by an exact sweep over the marginal-rate breakpoints (see module doc);
    `sweep` is `_sweep_order(curves)` when the caller has it."""
    if exact_out:
        return _waterfill_out(curves, target, sweep)
    keys, events, owner, order = _sweep_order(curves) if sweep is None else sweep
    n = len(curves)
    full = [0.0] * n  # input of fully used segments (and of a partly used flat one), per source
    fout = [0.0] * n  # their output
    active: dict[int, tuple[int, float, float, float, float]] = {}  # key -> (i, a, b, root, cap)
    s_root = 0.0  # Σ sqrt(a*b) over the active curve segments
    s_b = 0.0  # Σ b over the active curve segments
    f_in = 0.0  # Σ full
    prev = INF
    lam = math.nan
    for j in order:
        lam_e = keys[j]
        if s_root > 0.0:  # D(λ) = f_in − s_b + s_root/√λ on (lam_e, prev]: does it reach target?
            rem = target - f_in + s_b
            if s_root >= rem * _sqrt(lam_e):
                lam = (s_root / rem) ** 2 if rem > 0.0 else lam_e
                lam = lam_e if lam < lam_e else min(lam, prev)
                break
        e = events[j]
        kind = e[1]
        if kind == EV_FLAT:  # a level at rate lam_e: D jumps by its capacity
            cap = e[6]
            d = f_in - s_b + s_root / _sqrt(lam_e) if s_root > 0.0 else f_in
            if d + cap >= target:
                part = min(max(target - d, 0.0), cap)
                i = owner[j]
                full[i] += part
                fout[i] += part * e[3]
                lam = lam_e
                break
            f_in += cap
            i = owner[j]
            full[i] += cap
            fout[i] += e[7]
        elif kind == EV_START:
            active[owner[j] * _KEY + e[2]] = (owner[j], e[3], e[4], e[5], e[6])
            s_root += e[5]
            s_b += e[4]
        else:  # EV_END: a curve segment used up
            i = owner[j]
            del active[i * _KEY + e[2]]
            s_root = sum(v[3] for v in active.values())
            s_b = sum(v[2] for v in active.values())
            f_in += e[6]
            full[i] += e[6]
            fout[i] += e[7]
        prev = lam_e
    else:
        if s_root <= 0.0:  # every source used up
            return _Solution(full, fout, prev if prev != INF else math.nan, f_in)
        lam = min((s_root / (target - f_in + s_b)) ** 2, prev)  # below the last breakpoint
    if active:
        best_i, best_x, best = _spread(active, lam, full, fout)
        # Rounding leaves Σ off by ~1e-16 of the reserves; put the residual on the largest curve
        # allocation, where it costs nothing to first order (all marginals are equal there).
        resid = target - sum(full)
        if resid != 0.0:
            _, a, b, _, cap = best
            x2 = min(max(best_x + resid, 0.0), cap)
            full[best_i] += x2 - best_x
            fout[best_i] += a * x2 / (b + x2) - a * best_x / (b + best_x)
    return _Solution(full, fout, lam, target)


def _waterfill_out(curves: Sequence[Curve], target: float, sweep: _Sweep | None = None) -> _Solution:
    """Exact output: the same sweep on ``Σ out(λ) = f_out + Σa − √λ·Σ sqrt(a*b)``."""
    keys, events, owner, order = _sweep_order(curves) if sweep is None else sweep
    n = len(curves)
    full = [0.0] * n
    fout = [0.0] * n
    active: dict[int, tuple[int, float, float, float, float]] = {}
    s_root = 0.0
    s_a = 0.0  # Σ a over the active curve segments
    f_out = 0.0
    prev = INF
    lam = math.nan
    for j in order:
        lam_e = keys[j]
        if s_root > 0.0:
            rem = f_out + s_a - target
            if s_root * _sqrt(lam_e) <= rem:
                lam = (rem / s_root) ** 2
                lam = lam_e if lam < lam_e else min(lam, prev)
                break
        e = events[j]
        kind = e[1]
        if kind == EV_FLAT:
            d = f_out + s_a - s_root * _sqrt(lam_e) if s_root > 0.0 else f_out
            if d + e[7] >= target:
                part = min(max((target - d) / e[3], 0.0), e[6])
                i = owner[j]
                full[i] += part
                fout[i] += part * e[3]
                lam = lam_e
                break
            f_out += e[7]
            i = owner[j]
            full[i] += e[6]
            fout[i] += e[7]
        elif kind == EV_START:
            active[owner[j] * _KEY + e[2]] = (owner[j], e[3], e[4], e[5], e[6])
            s_root += e[5]
            s_a += e[3]
        else:
            i = owner[j]
            del active[i * _KEY + e[2]]
            s_root = sum(v[3] for v in active.values())
            s_a = sum(v[1] for v in active.values())
            f_out += e[7]
            full[i] += e[6]
            fout[i] += e[7]
        prev = lam_e
    else:
        if s_root <= 0.0:
            return _Solution(full, fout, prev if prev != INF else math.nan, f_out)
        rem = f_out + s_a - target
        if rem <= 0.0:
            raise ValueError(
                f"requested output {target!r} is beyond what the sources can deliver at any "
                f"price ({f_out + s_a!r}, the sum of the pools' reserves and finite liquidity)"
            )
        lam = min((rem / s_root) ** 2, prev)
    if active:
        best_i, best_x, best = _spread(active, lam, full, fout)
        resid = target - sum(fout)  # the residual, in output, on the largest curve allocation
        if resid != 0.0:
            _, a, b, _, cap = best
            o = a * best_x / (b + best_x)
            o2 = min(max(o + resid, 0.0), a * cap / (b + cap) if cap != INF else a)
            if o2 < a:
                x2 = b * o2 / (a - o2)
                full[best_i] += x2 - best_x
                fout[best_i] += o2 - o
    return _Solution(full, fout, lam, target)


def _check_amount(amount: object) -> float:
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise ValueError(f"amount must be a number, got {amount!r}")
    a = float(amount)
    if not (a > 0.0 and a != INF):  # also rejects nan
        raise ValueError(f"amount must be positive and finite, got {amount!r}")
    return a


def _valid_floor(x: float, lot: float, min_size: float) -> float:
    """Largest size <= x that a venue with this lot / min size accepts (0 is always valid)."""
    if lot > 0.0:
        # x may be a capacity summed in floats a hair below a whole number of lots: that lot is there
        k = x / lot
        q = math.floor(k + max(1e-9, 1e-12 * k)) * lot
        if q > x + 1e-12 * max(x, lot):  # float noise in the division, beyond the summing error
            q -= lot
        return q if q >= min_size and q > 0.0 else 0.0
    return x if x >= min_size else 0.0


class _Quantizer:
    """Lots and minimum sizes on top of the continuous optimum (see the module doc).

    Every allocation is first rounded *down* to a size its venue accepts; that alone bounds the loss
    against the continuous optimum by one increment's output per venue, since the output is concave.
    The freed input (exact input) or missing output (exact output) is then handed back greedily, in
    bulk: the venue whose next increment has the best rate takes as many increments as keep it ahead
    of the runner-up and of the continuous sources' marginal; the continuous sources are re-solved
    exactly at the end. Allocations only grow after the rounding, and the loop is bounded.
    """

    def __init__(self, curves: Sequence[Curve], lots: Sequence[float], mins: Sequence[float]) -> None:
        self.curves = curves
        self.lots = lots
        self.mins = mins
        self.caps = [c.total_in for c in curves]

    def first_increment(self, v: int, q: float) -> float:
        """The next size step venue ``v`` accepts from ``q`` (``inf`` if none fits its capacity)."""
        lot = self.lots[v]
        if lot > 0.0:
            inc = lot if q > 0.0 else max(1.0, math.ceil(self.mins[v] / lot - 1e-9)) * lot
        elif q == 0.0:
            inc = self.mins[v]
        else:
            return INF  # a min-size-only venue re-added at its minimum stays there
        return inc if q + inc <= self.caps[v] * (1.0 + 1e-12) else INF

    def best_two(self, q: list[float], disc: list[int], room: float) -> tuple[int, float, float, float]:
        """Best venue for one more increment (index, increment, rate) and the runner-up's rate."""
        best_v, best_inc, best_r, second = -1, 0.0, 0.0, 0.0
        for v in disc:
            inc = self.first_increment(v, q[v])
            if inc > room * (1.0 + 1e-12):
                continue
            c = self.curves[v]
            r = (c.output(q[v] + inc) - c.output(q[v])) / inc
            if r > best_r:
                best_v, best_inc, best_r, second = v, inc, r, best_r
            elif r > second:
                second = r
        return best_v, best_inc, best_r, second

    def bulk(self, v: int, q: float, floor_rate: float, k_max: float) -> int:
        """How many more whole lots venue ``v`` takes from ``q`` while each still yields >= floor_rate."""
        lot = self.lots[v]
        if lot <= 0.0 or k_max < 1.0:
            return 0
        c = self.curves[v]

        def rate(k: int) -> float:  # output per input of the k-th extra lot (non-increasing in k)
            return (c.output(q + k * lot) - c.output(q + (k - 1) * lot)) / lot

        lo, hi = 0, int(min(k_max, 2.0**52))
        if rate(1) < floor_rate:
            return 0
        lo = 1
        while lo < hi:  # largest k in [1, hi] with rate(k) >= floor_rate
            mid = (lo + hi + 1) // 2
            if rate(mid) >= floor_rate:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def lots_within(self, v: int, q: float, room: float) -> float:
        """How many whole lots of venue ``v`` fit in ``room`` of input and in its capacity."""
        lot = self.lots[v]
        if lot <= 0.0:
            return 0.0
        k = min(room, self.caps[v] - q) / lot
        return k if k == INF else float(math.floor(k + 1e-9))

    def run(self, sol: _Solution, target: float, exact_out: bool) -> tuple[list[float], list[float]]:
        curves, lots, mins = self.curves, self.lots, self.mins
        n = len(curves)
        x_star = sol.alloc
        q = [0.0] * n
        cont: list[int] = []  # continuous venues, re-solved exactly at the end
        disc: list[int] = []  # lot venues, and min-size-only venues that were dropped
        for v in range(n):
            if lots[v] == 0.0 and (mins[v] == 0.0 or x_star[v] >= mins[v]):
                cont.append(v)
                q[v] = x_star[v]
            else:
                disc.append(v)
                q[v] = _valid_floor(x_star[v], lots[v], mins[v])
        cont_curves = [curves[v] for v in cont]

        def cont_solve(amount: float) -> _Solution | None:
            """The continuous venues' optimum for ``amount`` (None if out of their reach)."""
            if not cont_curves or amount <= 0.0:
                return None
            try:
                s = _waterfill(cont_curves, amount, exact_out)
            except ValueError:  # exact output beyond the pools' reserves
                return None
            return s if s.routed >= amount * (1.0 - 1e-12) else None

        def cont_rate(amount: float) -> float:
            s = cont_solve(amount)
            return s.lam if s is not None else 0.0

        if exact_out:
            base = sum(sol.outs[v] for v in cont)
            missing = target - base - sum(curves[v].output(q[v]) for v in disc)
            for _ in range(4 * n + 16):
                if missing <= 0.0:
                    break
                v, inc, r, second = self.best_two(q, disc, INF)
                lam_c = cont_rate(base + missing)
                if v < 0 or r <= lam_c:
                    break
                c = curves[v]
                missing -= c.output(q[v] + inc) - c.output(q[v])
                q[v] += inc
                if missing <= 0.0 or lots[v] <= 0.0:
                    continue
                have = c.output(q[v])
                need = c.input_for(have + missing)
                if need == INF:  # v alone cannot cover it: take it close to its limit at most
                    need = c.input_for(have + (c.total_out - have) * (1.0 - 1e-9))
                k_cover = 0 if need == INF else math.ceil((need - q[v]) / lots[v] - 1e-9)
                k = self.bulk(v, q[v], max(second, lam_c), min(k_cover, self.lots_within(v, q[v], INF)))
                q[v] += k * lots[v]
                missing -= c.output(q[v]) - have
            # The continuous venues cover what is missing, or give back an overshoot of the lots
            # (unless that could take one below its minimum size).
            if cont_curves and (missing > 0.0 or (missing < 0.0 and not any(mins[v] for v in cont))):
                want = base + missing
                s = cont_solve(want)
                if s is not None or want <= 0.0:  # else they keep x*; the shortfall is the remainder
                    for k, v in enumerate(cont):
                        q[v] = s.alloc[k] if s is not None else 0.0
        else:
            base = sum(x_star[v] for v in cont)
            left = target - sum(q)
            for _ in range(4 * n + 16):
                v, inc, r, second = self.best_two(q, disc, left)
                lam_c = cont_rate(base + left) if cont_curves else 0.0
                if v < 0 or r <= lam_c:
                    break
                q[v] += inc
                left = max(left - inc, 0.0)
                k = self.bulk(v, q[v], max(second, lam_c), self.lots_within(v, q[v], left))
                q[v] += k * lots[v]
                left = max(left - k * lots[v], 0.0)
            if cont_curves and left > 0.0:  # what they cannot take (all used up) is the remainder
                s = _waterfill(cont_curves, base + left, False)
                for k, v in enumerate(cont):
                    q[v] = s.alloc[k]
        return q, [curves[v].output(q[v]) for v in range(n)]


def optimal_split(
    sources: Sequence[Source],
    side: Side,
    amount: float,
    amount_in: AmountIn | None = None,
    *,
    quantize: bool = True,
) -> Split:
    """Split one order across ``sources`` for the best total output (or least input).

    ``side="buy"`` spends quote for base, ``side="sell"`` spends base for quote. ``amount_in`` names
    the asset ``amount`` is counted in, and defaults to the side's input asset:

    * ``buy``/``"quote"`` and ``sell``/``"base"``: exact input — spend ``amount``, maximise output;
    * ``buy``/``"base"`` and ``sell``/``"quote"``: exact output — receive ``amount``, minimise input.
      With lot-size sources and no continuous source, the fill may overshoot ``amount`` by less than
      one lot's output. Asking constant-product pools for at least their reserves raises.

    ``quantize=False`` ignores ``lot``/``min_size`` and returns the continuous optimum.
    Raises ``ValueError`` on bad input (non-positive/NaN amount, unknown side or ``amount_in``,
    empty or unknown sources); invalid sources already raised when they were built.
    """
    if side == "buy":
        input_asset: AmountIn = "quote"
    elif side == "sell":
        input_asset = "base"
    else:
        raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
    unit: AmountIn
    if amount_in is None:
        unit = input_asset
    elif amount_in in ("base", "quote"):
        unit = amount_in
    else:
        raise ValueError(f"amount_in must be 'base' or 'quote', got {amount_in!r}")
    target = amount if type(amount) is float and 0.0 < amount < INF else _check_amount(amount)
    if not sources:
        raise ValueError("sources is empty: nothing to route to")
    curves: list[Curve] = []
    quantized = pooled = False
    for src in sources:
        if type(src) not in _SOURCE_SET and not isinstance(src, SOURCE_TYPES):
            raise ValueError(f"sources[{len(curves)}] is not a liquidity source: {src!r}")
        curves.append(src.curve(side))
        if src.lot or src.min_size:
            quantized = True
        if type(src) is PooledSource:
            pooled = True
    exact_out = unit != input_asset
    sol = _waterfill(curves, target, exact_out)
    alloc, outs = sol.alloc, sol.outs
    if quantize and quantized:
        lots = [float(src.lot or 0.0) for src in sources]
        mins = [float(src.min_size or 0.0) for src in sources]
        alloc, outs = _Quantizer(curves, lots, mins).run(sol, sol.routed, exact_out)
    if pooled:  # an aggregator keeps its books' shares to whole lots
        alloc, outs = list(alloc), list(outs)
        for i, src in enumerate(sources):
            if (
                type(src) is PooledSource
                and any(src.part_lots)
                and (outs[i] if exact_out else alloc[i]) > 0.0
            ):
                alloc[i], outs[i] = settle_pooled(src, side, alloc[i], outs[i], exact_out)
    filled = sum(outs)
    spent = sum(alloc)
    remainder = target - sol.routed
    if quantize and quantized:
        remainder = max(target - filled, 0.0) if exact_out else max(target - spent, 0.0)
        if remainder <= 1e-12 * target:  # float noise of the sums, not input left over
            remainder = 0.0
    lam = sol.lam
    if side == "buy":
        marginal = 1.0 / lam if lam > 0.0 and lam != INF else math.nan
        avg = spent / filled if filled > 0.0 else math.nan
    else:
        marginal = lam if lam > 0.0 and lam != INF else math.nan
        avg = filled / spent if spent > 0.0 else math.nan
    # A frozen dataclass's __init__ pays object.__setattr__ per field; fill the instance directly.
    split = object.__new__(Split)
    split.__dict__.update(
        side=side,
        amount_in=unit,
        amount=target,
        allocations=tuple(alloc),
        outputs=tuple(outs),
        filled=filled,
        spent=spent,
        remainder=remainder,
        marginal_price=marginal,
        avg_price=avg,
    )
    return split


def settle_pooled(
    src: PooledSource, side: Side, spent: float, filled: float, exact_out: bool
) -> tuple[float, float]:
    """(input, output) an aggregator (`PooledSource`) fills for its share (the output when `exact_out`,
    else the input), as it assembles a route: the best split across its parts, each book's share floored
    to whole lots of base, and what the books leave on the largest pool part that can take it (none:
    the pool that gives the most for it)."""
    curves = [p.curve(side) for p in src.parts]
    sweeps = src.__dict__.setdefault("_sweeps", {})  # the parts' breakpoints in order, once per side
    sweep = sweeps.get(side)
    if sweep is None:
        sweep = sweeps[side] = _sweep_order(curves)
    sol = _waterfill(curves, filled if exact_out else spent, exact_out, sweep)
    ins, outs = list(sol.alloc), list(sol.outs)
    # in the given unit (output when exact_out, else input), starting with the float noise of the split
    left = filled - math.fsum(outs) if exact_out else spent - math.fsum(ins)
    for i, lot in enumerate(src.part_lots):
        if not lot or not (outs[i] if exact_out else ins[i]) > 0.0:
            continue
        c = curves[i]
        if side == "sell":  # the input is base: whole lots of it
            keep = min(math.floor(ins[i] / lot + 1e-9) * lot, c.total_in)  # the whole book, at most
            left += ins[i] - keep
            ins[i], outs[i] = keep, c.output(keep)
        else:  # the output is base: whole lots of it
            keep = min(math.floor(outs[i] / lot + 1e-9) * lot, c.total_out)  # the whole book, at most
            need = c.input_for(keep)
            left += outs[i] - keep if exact_out else ins[i] - need
            ins[i], outs[i] = need, keep
    if left != 0.0:
        pools = [i for i, lot in enumerate(src.part_lots) if not lot]
        if exact_out:  # a pool used to its end cannot give more
            pools = [i for i in pools if curves[i].input_for(outs[i] + left) < INF]
        used = [i for i in pools if (outs[i] if exact_out else ins[i]) > 0.0]
        if used:
            k = max(used, key=lambda i: outs[i] if exact_out else ins[i])
        elif exact_out:
            k = min(pools, key=lambda i: curves[i].input_for(left), default=-1)
        else:
            k = max(pools, key=lambda i: curves[i].output(left), default=-1)
        if k >= 0 and exact_out:
            outs[k] += left
            ins[k] = curves[k].input_for(outs[k])
        elif k >= 0:
            ins[k] += left
            outs[k] = curves[k].output(ins[k])
    return math.fsum(ins), math.fsum(outs)
