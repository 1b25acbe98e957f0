"""After-cost returns of the model's decisions and of the plain baselines over the out-of-sample bars.

A research simulation, vectorised and simpler than the node's: a position decided at bar t's close earns
the close-to-close return of bar t+1, pays the taker fee on every change of position, and a perp position
pays the funding booked in the bars it is held (a long pays positive funding). The spot leg prices on the
spot close, the perp leg on the perp close; without a perp series, the perp leg uses the spot close and no
funding. Baselines: buy and hold (spot), the model's exposures always on the perp, always on spot (long
only), and the plain EMA 10/50 cross (long only, spot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from botnft.research import stats
from botnft.strategy.indicators import F64
from botnft.strategy.ml_targets import SELECTOR_CLASSES, VEHICLE, Costs, candidate_positions


@dataclass(frozen=True, slots=True)
class Market:
    """Per-bar series of the evaluated span (same length)."""

    ts_ns: NDArray[np.int64]
    spot_close: F64
    perp_close: F64
    funding_paid: F64  # what a long perp pays at each bar (fraction), 0 where none
    funding_now: F64  # the rate known at each bar's close (NaN before the first)


@dataclass(frozen=True, slots=True)
class Legs:
    spot: F64
    perp: F64


def legs_of(task: str, proba: F64, features: dict[str, F64], hold: int = 1, threshold: float = 0.0) -> Legs:
    """The model's spot and perp positions at each bar (flat where the prediction is missing), decided
    every `hold` bars and held in between (a label values holding a position for its horizon)."""
    legs = _legs_each_bar(task, proba, features, threshold)
    idx = (np.arange(len(proba)) // max(hold, 1)) * max(hold, 1)
    return Legs(legs.spot[idx], legs.perp[idx])


def _legs_each_bar(task: str, proba: F64, features: dict[str, F64], threshold: float) -> Legs:
    n = len(proba)
    spot, perp = np.zeros(n), np.zeros(n)
    ok: NDArray[np.bool_] = np.asarray(~np.isnan(proba).any(axis=1), dtype=bool)
    if task == "direction":
        up = proba[:, 1]
        perp[ok & (up > 0.5 + threshold)] = 1.0
        perp[ok & (up < 0.5 - threshold)] = -1.0
        return Legs(spot, perp)
    pos = candidate_positions(features)
    choice = np.argmax(np.where(ok[:, None], proba, 0.0), axis=1)
    side = np.nan_to_num(np.sign(features["funding"]))
    for k, name in enumerate(SELECTOR_CLASSES):
        sel = ok & (choice == k)
        if VEHICLE[name] == "perp":
            perp[sel] = pos[name][sel]
        elif VEHICLE[name] == "spot":
            spot[sel] = pos[name][sel]
        elif name == "carry":  # long spot / short perp when longs pay, the mirror otherwise
            spot[sel] = side[sel]
            perp[sel] = -side[sel]
    return Legs(spot, perp)


def returns(m: Market, legs: Legs, costs: Costs) -> F64:
    """Per-bar simple returns of holding `legs` (decided at each close) over the next bar, after costs."""
    n = len(m.spot_close)
    rs = np.zeros(n)
    rp = np.zeros(n)
    rs[1:] = m.spot_close[1:] / m.spot_close[:-1] - 1.0
    rp[1:] = m.perp_close[1:] / m.perp_close[:-1] - 1.0
    held_s = np.concatenate(([0.0], legs.spot[:-1]))
    held_p = np.concatenate(([0.0], legs.perp[:-1]))
    trade_s = np.abs(np.diff(np.concatenate(([0.0], legs.spot))))
    trade_p = np.abs(np.diff(np.concatenate(([0.0], legs.perp))))
    gross = held_s * rs + held_p * (rp - m.funding_paid)
    fees = costs.spot_fee * trade_s + costs.perp_fee * trade_p
    return np.asarray(gross - fees, dtype=np.float64)


def ema_cross_legs(spot_close: F64, fast: int = 10, slow: int = 50) -> Legs:
    """Long spot while EMA(fast) > EMA(slow) (pandas ewm(span, adjust=False) recursion), else flat."""

    def ema(x: F64, span: int) -> F64:
        a = 2.0 / (span + 1.0)
        out = np.empty(len(x))
        y = float(x[0])
        for i, v in enumerate(x.tolist()):
            y = (1.0 - a) * y + a * v
            out[i] = y
        return out

    c = np.asarray(spot_close, dtype=np.float64)
    long = (ema(c, fast) > ema(c, slow)).astype(np.float64)
    long[:slow] = 0.0
    return Legs(long, np.zeros(len(c)))


@dataclass(frozen=True, slots=True)
class Scored:
    name: str
    total_return: float
    sharpe: float  # annualised
    sharpe_ci: stats.Interval  # annualised, stationary bootstrap
    max_drawdown: float
    deflated_sharpe: float
    turnover: float
    equity: F64

    def to_json(self) -> dict[str, object]:
        return {
            "total_return": self.total_return,
            "sharpe": self.sharpe,
            "sharpe_ci": self.sharpe_ci.to_json(),
            "max_drawdown": self.max_drawdown,
            "deflated_sharpe": self.deflated_sharpe,
            "turnover": self.turnover,
        }


def score(
    name: str, r: F64, legs: Legs, periods_per_year: float, n_trials: int, n_boot: int, seed: int
) -> Scored:
    sr = stats.sharpe_ratio(r)
    skew, kurt = stats.moments(r)
    scale = float(np.sqrt(periods_per_year))
    ci = stats.bootstrap_ci(
        r, lambda x: stats.sharpe_ratio(x) * scale, n_boot=n_boot, mean_block=24.0, seed=seed
    )
    turnover = float(np.abs(np.diff(legs.spot)).sum() + np.abs(np.diff(legs.perp)).sum())
    return Scored(
        name,
        float(np.prod(1.0 + r) - 1.0),
        sr * scale,
        ci,
        stats.max_drawdown(r),
        stats.deflated_sharpe(sr, len(r), n_trials, skew, kurt),
        turnover,
        np.asarray(np.cumprod(1.0 + r), dtype=np.float64),
    )


def compare(
    m: Market,
    model_legs: Legs,
    costs: Costs,
    periods_per_year: float,
    n_boot: int = 500,
    seed: int = 0,
    n_trials: int | None = None,
) -> list[Scored]:
    """The model and the baselines, scored on the same bars. `n_trials` (default: the number of rows
    compared) deflates every Sharpe ratio for the choice among them."""
    n = len(m.spot_close)
    exposure = model_legs.spot + model_legs.perp  # carry legs cancel: no directional exposure
    candidates = {
        "model": model_legs,
        "buy_and_hold": Legs(np.ones(n), np.zeros(n)),
        "always_perp": Legs(np.zeros(n), exposure),
        "always_spot": Legs(np.maximum(exposure, 0.0), np.zeros(n)),
        "ema_cross": ema_cross_legs(m.spot_close),
    }
    trials = n_trials or len(candidates)
    return [
        score(name, returns(m, legs, costs), legs, periods_per_year, trials, n_boot, seed)
        for name, legs in candidates.items()
    ]
