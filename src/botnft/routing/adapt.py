"""Snapshot → solver source: the Decimal/float edge between what venues publish and the split solver.

A venue publishes a :mod:`botnft.domain.liquidity` snapshot in Decimal base/quote units; the solver in
:mod:`botnft.routing.split` works on float :mod:`botnft.routing.sources`. This module converts one to the
other (Decimal → float happens here and nowhere else in routing), gives each snapshot's mid, and measures
its depth (used as a feature by the learned impact model).

**Lots on buys.** A snapshot's ``lot``/``min_size`` are on the *base* grid, but the solver wants them in
the order's *input* asset, which for a buy is quote. No fixed quote lot maps onto a base lot along a curve
(the quote price of one base lot changes as the price moves), so for a buy :func:`to_source` passes
``lot=None`` and converts ``min_size`` exactly to the quote this venue alone needs to deliver ``min_size``
base (``input_for``), which keeps the solver away from allocations below the venue minimum. The base lot
grid is then enforced after the split by :func:`snap_buy_to_lots` (used by :mod:`botnft.routing.costs`):
each venue's base output is floored to its lot, and the shortfall is bought back greedily, one lot at a
time, on the venue with the cheapest quote per base for that increment. The fill may overshoot the target
by less than one lot, as the solver's own exact-output quantization does; the loss against the continuous
optimum is at most about one lot's cost per venue. Sells need none of this: their input is base, so the
snapshot's lot passes straight through.

``ClmmLiquidity.ranges`` are read as ``(lower_price, upper_price, L)``: bounds in price units, ``L`` the
liquidity in sqrt-price units, as :class:`~botnft.routing.sources.ClmmSource` expects.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from decimal import Decimal

from botnft.domain.liquidity import (
    AnyLiquidity,
    BookLiquidity,
    ClmmLiquidity,
    CpmmLiquidity,
    FloatLevels,
    PerpLiquidity,
    PooledLiquidity,
)
from botnft.routing.curves import EV_FLAT, EV_START, Event, pooled_events
from botnft.routing.sources import (
    BookSource,
    ClmmSource,
    CpmmSource,
    PerpSource,
    PooledSource,
    Side,
    Source,
)

_LIQUIDITY_TYPES = (CpmmLiquidity, ClmmLiquidity, BookLiquidity, PerpLiquidity, PooledLiquidity)


def check_side(side: object) -> Side:
    """``side`` as the solver's literal, or ``ValueError``."""
    if side == "buy":
        return "buy"
    if side == "sell":
        return "sell"
    raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")


def _check_snapshot(snapshot: object) -> AnyLiquidity:
    if not isinstance(snapshot, _LIQUIDITY_TYPES):
        raise ValueError(f"not a liquidity snapshot: {snapshot!r}")
    return snapshot


def _f(x: Decimal | float | int) -> float:
    return float(x)


def _levels(levels: Sequence[tuple[Decimal, Decimal]]) -> list[tuple[float, float]]:
    return [(float(p), float(s)) for p, s in levels]


def mid(snapshot: AnyLiquidity) -> float:
    """The venue's own mid price (quote per base, before fees), as a float.

    Raises ``ValueError`` for a one-sided spot book, whose mid is undefined. A perp with neither a
    two-sided book nor vAMM reserves falls back to its oracle price (as ``PerpLiquidity.mid`` does).
    """
    snap = _check_snapshot(snapshot)
    if isinstance(snap, BookLiquidity) and not (snap.bids and snap.asks):
        missing = "bids" if not snap.bids else "asks"
        raise ValueError(f"{snap.instrument}: book has no {missing}, its mid is undefined")
    value = float(snap.mid)
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"{snap.instrument}: mid must be positive and finite, got {value!r}")
    return value


