"""Pyth-like oracle for SimDrift: a market's price path built from candles, and Drift's validity rules.

Path model. A bar's oracle moves open -> first extreme -> second extreme -> close, with the extremes in
the order that matches the bar's direction (O-L-H-C for an up bar, O-H-L-C for a down bar), at
``open_time + k * interval / 3``; between those points the price is linear. Prices are rounded to the
market's tick, so ``base * price / 1e9`` is a whole quote unit for every on-grid size. The mark (the
perp's own price, for funding) follows the same path shifted by a basis taken from ``mark_open`` /
``mark_close`` when the candles carry them (linear across the bar), else ``mark_basis_bps``. Where
one bar closes as the next opens, a read at that instant sees the close (the next bar's open only when
asked for, at the start of that bar), so no read depends on whether the next bar is known yet.

Staleness. Inside a bar the oracle is fresh (published now). In a gap between bars it keeps the last
close, published at that close, so its delay grows slot by slot (400 ms). A constant publishing delay
(``delay_slots``) and ``OracleInjection`` windows add delay or widen the confidence on purpose.
The confidence is ``conf_bps`` of the price (Pyth's interval; bars carry none).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from botnft.ports import BarArrays
from botnft.venues.sim.drift_params import SLOT_NS, OracleGuardRails
from botnft.venues.sim.intmath import tdiv

VALID: Final = "Valid"
NON_POSITIVE: Final = "NonPositive"
TOO_VOLATILE: Final = "TooVolatile"
TOO_UNCERTAIN: Final = "TooUncertain"
STALE_FOR_MARGIN: Final = "StaleForMargin"
STALE_FOR_AMM: Final = "StaleForAMM"

_CONF_MULTIPLIER: Final = {"A": 1, "B": 1, "C": 2, "Speculative": 10, "HighlySpeculative": 50, "Isolated": 50}
"""``PerpMarket::get_max_confidence_interval_multiplier`` by contract tier (venues.md §5)."""

BLOCKED_BY: Final[dict[str, frozenset[str]]] = {
    # ``math/oracle.rs::is_oracle_valid_for_action``: the validities that block each action.
    "fill_amm": frozenset({NON_POSITIVE, TOO_VOLATILE, TOO_UNCERTAIN, STALE_FOR_MARGIN, STALE_FOR_AMM}),
    "fill_match": frozenset({NON_POSITIVE, TOO_VOLATILE, TOO_UNCERTAIN}),
    "margin": frozenset({NON_POSITIVE, TOO_VOLATILE, TOO_UNCERTAIN, STALE_FOR_MARGIN}),
    # The current program lets UpdateFunding through StaleForMargin and instead blocks when the AMM
    # has not been updated for a funding period; earlier versions blocked it. The simulator keeps the
    # earlier rule: an oracle stale for margin blocks funding (venues.md §1.2, §5).
    "funding": frozenset({NON_POSITIVE, TOO_VOLATILE, TOO_UNCERTAIN, STALE_FOR_MARGIN}),
    "trigger": frozenset({NON_POSITIVE, TOO_VOLATILE}),
    "liquidate": frozenset({NON_POSITIVE, TOO_VOLATILE}),
    "twap": frozenset({NON_POSITIVE}),
}


def slot_of(ts_ns: int) -> int:
    return ts_ns // SLOT_NS


def oracle_validity(
    price: int, conf: int, delay: int, last_twap: int, tier: str, rails: OracleGuardRails
) -> str:
    """``math/oracle.rs::oracle_validity`` (checked in that order; enough data points assumed)."""
    if price <= 0:
        return NON_POSITIVE
    twap = last_twap if last_twap > 0 else price
    if max(price, twap) // max(1, min(price, twap)) > rails.too_volatile_ratio:
        return TOO_VOLATILE
    if conf * 1_000_000 // price > rails.confidence_interval_max_size * _CONF_MULTIPLIER[tier]:
        return TOO_UNCERTAIN
    if delay > rails.slots_before_stale_for_margin:
        return STALE_FOR_MARGIN
    if delay > rails.slots_before_stale_for_amm:
        return STALE_FOR_AMM
    return VALID


def valid_for(validity: str, action: str) -> bool:
    """Whether an oracle of ``validity`` allows ``action`` (fill_amm, fill_match, margin, funding,
    trigger, liquidate, twap)."""
    return validity not in BLOCKED_BY[action]


@dataclass(frozen=True, slots=True)
class OracleInjection:
    """Between ``start_ns`` and ``end_ns`` the oracle reports ``delay_slots`` more delay and, if set, a
    confidence of ``conf_bps`` of its price."""

    start_ns: int
    end_ns: int
    delay_slots: int = 0
    conf_bps: int | None = None


@dataclass(frozen=True, slots=True)
class OracleSample:
    """The oracle as Drift reads it at ``ts_ns`` (PRICE_PRECISION), plus the mark at the same time."""

    ts_ns: int
    price: int
    conf: int
    delay: int
    mark: int


@dataclass(frozen=True, slots=True)
class _Chunk:
    ts: NDArray[np.int64]
    interval: int
    pts: NDArray[np.int64]  # (n, 4) oracle path prices
    marks: NDArray[np.int64]  # (n, 4) mark path prices
    low: NDArray[np.int64]  # lowest path price (the tick-rounded low)
    high: NDArray[np.int64]
    volume: NDArray[np.float64]
    # the same as Python ints, for the per-instant reads (a numpy scalar read costs more than the math)
    ts_py: list[int]
    pts_py: list[list[int]]
    marks_py: list[list[int]]

    @property
    def end_ns(self) -> int:
        return self.ts_py[-1] + self.interval


def _stream(ch: _Chunk) -> tuple[_Chunk, list[int], list[int], list[int]]:
    """Every path point of the chunk's bars in time order, as ``path_raw`` gives them (a bar's open
    left out where the previous bar closes), as lists of times, prices and marks: ``path_raw`` over
    the chunk is then the slice of the points with ``after < t <= until``. Empty lists when the times
    are not strictly increasing (bars that overlap), so the caller walks the bars instead."""
    times: list[int] = []
    prices: list[int] = []
    marks: list[int] = []
    interval = ch.interval
    i1, i2 = interval // 3, 2 * interval // 3
    prev_end: int | None = None
    last = None
    for t0, pts, mks in zip(ch.ts_py, ch.pts_py, ch.marks_py, strict=True):
        if t0 != prev_end:
            if last is not None and t0 <= last:
                return ch, [], [], []
            times.append(t0)
            prices.append(pts[0])
            marks.append(mks[0])
        end = t0 + interval
        if not t0 < t0 + i1 < t0 + i2 < end:
            return ch, [], [], []
        times += (t0 + i1, t0 + i2, end)
        prices += pts[1:4]
        marks += mks[1:4]
        prev_end = last = end
    return ch, times, prices, marks


@dataclass(frozen=True, slots=True)
class MarkBasis:
    """A modelled mark basis over the oracle: ``basis[k]`` (fraction, mark/oracle − 1) from ``ts_ns[k]``
    on, ``before`` earlier. Each bar's marks are its oracle path points times ``1 + basis`` at its open."""

    ts_ns: NDArray[np.int64]
    basis: NDArray[np.float64]
    before: float = 0.0

    def ppm_at(self, ts: NDArray[np.int64]) -> NDArray[np.int64]:
        basis = np.asarray(self.basis, dtype=np.float64)
        if not len(basis):  # no modelled point: `before` throughout
            b = np.full(len(ts), self.before, dtype=np.float64)
        else:
            k = np.searchsorted(self.ts_ns, ts, "right") - 1
            b = np.where(k >= 0, basis[np.maximum(k, 0)], self.before)
        out: NDArray[np.int64] = np.rint(b * 1_000_000).astype(np.int64)
        return out


