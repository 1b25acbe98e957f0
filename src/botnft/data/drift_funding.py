"""Drift's own funding: the bundled daily series, and the two fits made on it.

``drift-funding-daily`` (``drift_perp_funding_daily_SOL_BTC_ETH.csv.gz``; data README) holds, per market
and UTC day, the mean of Drift's hourly funding rates as a fraction of the oracle TWAP (positive: longs
pay), 2026-01-10 → 2026-03-23. SimDrift pays it, hourly, where it covers the time; elsewhere SimDrift
runs Drift's own formula on a modelled mark basis (:func:`fit_mark_basis`), and the router projects
funding with mean reversion (:func:`fit_mean_reversion`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from botnft.data.bars import F64, I64
from botnft.domain.errors import DataError

DAY_NS = 86_400 * 1_000_000_000
HOUR_NS = 3_600 * 1_000_000_000
OFFSET = 1.0 / 5_000  # FUNDING_RATE_OFFSET_DENOMINATOR: +0.02 % a period, paid by longs


@dataclass(frozen=True, slots=True)
class DailyFunding:
    """One market's days (UTC midnight, ns) and mean hourly rate that day (fraction of notional)."""

    market: str
    day_ns: I64
    rate_hourly: F64

    @property
    def end_ns(self) -> int:
        """End of the last day covered."""
        return int(self.day_ns[-1]) + DAY_NS

    def hourly(self) -> tuple[I64, F64]:
        """Every hour the series covers, each with its day's mean rate: what SimDrift pays there."""
        hours = np.arange(24, dtype=np.int64) * HOUR_NS
        ts = (self.day_ns[:, None] + hours[None, :]).ravel()
        return ts, np.repeat(self.rate_hourly, 24)


def default_path() -> Path:
    from botnft.data.bundle import get

    return get("drift-funding-daily").path


def load_drift_funding(path: str | Path | None = None) -> dict[str, DailyFunding]:
    """Every market in the file; a row that is not a finite rate below 1 %/h is a ``DataError``."""
    p = Path(path) if path is not None else default_path()
    try:
        df = pd.read_csv(p, usecols=["market", "date", "avg_hourly_rate"])
    except (OSError, ValueError) as exc:
        raise DataError(f"{p}: not a Drift funding file ({exc})") from exc
    rate = df["avg_hourly_rate"].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(rate) | (np.abs(rate) >= 0.01)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{p}: row {i + 2}: funding rate {float(rate[i])!r} is not an hourly fraction")
    days = pd.to_datetime(df["date"], utc=True).dt.as_unit("ns").astype("int64").to_numpy()
    out: dict[str, DailyFunding] = {}
    for market in sorted(df["market"].unique()):
        m = (df["market"] == market).to_numpy()
        order = np.argsort(days[m], kind="stable")
        out[str(market)] = DailyFunding(str(market), days[m][order], rate[m][order])
    return out


