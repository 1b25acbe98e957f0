"""SimJupiter's router: the optimal split of an amount across its venues, as Jupiter routes. Each venue's
liquidity snapshot is read as a concave curve of output against input (pool curves, book levels, fees
inside); the split gives every venue used the same marginal rate λ, found by bisection, and the router
(`routing.sources.PooledSource`) reads the same split from the same snapshots. Native amounts follow:
books keep to whole lots and what they leave goes to the largest pool leg (the model is in `jupiter`'s
docstring)."""

from __future__ import annotations

import math
import operator
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from itertools import accumulate

from botnft.domain.liquidity import BookLiquidity, ClmmLiquidity, CpmmLiquidity
from botnft.venues.sim.jupiter_api import JupiterQuoteError
from botnft.venues.sim.jupiter_legs import Leg, LegQuote
from botnft.venues.sim.raydium_config import Token

__all__ = ["Snapshot", "best_route", "split_shares"]

Snapshot = CpmmLiquidity | ClmmLiquidity | BookLiquidity
#: (m_start, m_end, a, b, cap, out_cap): ``out = a·x/(b + x)`` on ``[0, cap]``, marginal from ``m_start`` to
#: ``m_end``; ``b == 0`` is a book level at rate ``a`` (output per input) over ``cap`` input
Seg = tuple[float, float, float, float, float, float]
INF = math.inf


def best_route(
    legs: Sequence[Leg],
    parts: Sequence[Snapshot],
    amount: int,
    *,
    sell_base: bool,
    exact_in: bool,
    tokens: tuple[Token, Token],
) -> list[LegQuote]:
    """The optimal split of `amount` (native) across `legs`, whose snapshots are `parts` (one a leg);
    raises `JupiterQuoteError` (``COULD_NOT_FIND_ANY_ROUTE``) when it cannot be filled."""
    base, quote = tokens
    tin, tout = (base, quote) if sell_base else (quote, base)
    unit = tin if exact_in else tout
    shares = split_shares(
        [segments(p, sell_base) for p in parts], amount / 10**unit.decimals, exact_in=exact_in
    )
    route = None
    if shares is not None:
        native = {i: round(x * 10**unit.decimals) for i, x in enumerate(shares) if x > 0.0}
        route = _assemble(legs, native, amount, sell_base=sell_base, exact_in=exact_in) if native else None
    if route is None:
        raise JupiterQuoteError(
            f"no venue can {'sell' if sell_base else 'buy'} {amount} native units "
            f"({'exact in' if exact_in else 'exact out'})",
            code="COULD_NOT_FIND_ANY_ROUTE",
        )
    return sorted(route, key=lambda q: -(q.amount_in if exact_in else q.amount_out))


def segments(snap: Snapshot, sell_base: bool) -> list[Seg]:
    """A venue's curve for selling base (input base, output quote) or buying it (input quote), fees
    inside: the pool and book formulas the router's sources use."""
    f = float(snap.fee_bps) / 10_000
    g = 1.0 - f
    if isinstance(snap, CpmmLiquidity):
        rb, rq = snap.float_reserves or (float(snap.base_reserve), float(snap.quote_reserve))
        a, b = (rq, rb / g) if sell_base else (rb, rq / g)
        return [(a / b, 0.0, a, b, INF, a)]
    if isinstance(snap, BookLiquidity):
        fl = snap.float_bids if sell_base else snap.float_asks
        px, sz = (fl.prices, fl.sizes) if fl is not None else _floats(snap.bids if sell_base else snap.asks)
        if sell_base:  # size base gives price·size·(1 − f) quote
            return [(r, r, r, 0.0, q, p * q * g) for p, q in zip(px, sz, strict=True) for r in (p * g,)]
        up = 1.0 + f  # price·size·(1 + f) quote buys size base
        return [(r, r, r, 0.0, p * q * up, q) for p, q in zip(px, sz, strict=True) for r in (1.0 / (p * up),)]
    return _clmm(snap, g, sell_base)


def _floats(levels: Sequence[tuple[Decimal, Decimal]]) -> tuple[list[float], list[float]]:
    return [float(p) for p, _ in levels], [float(q) for _, q in levels]