def _raw_source(snap: AnyLiquidity, fee_bps: float, name: str, override: float | None = None) -> Source:
    """The snapshot's liquidity as a source with the given fee and no lot / min size (an aggregator's
    parts keep their own fees unless `override` replaces them all)."""
    if isinstance(snap, CpmmLiquidity):
        rb, rq = snap.float_reserves or (float(snap.base_reserve), float(snap.quote_reserve))
        return CpmmSource.of(rb, rq, fee_bps, name=name)
    if isinstance(snap, ClmmLiquidity):
        ranges = [(_f(lo), _f(hi), _f(liq)) for lo, hi, liq in snap.ranges]
        return ClmmSource(_f(snap.price), ranges, fee_bps, name=name)
    if isinstance(snap, BookLiquidity):
        asks = snap.float_asks or FloatLevels.of(snap.asks)
        bids = snap.float_bids or FloatLevels.of(snap.bids)
        return BookSource.from_arrays(asks.prices, asks.sizes, bids.prices, bids.sizes, fee_bps, name=name)
    if isinstance(snap, PooledLiquidity):  # each part with its own fee (or the override for them all)
        parts = []
        for p in snap.parts:  # each part's own curves when its venue's source has built them already
            part = _raw_own_fee(p) if override is None else _raw_fee(p, override)
            assert isinstance(part, CpmmSource | BookSource | ClmmSource)
            parts.append(part)
        lots = tuple(float(p.lot) if isinstance(p, BookLiquidity) and p.lot > 0 else None for p in snap.parts)
        return PooledSource(tuple(parts), lots, name=name)
    # PerpLiquidity: a book when one is published, else the virtual AMM.
    if snap.bids or snap.asks:
        return BookSource(_levels(snap.asks), _levels(snap.bids), fee_bps, name=name)
    if snap.base_reserve is not None and snap.quote_reserve is not None:
        return PerpSource(_f(snap.base_reserve), _f(snap.quote_reserve), fee_bps, peg=_f(snap.peg), name=name)
    raise ValueError(f"{snap.instrument}: the perp snapshot publishes neither a book nor vAMM reserves")


class _SourceCache:
    """Sources already built, by snapshot *identity* (snapshots are frozen, so an object always converts to
    the same source). One routing decision converts each snapshot several times (the venue costs, the
    split, the fee-free curve, the depth feature, a size search); the first conversion pays the Decimal →
    float build, the rest are a dict lookup. Holds the newest ``size`` snapshots (each with its sources and
    measures) and keeps a reference to each, so an id is never reused while cached."""

    __slots__ = ("_entries", "hits", "misses", "size")

    def __init__(self, size: int = 256) -> None:
        # an OrderedDict: evicting the oldest is O(1) (a plain dict's first key after many deletions is
        # found by scanning the holes they left)
        self._entries: OrderedDict[
            int, tuple[AnyLiquidity, dict[tuple[str, float | None], Source | float]]
        ] = OrderedDict()
        self.size = size
        self.hits = 0
        self.misses = 0

    def _lookup(self, snap: AnyLiquidity, key: tuple[str, float | None]) -> Source | float | None:
        entry = self._entries.get(id(snap))
        if entry is None or entry[0] is not snap:
            return None
        value = entry[1].get(key)
        if value is not None:
            self.hits += 1
        return value

    def _store(self, snap: AnyLiquidity, key: tuple[str, float | None], value: Source | float) -> None:
        self.misses += 1
        entry = self._entries.get(id(snap))
        if entry is None or entry[0] is not snap:
            if len(self._entries) >= self.size:
                self._entries.popitem(last=False)  # the oldest
            entry = (snap, {})
            self._entries[id(snap)] = entry
        entry[1][key] = value

    def get(self, snap: AnyLiquidity, key: tuple[str, float | None]) -> Source | None:
        value = self._lookup(snap, key)
        return None if isinstance(value, float) else value

    def put(self, snap: AnyLiquidity, key: tuple[str, float | None], src: Source) -> None:
        self._store(snap, key, src)

    def get_measure(self, snap: AnyLiquidity, key: tuple[str, float | None]) -> float | None:
        """A number measured on `snap` (its depth on a side), if cached."""
        value = self._lookup(snap, key)
        return value if isinstance(value, float) else None

    def put_measure(self, snap: AnyLiquidity, key: tuple[str, float | None], value: float) -> None:
        self._store(snap, key, float(value))

    def clear(self) -> None:
        self._entries.clear()


SOURCE_CACHE = _SourceCache()
"""The process's conversion cache (see `_SourceCache`); `SOURCE_CACHE.clear()` empties it."""


def to_source(snapshot: AnyLiquidity, side: Side, *, fee_bps: float | None = None) -> Source:
    """The solver source for routing ``side`` on this venue; ``name`` is the instrument id (built once per
    snapshot object, side and fee: see `SOURCE_CACHE`).

    ``lot``/``min_size`` are in the order's input units: passed through on a sell (base); on a buy the
    lot is dropped and ``min_size`` becomes the quote needed for ``min_size`` base (see the module
    docstring; :func:`snap_buy_to_lots` restores the base grid). ``fee_bps`` overrides the snapshot's
    fee (``0`` gives the fee-free curve the cost model uses to separate fee from impact).
    Raises ``ValueError`` on an unknown side or snapshot, or liquidity the solver rejects.
    """
    key = (side, None if fee_bps is None else float(fee_bps))
    cached = SOURCE_CACHE.get(snapshot, key)
    if cached is not None:
        return cached
    src = _build_source(_check_snapshot(snapshot), check_side(side), fee_bps)
    SOURCE_CACHE.put(snapshot, key, src)
    return src


