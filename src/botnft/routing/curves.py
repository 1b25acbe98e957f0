"""Output curves for the split solver: one source's output as a function of its input, as consecutive
segments, and the curve of the best split of one input across several curves (`pooled_segments`).

Two kinds of segment are enough for every venue (see :mod:`botnft.routing.sources`): a **curve segment**
``out(x) = a*x / (b + x)`` for ``0 <= x <= cap`` (a constant-product curve with the fee folded into ``a``
and ``b``) and a **flat segment** (a constant rate over ``cap`` units of input: one book level). The
module is pure: standard library only.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate, repeat
from operator import itemgetter
from typing import Literal

Side = Literal["buy", "sell"]

INF = math.inf

CURVE = 0
FLAT = 1

# Event kinds for the solver's sweep on the marginal rate (see split.py).
EV_START = 0  # a curve segment starts receiving flow
EV_END = 1  # a curve segment is exhausted
EV_FLAT = 2  # a flat segment is taken whole (or partly, at the optimum)
assert CURVE == EV_START  # a curve's evaluation rows tell a curve segment by either (`Curve._tables`)

# A segment: (kind, m_start, m_end, a, b, root, cap, out_cap)
#   curve: out(x) = a*x/(b+x); root = sqrt(a*b); m_start = a/b; m_end = a*b/(b+cap)^2
#   flat:  out(x) = a*x (a = rate); b = root = 0; m_start = m_end = a
Segment = tuple[int, float, float, float, float, float, float, float]
# An event: (lambda, kind, segment index, a, b, root, cap, out_cap) at marginal rate lambda.
Event = tuple[float, int, int, float, float, float, float, float]
_CAP, _OUT_CAP = itemgetter(6), itemgetter(7)  # a segment's (or an event's) cap and out_cap
_KEY = itemgetter(0)  # an event's marginal rate


def check_finite(name: str, value: object) -> float:
    t = type(value)
    if t is float or t is int:  # the common case, without the slower ABC check below
        v = float(value)  # type: ignore[arg-type]
        if v - v == 0.0:  # finite
            return v
        raise ValueError(f"{name} must be finite, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def check_positive(name: str, value: object) -> float:
    v = check_finite(name, value)
    if v <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def fee_fraction(fee_bps: object) -> float:
    f = check_finite("fee_bps", fee_bps)
    if not 0.0 <= f < 10_000.0:
        raise ValueError(f"fee_bps must be in [0, 10000), got {fee_bps!r}")
    return f / 10_000.0


def check_lots(lot: object, min_size: object) -> None:
    if lot is not None:
        check_positive("lot", lot)
    if min_size is not None and check_finite("min_size", min_size) < 0.0:
        raise ValueError(f"min_size must be >= 0, got {min_size!r}")


def check_side(side: object) -> Side:
    if side == "buy":
        return "buy"
    if side == "sell":
        return "sell"
    raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")


def curve_segment(a: float, b: float, cap: float) -> Segment:
    """A constant-product segment ``out = a*x/(b+x)`` on ``[0, cap]`` (cap may be ``inf``)."""
    m_start = a / b
    if cap == INF:
        return (CURVE, m_start, 0.0, a, b, math.sqrt(a * b), INF, a)
    return (CURVE, m_start, a * b / ((b + cap) * (b + cap)), a, b, math.sqrt(a * b), cap, a * cap / (b + cap))


class Curve:
    """One source's output as a function of input, for one side: consecutive segments.

    The segments' marginal rates never increase along the input axis (the output is concave). The
    solver reads ``events`` and ``keys`` (their marginal rates, the sort keys);
    ``output``/``marginal``/``input_for`` evaluate the curve directly, from tables built on first use.
    """

    __slots__ = (
        "_curve_at",
        "_events",
        "_in_starts",
        "_keys",
        "_out_starts",
        "_rows",
        "_segments",
        "total_in",
        "total_out",
    )
    #: one row per segment for evaluation (`_tables`); a curve from its events gets them with its events
    _rows: Sequence[Segment | Event]

    def __init__(self, segments: Sequence[Segment]) -> None:
        if len(segments) == 1 and segments[0][0] == CURVE and segments[0][6] > 0.0:
            self._one_curve(segments[0])  # a pool: the common case, without the loop below
            return
        segs = tuple([s for s in segments if s[6] > 0.0])
        self._segments: tuple[Segment, ...] | None = segs
        # the events are made when the solver first reads them: a curve only evaluated (a fee-free view,
        # a depth measure) never needs them
        self._events: list[Event] | None = None
        self._keys: list[float] = []
        # Summed in input order, as the solver accumulates them: a venue used up reads exactly full.
        self.total_in = sum([s[6] for s in segs])
        self.total_out = sum([s[7] for s in segs])
        self._in_starts: tuple[float, ...] | None = None
        self._out_starts: tuple[float, ...] = ()

    @property
    def events(self) -> list[Event]:
        """The solver's breakpoints: per curve segment its start and (when finite) its end, per flat
        segment one event, in input order (made on first read)."""
        events = self._events
        if events is None:
            events = []
            append = events.append
            assert self._segments is not None  # a curve without events was built from segments
            for k, (kind, m_start, m_end, a, b, root, cap, out_cap) in enumerate(self._segments):
                if kind == CURVE:
                    append((m_start, EV_START, k, a, b, root, cap, out_cap))
                    if cap != INF:
                        append((m_end, EV_END, k, a, b, root, cap, out_cap))
                else:
                    append((m_start, EV_FLAT, k, a, b, root, cap, out_cap))
            self._events = events
            self._keys = [e[0] for e in events]
        return events

    @property
    def keys(self) -> list[float]:
        """The events' marginal rates (their sort keys)."""
        if self._events is None:
            self.events  # noqa: B018 (made with the events)
        return self._keys

    def _one_curve(self, seg: Segment) -> None:
        """What ``__init__`` makes of the one curve segment `seg` (its events and totals)."""
        _, m_start, m_end, a, b, root, cap, out_cap = seg
        self._segments = (seg,)
        if cap != INF:
            self._events = [
                (m_start, EV_START, 0, a, b, root, cap, out_cap),
                (m_end, EV_END, 0, a, b, root, cap, out_cap),
            ]
            self._keys = [m_start, m_end]
        else:
            self._events = [(m_start, EV_START, 0, a, b, root, cap, out_cap)]
            self._keys = [m_start]
        self.total_in = cap
        self.total_out = out_cap
        self._in_starts = None
        self._out_starts = ()

    @classmethod
    def levels(cls, rates: Sequence[float], caps: Sequence[float], outs: Sequence[float]) -> Curve:
        """Flat segments only (a book side), given best rate first; segments are built lazily."""
        self = cls.__new__(cls)
        n = len(rates)
        if not n == len(caps) == len(outs):
            raise ValueError(f"{n} rates need as many caps and outputs, got {len(caps)} and {len(outs)}")
        # (rate, EV_FLAT, k, rate, 0.0, 0.0, cap, out) per level, built by zip in C
        flat, zero = repeat(EV_FLAT, n), repeat(0.0, n)
        events: list[Event] = list(
            zip(rates, flat, range(n), rates, zero, repeat(0.0, n), caps, outs, strict=True)
        )
        self._segments = None
        self._events = events
        self._rows = events  # every event a flat segment's: one row per segment
        self._keys = list(rates)
        # Summed in input order, as the solver accumulates them: a venue used up reads exactly full.
        self.total_in = sum(caps)
        self.total_out = sum(outs)
        self._in_starts = None
        self._out_starts = ()
        return self

    @classmethod
    def of_events(cls, events: list[Event]) -> Curve:
        """The curve whose solver events are `events` (in input order, every segment's capacity > 0, as
        `__init__` makes them); its segments are made from them when first read."""
        self = cls.__new__(cls)
        self._segments = None
        self._events = events
        self._keys = list(map(_KEY, events))
        # one row per segment (its start or flat event): the totals and, when evaluated, its tables
        rows = [e for e in events if e[1] != EV_END]
        self._rows = rows
        # Summed in input order, as the solver accumulates them: a venue used up reads exactly full.
        self.total_in = sum(map(_CAP, rows))
        self.total_out = sum(map(_OUT_CAP, rows))
        self._in_starts = None
        self._out_starts = ()
        return self

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The segments in input order: ``(kind, m_start, m_end, a, b, root, cap, out_cap)``."""
        if self._segments is None:  # built from its events (flat levels, a pooled curve): made from them
            self._segments = _segments_of(self.events)
        return self._segments

    def _tables(self) -> tuple[Sequence[Segment | Event], tuple[float, ...], tuple[float, ...]]:
        """One row per segment, in input order, and the running starts (caps and outputs summed before
        each). A row is the segment, or for a curve made from its events (flat levels, a pooled curve)
        the segment's start or flat event, which holds the same ``a``, ``b``, cap and output at the
        same places (3, 4, 6, 7); row[`_curve_at`] is CURVE (= EV_START) on a curve segment's row."""
        if self._in_starts is None:
            if self._segments is None:
                try:  # made with the curve from its events (`of_events`)
                    rows: Sequence[Segment | Event] = self._rows
                except AttributeError:
                    rows = [e for e in self.events if e[1] != EV_END]
                self._curve_at = 1
            else:
                rows = self._segments
                self._curve_at = 0
            self._rows = rows
            head = rows[:-1]  # the starts: running sums of the caps and outputs before each segment
            self._in_starts = (0.0, *accumulate(map(_CAP, head)))
            self._out_starts = (0.0, *accumulate(map(_OUT_CAP, head)))
        return self._rows, self._in_starts, self._out_starts

    def output(self, x: float) -> float:
        """Output received for ``x`` units of input (input beyond the capacity is not used)."""
        if x <= 0.0:
            return 0.0
        if x >= self.total_in:
            return self.total_out
        segs, in_starts, out_starts = self._tables()
        k = max(bisect_right(in_starts, x) - 1, 0)
        s = segs[k]
        d = x - in_starts[k]
        if s[self._curve_at] == CURVE:
            return out_starts[k] + s[3] * d / (s[4] + d)
        return out_starts[k] + s[3] * d

    def marginal(self, x: float) -> float:
        """Right-hand marginal output per unit input at ``x`` (0 beyond the capacity)."""
        if x >= self.total_in or not (self._events if self._segments is None else self._segments):
            return 0.0
        segs, in_starts, _ = self._tables()
        k = max(bisect_right(in_starts, x) - 1, 0)
        s = segs[k]
        if s[self._curve_at] == CURVE:
            d = max(x - in_starts[k], 0.0)
            return s[3] * s[4] / ((s[4] + d) * (s[4] + d))
        return s[3]

    def input_for(self, out: float) -> float:
        """Input needed to receive ``out`` (``inf`` if the source can never deliver that much)."""
        if out <= 0.0:
            return 0.0
        if out > self.total_out or (out == self.total_out and self.total_in == INF):
            return INF
        segs, in_starts, out_starts = self._tables()
        k = max(bisect_right(out_starts, out) - 1, 0)
        s = segs[k]
        o = out - out_starts[k]
        if s[self._curve_at] == CURVE:
            return in_starts[k] + min(s[4] * o / (s[3] - o), s[6])
        return in_starts[k] + min(o / s[3], s[6])