def _clmm(snap: ClmmLiquidity, g: float, sell_base: bool) -> list[Seg]:
    """A concentrated-liquidity pool: on each price interval the active L is a constant-product curve with
    virtual reserves ``L/√p`` base and ``L·√p`` quote; the price jumps over gaps."""
    net: dict[float, float] = {}
    for lower, upper, depth in snap.ranges:
        net[float(lower)] = net.get(float(lower), 0.0) + float(depth)
        net[float(upper)] = net.get(float(upper), 0.0) - float(depth)
    bounds = sorted(net)
    tiny = 1e-12 * max((float(r[2]) for r in snap.ranges), default=0.0)
    intervals, liq = [], 0.0
    for k in range(len(bounds) - 1):
        liq += net[bounds[k]]
        if liq > tiny:
            intervals.append((bounds[k], bounds[k + 1], math.sqrt(bounds[k]), math.sqrt(bounds[k + 1]), liq))
    p0 = float(snap.price)
    r0 = math.sqrt(p0)
    out: list[Seg] = []
    if not sell_base:
        for lo, hi, rlo, rhi, L in intervals:
            if hi <= p0:
                continue
            rs = r0 if lo < p0 else rlo
            a, b = L / rs, L * rs / g
            out.append(
                (g / (rs * rs), g / (rhi * rhi), a, b, L * (rhi - rs) / g, L * (rhi - rs) / (rs * rhi))
            )
        return out
    for lo, hi, rlo, rhi, L in reversed(intervals):
        if lo >= p0:
            continue
        rs = r0 if hi > p0 else rhi
        a, b = L * rs, L / (rs * g)
        out.append((g * rs * rs, g * rlo * rlo, a, b, L * (rs - rlo) / (rs * rlo * g), L * (rs - rlo)))
    return out


def _take(segs: Sequence[Seg], lam: float) -> tuple[float, float]:
    """(input, output) a venue takes at marginal rate `lam`: every segment better than `lam`, a curve
    segment up to where its marginal ``a·b/(b + x)²`` is `lam`; a book level at `lam` exactly is not taken."""
    x = out = 0.0
    for m_start, m_end, a, b, cap, out_cap in segs:
        if m_start <= lam:
            break
        if b == 0.0 or m_end >= lam:
            x += cap
            out += out_cap
            continue
        d = math.sqrt(a * b / lam) - b
        x += d
        out += a * d / (b + d)
        break
    return x, out


def _one_curve(seg: Seg) -> Callable[[float], tuple[float, float]]:
    """`_take` of a venue made of one segment (a constant-product pool), with its loop unrolled: the same
    floats in the same operations."""
    m_start, m_end, a, b, cap, out_cap = seg
    if b == 0.0:
        return partial(_take, [seg])
    ab = a * b

    def take(lam: float) -> tuple[float, float]:
        if m_start <= lam:
            return 0.0, 0.0
        if m_end >= lam:
            return 0.0 + cap, 0.0 + out_cap
        d = math.sqrt(ab / lam) - b
        return 0.0 + d, 0.0 + a * d / (b + d)

    return take


class _Levels:
    """A venue made only of book levels (rates not increasing), read by `_take` through cumulative sums:
    the levels better than λ are a prefix, found by bisection, and the prefix sums are the running sums
    `_take` adds level by level (the same floats, in the same order)."""

    __slots__ = ("caps", "keys", "outs", "segs")

    def __init__(self, segs: Sequence[Seg], columns: Sequence[Sequence[float]] | None = None) -> None:
        """`columns`: the segments' fields as columns (``zip(*segs)``), when the caller has them."""
        self.segs = segs
        cols = columns if columns is not None else tuple(zip(*segs, strict=True))
        self.keys = [-m for m in cols[0]]  # rising
        self.caps = list(accumulate(cols[4], initial=0.0))
        self.outs = list(accumulate(cols[5], initial=0.0))

    def take(self, lam: float) -> tuple[float, float]:
        n = bisect_left(self.keys, -lam)  # levels with a rate above lam
        return self.caps[n], self.outs[n]

    @classmethod
    def of(cls, segs: Sequence[Seg]) -> _Levels | None:
        if len(segs) < 8:
            return None
        cols = tuple(zip(*segs, strict=True))
        if any(cols[3]):  # a curve segment (b != 0.0: a float is true exactly when it is not 0.0)
            return None
        rates = cols[0]
        if not all(map(operator.ge, rates, rates[1:])):  # rates not increasing
            return None
        return cls(segs, cols)


