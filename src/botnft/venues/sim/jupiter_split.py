"""SimJupiter's split search: the amount cut into ``100/split_step_pct`` chunks handed out greedily to the
leg whose output grows most (ExactIn) or whose input grows least (ExactOut), at most `max_split` venues,
then compared with every venue alone; books keep to whole lots (the model is in `jupiter`'s docstring).
`ladder` reads the route at growing sizes as the order-book ladder the router sees."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction

from botnft.venues.sim.jupiter_api import PRICE_STEP, JupiterQuoteError
from botnft.venues.sim.jupiter_legs import BookLeg, Leg, LegQuote
from botnft.venues.sim.raydium import to_native, to_units
from botnft.venues.sim.raydium_config import Token

__all__ = ["best_route", "ladder"]

Level = tuple[Decimal, Decimal]


def best_route(
    legs: Sequence[Leg],
    amount: int,
    *,
    sell_base: bool,
    exact_in: bool,
    max_split: int,
    split_step_pct: int,
) -> list[LegQuote]:
    """The greedy split over `legs` (the usable ones), compared with each venue alone; raises
    `JupiterQuoteError` (``COULD_NOT_FIND_ANY_ROUTE``) when none fills."""
    n = 100 // split_step_pct
    memo: dict[tuple[int, int], LegQuote | None] = {}

    def at(i: int, k: int) -> LegQuote | None:
        if (i, k) not in memo:
            memo[i, k] = legs[i].quote(amount * k // n, sell_base=sell_base, exact_in=exact_in) if k else None
        return memo[i, k]

    def value(q: LegQuote | None) -> int:
        return 0 if q is None else (q.amount_out if exact_in else q.amount_in)

    steps = [0] * len(legs)
    for _ in range(n):
        best: tuple[int, int] | None = None
        used = sum(1 for k in steps if k)
        for i in range(len(legs)):
            if not steps[i] and used >= max_split:
                continue
            nxt = at(i, steps[i] + 1)
            if nxt is None:
                continue
            gain = value(nxt) - value(at(i, steps[i]))
            score = gain if exact_in else -gain  # more out, or less in
            if best is None or score > best[0]:
                best = (score, i)
        if best is None:
            break
        steps[best[1]] += 1
    candidates = [dict(enumerate(steps))] if sum(steps) == n else []
    candidates += [{i: n} for i in range(len(legs))]
    chosen: list[LegQuote] | None = None
    for alloc in candidates:
        route = _assemble(legs, alloc, n, amount, sell_base=sell_base, exact_in=exact_in, max_split=max_split)
        if route is not None and (chosen is None or _better(route, chosen, amount, exact_in)):
            chosen = route
    if chosen is None:
        raise JupiterQuoteError(
            f"no venue can {'sell' if sell_base else 'buy'} {amount} native units "
            f"({'exact in' if exact_in else 'exact out'})",
            code="COULD_NOT_FIND_ANY_ROUTE",
        )
    return sorted(chosen, key=lambda q: -(q.amount_in if exact_in else q.amount_out))


def _better(a: list[LegQuote], b: list[LegQuote], amount: int, exact_in: bool) -> bool:
    if exact_in:
        key_a = (sum(q.amount_in for q in a) == amount, sum(q.amount_out for q in a))
        key_b = (sum(q.amount_in for q in b) == amount, sum(q.amount_out for q in b))
        return key_a > key_b
    return sum(q.amount_in for q in a) < sum(q.amount_in for q in b)


def _assemble(
    legs: Sequence[Leg],
    alloc: Mapping[int, int],
    n: int,
    amount: int,
    *,
    sell_base: bool,
    exact_in: bool,
    max_split: int,
) -> list[LegQuote] | None:
    """Native amounts from chunk counts. Books trade whole lots: what a book leaves goes to the largest
    pool leg, or to the pool that prices it best as one more leg (within ``max_split``)."""
    share = {i: amount * k // n for i, k in alloc.items() if k}
    if not share:
        return None
    first = max(share, key=lambda i: (not legs[i].is_book, share[i]))
    share[first] += amount - sum(share.values())
    quotes: dict[int, LegQuote] = {}
    residue = 0
    for i in [i for i in share if legs[i].is_book]:
        q = legs[i].quote(share[i], sell_base=sell_base, exact_in=exact_in)
        used = 0 if q is None else (q.amount_in if exact_in else q.amount_out)
        residue += share[i] - used
        if q is not None:
            quotes[i] = q
    pools = [i for i in share if not legs[i].is_book]
    if residue and pools:
        share[max(pools, key=lambda i: share[i])] += residue
    elif residue and len(quotes) < max_split:
        extra = [
            (i, legs[i].quote(residue, sell_base=sell_base, exact_in=exact_in)) for i in range(len(legs))
        ]
        fits = [(i, q) for i, q in extra if q is not None and not legs[i].is_book]
        if fits:
            i, q = max(fits, key=lambda iq: iq[1].amount_out if exact_in else -iq[1].amount_in)
            quotes[i] = q
            residue = 0
    if residue and not pools and not exact_in:
        return None
    for i in pools:
        q = legs[i].quote(share[i], sell_base=sell_base, exact_in=exact_in)
        if q is None:
            return None
        quotes[i] = q
    return list(quotes.values()) or None


def ladder(
    legs: Sequence[Leg],
    base: Token,
    quote: Token,
    *,
    sizes: int,
    max_split: int,
    split_step_pct: int,
) -> tuple[tuple[Level, ...], tuple[Level, ...]] | None:
    """(bids, asks) of the route over `legs`: quotes at `sizes` geometric sizes from 0.01 base to half the
    legs' base depth (on the books' lot grid); each level is the average price of the increment between
    two sizes (fees inside), asks from ExactOut buys, bids from ExactIn sells. Where the greedy split makes
    an increment cheaper than the one before, adjacent levels are pooled (size-weighted, which keeps the
    total at each pooled boundary), so prices only worsen with size. None when a side is empty."""
    grid = max([leg.lot for leg in legs if isinstance(leg, BookLeg)], default=1)
    lo = to_native(Decimal("0.01"), base) or 1
    hi = sum(leg.depth_base() for leg in legs) // 2 // grid * grid
    if hi <= lo:
        return None
    ratio = (hi / lo) ** (1 / (sizes - 1))
    points = sorted({max(grid, int(lo * ratio**k) // grid * grid) for k in range(sizes - 1)} | {hi})
    sides: dict[bool, tuple[Level, ...]] = {}
    for buy in (True, False):
        prev_size = prev_amount = 0
        steps: list[tuple[Fraction, int]] = []  # (price in quote native per base native, base native)
        for s in points:
            try:
                route = best_route(
                    legs, s, sell_base=not buy, exact_in=not buy, max_split=max_split,
                    split_step_pct=split_step_pct,
                )  # fmt: skip
            except JupiterQuoteError:
                break
            if not buy and sum(q.amount_in for q in route) != s:
                break
            amount = sum(q.amount_in if buy else q.amount_out for q in route)
            steps.append((Fraction(amount - prev_amount, s - prev_size), s - prev_size))
            prev_size, prev_amount = s, amount
        levels: list[Level] = []
        for p, n in _pool_adjacent(steps, rising=buy):
            px, size = _level(p, n, buy, base, quote)
            if levels and levels[-1][0] == px:  # equal after rounding: one level
                size += levels.pop()[1]
            levels.append((px, size))
        sides[buy] = tuple(levels)
    if not sides[True] or not sides[False]:
        return None
    return sides[False], sides[True]


def _level(price: Fraction, size: int, buy: bool, base: Token, quote: Token) -> Level:
    """A ladder level in units: price (quote per base) rounded against the taker, size in base."""
    human = price * Fraction(10**base.decimals, 10**quote.decimals)
    with localcontext() as ctx:
        ctx.prec = 40
        px = (Decimal(human.numerator) / Decimal(human.denominator)).quantize(
            PRICE_STEP, rounding=ROUND_CEILING if buy else ROUND_FLOOR
        )
    return px, to_units(size, base)


def _pool_adjacent(steps: Sequence[tuple[Fraction, int]], *, rising: bool) -> list[tuple[Fraction, int]]:
    """Pool adjacent (price, size) levels that break the order (prices rising, or falling) into their
    size-weighted average: the isotonic fit that keeps the total value at every remaining boundary."""
    out: list[tuple[Fraction, int]] = []
    for p, n in steps:
        out.append((p, n))
        while len(out) > 1 and ((out[-1][0] < out[-2][0]) if rising else (out[-1][0] > out[-2][0])):
            (p2, n2), (p1, n1) = out.pop(), out.pop()
            out.append(((p1 * n1 + p2 * n2) / (n1 + n2), n1 + n2))
    return out