_RAW_FREE = ("raw", 0.0)  # the cache key of a snapshot's fee-free source without lots (both sides)
_RAW_OWN = ("raw", None)  # the cache key of a snapshot's source with its own fee(s), without lots


def _fee_free_raw(snap: AnyLiquidity) -> Source:
    """The snapshot's liquidity with every fee at 0 and no lot grid, built once per snapshot object: the
    fee-free routing curve and the depth measure both start from it (and share its curves)."""
    return _raw_fee(snap, 0.0)


def _raw_fee(snap: AnyLiquidity, fee: float) -> Source:
    """`snap` with every fee at `fee` and no lot grid: built once per snapshot object at fee 0 (see
    `_fee_free_raw`), at another fee each time."""
    if fee != 0.0:
        return _raw_source(snap, fee, str(snap.instrument), fee)
    raw = SOURCE_CACHE.get(snap, _RAW_FREE)
    if raw is None:
        raw = _raw_source(snap, 0.0, str(snap.instrument), 0.0)
        SOURCE_CACHE.put(snap, _RAW_FREE, raw)
    return raw


def _raw_own_fee(snap: AnyLiquidity) -> Source:
    """The snapshot's liquidity with its own fee (an aggregator's parts each with theirs) and no lot grid,
    built once per snapshot object: the venue's routing source (`to_source` adds its lots) and an
    aggregator pooling the same venue's snapshot share its curves."""
    raw = SOURCE_CACHE.get(snap, _RAW_OWN)
    if raw is None:
        raw = _raw_source(snap, float(snap.fee_bps), str(snap.instrument))
        SOURCE_CACHE.put(snap, _RAW_OWN, raw)
    return raw


def _build_source(snap: AnyLiquidity, s: Side, fee_bps: float | None) -> Source:
    fee = float(snap.fee_bps) if fee_bps is None else float(fee_bps)
    name = str(snap.instrument)
    if fee_bps is None:
        raw = _raw_own_fee(snap)
    elif fee == 0.0:
        raw = _fee_free_raw(snap)
    else:
        raw = _raw_source(snap, fee, name, fee)
    lot = float(snap.lot) if snap.lot > 0 else None
    min_size = float(snap.min_size) if snap.min_size > 0 else None
    if lot is None and min_size is None:
        return raw
    if s == "buy":
        lot = None
        if min_size is not None:
            min_quote = raw.input_for("buy", min_size)
            min_size = min_quote if math.isfinite(min_quote) else None
            if min_size is None:
                return raw
    return _with_lots(raw, lot, min_size)


def _with_lots(src: Source, lot: float | None, min_size: float | None) -> Source:
    """`src` with a lot and minimum (checked as the sources check them), sharing its curves: they do not
    depend on the grid, so the curves are not built a second time."""
    if lot is not None and not (0.0 < lot < math.inf):
        raise ValueError(f"lot must be positive and finite, got {lot!r}")
    if min_size is not None and not (0.0 <= min_size < math.inf):
        raise ValueError(f"min_size must be >= 0 and finite, got {min_size!r}")
    out = object.__new__(type(src))  # what copy.copy makes of it (a shallow copy), without its protocol
    out.__dict__.update(src.__dict__, lot=lot, min_size=min_size)
    return out


def depth_base(snapshot: AnyLiquidity, side: Side, band_bps: float = 100.0) -> float:
    """Base tradable on ``side`` before the fee-free marginal price moves ``band_bps`` from the mid.

    A size-free measure of how deep the venue is (a CPMM with base reserve ``B`` has
    ``B·(1 − 1/√(1 + band))`` on the buy side): the learned impact model's ``size / depth`` feature.
    """
    snap = _check_snapshot(snapshot)
    s = check_side(side)
    if not band_bps > 0.0:
        raise ValueError(f"band_bps must be > 0, got {band_bps!r}")
    key = ("depth_" + s, float(band_bps))
    cached = SOURCE_CACHE.get_measure(snap, key)
    if cached is not None:
        return cached
    depth = _depth(snap, s, band_bps)
    SOURCE_CACHE.put_measure(snap, key, depth)
    return depth


