"""What one `bot optimize` trial is scored on: the after-cost backtest of the strategy over consecutive
out-of-sample folds of each market.

The tail of each market's history (after `--start`/`--end`) is cut into `folds` windows of `fold_bars` bars.
A fold is one backtest of the trading node with its simulated venue (fees, funding, fill model: every cost a
`bot backtest` pays), fed from `warmup` bars before the window so that the strategy's indicators are warm,
and scored only on the window: its per-bar equity returns (a trade made during the warm-up, such as
entering a position the strategy still holds when the window opens, paid its costs outside the scored
returns; every trade inside the window pays in full). The trial's objective is the mean annualised
Sharpe ratio over all folds of all markets; the pooled returns give the statistics the deflated Sharpe ratio
needs. A parameter search tries many settings on the same windows, which is exactly what the deflated Sharpe
ratio of the best trial discounts.

`run_fold` is a plain top-level function of picklable arguments, so the folds of a batch of trials, over
every market, run as independent tasks in this process or on any Dask worker that has the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np

from botnft.domain.errors import UserError
from botnft.research import stats
from botnft.strategy.indicators import F64

#: where a fold's windows come from
MAX_FOLDS = 1000


@dataclass(frozen=True, slots=True)
class Windows:
    folds: int = 3
    fold_bars: int = 2000
    warmup: int = 500

    def check(self) -> None:
        if not 1 <= self.folds <= MAX_FOLDS:
            raise UserError(f"--folds must be in [1, {MAX_FOLDS}], got {self.folds}")
        if self.fold_bars < 10:
            raise UserError(f"--fold-bars must be at least 10, got {self.fold_bars}")
        if self.warmup < 0:
            raise UserError(f"--warmup must be zero or more, got {self.warmup}")

    def bounds(self, n: int, name: str) -> list[tuple[int, int, int]]:
        """(first bar fed, first scored bar, end) of each fold over `n` bars, the last fold ending at the
        last bar; too little data for the windows is a `UserError`."""
        self.check()
        start = n - self.folds * self.fold_bars
        if start < self.warmup + 1:
            raise UserError(
                f"too little data for the windows: {name} has {n} bars, {self.folds} folds of "
                f"{self.fold_bars} after a warm-up of {self.warmup} need "
                f"{self.warmup + 1 + self.folds * self.fold_bars}"
            )
        out = []
        for k in range(self.folds):
            a = start + k * self.fold_bars
            out.append((a - self.warmup - 1, a, a + self.fold_bars))
        return out


@dataclass(frozen=True, slots=True)
class Setup:
    """How every trial runs, stored with the study so that a joining worker runs the same."""

    strategy: str
    data: tuple[str, ...]
    windows: Windows
    fixed: dict[str, str] = field(default_factory=dict)
    venue: str | None = None
    fee_bps: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        w = self.windows
        return {
            "strategy": self.strategy, "data": list(self.data), "fixed": dict(sorted(self.fixed.items())),
            "folds": w.folds, "fold_bars": w.fold_bars, "warmup": w.warmup, "venue": self.venue,
            "fee_bps": self.fee_bps, "start_ns": self.start_ns, "end_ns": self.end_ns, "seed": self.seed,
        }  # fmt: skip

    @staticmethod
    def from_json(d: dict[str, Any]) -> Setup:
        return Setup(
            d["strategy"], tuple(d["data"]), Windows(d["folds"], d["fold_bars"], d["warmup"]),
            dict(d["fixed"]), d["venue"], d["fee_bps"], d["start_ns"], d["end_ns"], d["seed"],
        )  # fmt: skip


@lru_cache(maxsize=8)
def market(name: str, start_ns: int | None, end_ns: int | None) -> Any:
    """A market's data cut to [start, end), loaded once per process (each Dask worker keeps its own)."""
    from botnft.bootstrap import load_market_data
    from botnft.data.bars import MarketData

    md = load_market_data(name)
    return MarketData(md.name, md.market, md.base, md.bars.between(start_ns, end_ns), md.funding)


