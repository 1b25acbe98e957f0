"""What the learned models predict and how a prediction becomes a target position.

Two tasks. *direction*: will the close `horizon` bars ahead be above today's (classes down, up)? *selector*:
which of the candidate strategies — trend, mean reversion, funding carry, flat — on which vehicle (perp or
spot) would have earned the most over the next `horizon` bars after fees and funding? The selector's output
is the chosen candidate's target exposure; the router and the risk engine do the rest.

Labels look `horizon` bars ahead, so a label at bar t is known only at bar t + horizon: training code must
drop (purge) every sample whose label is not yet known at its cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from botnft.domain.errors import UserError
from botnft.strategy.indicators import F64

TASKS = ("direction", "selector")
DIRECTION_CLASSES = ("down", "up")
SELECTOR_CLASSES = ("flat", "trend_perp", "trend_spot", "meanrev_perp", "meanrev_spot", "carry")
#: the vehicle of each selector class ("both": a carry holds spot and perp legs at once)
VEHICLE = {
    "flat": "none",
    "trend_perp": "perp",
    "trend_spot": "spot",
    "meanrev_perp": "perp",
    "meanrev_spot": "spot",
    "carry": "both",
}


def classes(task: str) -> tuple[str, ...]:
    if task == "direction":
        return DIRECTION_CLASSES
    if task == "selector":
        return SELECTOR_CLASSES
    raise UserError(f"unknown task {task!r}; choose direction or selector")


@dataclass(frozen=True, slots=True)
class Costs:
    """Fees as a fraction of notional traded, per side."""

    spot_fee: float = 0.001
    perp_fee: float = 0.0005


def candidate_positions(features: dict[str, F64]) -> dict[str, F64]:
    """Each selector class's directional exposure at every bar, from the features known at its close:
    trend follows the EMA spread, mean reversion bets against the price's distance from the short EMA, a
    spot vehicle cannot go short, a carry is delta-neutral (its directional exposure is zero)."""
    with np.errstate(invalid="ignore"):
        trend = np.nan_to_num(np.sign(features["ema_spread"]))
        meanrev = np.nan_to_num(-np.sign(features["ema_short_dist"]))
    zero = np.zeros_like(trend)
    return {
        "flat": zero,
        "trend_perp": trend,
        "trend_spot": np.maximum(trend, 0.0),
        "meanrev_perp": meanrev,
        "meanrev_spot": np.maximum(meanrev, 0.0),
        "carry": zero,
    }


def forward_sum(x: F64, horizon: int) -> F64:
    """sum(x[t+1 .. t+horizon]) at each t; NaN where that reaches past the end."""
    n = len(x)
    out = np.full(n, np.nan)
    if n > horizon:
        c = np.concatenate(([0.0], np.cumsum(np.nan_to_num(np.asarray(x, dtype=np.float64)))))
        t = np.arange(n - horizon)
        out[: n - horizon] = c[t + horizon + 1] - c[t + 1]
    return out


def log_returns(close: F64) -> F64:
    c = np.asarray(close, dtype=np.float64)
    r = np.zeros(len(c))
    r[1:] = np.log(c[1:] / c[:-1])
    return r


def selector_values(
    close: F64, funding_paid: F64, funding_now: F64, positions: dict[str, F64], horizon: int, costs: Costs
) -> F64:
    """(n, classes) after-cost log-return of each candidate over the next `horizon` bars (NaN rows where
    that future is not in the data). `funding_paid[t]` is the funding a long perp pays at bar t (fraction),
    `funding_now[t]` the rate known at t's close (the carry's side)."""
    growth = forward_sum(log_returns(close), horizon)
    paid = forward_sum(funding_paid, horizon)
    out = np.empty((len(growth), len(SELECTOR_CLASSES)))
    for k, name in enumerate(SELECTOR_CLASSES):
        pos = positions[name]
        if name == "carry":
            side = np.nan_to_num(np.sign(funding_now))
            value = side * paid - 2.0 * (costs.spot_fee + costs.perp_fee) * np.abs(side)
            value = np.where(side == 0.0, -2.0 * (costs.spot_fee + costs.perp_fee), value)
        elif VEHICLE[name] == "perp":
            value = pos * growth - pos * paid - 2.0 * costs.perp_fee * np.abs(pos)
        else:
            value = pos * growth - 2.0 * costs.spot_fee * np.abs(pos)
        out[:, k] = value
    out[np.isnan(growth)] = np.nan
    return out


def labels(
    task: str,
    close: F64,
    horizon: int,
    features: dict[str, F64] | None = None,
    funding_paid: F64 | None = None,
    costs: Costs | None = None,
) -> F64:
    """Class index per bar as floats, NaN where the label's future is not in the data."""
    if horizon < 1:
        raise UserError(f"horizon must be at least 1 bar, got {horizon}")
    if task == "direction":
        g = forward_sum(log_returns(close), horizon)
        return np.where(np.isnan(g), np.nan, (g > 0.0).astype(np.float64))
    classes(task)
    assert features is not None
    paid = np.zeros(len(close)) if funding_paid is None else funding_paid
    v = selector_values(
        close, paid, features["funding"], candidate_positions(features), horizon, costs or Costs()
    )
    ok = ~np.isnan(v).any(axis=1)
    out = np.full(len(close), np.nan)
    out[ok] = np.argmax(v[ok], axis=1)
    return out


def exposures(
    task: str, proba: F64, features: dict[str, F64], allow_short: bool = True, threshold: float = 0.0
) -> F64:
    """The target exposure at each bar from the models' class probabilities (rows of NaN: flat).
    direction: long above 0.5 + threshold, short (if allowed) below 0.5 - threshold; selector: the most
    probable candidate's exposure."""
    n = len(proba)
    out = np.zeros(n)
    ok: NDArray[np.bool_] = np.asarray(~np.isnan(proba).any(axis=1), dtype=bool)
    if task == "direction":
        up = proba[:, 1]
        out[ok & (up > 0.5 + threshold)] = 1.0
        if allow_short:
            out[ok & (up < 0.5 - threshold)] = -1.0
        return out
    pos = candidate_positions(features)
    choice = np.argmax(np.where(ok[:, None], proba, 0.0), axis=1)
    table = np.column_stack([pos[c] for c in SELECTOR_CLASSES])
    out[ok] = table[np.flatnonzero(ok), choice[ok]]
    if not allow_short:
        out = np.maximum(out, 0.0)
    return out
