"""The liquidation guard and drawdown breaker: they read the venue's own margin model and de-lever with
reduce-only orders before the venue would liquidate, or before the run's drawdown passes its limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO, floor_to, to_decimal
from botnft.ports import BarArrays
from botnft.risk.limits import GuardLimits
from botnft.risk.reserve import ReserveCollateral
from botnft.risk.state import RiskState
from botnft.risk.venue_stops import VenueStops
from botnft.risk.volatility import AtrTracker

_DAY_NS = 86_400 * 10**9
MarginAt = Callable[[float], tuple[float, float, float]]
"""The venue's own margin calculation at an oracle price (cross margin over every position, size premium,
unsettled PnL and funding): (total collateral, maintenance requirement, signed base of the instrument)."""


@dataclass(slots=True)
class AccountModel:
    """The account at the oracle ``p0``: collateral ``total`` and maintenance requirement ``req`` (quote),
    position ``base``; both move linearly with the price while the position stays (``m``: requirement per
    notional)."""

    p0: float
    total: float
    base: float
    m: float

    def total_at(self, px: Any) -> Any:
        return self.total + self.base * (px - self.p0)

    def max_size(self, total: Any, px: Any, atr: Any, k: float, a: float, gap: float = 0.0) -> Any:
        """Largest |base| whose collateral covers ``k`` maintenance requirements and whose liquidation
        price lies at least ``a`` ATRs away (closed form of the linear model)."""
        side = 1.0 - self.m if self.base > 0 else 1.0 + self.m
        with np.errstate(divide="ignore", invalid="ignore"):
            by_buffer = np.divide(total, k * self.m * px) if self.m > 0 else np.inf
            by_atr = np.divide(total, self.m * px + np.maximum(a * atr, gap * px) * side)
        return np.minimum(by_buffer, np.where(np.isnan(by_atr), np.inf, by_atr))


@dataclass(slots=True)
class GuardRecord:
    """What the guard did over a run (for the run statistics)."""

    actions: int = 0
    stops_triggered: int = 0
    #: the exits by kind: "stop", "take_profit", "time_stop"
    stops_by_kind: dict[str, int] = field(default_factory=dict)
    max_leverage: float = 0.0
    min_margin_multiple: float = float("inf")
    min_liq_distance_atr: float = float("inf")
    states: list[tuple[int, str]] = field(default_factory=list)
    #: collateral moved in from a reserve sub-account instead of de-levering (quote), and how many times
    collateral_moved: float = 0.0
    transfers: int = 0
    #: per UTC day (days since the epoch) with a position: (smallest margin multiple, smallest
    #: liquidation distance in ATRs), each taken at the day's extreme closes with its largest ATR
    daily: dict[int, tuple[float, float]] = field(default_factory=dict)


class LiquidationGuard:
    """Per account: watches the buffer on every oracle point and tells the driver the first bar where it
    is breached (``next_event_index``); at that bar's close ``act`` sizes a reduce-only order that restores
    it. ``enabled=False`` (``--no-guard``) only measures."""

    def __init__(
        self,
        margin_at: MarginAt,
        instrument: Instrument,
        limits: GuardLimits,
        maintenance_fraction: Callable[[float], float],
        *,
        enabled: bool = True,
        cap_entries: bool = True,
    ) -> None:
        self.cap_entries = cap_entries
        self.margin_at = margin_at
        self.maintenance_fraction = maintenance_fraction
        self.instrument = instrument
        self.limits = limits
        self.enabled = enabled
        self.atr = AtrTracker(limits.atr_period)
        self.state = RiskState.ACTIVE
        self.record = GuardRecord()
        self.peak = 0.0
        self._batch_atr: np.ndarray = np.empty(0)
        self._stop: float | None = None  # the volatility stop's level while a position is held
        self._stop_sign = 0.0
        self._stop_ts = -1  # the open time of the bar the stop was hit in, until the guard acts
        self._stop_kind = ""
        self._entry: tuple[float, float] | None = None  # (close, ATR) first seen with the position
        self._held, self._held_ts = 0, -1  # bars held and the open time of the last one counted
        self._batch_id = -1
        #: the stop-loss and take-profit as trigger orders at the venue (a composition root attaches it
        #: where the venue has them); None: the node holds them (exits at the close of the bar hit)
        self.venue_stops: VenueStops | None = None
        #: a reserve sub-account whose collateral restores the buffer before any de-lever (None: none)
        self.reserve: ReserveCollateral | None = None

    # the model -----------------------------------------------------------------------------------------
    def model(self, price: float) -> AccountModel:
        """The account as the venue's margin function sees it at oracle ``price``."""
        total, req, base = self.margin_at(price)
        if base == 0.0:
            return AccountModel(price, total, 0.0, 0.0)
        return AccountModel(price, total, base, req / (abs(base) * price))

    def on_batch(self, bars: BarArrays) -> None:
        """The ATR at every bar of the batch, carried over batches (batch-size invariant)."""
        self._batch_atr = self.atr.update(bars)
        self._batch_id = id(bars)

    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        """First bar in [lo, hi) whose close the guard must act at; ``hi`` if none. Also tracks peak
        equity, leverage, margin multiple and liquidation distance over the span (nothing changes the
        account between wake-ups). A span is first checked at its extremes (every test is monotone in
        the price, so the extremes bound it): only a span that might breach is checked bar by bar."""
        if lo >= hi:
            return hi
        close = np.asarray(bars.close[lo:hi], dtype=np.float64)
        m = self.model(float(close[0]))
        vs = self._venue_exits()
        if vs is not None:
            if m.base == 0.0:
                vs.sync(ZERO, {})  # what is left resting (the other exit) goes
                if vs.entry_pending():  # wake where the entry fills, to place its exits at that close
                    return lo
            elif not vs.covers(to_decimal(m.base), self._venue_kinds()):
                return lo
        if m.base == 0.0:  # flat: the equity stays where it is
            self.peak = max(self.peak, m.total)
            self._stop, self._entry, self._held, self._held_ts = None, None, 0, -1
            return hi
        low = (bars.low if m.base > 0 else bars.high)[lo:hi]
        atr = self._batch_atr[lo:hi]
        ts = np.asarray(bars.ts_ns[lo:hi], dtype=np.int64)
        lim = self.limits
        exits = lim.stop_atr is not None or lim.take_profit_atr is not None or lim.time_stop_bars is not None
        if not exits or not self.enabled:
            woke = self._margin_scan(m, lo, hi, close, low, atr)
            self._note_days(m, ts[: woke - lo + 1], close[: woke - lo + 1], atr[: woke - lo + 1])
            return woke
        favour = np.asarray((bars.high if m.base > 0 else bars.low)[lo:hi], dtype=np.float64)
        stop_hit, levels = self._stop_scan(m.base, close, np.asarray(low, dtype=np.float64), favour, atr, ts)
        if stop_hit is None:
            woke = self._margin_scan(m, lo, hi, close, low, atr)
        else:  # the margin tests still run up to the stop's bar, which wakes the driver anyway
            self._stop_ts = int(bars.ts_ns[lo + stop_hit])
            cut = stop_hit + 1
            woke = min(self._margin_scan(m, lo, lo + cut, close[:cut], low[:cut], atr[:cut]), lo + stop_hit)
        last = min(woke, hi - 1) - lo
        self._stop = float(levels[last])  # the level up to the bar the driver wakes at
        self._held += int(np.count_nonzero(ts[: last + 1] > self._held_ts))
        self._held_ts = max(self._held_ts, int(ts[last]))
        self._note_days(m, ts[: woke - lo + 1], close[: woke - lo + 1], atr[: woke - lo + 1])
        return woke

    def _note_days(self, m: AccountModel, ts: Any, close: Any, atr: Any) -> None:
        """Per UTC day of the span (up to the bar the driver wakes at), the smallest margin multiple and
        liquidation distance in ATRs: each is monotone in the price, so the day's extreme closes bound it."""
        if not len(ts) or m.m <= 0:
            return
        day = ts // _DAY_NS
        starts = np.flatnonzero(np.concatenate(([True], day[1:] != day[:-1])))
        a_max = np.maximum.reduceat(atr, starts)
        b = abs(m.base)
        side = 1.0 - m.m if m.base > 0 else 1.0 + m.m
        mults, dists = [], []
        for c in (np.minimum.reduceat(close, starts), np.maximum.reduceat(close, starts)):
            eq = m.total_at(c)
            with np.errstate(divide="ignore", invalid="ignore"):
                mults.append(eq / (m.m * c * b))
                dists.append((eq - m.m * c * b) / (b * side) / a_max)
        daily = self.record.daily
        for d, mult, dist in zip(
            day[starts].tolist(), np.minimum(*mults).tolist(), np.fmin(*dists).tolist(), strict=True
        ):
            prev = daily.get(d)
            daily[d] = (mult, dist) if prev is None else (min(prev[0], mult), min(prev[1], dist))

    def _margin_scan(self, m: AccountModel, lo: int, hi: int, close: Any, low: Any, atr: Any) -> int:
        """``next_event_index``'s margin and drawdown tests over [lo, hi)."""
        c_lo, c_hi, top_atr = float(close.min()), float(close.max()), float(atr.max())
        peak = max(self.peak, m.total_at(c_lo), m.total_at(c_hi))
        worst = float(np.min(low)) if m.base > 0 else float(np.max(low))
        if self.limits.buffer * m.m < 1.0:  # collateral over requirements falls with the adverse price
            extremes: tuple[float, ...] = (worst,)
        else:
            extremes = (float(np.min(low)), float(np.max(low)))
        if not self._may_breach(m, (c_lo, c_hi), extremes, top_atr, peak):
            self._note_ends(m, (c_lo, c_hi), top_atr, peak)
            return hi
        adverse = np.asarray(low, dtype=np.float64)
        peaks = np.maximum.accumulate(np.maximum(m.total_at(close), self.peak))
        hit = np.flatnonzero(self._breaches(m, close, adverse, atr, peaks))
        end = int(hit[0]) + 1 if hit.size and self.enabled else hi - lo
        self._note(m, close[:end], atr[:end], float(peaks[end - 1]))
        if not self.enabled:
            return hi
        return lo + int(hit[0]) if hit.size else hi

    def _stop_scan(
        self, base: float, close: Any, adverse: Any, favour: Any, atr: Any, ts: Any
    ) -> tuple[int | None, Any]:
        """The exits held by the node: the volatility stop (``stop_atr`` ATRs from the first close seen
        with the position, trailing the best close when ``trailing``) reached by a bar's adverse extreme,
        the take-profit (``take_profit_atr`` entry ATRs in favour) reached by its favourable extreme, the
        time stop at the ``time_stop_bars``-th bar held. The first bar hit (None if none; its kind kept
        for ``target``) and the stop level after each bar (NaN without a stop)."""
        lim = self.limits
        sign = 1.0 if base > 0 else -1.0
        if self._entry is None or self._stop_sign != sign:
            self._entry, self._stop_sign = (float(close[0]), float(atr[0])), sign
            self._stop, self._held, self._held_ts = None, 0, -1
        n = len(close)
        hits: list[tuple[int, str]] = []
        if lim.stop_atr is not None:
            if self._stop is None:
                self._stop = self._entry[0] - sign * lim.stop_atr * self._entry[1]
            start = self._stop
            if lim.trailing:
                level = sign * (close - sign * lim.stop_atr * atr)
                levels = sign * np.maximum.accumulate(np.maximum(level, sign * start))
            else:
                levels = np.full(n, start)
            before = np.concatenate(([start], levels[:-1]))
            hit = np.flatnonzero(sign * (adverse - before) <= 0)
            if hit.size:
                hits.append((int(hit[0]), "stop"))
        else:
            levels = np.full(n, np.nan)
        if lim.take_profit_atr is not None:
            target = self._entry[0] + sign * lim.take_profit_atr * self._entry[1]
            hit = np.flatnonzero(sign * (favour - target) >= 0)
            if hit.size:
                hits.append((int(hit[0]), "take_profit"))
        if lim.time_stop_bars is not None:
            held = self._held + np.cumsum(ts > self._held_ts)
            hit = np.flatnonzero(held >= lim.time_stop_bars)
            if hit.size:
                hits.append((int(hit[0]), "time_stop"))
        if self._venue_exits() is not None:  # the venue fires these itself; a moved trail is re-placed
            hits = [h for h in hits if h[1] == "time_stop"]
            placed = None if self.venue_stops is None else self.venue_stops.level("stop")
            if lim.trailing and lim.stop_atr is not None and placed is not None:
                moved = np.flatnonzero(sign * (levels - placed) >= lim.trail_step_atr * atr)
                if moved.size:
                    hits.append((int(moved[0]), "trail"))
        if not hits:
            return None, levels
        first, self._stop_kind = min(hits)  # on one bar: the stop before the take-profit ("stop" < "t")
        return first, levels

    def _may_breach(
        self,
        m: AccountModel,
        closes: tuple[float, float],
        extremes: tuple[float, ...],
        atr: float,
        peak: float,
    ) -> bool:
        """``_breaches`` at the span's extreme closes and bar extremes with its largest ATR and highest
        peak, in plain floats: False means no bar of the span can breach."""
        lim = self.limits
        b, k, a = abs(m.base), lim.buffer, lim.atr_multiple
        side = 1.0 - m.m if m.base > 0 else 1.0 + m.m
        if any(m.total_at(x) < k * m.m * x * b for x in extremes):
            return True
        floor = (1.0 - lim.max_drawdown) * peak if lim.max_drawdown is not None else 0.0
        low_total = min(m.total_at(x) for x in extremes)
        for c in closes:
            eq = m.total_at(c)
            distance = max(a * atr, lim.min_distance * c)
            if eq <= 0 or eq < k * m.m * c * b or eq < (m.m * c + distance * side) * b:
                return True
            if lim.max_drawdown is not None and (
                b * atr * a > eq - floor or low_total < floor + 0.5 * (eq - floor)
            ):
                return True
        return False

    def _breaches(self, m: AccountModel, close: Any, adverse: Any, atr: Any, peaks: Any) -> Any:
        """Where the buffer fails: collateral at the bar's adverse extreme under ``buffer`` maintenance
        requirements, the position above the buffer and ATR-distance cap at the close, no equity left, or
        the drawdown room under ``atr_multiple`` ATRs of the position (or half spent inside the bar)."""
        lim = self.limits
        b = abs(m.base)
        eq = m.total_at(close)
        low_total = m.total_at(adverse)
        cap = m.max_size(eq, close, atr, lim.buffer, lim.atr_multiple, lim.min_distance)
        breach = (low_total < lim.buffer * m.m * adverse * b) | (b > cap) | (eq <= 0)
        if lim.max_drawdown is not None:
            floor = (1.0 - lim.max_drawdown) * peaks
            room = eq - floor
            breach |= b * atr * lim.atr_multiple > room
            breach |= low_total < floor + 0.5 * room
        return breach

    def _note_ends(self, m: AccountModel, closes: tuple[float, float], atr: float, peak: float) -> None:
        """``_note`` at a span's extreme closes, in plain floats (the distance at its largest ATR)."""
        rec = self.record
        b = abs(m.base)
        side = 1.0 - m.m if m.base > 0 else 1.0 + m.m
        for c in closes:
            eq = m.total_at(c)
            if eq > 0:
                rec.max_leverage = max(rec.max_leverage, b * c / eq)
            if m.m > 0:
                rec.min_margin_multiple = min(rec.min_margin_multiple, eq / (m.m * c * b))
            if atr > 0:
                rec.min_liq_distance_atr = min(
                    rec.min_liq_distance_atr, (eq - m.m * c * b) / (b * side) / atr
                )
        self.peak = max(self.peak, peak)

    def _note(self, m: AccountModel, close: Any, atr: Any, peak: float) -> None:
        """Peak equity, highest leverage, smallest margin multiple and liquidation distance (in ATRs)
        over marks at ``close`` (at the span's extremes these are exact: each is monotone in the price)."""
        rec = self.record
        b = abs(m.base)
        eq = m.total_at(close)
        side = 1.0 - m.m if m.base > 0 else 1.0 + m.m
        with np.errstate(divide="ignore", invalid="ignore"):
            lev = b * close / eq
            multiple = eq / (m.m * close * b)
            distance = (eq - m.m * close * b) / (b * side) / atr
        rec.max_leverage = max(rec.max_leverage, float(np.nanmax(lev)))
        rec.min_margin_multiple = min(rec.min_margin_multiple, float(np.nanmin(multiple)))
        rec.min_liq_distance_atr = min(rec.min_liq_distance_atr, float(np.nanmin(distance)))
        self.peak = max(self.peak, peak)

    def cap(self, desired: Decimal, bars: BarArrays, j: int) -> Decimal:
        """``desired`` (a strategy's target at bar ``j``'s close) cut to the largest position that opens
        with the restored buffer: the venue's maintenance fraction at that size (size premium included),
        ``restore`` × the buffer and ATR distance, and the drawdown room."""
        if not (self.enabled and self.cap_entries) or desired == ZERO:
            return desired
        lim = self.limits
        c = float(bars.close[j])
        m = self.model(c)
        atr = self._atr_at(bars, j)
        eq = float(m.total_at(c))
        k, a = lim.buffer * lim.restore, lim.atr_multiple * lim.restore
        gap = lim.min_distance * lim.restore
        room = eq
        if lim.max_drawdown is not None:
            self.peak = max(self.peak, eq)
            room = eq - (1.0 - lim.max_drawdown) * self.peak
        sign = 1.0 if desired > ZERO else -1.0

        def fits(q: float) -> bool:
            probe = AccountModel(c, eq, sign * q, self.maintenance_fraction(q))
            by_room = q * a * atr <= room if lim.max_drawdown is not None else True
            return bool(q <= probe.max_size(eq, c, atr, k, a, gap)) and by_room

        want = float(abs(desired))
        if fits(want):
            return desired
        lo, hi = 0.0, want
        for _ in range(50):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        q = floor_to(to_decimal(hi), self.instrument.lot_size)
        if not fits(float(q)):
            q = floor_to(to_decimal(lo), self.instrument.lot_size)
        if q < self.instrument.min_size:
            q = ZERO
        return q if desired > ZERO else -q

    def _atr_at(self, bars: BarArrays, j: int) -> float:
        return float(self._batch_atr[j]) if self._batch_id == id(bars) else self.atr.last

    # acting ----------------------------------------------------------------------------------------------
    def target(self, bars: BarArrays, j: int) -> Decimal | None:
        """The position to de-lever to at bar ``j``'s close (after the venue processed the bar), or None
        when the buffer holds; it restores the buffer with ``restore`` to spare."""
        c = float(bars.close[j])
        m = self.model(c)
        if m.base == 0.0:
            return None
        if self._venue_exits() is not None:
            self._place_venue_exits(bars, j, m.base)
            if self._stop_ts == int(bars.ts_ns[j]) and self._stop_kind == "trail":
                self._stop_ts = -1  # the trail was moved on the venue: nothing to do at the close
        if self._stop_ts == int(bars.ts_ns[j]):  # the stop was hit in this bar: out at its close
            self._stop_ts, self._stop = -1, None
            self.record.stops_triggered += 1
            kinds = self.record.stops_by_kind
            kinds[self._stop_kind] = kinds.get(self._stop_kind, 0) + 1
            self.record.actions += 1
            return ZERO
        lim = self.limits
        atr = self._atr_at(bars, j)
        eq = float(m.total_at(c))
        self.peak = max(self.peak, eq)
        k, a = lim.buffer * lim.restore, lim.atr_multiple * lim.restore
        gap = lim.min_distance * lim.restore
        cap = float(m.max_size(eq, c, atr, k, a, gap)) if eq > 0 else 0.0
        if abs(m.base) > cap and self.reserve is not None and self.enabled:
            moved = self._top_up(m, c, atr, eq, k, a, gap)
            if moved > 0.0:
                m = self.model(c)  # the venue's account after the transfer
                eq = float(m.total_at(c))
                self.peak += moved  # collateral moved in is not a gain
                cap = float(m.max_size(eq, c, atr, k, a, gap))
        if lim.max_drawdown is not None:
            floor = (1.0 - lim.max_drawdown) * self.peak
            room = eq - floor
            if room <= lim.halt_share * lim.max_drawdown * self.peak:
                self._set_state(RiskState.HALTED, int(bars.ts_ns[j]))
                cap = 0.0
            else:
                if room < lim.max_drawdown * self.peak * 0.5:
                    self._set_state(RiskState.REDUCING, int(bars.ts_ns[j]))
                cap = min(cap, room / (a * atr) if atr > 0 else cap)
        b = abs(m.base)
        if b <= cap:
            return None
        inst = self.instrument
        keep = floor_to(to_decimal(max(cap, 0.0)), inst.lot_size)
        if keep < inst.min_size:
            keep = ZERO
        held = to_decimal(b)
        if held - keep < inst.min_size and keep > ZERO:
            keep = max(ZERO, held - inst.min_size)
        self.record.actions += 1
        return keep if m.base > 0 else -keep

    def _top_up(
        self, m: AccountModel, c: float, atr: float, eq: float, k: float, a: float, gap: float
    ) -> float:
        """Move from the reserve the collateral that lets the position keep its size with the restored
        buffer (both closed forms of ``max_size`` solved for the collateral), or all the reserve holds."""
        assert self.reserve is not None
        b = abs(m.base)
        side = 1.0 - m.m if m.base > 0 else 1.0 + m.m
        need = b * max(k * m.m * c, m.m * c + max(a * atr, gap * c) * side) - eq
        moved = self.reserve.move_in(need) if need > 0.0 else 0.0
        if moved > 0.0:
            self.record.collateral_moved += moved
            self.record.transfers += 1
        return moved

    # exits at the venue --------------------------------------------------------------------------------
    def _venue_kinds(self) -> tuple[str, ...]:
        lim = self.limits
        return tuple(
            k for k, v in (("stop", lim.stop_atr), ("take_profit", lim.take_profit_atr)) if v is not None
        )

    def _venue_exits(self) -> VenueStops | None:
        """The venue stops when they are in use (guard on, an exit configured), after counting those that
        fired since the last look."""
        vs = self.venue_stops
        if vs is None or not self.enabled or not self._venue_kinds():
            return None
        for kind in vs.filled_exits():
            self.record.stops_triggered += 1
            self.record.stops_by_kind[kind] = self.record.stops_by_kind.get(kind, 0) + 1
        return vs

    def _place_venue_exits(self, bars: BarArrays, j: int, base: float) -> None:
        """At bar ``j``'s close: the entry's stop (trailing: the guard's level now) and take-profit, for
        the whole position, resting at the venue."""
        assert self.venue_stops is not None
        lim = self.limits
        sign = 1.0 if base > 0 else -1.0
        if self._entry is None or self._stop_sign != sign:
            self._entry, self._stop_sign = (float(bars.close[j]), self._atr_at(bars, j)), sign
            self._stop, self._held, self._held_ts = None, 0, -1
        entry, atr = self._entry
        levels: dict[str, float | None] = {}
        if lim.stop_atr is not None:
            if self._stop is None:
                self._stop = entry - sign * lim.stop_atr * atr
            levels["stop"] = self._stop
        if lim.take_profit_atr is not None:
            levels["take_profit"] = entry + sign * lim.take_profit_atr * atr
        self.venue_stops.sync(to_decimal(base), levels)

    def _set_state(self, state: RiskState, ts_ns: int) -> None:
        if state.value > self.state.value:
            self.state = state
            self.record.states.append((ts_ns, state.name))
