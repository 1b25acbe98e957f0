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
from botnft.risk.state import RiskState
from botnft.risk.volatility import AtrTracker

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

    def max_size(self, total: Any, px: Any, atr: Any, k: float, a: float) -> Any:
        """Largest |base| whose collateral covers ``k`` maintenance requirements and whose liquidation
        price lies at least ``a`` ATRs away (closed form of the linear model)."""
        side = 1.0 - self.m if self.base > 0 else 1.0 + self.m
        by_buffer = total / (k * self.m * px)
        by_atr = total / (self.m * px + a * atr * side)
        return np.minimum(by_buffer, by_atr)


@dataclass(slots=True)
class GuardRecord:
    """What the guard did over a run (for the run statistics)."""

    actions: int = 0
    max_leverage: float = 0.0
    min_margin_multiple: float = float("inf")
    min_liq_distance_atr: float = float("inf")
    states: list[tuple[int, str]] = field(default_factory=list)


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
        self._batch_id = -1

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
        equity and leverage over the span (nothing changes the account between wake-ups)."""
        if lo >= hi:
            return hi
        close = np.asarray(bars.close[lo:hi], dtype=np.float64)
        m = self.model(float(close[0]))
        eq = m.total_at(close)
        lim = self.limits
        if m.base == 0.0:
            self.peak = max(self.peak, float(eq.max()))
            return hi
        adverse = np.asarray((bars.low if m.base > 0 else bars.high)[lo:hi], dtype=np.float64)
        atr = self._batch_atr[lo:hi]
        b = abs(m.base)
        peaks = np.maximum.accumulate(np.maximum(eq, self.peak))
        cap = m.max_size(eq, close, atr, lim.buffer, lim.atr_multiple)
        low_total = m.total_at(adverse)
        breach = (low_total < lim.buffer * m.m * adverse * b) | (b > cap) | (eq <= 0)
        if lim.max_drawdown is not None:
            floor = (1.0 - lim.max_drawdown) * peaks
            room = eq - floor
            breach |= b * atr * lim.atr_multiple > room
            breach |= low_total < floor + 0.5 * (eq - floor)
        hit = np.flatnonzero(breach)
        end = int(hit[0]) + 1 if hit.size else hi - lo
        rec = self.record
        with np.errstate(divide="ignore", invalid="ignore"):
            lev = b * close[:end] / eq[:end]
        rec.max_leverage = max(rec.max_leverage, float(np.nanmax(lev)) if end else 0.0)
        seen = slice(0, end)
        with np.errstate(divide="ignore", invalid="ignore"):
            multiple = eq[seen] / (m.m * close[seen] * b)
            side = 1.0 - m.m if m.base > 0 else 1.0 + m.m
            distance = (eq[seen] - m.m * close[seen] * b) / (b * side) / atr[seen]
        rec.min_margin_multiple = min(rec.min_margin_multiple, float(np.nanmin(multiple)))
        rec.min_liq_distance_atr = min(rec.min_liq_distance_atr, float(np.nanmin(distance)))
        self.peak = max(self.peak, float(peaks[end - 1]))
        if not self.enabled:
            return hi
        return lo + int(hit[0]) if hit.size else hi

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
        room = eq
        if lim.max_drawdown is not None:
            self.peak = max(self.peak, eq)
            room = eq - (1.0 - lim.max_drawdown) * self.peak
        sign = 1.0 if desired > ZERO else -1.0

        def fits(q: float) -> bool:
            probe = AccountModel(c, eq, sign * q, self.maintenance_fraction(q))
            by_room = q * a * atr <= room if lim.max_drawdown is not None else True
            return bool(q <= probe.max_size(eq, c, atr, k, a)) and by_room

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
        lim = self.limits
        atr = self._atr_at(bars, j)
        eq = float(m.total_at(c))
        self.peak = max(self.peak, eq)
        k, a = lim.buffer * lim.restore, lim.atr_multiple * lim.restore
        cap = float(m.max_size(eq, c, atr, k, a)) if eq > 0 else 0.0
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

    def _set_state(self, state: RiskState, ts_ns: int) -> None:
        if state.value > self.state.value:
            self.state = state
            self.record.states.append((ts_ns, state.name))