def _segments_of(events: Sequence[Event]) -> tuple[Segment, ...]:
    """The segments whose events (`Curve.events`) are `events`: a curve segment's start, with its end
    when its capacity is finite (its final marginal the end's rate), or a flat segment's one event."""
    segs: list[Segment] = []
    append = segs.append
    for e in events:
        kind = e[1]
        if kind == EV_FLAT:
            append((FLAT, e[0], e[0], e[3], 0.0, 0.0, e[6], e[7]))
        elif kind == EV_START:
            append((CURVE, e[0], 0.0, e[3], e[4], e[5], e[6], e[7]))
        else:  # the end of the curve segment just started
            segs[-1] = (CURVE, segs[-1][1], e[0], e[3], e[4], e[5], e[6], e[7])
    return tuple(segs)


def pooled_segments(curves: Sequence[Curve], stop_below: float = -INF) -> list[Segment]:
    """The curve of the best split of one input across `curves`: the output of ``x`` sent to them all is
    the most the curves give for ``x`` between them (their sup-convolution), as segments (those of
    `pooled_curve`, each with a capacity > 0).

    With `stop_below`, the whole curve's first segments (bit for bit), down to where the sweep is certainly
    below `stop_below`: every segment left out starts below it (a measure near the top needs no more).
    """
    return list(_segments_of(_pooled_events(curves, stop_below)))