def daily_mean_of(ts_ns: I64, rate_per_interval: F64, interval_h: float, day_ns: I64) -> F64:
    """Another series' (e.g. Binance 8 h funding) mean hourly rate on each of ``day_ns`` (NaN if none)."""
    day = (np.asarray(ts_ns, dtype=np.int64) // DAY_NS) * DAY_NS
    out = np.full(len(day_ns), np.nan)
    for k, d in enumerate(day_ns):
        sel = day == d
        if sel.any():
            out[k] = float(np.mean(rate_per_interval[sel])) / interval_h
    return out


@dataclass(frozen=True, slots=True)
class MarkBasisFit:
    """``basis = intercept + slope · x``: Drift's mark over its oracle (fraction), from the reference
    series' hourly rate ``x``, fitted by least squares on the days both cover."""

    intercept: float
    slope: float
    days: int
    correlation: float

    def basis(self, x: F64) -> F64:
        return self.intercept + self.slope * np.asarray(x, dtype=np.float64)


def fit_mark_basis(drift: DailyFunding, reference_daily_hourly: F64) -> MarkBasisFit:
    """Fit Drift's mark basis on a reference funding series over their overlap.

    Drift's hourly rate is ``(mark_twap − oracle_twap + oracle_twap/5000) / oracle_twap / 24`` inside the
    tier clamp (venues.md §1.2), so each day's implied mean basis is ``24·r − 1/5000``. It is regressed
    on the reference's mean hourly rate the same day (ordinary least squares).
    """
    x = np.asarray(reference_daily_hourly, dtype=np.float64)
    ok = np.isfinite(x)
    if ok.sum() < 10:
        raise DataError(f"{drift.market}: fewer than 10 days overlap the reference funding series")
    b = 24.0 * drift.rate_hourly[ok] - OFFSET
    xs = x[ok]
    slope, intercept = np.polyfit(xs, b, 1)
    corr = float(np.corrcoef(xs, b)[0, 1])
    return MarkBasisFit(float(intercept), float(slope), int(ok.sum()), corr)


@dataclass(frozen=True, slots=True)
class MeanReversionFit:
    """AR(1) on daily mean hourly rates: ``r[d+1] − mean = phi · (r[d] − mean)``."""

    mean_hourly: float
    phi_daily: float
    days: int

    @property
    def half_life_h(self) -> float:
        """Hours for a deviation from the mean to halve (``24·ln 2 / −ln phi``)."""
        if not 0.0 < self.phi_daily < 1.0:
            return math.inf if self.phi_daily >= 1.0 else 1e-9
        return 24.0 * math.log(2.0) / -math.log(self.phi_daily)


def fit_mean_reversion(drift: DailyFunding) -> MeanReversionFit:
    """Least-squares AR(1) on consecutive days (a gap of more than a day breaks the pairs)."""
    r = drift.rate_hourly
    consecutive = np.diff(drift.day_ns) == DAY_NS
    x, y = r[:-1][consecutive], r[1:][consecutive]
    if len(x) < 10:
        raise DataError(f"{drift.market}: fewer than 10 consecutive days to fit funding reversion")
    phi, c = np.polyfit(x, y, 1)
    mean = float(c / (1.0 - phi)) if phi < 1.0 else float(np.mean(r))
    return MeanReversionFit(mean, float(phi), len(x) + 1)


@dataclass(frozen=True, slots=True)
class SimFunding:
    """What SimDrift needs for one market: the series to pay where it covers (hourly ``ts_ns``/``rate``,
    until ``end_ns``), and the modelled mark basis elsewhere (``basis`` from ``basis_ts_ns`` on, and
    ``basis_before`` earlier), with a one-line ``description`` of the fit for reports."""

    ts_ns: I64
    rate: F64
    end_ns: int
    basis_ts_ns: I64
    basis: F64
    basis_before: float
    description: str


def _interval_h(ts_ns: I64) -> float:
    return float(np.median(np.diff(ts_ns))) / HOUR_NS if len(ts_ns) > 1 else 8.0


def _bundled_reference(base: str) -> tuple[I64, F64] | None:
    from botnft.data.bundle import get
    from botnft.data.loader import load_funding

    try:
        f = load_funding(get(f"{base.lower()}-funding").path)
    except (KeyError, DataError):
        return None
    return f.ts_ns, f.rate


def sim_funding(market: str, reference: tuple[I64, F64] | None) -> SimFunding | None:
    """SimDrift's funding inputs for ``market`` (None when the Drift series lacks it).

    The basis is fitted (:func:`fit_mark_basis`) on the bundled Binance funding of the same base over
    the overlap and then driven by ``reference`` (the run's own Binance series, last published rate
    at or before each bar); without either, it is the series' mean implied basis ``24·mean − 1/5000``.
    """
    series = load_drift_funding().get(market)
    if series is None:
        return None
    ts, rate = series.hourly()
    mean_basis = 24.0 * float(np.mean(series.rate_hourly)) - OFFSET
    empty_ts, empty = np.zeros(0, dtype=np.int64), np.zeros(0)
    fit_ref = _bundled_reference(market.removesuffix("-PERP"))
    if fit_ref is None or reference is None or len(reference[0]) == 0:
        text = f"basis constant {mean_basis * 1e4:.2f} bps (mean implied by {len(series.day_ns)} Drift days)"
        return SimFunding(ts, rate, series.end_ns, empty_ts, empty, mean_basis, text)
    x = daily_mean_of(fit_ref[0], fit_ref[1], _interval_h(fit_ref[0]), series.day_ns)
    fit = fit_mark_basis(series, x)
    ref_ts, ref_rate = reference
    basis = fit.basis(np.asarray(ref_rate, dtype=np.float64) / _interval_h(ref_ts))
    text = (
        f"basis = {fit.intercept * 1e4:.2f} bps + {fit.slope:.2f} x Binance hourly rate "
        f"(OLS on {fit.days} days, r = {fit.correlation:.2f})"
    )
    return SimFunding(ts, rate, series.end_ns, np.asarray(ref_ts), basis, mean_basis, text)
