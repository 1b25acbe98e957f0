"""SimJupiter's split: a book venue read through cumulative sums takes what walking its levels takes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from botnft.venues.sim import jupiter_split as split
from botnft.venues.sim.jupiter_split import split_shares


def _walk(segs, lam):
    """Level by level: every level with a rate above lam, a curve segment up to where its marginal is lam."""
    x = out = 0.0
    for m_start, m_end, a, b, cap, out_cap in segs:
        if m_start <= lam:
            break
        if b == 0.0 or m_end >= lam:
            x += cap
            out += out_cap
            continue
        d = math.sqrt(a * b / lam) - b
        return x + d, out + a * d / (b + d)
    return x, out


def _reference_split(venues, target, exact_in):
    """The same bisection on λ, every venue walked level by level."""
    k = 0 if exact_in else 1
    if sum(_walk(v, 0.0)[k] for v in venues) < target:
        return None
    hi = max(v[0][0] for v in venues if v)
    lo = hi
    while sum(_walk(v, lo)[k] for v in venues) <= target:
        lo /= 16.0
    for _ in range(2_000):
        mid = math.sqrt(lo * hi)
        if not lo < mid < hi:
            break
        lo, hi = (mid, hi) if sum(_walk(v, mid)[k] for v in venues) > target else (lo, mid)
    at_hi = [_walk(v, hi)[k] for v in venues]
    at_lo = [_walk(v, lo)[k] for v in venues]
    rest, step = target - sum(at_hi), [b - a for a, b in zip(at_hi, at_lo, strict=True)]
    if rest > 0.0 and sum(step) > 0.0:
        return [a + rest * s / sum(step) for a, s in zip(at_hi, step, strict=True)]
    return at_hi


@pytest.mark.parametrize("seed", range(12))
def test_a_split_over_a_book_and_pools_is_the_level_by_level_split(seed):
    rng = np.random.default_rng(seed)
    prices = np.sort(100.0 + np.cumsum(rng.uniform(0.001, 0.05, int(rng.integers(10, 300)))))
    sizes = rng.uniform(0.1, 40.0, len(prices))
    g = 0.999
    book = [(p * g, p * g, p * g, 0.0, q, p * q * g) for p, q in zip(prices[::-1], sizes, strict=True)]
    rq, rb = 1e6 * rng.uniform(0.5, 2.0), 1e4
    pool = [(rq / (rb / g), 0.0, rq, rb / g, math.inf, rq)]
    target = float(rng.uniform(1.0, sizes.sum() * 1.5))
    got = split_shares([book, pool], target, exact_in=True)
    assert got == _reference_split([book, pool], target, True)


@pytest.mark.parametrize("seed", range(6))
def test_a_one_segment_venue_takes_what_walking_its_segment_takes(seed):
    """The unrolled taker of a one-segment venue (a pool) gives the level-by-level walk's floats, bit for
    bit, on both sides of the segment's marginal range and at its ends."""
    rng = np.random.default_rng(seed)
    g = float(rng.uniform(0.99, 1.0))
    rq, rb = 1e6 * float(rng.uniform(0.5, 2.0)), 1e4 * float(rng.uniform(0.5, 2.0))
    a, b = rq, rb / g
    pool = (a / b, 0.0, a, b, math.inf, a)
    # a CLMM-like interval: a curve that ends at a marginal rate above zero, with a finite capacity
    m_end = a / b * float(rng.uniform(0.2, 0.9))
    band = (a / b, m_end, a, b, float(rng.uniform(1.0, 50.0)), float(rng.uniform(1.0, 500.0)))
    for seg in (pool, band):
        lams = [seg[0], seg[1], seg[0] * 1.5, 0.0, *(seg[0] * rng.uniform(0.0, 1.0, 200))]
        for lam in lams:
            got = split._one_curve(seg)(lam)
            assert got == _walk([seg], lam)