def fold_plan(setup: Setup) -> list[tuple[str, int, int, int]]:
    """(market, first bar fed, first scored bar, end) for every fold of every market, in a fixed order."""
    plan = []
    for name in setup.data:
        md = market(name, setup.start_ns, setup.end_ns)
        plan += [(name, *b) for b in setup.windows.bounds(len(md.bars), md.name)]
    return plan


def periods_per_year(setup: Setup) -> float:
    """Bars per year of the markets, which must share one bar interval (their returns are pooled)."""
    from botnft.backtest.metrics import YEAR_NS

    intervals = {m: market(m, setup.start_ns, setup.end_ns).bars.interval_ns for m in setup.data}
    if len(set(intervals.values())) > 1:
        shown = ", ".join(f"{m} {v / 60e9:g} min" for m, v in intervals.items())
        raise UserError(f"the markets' bars must have one interval to be scored together: {shown}")
    return float(YEAR_NS / intervals[setup.data[0]])


def fold_labels(setup: Setup) -> list[str]:
    """The folds in the plan's order, named by market and number."""
    return [f"{m} #{k + 1}" for m in setup.data for k in range(setup.windows.folds)]


def run_fold(setup: Setup, params: dict[str, str], fold: tuple[str, int, int, int]) -> F64:
    """The per-bar after-cost returns of the fold's scored window for these strategy parameters."""
    from botnft.backtest.runner import run_backtest
    from botnft.backtest.spec import BacktestSpec
    from botnft.bootstrap import build_backtest
    from botnft.data.bars import MarketData

    name, lo, a, b = fold
    md = market(name, setup.start_ns, setup.end_ns)
    cut = MarketData(md.name, md.market, md.base, md.bars.slice(lo, b), md.funding)
    spec = BacktestSpec(
        data=name, strategy=setup.strategy, params={**setup.fixed, **params}, venue=setup.venue,
        fee_bps=None if setup.fee_bps is None else Decimal(setup.fee_bps), seed=setup.seed,
    )  # fmt: skip
    result = run_backtest(build_backtest(spec, cut))
    equity = np.asarray(result.equity, dtype=np.float64)
    if len(equity) != b - lo:
        raise UserError(f"the backtest of {name} bars {lo}..{b} returned {len(equity)} equity points")
    window = equity[a - lo - 1 :]  # the equity at the bar before the window, then the window's
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(window) / window[:-1]
    return np.where(np.isfinite(r), r, -1.0)  # equity at zero: the account is gone


@dataclass(frozen=True, slots=True)
class TrialScore:
    value: float  # mean annualised Sharpe ratio over the folds
    fold_sharpe: tuple[float, ...]
    fold_return: tuple[float, ...]
    sr: float  # per-period Sharpe ratio of the pooled returns
    n_obs: int
    skew: float
    kurt: float
    max_drawdown: float

    def attrs(self) -> dict[str, Any]:
        return {
            "fold_sharpe": list(self.fold_sharpe), "fold_return": list(self.fold_return), "sr": self.sr,
            "n_obs": self.n_obs, "skew": self.skew, "kurt": self.kurt, "max_drawdown": self.max_drawdown,
        }  # fmt: skip


def score(fold_returns: list[F64], per_year: float) -> TrialScore:
    """The trial's objective and statistics from its folds' returns (in the plan's order)."""
    scale = float(np.sqrt(per_year))
    sharpes = tuple(stats.sharpe_ratio(r) * scale for r in fold_returns)
    rets = tuple(float(np.prod(1.0 + r) - 1.0) for r in fold_returns)
    pooled = np.concatenate(fold_returns)
    skew, kurt = stats.moments(pooled)
    return TrialScore(
        float(np.mean(sharpes)), sharpes, rets, stats.sharpe_ratio(pooled), int(pooled.size), skew, kurt,
        max(stats.max_drawdown(r) for r in fold_returns),
    )  # fmt: skip