def split_shares(venues: Sequence[Sequence[Seg]], target: float, *, exact_in: bool) -> list[float] | None:
    """Each venue's share of `target` (input if `exact_in`, else output) at the common marginal rate λ of
    the optimal split; None when the venues cannot take it all. λ is bisected (geometrically) to the
    last float; the part of `target` inside the last step (a book level at λ, partly taken) is shared
    in proportion to what each venue takes across that step."""
    k = 0 if exact_in else 1
    takers = [
        lv.take
        if (lv := _Levels.of(v)) is not None
        else _one_curve(v[0])
        if len(v) == 1
        else partial(_take, v)
        for v in venues
    ]
    cap = [t(0.0)[k] for t in takers]
    if not target > 0.0 or sum(cap) < target or (not exact_in and sum(cap) <= target):
        return None
    hi = max((v[0][0] for v in venues if v), default=0.0)
    if not hi > 0.0:
        return None
    lo = hi

    def total(lam: float) -> float:
        return sum([t(lam)[k] for t in takers])

    while total(lo) <= target:
        lo /= 16.0
        if lo < 1e-300:
            return None
    for _ in range(2_000):
        mid = math.sqrt(lo * hi)
        if not lo < mid < hi:
            break
        if total(mid) > target:
            lo = mid
        else:
            hi = mid
    at_hi = [t(hi)[k] for t in takers]
    at_lo = [t(lo)[k] for t in takers]
    rest = target - sum(at_hi)
    step = [b - a for a, b in zip(at_hi, at_lo, strict=True)]
    width = sum(step)
    if rest > 0.0 and width > 0.0:
        return [a + rest * s / width for a, s in zip(at_hi, step, strict=True)]
    return at_hi


def _assemble(
    legs: Sequence[Leg],
    native: Mapping[int, int],
    amount: int,
    *,
    sell_base: bool,
    exact_in: bool,
) -> list[LegQuote] | None:
    """Legs from native shares. Books trade whole lots; what they leave and the rounding's remainder go to
    the largest pool leg that can take it, else to another pool as one more leg. With no pool to take it,
    an ExactIn route leaves it unspent and an ExactOut route has none."""

    def quote(i: int, n: int) -> LegQuote | None:
        return legs[i].quote(n, sell_base=sell_base, exact_in=exact_in) if n > 0 else None

    residue = amount - sum(native.values())
    quotes: dict[int, LegQuote] = {}
    for i in [i for i in native if legs[i].is_book]:
        q = quote(i, native[i])
        used = 0 if q is None else (q.amount_in if exact_in else q.amount_out)
        residue += native[i] - used
        if q is not None:
            quotes[i] = q
    pools = sorted((i for i in native if not legs[i].is_book), key=lambda i: -native[i])
    for i in pools:
        q = quote(i, native[i])
        if q is None:  # a pool used to the end of its liquidity: the most it takes, the rest moves on
            lo, hi = 0, native[i]
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if quote(i, mid) is not None else (lo, mid - 1)
            residue += native[i] - lo
            q = quote(i, lo)
        if q is not None:
            quotes[i] = q
    if residue:
        others = [i for i in range(len(legs)) if i not in native and not legs[i].is_book]
        priced = [(i, q) for i, q in ((i, quote(i, residue)) for i in others) if q is not None]
        others = [
            i for i, _ in sorted(priced, key=lambda iq: -iq[1].amount_out if exact_in else iq[1].amount_in)
        ]
        for i in pools + others:
            q = quote(
                i,
                (quotes[i].amount_in if exact_in else quotes[i].amount_out) + residue
                if i in quotes
                else residue,
            )
            if q is not None:
                quotes[i] = q
                residue = 0
                break
    if residue and not exact_in:
        return None
    return list(quotes.values()) or None