def pooled_events(curves: Sequence[Curve], stop_below: float = -INF) -> list[Event]:
    """The events (`Curve.events`) of `pooled_curve(curves)`, cut as `pooled_segments` cuts its segments."""
    return _pooled_events(curves, stop_below)


def pooled_curve(curves: Sequence[Curve]) -> Curve:
    """`Curve(pooled_segments(curves))`, made from the sweep's events directly (its segments when read)."""
    return Curve.of_events(_pooled_events(curves, -INF))


def _pooled_events(curves: Sequence[Curve], stop_below: float) -> list[Event]:
    """The pooled curve's events in input order, segments of no capacity left out (as `Curve` drops them).

    Sweeping the marginal rate λ down through the curves' events: between two events the set of partly
    used curve segments is fixed, and each takes ``x_i(λ) = root_i/√λ − b_i``, so together they take
    ``R/√λ + const`` with ``R = Σ root_i``, one curve segment ``a'x/(b'+x)`` with ``b' = R/√λ_hi``,
    ``a' = R·√λ_hi`` from ``λ_hi`` down to ``λ_lo``; the flat levels at one rate are one flat segment.
    """
    events: list[Event] = []
    owner: list[int] = []
    for i, c in enumerate(curves):
        events += c.events
        owner += [i] * len(c.events)
    keys = [e[0] for e in events]
    # best rate first; equal rates keep the curves' order (a stable sort, as reverse=True keeps it)
    order = sorted(range(len(keys)), key=keys.__getitem__, reverse=True)
    out: list[Event] = []
    append = out.append
    sqrt, fsum = math.sqrt, math.fsum
    ev_flat, ev_start, ev_end, inf = EV_FLAT, EV_START, EV_END, INF  # locals in the loop
    active: dict[tuple[int, int], float] = {}  # (curve, segment) -> root, the curve segments in use
    roots = 0.0
    lam = INF
    k = 0  # the index of the next segment
    last_flat: float | None = None  # the rate of out[-1] when it is a flat segment's
    empty = False  # a flat segment of no capacity was made
    stop = stop_below * (1.0 - 1e-12)  # below it, every later segment starts below stop_below (a curve
    # segment's a/b is its λ to a few ulps)
    s_lam = -1.0  # √lam when known (it was the last rate's root), else -1
    for j in order:
        e = events[j]
        rate = e[0]
        if rate < lam:
            if roots > 0.0:
                if s_lam < 0.0:  # not known
                    s_lam = sqrt(lam)
                b = roots / s_lam
                # curve_segment(roots·√λ, b, roots/√rate − b), written out (it runs once per event)
                a = roots * s_lam
                s_lam = sqrt(rate)  # the next segment's √λ
                cap = roots / s_lam - b
                ab = a * b
                if cap == inf:
                    append((a / b, ev_start, k, a, b, sqrt(ab), inf, a))
                    k += 1
                elif cap > 0.0:
                    root = sqrt(ab)
                    bc = b + cap
                    out_cap = a * cap / bc
                    append((a / b, ev_start, k, a, b, root, cap, out_cap))
                    append((ab / (bc * bc), ev_end, k, a, b, root, cap, out_cap))
                    k += 1
                last_flat = None
            else:
                s_lam = -1.0
            lam = rate
            if rate < stop:
                return out
        kind = e[1]
        if kind == ev_flat:
            if last_flat is not None and last_flat == rate:  # flat levels at one rate: one segment
                prev = out[-1]
                out[-1] = (rate, ev_flat, prev[2], rate, 0.0, 0.0, prev[6] + e[6], prev[7] + e[7])
            else:
                append((rate, ev_flat, k, rate, 0.0, 0.0, e[6], e[7]))
                k += 1
                last_flat = rate
                if not e[6] > 0.0:
                    empty = True
            continue
        if kind == ev_start:
            active[owner[j], e[2]] = e[5]
        else:
            del active[owner[j], e[2]]
        roots = fsum(active.values())
    if roots > 0.0:  # what is still in use never runs out
        a, b = roots * math.sqrt(lam), roots / math.sqrt(lam)
        append((a / b, ev_start, k, a, b, math.sqrt(a * b), INF, a))
    if empty:  # a level of no size (not met in practice): drop it, as `Curve` would
        return Curve(_segments_of(out)).events
    return out
