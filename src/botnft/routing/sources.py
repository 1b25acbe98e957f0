"""Liquidity sources for the split solver: what one venue gives for a given input.

Every source is reduced, per side, to a *curve*: the concave, increasing output (after fees) as a
function of the input sent to it, stored as consecutive segments along the input axis. Two kinds of
segment are enough for every venue here:

* a **curve segment** ``out(x) = a*x / (b + x)`` for ``0 <= x <= cap`` — a constant-product curve with
  (virtual) reserves, the fee folded into ``a`` and ``b``. Its marginal output per unit input is
  ``a*b / (b + x)**2``, from ``a/b`` at ``x = 0`` down to ``a*b / (b + cap)**2``;
* a **flat segment**: a constant rate (output per unit input) over ``cap`` units of input — one
  order-book level.

Conventions (all floats, no token decimals; the caller converts from integer units):

* prices are quote per base;
* ``side="buy"`` spends quote to receive base, ``side="sell"`` spends base to receive quote;
* fees are in basis points, ``0 <= fee_bps < 10_000``;
* ``lot`` and ``min_size`` are in units of the **input asset of the order** (quote for a buy, base for
  a sell): the amount sent to the venue must be ``0`` or a multiple of ``lot`` that is at least
  ``min_size``. Build the source with the numbers for the direction you route (a venue whose lot is
  0.01 SOL on sells and 0.01 USDC on buys is two different ``BookSource`` objects).

The curves themselves, and the pooled curve of an aggregator's parts, are in :mod:`botnft.routing.curves`
(re-exported here). The module is pure: standard library only, no I/O.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from botnft.routing.curves import (
    CURVE,
    EV_END,
    EV_FLAT,
    EV_START,
    FLAT,
    INF,
    Curve,
    Event,
    Segment,
    Side,
    check_finite,
    check_lots,
    check_positive,
    check_side,
    curve_segment,
    fee_fraction,
    pooled_curve,
    pooled_segments,
)

__all__ = [
    "CURVE",
    "EV_END",
    "EV_FLAT",
    "EV_START",
    "FLAT",
    "INF",
    "SOURCE_TYPES",
    "BookSource",
    "ClmmSource",
    "CpmmSource",
    "Curve",
    "Event",
    "PerpSource",
    "PooledSource",
    "Segment",
    "Side",
    "Source",
    "curve_segment",
    "pooled_segments",
]


class _SourceMixin:
    """Shared evaluation methods; concrete sources fill ``_curves`` in ``__post_init__``."""

    __slots__ = ()
    _curves: dict[str, Any]  # a side's Curve, or its segments until first read

    def curve(self, side: str) -> Curve:
        """The output curve on ``side`` (``"buy"`` or ``"sell"``): what the split solver reads (built from
        the side's segments when first read: a route reads one side)."""
        s = check_side(side)
        c = self._curves[s]
        if type(c) is not Curve:
            c = self._curves[s] = Curve(c)
        return c

    def output(self, side: str, amount_in: float) -> float:
        """Output (after fees) this source alone gives for ``amount_in`` of the side's input asset."""
        return self.curve(side).output(float(amount_in))

    def marginal(self, side: str, amount_in: float) -> float:
        """Marginal output per unit input (after fees) once ``amount_in`` has been sent here."""
        return self.curve(side).marginal(float(amount_in))

    def capacity(self, side: str) -> float:
        """Largest useful input on ``side`` (``inf`` for a constant-product pool)."""
        return self.curve(side).total_in

    def input_for(self, side: str, amount_out: float) -> float:
        """Input needed to receive ``amount_out``; ``inf`` if out of reach."""
        return self.curve(side).input_for(float(amount_out))

    def segments(self, side: str) -> tuple[Segment, ...]:
        """The curve on ``side`` in input order: ``(kind, m_start, m_end, a, b, root, cap, out_cap)``.

        ``kind`` is ``CURVE`` (``out = a*x/(b+x)`` on ``[0, cap]``, marginal from ``m_start`` down to
        ``m_end``) or ``FLAT`` (rate ``a`` over ``cap``); ``out_cap`` is the segment's whole output.
        """
        return self.curve(side).segments

    def _set_curves(self, buy: Sequence[Segment], sell: Sequence[Segment]) -> None:
        object.__setattr__(self, "_curves", {"buy": buy, "sell": sell})  # each a Curve when first read


@dataclass(frozen=True)
class CpmmSource(_SourceMixin):
    """A constant-product pool (x*y = k), fee taken from the input (Raydium v4 / CPMM, Uniswap v2).

    ``out = R_out * in * (1 - f) / (R_in + in * (1 - f))``. Reserves are in base and quote units and
    must be positive; the pool never runs dry, so its capacity is unbounded.
    """

    base_reserve: float
    quote_reserve: float
    fee_bps: float
    lot: float | None = None
    min_size: float | None = None
    name: str | None = None
    _curves: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rb = check_positive("base_reserve", self.base_reserve)
        rq = check_positive("quote_reserve", self.quote_reserve)
        g = 1.0 - fee_fraction(self.fee_bps)
        check_lots(self.lot, self.min_size)
        self._set_curves([curve_segment(rb, rq / g, INF)], [curve_segment(rq, rb / g, INF)])

    @classmethod
    def of(
        cls, base_reserve: float, quote_reserve: float, fee_bps: float, *, name: str | None = None
    ) -> CpmmSource:
        """``CpmmSource(base_reserve, quote_reserve, fee_bps, name=name)`` without the generic dataclass
        init (the router builds one per pool per snapshot); anything but positive finite floats and a fee
        in [0, 10000) takes the constructor, which says what is wrong."""
        rb, rq, fee = base_reserve, quote_reserve, fee_bps
        if not (
            type(rb) is float and type(rq) is float and type(fee) is float
            and 0.0 < rb < INF and 0.0 < rq < INF and 0.0 <= fee < 10_000.0
        ):  # fmt: skip
            return cls(rb, rq, fee, name=name)
        self = cls.__new__(cls)
        g = 1.0 - fee / 10_000.0
        # a frozen dataclass's fields, written as its generated __init__ would
        self.__dict__.update(
            base_reserve=rb, quote_reserve=rq, fee_bps=fee, lot=None, min_size=None, name=name,
            _curves={"buy": [curve_segment(rb, rq / g, INF)], "sell": [curve_segment(rq, rb / g, INF)]},
        )  # fmt: skip
        return self

    @property
    def price(self) -> float:
        """Mid price, quote per base, before fees."""
        return float(self.quote_reserve) / float(self.base_reserve)


def _levels(name: str, levels: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    append = out.append
    for i, level in enumerate(levels):
        try:
            price, size = level
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{i}] must be a (price, size) pair, got {level!r}") from None
        if not (type(price) is float and type(size) is float and 0.0 < price < INF and 0.0 < size < INF):
            price = check_positive(f"{name}[{i}] price", price)
            size = check_positive(f"{name}[{i}] size", size)
        append((price, size))
    return out


def _ordered(prices: Sequence[float], sizes: Sequence[float], before: Callable[[float, float], bool]) -> bool:
    """Whether a side's arrays are positive finite numbers summing to a float, prices strictly in order
    (`before`), sizes as many: checked by C-level builtins, no Python loop per level (the ordered prices'
    smallest is at one end)."""
    if len(prices) != len(sizes):
        return False
    if not prices:
        return True
    try:
        total = sum(prices) + sum(sizes)  # a nan or inf anywhere makes it non-finite
    except TypeError:  # not numbers, or Decimals among floats
        return False
    return (
        type(total) is float
        and total - total == 0.0
        and all(map(before, prices, prices[1:]))
        and min(prices[0], prices[-1]) > 0.0
        and min(sizes) > 0.0
    )


@dataclass(frozen=True)
class BookSource(_SourceMixin):
    """A limit order book: levels ``(price, size in base)``; a taker fee on the quote notional.

    A buy walks the asks from the best (lowest) price: a level costs ``price * size * (1 + f)`` quote
    for ``size`` base. A sell walks the bids from the best (highest): ``size`` base gives
    ``price * size * (1 - f)`` quote. Levels may be given in any order; equal prices are fine. A side
    may be empty (no liquidity that way). A crossed book (best bid >= best ask) is rejected. Each side's
    curve is built when first read (a route reads one side).
    """

    asks: Sequence[tuple[float, float]]
    bids: Sequence[tuple[float, float]]
    fee_bps: float
    lot: float | None = None
    min_size: float | None = None
    name: str | None = None
    _curves: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        asks = _levels("asks", self.asks)
        bids = _levels("bids", self.bids)
        asks.sort()
        bids.sort(reverse=True)
        if asks and bids and bids[0][0] >= asks[0][0]:
            raise ValueError(f"crossed book: best bid {bids[0][0]} >= best ask {asks[0][0]}")
        fee_fraction(self.fee_bps)
        check_lots(self.lot, self.min_size)
        object.__setattr__(self, "asks", tuple(asks))
        object.__setattr__(self, "bids", tuple(bids))
        object.__setattr__(self, "_curves", {})

    @classmethod
    def from_arrays(
        cls,
        ask_prices: Sequence[float],
        ask_sizes: Sequence[float],
        bid_prices: Sequence[float],
        bid_sizes: Sequence[float],
        fee_bps: float,
        *,
        name: str | None = None,
    ) -> BookSource:
        """The source ``BookSource(asks, bids, fee_bps, name=name)`` builds, from float arrays in level
        order (asks ascending, bids descending), validated without a Python loop per level; arrays that
        are not strictly ordered positive finite floats take the general constructor."""
        if not (
            _ordered(ask_prices, ask_sizes, operator.lt) and _ordered(bid_prices, bid_sizes, operator.gt)
        ):
            return cls(
                list(zip(ask_prices, ask_sizes, strict=True)),
                list(zip(bid_prices, bid_sizes, strict=True)),
                fee_bps,
                name=name,
            )
        if ask_prices and bid_prices and bid_prices[0] >= ask_prices[0]:
            raise ValueError(f"crossed book: best bid {bid_prices[0]} >= best ask {ask_prices[0]}")
        fee_fraction(fee_bps)
        self = cls.__new__(cls)
        for key, value in (
            ("asks", tuple(zip(ask_prices, ask_sizes, strict=True))),
            ("bids", tuple(zip(bid_prices, bid_sizes, strict=True))),
            ("fee_bps", fee_bps),
            ("lot", None),
            ("min_size", None),
            ("name", name),
            ("_curves", {}),
            ("_arrays", (ask_prices, ask_sizes, bid_prices, bid_sizes)),
        ):
            object.__setattr__(self, key, value)
        return self

    def curve(self, side: str) -> Curve:
        c: Curve | None = self._curves.get(side)
        if c is not None:
            return c
        s = check_side(side)
        f = fee_fraction(self.fee_bps)
        arrays = self.__dict__.get("_arrays")
        levels = self.asks if s == "buy" else self.bids
        if arrays is not None:
            px, sz = arrays[:2] if s == "buy" else arrays[2:]
        else:
            px, sz = [p for p, _ in levels], [q for _, q in levels]
        # buy: a level costs price*size*(1+f) quote for size base; sell: size base for price*size*(1-f)
        # (the same products in C: 1/(p·up), (p·q)·up, p·down, (p·q)·down)
        if len(px) != len(sz):
            raise ValueError(f"{len(px)} prices need as many sizes, got {len(sz)}")
        notional = list(map(operator.mul, px, sz))
        mul = operator.mul
        if s == "buy":
            up = 1.0 + f
            c = Curve.levels(
                list(map(operator.truediv, repeat(1.0), map(mul, px, repeat(up)))),
                list(map(mul, notional, repeat(up))),
                sz,
            )
        else:
            down = 1.0 - f
            c = Curve.levels(list(map(mul, px, repeat(down))), sz, list(map(mul, notional, repeat(down))))
        self._curves[s] = c
        return c


@dataclass(frozen=True)
class ClmmSource(_SourceMixin):
    """A concentrated-liquidity pool (Uniswap v3, Orca Whirlpool, Raydium CLMM) in float sqrt-price math.

    ``price`` is the current price (quote per base); ``ranges`` are positions
    ``(lower_price, upper_price, liquidity_L)``, which may overlap (their L add up) or leave gaps
    (the price jumps over a gap for free, as across uninitialised ticks). Inside a range,
    ``Δbase = L*(1/√p_a − 1/√p_b)`` and ``Δquote = L*(√p_b − √p_a)``: a constant-product curve with
    virtual reserves ``L/√p`` base and ``L·√p`` quote. The fee is taken from the input. Liquidity
    ends at the outermost range bounds, so capacity is finite both ways.
    """

    price: float
    ranges: Sequence[tuple[float, float, float]]
    fee_bps: float
    lot: float | None = None
    min_size: float | None = None
    name: str | None = None
    _curves: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        p0 = check_positive("price", self.price)
        g = 1.0 - fee_fraction(self.fee_bps)
        check_lots(self.lot, self.min_size)
        rngs: list[tuple[float, float, float]] = []
        for i, r in enumerate(self.ranges):
            try:
                lo, hi, liq = r
            except (TypeError, ValueError):
                raise ValueError(f"ranges[{i}] must be (lower_price, upper_price, L), got {r!r}") from None
            lo_f = check_positive(f"ranges[{i}] lower_price", lo)
            hi_f = check_positive(f"ranges[{i}] upper_price", hi)
            liq_f = check_finite(f"ranges[{i}] liquidity", liq)
            if hi_f <= lo_f:
                raise ValueError(f"ranges[{i}]: upper_price {hi!r} must be > lower_price {lo!r}")
            if liq_f < 0.0:
                raise ValueError(f"ranges[{i}]: liquidity must be >= 0, got {liq!r}")
            rngs.append((lo_f, hi_f, liq_f))
        object.__setattr__(self, "ranges", tuple(rngs))
        # Net liquidity at each boundary, then the active L on each elementary interval.
        net: dict[float, float] = {}
        for lo_f, hi_f, liq_f in rngs:
            net[lo_f] = net.get(lo_f, 0.0) + liq_f
            net[hi_f] = net.get(hi_f, 0.0) - liq_f
        bounds = sorted(net)
        roots = [math.sqrt(b) for b in bounds]
        intervals: list[tuple[float, float, float, float, float]] = []  # lo, hi, sqrt lo, sqrt hi, L
        liq = 0.0
        tiny = 1e-12 * max((r[2] for r in rngs), default=0.0)
        for k in range(len(bounds) - 1):
            liq += net[bounds[k]]
            if liq > tiny:
                intervals.append((bounds[k], bounds[k + 1], roots[k], roots[k + 1], liq))
        r0 = math.sqrt(p0)
        buy: list[Segment] = []
        for lo_f, hi_f, rlo, rhi, liq_f in intervals:
            if hi_f <= p0:
                continue
            rs = r0 if lo_f < p0 else rlo
            a = liq_f / rs
            b = liq_f * rs / g
            cap = liq_f * (rhi - rs) / g
            out_cap = liq_f * (rhi - rs) / (rs * rhi)
            buy.append((CURVE, g / (rs * rs), g / (rhi * rhi), a, b, math.sqrt(a * b), cap, out_cap))
        sell: list[Segment] = []
        for lo_f, hi_f, rlo, rhi, liq_f in reversed(intervals):
            if lo_f >= p0:
                continue
            rs = r0 if hi_f > p0 else rhi
            a = liq_f * rs
            b = liq_f / (rs * g)
            cap = liq_f * (rs - rlo) / (rs * rlo * g)
            out_cap = liq_f * (rs - rlo)
            sell.append((CURVE, g * rs * rs, g * rlo * rlo, a, b, math.sqrt(a * b), cap, out_cap))
        self._set_curves(buy, sell)


@dataclass(frozen=True)
class PerpSource(_SourceMixin):
    """A perp venue's taker liquidity as a virtual constant-product AMM (Drift v2 vAMM style).

    Mark price is ``quote_reserve / base_reserve * peg``; a trade moves the virtual reserves along
    ``x*y = k`` and each unit of quote reserve is worth ``peg`` quote. The taker fee is charged on the
    quote notional, as Drift does: a buy (long) of notional ``N`` costs ``N * (1 + f)``; a sell
    (short) receives ``N * (1 - f)``. "Base received" on a buy is the perp position size, not spot.
    ``max_base`` optionally caps the base size (a max position / open-interest limit). Drift's
    long/short spread is modelled by passing the spread-adjusted reserves for the side you route.
    A perp book is better modelled with :class:`BookSource`.
    """

    base_reserve: float
    quote_reserve: float
    fee_bps: float
    peg: float = 1.0
    max_base: float | None = None
    lot: float | None = None
    min_size: float | None = None
    name: str | None = None
    _curves: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rb = check_positive("base_reserve", self.base_reserve)
        rq = check_positive("quote_reserve", self.quote_reserve)
        peg = check_positive("peg", self.peg)
        f = fee_fraction(self.fee_bps)
        check_lots(self.lot, self.min_size)
        cap_buy = INF
        cap_sell = INF
        a_buy, b_buy = rb, rq * peg * (1.0 + f)
        a_sell, b_sell = rq * peg * (1.0 - f), rb
        if self.max_base is not None:
            mb = check_positive("max_base", self.max_base)
            if mb < a_buy:
                cap_buy = b_buy * mb / (a_buy - mb)
            cap_sell = mb
        self._set_curves([curve_segment(a_buy, b_buy, cap_buy)], [curve_segment(a_sell, b_sell, cap_sell)])

    @property
    def price(self) -> float:
        """Mark price, quote per base, before fees."""
        return float(self.quote_reserve) / float(self.base_reserve) * float(self.peg)


@dataclass(frozen=True)
class PooledSource(_SourceMixin):
    """An aggregator (Jupiter) over `parts`: what it gives for an input is what the best split of that
    input across its parts gives (`pooled_segments`), which is how it routes. Each part keeps its fee."""

    parts: tuple[CpmmSource | BookSource | ClmmSource, ...]
    #: each part's base lot (a book trades whole lots; None: continuous), as the aggregator keeps to them
    part_lots: tuple[float | None, ...] = ()
    lot: float | None = None
    min_size: float | None = None
    name: str | None = None
    _curves: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.parts or not all(isinstance(p, (CpmmSource, BookSource, ClmmSource)) for p in self.parts):
            raise ValueError(f"a pooled source needs pool and book parts, got {self.parts!r}")
        if self.part_lots and len(self.part_lots) != len(self.parts):
            raise ValueError(f"{len(self.parts)} parts need as many part lots, got {len(self.part_lots)}")
        for lot in self.part_lots:
            check_lots(lot, None)
        check_lots(self.lot, self.min_size)
        object.__setattr__(self, "_curves", {})

    def curve(self, side: str) -> Curve:
        c: Curve | None = self._curves.get(side)
        if c is None:
            s = check_side(side)
            c = self._curves[s] = pooled_curve([p.curve(s) for p in self.parts])
        return c

    def has_curve(self, side: str) -> bool:
        """Whether the pooled curve on ``side`` is built already (reading it then costs nothing)."""
        return self._curves.get(side) is not None

    def output(self, side: str, amount_in: float) -> float:
        """Output for ``amount_in``, the books' shares in whole lots (`split.settle_pooled`)."""
        if not any(self.part_lots):
            return self.curve(side).output(float(amount_in))
        from botnft.routing.split import settle_pooled  # the solver imports this module

        return settle_pooled(self, check_side(side), float(amount_in), 0.0, False)[1]

    def input_for(self, side: str, amount_out: float) -> float:
        """Input for ``amount_out`` (``inf`` out of reach), the books' shares in whole lots.

        With lots the pooled curve only says whether ``amount_out`` is in reach; an amount well below what
        the parts deliver between them is, without building it (see `_surely_reached`)."""
        out = float(amount_out)
        if not any(self.part_lots):
            return self.curve(side).input_for(out)
        s = check_side(side)
        if not self._surely_reached(s, out):
            c = self.curve(s)
            if c.input_for(out) == INF:
                return INF
        from botnft.routing.split import settle_pooled  # the solver imports this module

        return settle_pooled(self, s, 0.0, out, True)[0]

    def _surely_reached(self, side: Side, out: float) -> bool:
        """Whether the pooled curve, not built yet, certainly delivers `out`: its total output is its parts'
        (the best split of an unbounded input takes every part whole) up to the rounding of summing its
        segments, some 1e-12 of it; an amount 1e-6 below the parts' total is within reach."""
        if self._curves.get(side) is not None:
            return False  # built: ask it
        return out < (1.0 - 1e-6) * sum([p.curve(side).total_out for p in self.parts])


Source = CpmmSource | BookSource | ClmmSource | PerpSource | PooledSource
SOURCE_TYPES = (CpmmSource, BookSource, ClmmSource, PerpSource, PooledSource)