class PriceTape:
    """One market's oracle and mark path, from candles appended in time order (chunks). The mark is, in
    order of precedence: a modelled ``MarkBasis``, the bars' mark candles, a constant ``mark_basis_bps``."""

    def __init__(
        self,
        *,
        tick: int,
        conf_bps: int,
        mark_basis_bps: float = 0.0,
        injections: tuple[OracleInjection, ...] = (),
        delay_slots: int = 0,
        mark_basis: MarkBasis | None = None,
    ) -> None:
        self.mark_basis = mark_basis
        self.tick = tick
        self.conf_bps = conf_bps
        self.delay_slots = delay_slots
        self.basis_ppm = round(mark_basis_bps * 100)
        self.injections = injections
        self._chunks: list[_Chunk] = []
        self._starts: list[int] = []
        self._extremes: tuple[BarArrays, NDArray[np.float64], NDArray[np.float64]] | None = None
        self._extremes_py: tuple[BarArrays, list[float], list[float]] | None = None
        # the one chunk's path points as flat lists (times, prices, marks), built when first read
        self._stream: tuple[_Chunk, list[int], list[int], list[int]] | None = None
        self._stream_points: list[tuple[int, int, int]] = []

    # building ------------------------------------------------------------------------------------
    def quantize(self, a: NDArray[np.float64]) -> NDArray[np.int64]:
        """Float prices to PRICE_PRECISION integers on the tick grid."""
        return (np.rint(np.asarray(a, dtype=np.float64) * 1e6 / self.tick) * self.tick).astype(np.int64)

    def batch_extremes(self, bars: BarArrays) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The batch's lows and highs on the tick grid, in float (1.0 = $1): quantized once per batch
        (element by element, so a slice of them is what quantizing the slice gives)."""
        cached = self._extremes
        if cached is None or cached[0] is not bars:
            low = self.quantize(np.asarray(bars.low)) / 1e6
            high = self.quantize(np.asarray(bars.high)) / 1e6
            cached = self._extremes = (bars, low, high)
        return cached[1], cached[2]

    def batch_extremes_py(self, bars: BarArrays) -> tuple[list[float], list[float]]:
        """``batch_extremes`` as lists of Python floats (the same values), for reads one bar at a time."""
        cached = self._extremes_py
        if cached is None or cached[0] is not bars:
            low, high = self.batch_extremes(bars)
            cached = self._extremes_py = (bars, low.tolist(), high.tolist())
        return cached[1], cached[2]

    def extend(self, bars: BarArrays) -> None:
        """Append the bars that start after the last known bar (a re-sent bar is ignored)."""
        ts = np.asarray(bars.ts_ns, dtype=np.int64)
        lo = 0 if not self._chunks else int(np.searchsorted(ts, self._chunks[-1].ts[-1], "right"))
        if lo >= len(ts):
            return
        q = self.quantize
        o, h, lo_, c = (q(np.asarray(a)[lo:]) for a in (bars.open, bars.high, bars.low, bars.close))
        up = c >= o
        pts = np.stack([o, np.where(up, lo_, h), np.where(up, h, lo_), c], axis=1)
        mark_open = getattr(bars, "mark_open", None)
        mark_close = getattr(bars, "mark_close", None)
        if self.mark_basis is not None:
            scaled = pts * self.mark_basis.ppm_at(ts[lo:])[:, None]
            marks = pts + np.sign(scaled) * (np.abs(scaled) // 1_000_000)
        elif mark_open is not None and mark_close is not None:
            b_o = q(np.asarray(mark_open)[lo:]) - o
            b_c = q(np.asarray(mark_close)[lo:]) - c
            num = (b_c - b_o)[:, None] * np.arange(4, dtype=np.int64)[None, :]
            # integer interpolation of the basis, truncating toward zero like the rest of the math
            marks = pts + b_o[:, None] + np.sign(num) * (np.abs(num) // 3)
        else:
            scaled = pts * self.basis_ppm
            marks = pts + np.sign(scaled) * (np.abs(scaled) // 1_000_000)
        chunk_ts = ts[lo:].copy()
        chunk = _Chunk(
            chunk_ts,
            int(bars.interval_ns),
            pts,
            marks,
            pts.min(axis=1),
            pts.max(axis=1),
            np.asarray(bars.volume, dtype=np.float64)[lo:].copy(),
            chunk_ts.tolist(),
            pts.tolist(),
            marks.tolist(),
        )
        self._chunks.append(chunk)
        self._starts.append(int(chunk.ts[0]))

    def prune(self, before_ns: int) -> None:
        """Forget chunks that end before ``before_ns`` (keeps memory flat in long runs)."""
        while len(self._chunks) > 1 and self._chunks[0].end_ns < before_ns:
            self._chunks.pop(0)
            self._starts.pop(0)

    # reading -------------------------------------------------------------------------------------
    @property
    def start_ns(self) -> int | None:
        return self._starts[0] if self._starts else None

    def _bar_before(self, t_ns: int) -> tuple[_Chunk, int] | None:
        """The last bar opening strictly before ``t_ns``."""
        ci = bisect.bisect_left(self._starts, t_ns) - 1
        if ci < 0:
            return None
        ch = self._chunks[ci]
        return ch, bisect.bisect_left(ch.ts_py, t_ns) - 1

    def _bar_opening(self, t_ns: int) -> tuple[_Chunk, int] | None:
        """The bar opening exactly at ``t_ns``, if known."""
        ci = bisect.bisect_right(self._starts, t_ns) - 1
        if ci < 0:
            return None
        ch = self._chunks[ci]
        k = bisect.bisect_left(ch.ts_py, t_ns)
        return (ch, k) if k < len(ch.ts_py) and ch.ts_py[k] == t_ns else None

    def _extra(self, t_ns: int) -> tuple[int, int | None]:
        if not self.injections:
            return 0, None
        delay, conf = 0, None
        for inj in self.injections:
            if inj.start_ns <= t_ns < inj.end_ns:
                delay = max(delay, inj.delay_slots)
                if inj.conf_bps is not None:
                    conf = inj.conf_bps if conf is None else max(conf, inj.conf_bps)
        return delay, conf

    def _sample(self, t_ns: int, price: int, mark: int, published_ns: int) -> OracleSample:
        extra, conf_bps = self._extra(t_ns)
        bps = self.conf_bps if conf_bps is None else conf_bps
        delay = slot_of(t_ns) - slot_of(published_ns) + self.delay_slots + extra
        return OracleSample(t_ns, price, price * bps // 10_000, delay, mark)

    def sample(self, t_ns: int, *, at_open: bool = False) -> OracleSample | None:
        """The oracle at ``t_ns``: on the path of the bar covering (open, close], the last close
        (ageing) in a gap, None before the first bar. Where one bar closes as the next opens, the close
        wins unless ``at_open``: so a sample never depends on whether the next bar is known yet."""
        opening = self._bar_opening(t_ns) if at_open else None
        loc = None if opening else self._bar_before(t_ns)
        if loc is None or t_ns > loc[0].ts_py[loc[1]] + loc[0].interval:
            opening = opening or self._bar_opening(t_ns)
            if opening is not None:
                ch, k = opening
                return self._sample(t_ns, ch.pts_py[k][0], ch.marks_py[k][0], t_ns)
            if loc is None:
                return None
            ch, k = loc
            end = ch.ts_py[k] + ch.interval
            return self._sample(t_ns, ch.pts_py[k][3], ch.marks_py[k][3], end)
        ch, k = loc
        t0 = ch.ts_py[k]
        seg = min(2, (t_ns - t0) * 3 // ch.interval)
        ta = t0 + seg * ch.interval // 3
        tb = t0 + (seg + 1) * ch.interval // 3
        pts, marks = ch.pts_py[k], ch.marks_py[k]
        pa, pb = pts[seg], pts[seg + 1]
        ma, mb = marks[seg], marks[seg + 1]
        price = pa + tdiv((pb - pa) * (t_ns - ta), tb - ta)
        mark = ma + tdiv((mb - ma) * (t_ns - ta), tb - ta)
        snapped = price - price % self.tick
        return self._sample(t_ns, snapped, mark + snapped - price, t_ns)

    def _bars_overlapping(self, t0_ns: int, t1_ns: int) -> list[tuple[_Chunk, int, int]]:
        """(chunk, first, end) index ranges of the bars whose [open, close] meets [t0, t1]."""
        out = []
        ci = max(0, bisect.bisect_right(self._starts, t0_ns) - 1)
        for ch in self._chunks[ci:]:
            ts = ch.ts_py
            if ts[0] > t1_ns:
                break
            a = bisect.bisect_left(ts, t0_ns - ch.interval)
            b = bisect.bisect_right(ts, t1_ns)
            if b > a:
                out.append((ch, a, b))
        return out

    def path_points(self, after_ns: int, until_ns: int) -> list[OracleSample]:
        """The bars' path points with ``after_ns < t <= until_ns``, in time order. A bar's open at the
        instant the previous bar closes is left out: one sample per instant, the close."""
        sample = self._sample
        return [sample(t, price, mark, t) for t, price, mark in self.path_raw(after_ns, until_ns)]

    def path_raw(self, after_ns: int, until_ns: int) -> list[tuple[int, int, int]]:
        """``path_points`` as (time, price, mark) only: what a TWAP crank reads, without building the
        samples (``point_sample`` builds one, the same as ``path_points`` holds)."""
        chunks = self._chunks
        if len(chunks) == 1:  # a backtest's one batch: slice the chunk's path points
            st = self._stream
            if st is None or st[0] is not chunks[0]:
                st = self._stream = _stream(chunks[0])
                # the stream's points as (time, price, mark) tuples, sliced by each call
                self._stream_points = list(zip(st[1], st[2], st[3], strict=True))
            times = st[1]
            if times or not chunks[0].ts_py:  # empty: the chunk's points are not in time order
                lo = bisect.bisect_right(times, after_ns)
                return self._stream_points[lo : bisect.bisect_right(times, until_ns, lo)]
        out: list[tuple[int, int, int]] = []
        append = out.append
        prev_end: int | None = None
        first = max(0, bisect.bisect_right(self._starts, after_ns) - 1)
        for ci in range(first, len(chunks)):  # _bars_overlapping, without its list
            ch = chunks[ci]
            ts_py = ch.ts_py
            if ts_py[0] > until_ns:
                break
            interval = ch.interval
            a = bisect.bisect_left(ts_py, after_ns - interval)
            b = bisect.bisect_right(ts_py, until_ns)
            if b <= a:
                continue
            i1, i2 = interval // 3, 2 * interval // 3  # i * interval // 3
            pts_py, marks_py = ch.pts_py, ch.marks_py
            for k in range(a, b):
                t0 = ts_py[k]
                pts, marks = pts_py[k], marks_py[k]
                end = t0 + interval
                if after_ns < t0 and end <= until_ns:  # the whole bar is inside: no test per point
                    if t0 != prev_end:
                        append((t0, pts[0], marks[0]))
                    append((t0 + i1, pts[1], marks[1]))
                    append((t0 + i2, pts[2], marks[2]))
                    append((end, pts[3], marks[3]))
                else:
                    if t0 != prev_end and after_ns < t0 <= until_ns:
                        append((t0, pts[0], marks[0]))
                    t = t0 + i1
                    if after_ns < t <= until_ns:
                        append((t, pts[1], marks[1]))
                    t = t0 + i2
                    if after_ns < t <= until_ns:
                        append((t, pts[2], marks[2]))
                    if after_ns < end <= until_ns:
                        append((end, pts[3], marks[3]))
                prev_end = end
        return out

    def point_sample(self, t_ns: int, price: int, mark: int) -> OracleSample:
        """The sample of the path point (``t_ns``, ``price``, ``mark``) from ``path_raw``."""
        if not self.injections:  # _sample published now: no delay but the constant one
            return OracleSample(t_ns, price, price * self.conf_bps // 10_000, self.delay_slots, mark)
        return self._sample(t_ns, price, mark, t_ns)

    def first_cross(self, start_ns: int, end_ns: int, level: int, below: bool) -> int | None:
        """First time in [start, end] at which the oracle is strictly below (``below``) or above
        ``level``, starting from the open of a bar opening at ``start``; None if it never is."""
        prev = self.sample(start_ns, at_open=True)
        if prev is None:
            return None
        if (prev.price < level) if below else (prev.price > level):
            return start_ns
        for s in self.path_points(start_ns, end_ns):
            hit = (s.price < level) if below else (s.price > level)
            if hit:
                pa, pb, ta, tb = prev.price, s.price, prev.ts_ns, s.ts_ns
                if tb == ta or pa == pb:
                    return tb
                # first instant the linear path is past the level (strictly)
                return min(tb, ta + abs(pa - level) * (tb - ta) // abs(pa - pb) + 1)
            prev = s
        return None

    def first_bar_through(self, t0_ns: int, t1_ns: int, level: int, below: bool) -> int | None:
        """Open time of the first bar meeting [t0, t1] whose path goes strictly through ``level``."""
        for ch, a, b in self._bars_overlapping(t0_ns, t1_ns):
            hits = np.flatnonzero(ch.low[a:b] < level) if below else np.flatnonzero(ch.high[a:b] > level)
            if hits.size:
                return int(ch.ts[a + int(hits[0])])
        return None

    def bar_range(self, t_ns: int) -> tuple[int, int, int, float] | None:
        """(open time, low, high, volume) of the bar covering ``t_ns`` (open, close], else of the bar
        opening at ``t_ns``; None in a gap."""
        loc = self._bar_before(t_ns)
        if loc is None or t_ns > int(loc[0].ts[loc[1]]) + loc[0].interval:
            loc = self._bar_opening(t_ns)
        if loc is None:
            return None
        ch, k = loc
        return int(ch.ts[k]), int(ch.low[k]), int(ch.high[k]), float(ch.volume[k])

    def bar_open(self, t_ns: int) -> int:
        rng = self.bar_range(t_ns)
        return -1 if rng is None else rng[0]

    def extremes_between(
        self, t0_ns: NDArray[np.int64], t1_ns: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Lowest and highest path price (float, 1.0 = $1) over the bars meeting each window
        [t0, t1]; inf / -inf where no bar does."""
        lows = np.full(len(t0_ns), np.inf)
        highs = np.full(len(t0_ns), -np.inf)
        for w in range(len(t0_ns)):
            for ch, a, b in self._bars_overlapping(int(t0_ns[w]), int(t1_ns[w])):
                lows[w] = min(lows[w], float(ch.low[a:b].min()) / 1e6)
                highs[w] = max(highs[w], float(ch.high[a:b].max()) / 1e6)
        return lows, highs