def _depth(snap: AnyLiquidity, s: Side, band_bps: float) -> float:
    m = mid(snap)
    src = _fee_free_raw(snap)
    band = band_bps / 1e4
    # Marginal output per unit input at the band edge: base per quote on a buy, quote per base on a sell.
    lam = 1.0 / (m * (1.0 + band)) if s == "buy" else m * (1.0 - band)
    out = 0.0
    taken_in = 0.0
    # The curve's segments in order, read from its events (a curve segment's start, then its end when its
    # capacity is finite; a flat segment's one event) without making the segments.
    events = _top_events(src, s, lam)
    i, n = 0, len(events)
    while i < n:
        e = events[i]
        i += 1
        m_start, cap = e[0], e[6]
        if e[1] == EV_FLAT:
            m_end = m_start
        elif cap != math.inf:
            m_end = events[i][0]  # its end event
            i += 1
        else:
            m_end = 0.0
        if not cap > 0.0:  # as a curve drops them
            continue
        if m_start < lam:
            break
        if m_end >= lam:
            out += e[7]
            taken_in += cap
            continue
        if e[1] == EV_START:  # stop inside the curve segment where its marginal a·b/(b+x)² reaches lam
            a, b = e[3], e[4]
            x = math.sqrt(a * b / lam) - b
            out += a * x / (b + x)
            taken_in += x
        break
    return out if s == "buy" else taken_in


def _top_events(src: Source, s: Side, lam: float) -> Sequence[Event]:
    """The events of `src`'s curve on side `s` down to segments starting below the marginal `lam` (at
    least): an aggregator's whole pooled curve is not built for it (only its first events, the same ones)."""
    if type(src) is PooledSource and not src.has_curve(s):
        return pooled_events([p.curve(s) for p in src.parts], stop_below=lam)
    return src.curve(s).events


def snap_buy_to_lots(
    sources: Sequence[Source],
    outputs: Sequence[float],
    lots: Sequence[float],
    mins: Sequence[float],
    target: float,
) -> list[float]:
    """Base per venue on the venues' base lot grids, for a buy of ``target`` base (see module doc).

    ``outputs`` is the continuous split's base per venue; ``lots``/``mins`` the venues' base lot and
    minimum (0 = none). Each output is floored to its grid, then the shortfall is filled greedily by
    the increment (whole lots covering the deficit, at least one; the minimum for a venue at 0; the
    whole remainder for a venue without a lot) with the least quote per useful base (base beyond the
    target counts for nothing, so a small lot that finishes the order beats a large one that
    overshoots). Stops when the target is reached or no venue can add more.
    """
    n = len(sources)
    q = [_floor_grid(outputs[v], lots[v], mins[v]) for v in range(n)]
    tol = 1e-9 * target
    deficit = target - math.fsum(q)
    while deficit > tol:
        best_v, best_inc, best_rate = -1, 0.0, math.inf
        for v in range(n):
            inc = _increment(q[v], lots[v], mins[v], deficit)
            if inc <= 0.0:
                continue
            extra = sources[v].input_for("buy", q[v] + inc) - sources[v].input_for("buy", q[v])
            rate = extra / min(inc, deficit)  # quote per *useful* base: penalises overshoot
            if rate < best_rate:
                best_v, best_inc, best_rate = v, inc, rate
        if best_v < 0:
            break
        q[best_v] += best_inc
        deficit = target - math.fsum(q)
    return q


def _floor_grid(x: float, lot: float, min_size: float) -> float:
    if lot > 0.0:
        q = math.floor(x / lot + 1e-9) * lot
        x = q - lot if q > x * (1.0 + 1e-12) else q  # never above x: x may be the venue's whole depth
    return x if x >= min_size * (1.0 - 1e-12) and x > 0.0 else 0.0


def _increment(q: float, lot: float, min_size: float, deficit: float) -> float:
    """The next step for one venue: as many whole lots as cover the deficit (at least one), so a venue with
    a fine lot (one lamport) closes a gap in one step instead of a million."""
    if lot > 0.0:
        if q > 0.0:
            return max(lot, math.floor(deficit / lot + 1e-9) * lot)
        return max(1.0, math.ceil(min_size / lot - 1e-9)) * lot
    if q > 0.0:
        return deficit
    return max(deficit, min_size)
