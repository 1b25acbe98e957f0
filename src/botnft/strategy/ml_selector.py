"""`ml_selector`: a learned model picks, every `horizon` bars, the target exposure (the selector task: which
of trend, mean reversion, carry or flat, on which vehicle; the direction task: long, short or flat).

Without `model`, it trains walk-forward inside the run: at bar g it learns only from samples whose labels
are complete at g (purged, with an embargo), refits every `retrain` bars on the last `train` bars, and
predicts the bars until the next refit, so no decision ever depends on data after it. With `model=ID` (a
model stored by `bot train`) it makes no decision before that model's training window ends. Either way it
goes flat when the model is stale (`stale` bars past the end of its training data) or a feature it needs is
missing. Decisions are the same whatever the batch size: features are incremental, and refits happen at
fixed bar counts on the history up to that bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from botnft.domain.errors import UserError
from botnft.ports import BarArrays
from botnft.strategy import ml_model
from botnft.strategy.base import Signal
from botnft.strategy.features import ALL_FEATURES, PRICE_FEATURES, FeatureParams, FeatureState
from botnft.strategy.indicators import F64
from botnft.strategy.ml_targets import classes, exposures, labels


@dataclass(frozen=True, slots=True)
class MlParams:
    model: str = ""  # a stored model's ID or folder; empty: train inside the run
    models_dir: str = "runs/models"
    kind: str = "rf"
    task: str = "selector"
    features: str = "price"  # price | all | a list separated by '+'
    horizon: int = 24
    embargo: int = 24
    train: int = 4000  # bars in the rolling training window; 0: expanding
    retrain: int = 720
    min_train: int = 1000
    stale: int = 1440
    trees: int = 50
    depth: int = 5
    min_leaf: int = 50
    seed: int = 0
    short: bool = False

    def check(self) -> None:
        ml_model.check_kind(self.kind)
        classes(self.task)
        for name in ("horizon", "retrain", "min_train", "stale", "trees", "depth", "min_leaf"):
            if getattr(self, name) < 1:
                raise UserError(f"parameter {name} must be at least 1, got {getattr(self, name)}")
        if self.embargo < 0 or self.train < 0:
            raise UserError("parameters embargo and train must be zero or more")
        if 0 < self.train < self.min_train:
            raise UserError(f"parameter train ({self.train}) is below min_train ({self.min_train})")
        feature_names(self.features)


def feature_names(spec: str) -> tuple[str, ...]:
    if spec == "price":
        return PRICE_FEATURES
    if spec == "all":
        return ALL_FEATURES
    names = tuple(n.strip() for n in spec.split("+") if n.strip())
    for n in names:
        if n not in ALL_FEATURES:
            raise UserError(f"unknown feature {n!r}; known: {', '.join(ALL_FEATURES)}")
    if not names:
        raise UserError("parameter features names no feature")
    return names


class _Grow:
    """A 2-d float history that grows by doubling (bar-by-bar appends stay cheap)."""

    def __init__(self, width: int) -> None:
        self._a = np.empty((1024, width))
        self.n = 0

    def extend(self, rows: F64) -> None:
        need = self.n + len(rows)
        if need > len(self._a):
            bigger = np.empty((max(need, 2 * len(self._a)), self._a.shape[1]))
            bigger[: self.n] = self._a[: self.n]
            self._a = bigger
        self._a[self.n : need] = rows
        self.n = need

    def view(self) -> F64:
        return self._a[: self.n]


class MlSelector:
    name: ClassVar[str] = "ml_selector"
    Params: ClassVar[type[MlParams]] = MlParams

    def __init__(self, params: MlParams) -> None:
        params.check()
        self.params = params
        self.fp = FeatureParams()
        self._state = FeatureState(self.fp)
        self._hist = _Grow(len(ALL_FEATURES) + 1)  # the features, then the close
        self._stored: dict[str, Any] | None = None
        self.model: ml_model.TrainedModel | None = None
        self.features = feature_names(params.features)
        self._trained_at = -1  # bar index of the last refit (in-run)
        self._next_fit = 0
        self._target = 0.0
        self.fits = 0
        #: each refit: (bar, first training sample, last training sample), bars counted from the first
        self.fit_log: list[tuple[int, int, int]] = []
        if params.model:
            self.model, self._stored = ml_model.load(params.model, Path(params.models_dir))
            if self._stored.get("task") != params.task and "task" in self._stored:
                self.params = _replace_task(params, str(self._stored["task"]))
            self.features = tuple(self._stored["features"])
            self.horizon = int(self._stored.get("horizon", params.horizon))
        else:
            self.horizon = params.horizon

    @property
    def classes(self) -> tuple[str, ...]:
        return classes(self.params.task)

    def on_bars(self, bars: BarArrays) -> list[Signal]:
        n = len(bars)
        if n == 0:
            return []
        base = self._hist.n
        close = np.asarray(bars.close, dtype=np.float64)
        f = self._state.update(
            close, np.asarray(bars.high, dtype=np.float64), np.asarray(bars.low, dtype=np.float64),
            np.asarray(bars.volume, dtype=np.float64), getattr(bars, "funding", None),
            getattr(bars, "spot_close", None), getattr(bars, "book_spread", None),
        )  # fmt: skip
        self._hist.extend(np.column_stack([*(f[k] for k in ALL_FEATURES), close]))
        close_ts = np.asarray(bars.ts_ns, dtype=np.int64) + int(bars.interval_ns)
        targets = self._targets(base, n, close_ts, int(bars.interval_ns))
        out: list[Signal] = []
        for i, t in enumerate(targets.tolist()):
            if t != self._target:
                out.append((i, t))
                self._target = t
        return out

    def _targets(self, base: int, n: int, close_ts: Any, interval_ns: int) -> F64:
        """Target exposure at each bar of the batch (global indices base..base+n-1)."""
        h = self.horizon
        targets = np.full(n, np.nan)
        # decisions are renewed every `horizon` bars and held in between
        decide = [g for g in range(base, base + n) if g % h == 0]
        if self._stored is not None:
            self._stored_decisions(decide, base, close_ts, interval_ns, targets)
        else:
            self._inrun_decisions(decide, base, targets)
        prev = self._target
        for i in range(n):  # hold the last decision between decision bars
            if np.isnan(targets[i]):
                targets[i] = prev
            prev = targets[i]
        return targets

    def _predict(self, rows: list[int]) -> F64:
        hist = self._hist.view()
        idx = np.asarray(rows, dtype=np.int64)
        cols = np.asarray([ALL_FEATURES.index(c) for c in self.features], dtype=np.int64)
        x = hist[np.ix_(idx, cols)]
        assert self.model is not None
        proba = self.model.proba(x)
        feats = {k: hist[idx, j] for j, k in enumerate(ALL_FEATURES)}
        return exposures(self.params.task, proba, feats, allow_short=self.params.short)

    def _stored_decisions(
        self, decide: list[int], base: int, close_ts: Any, interval_ns: int, targets: F64
    ) -> None:
        assert self._stored is not None
        end = int(self._stored["train_end_ns"])
        stale_ns = self.params.stale * interval_ns
        live = [g for g in decide if end < int(close_ts[g - base]) <= end + stale_ns]
        for g in decide:
            targets[g - base] = 0.0  # before the window's end, stale, or overwritten below
        if live:
            targets[np.asarray(live) - base] = self._predict(live)

    def _inrun_decisions(self, decide: list[int], base: int, targets: F64) -> None:
        """Refit when due, and predict each decision bar with the last model fitted at or before it
        (consecutive decisions of one model in one call)."""
        pending: list[int] = []
        for g in decide:
            if g >= self._next_fit:
                self._flush(pending, base, targets)
                pending = []
                self._fit(g)
            targets[g - base] = 0.0
            if self.model is not None and g - self._trained_at <= self.params.stale:
                pending.append(g)
        self._flush(pending, base, targets)

    def _flush(self, rows: list[int], base: int, targets: F64) -> None:
        if rows:
            targets[np.asarray(rows) - base] = self._predict(rows)

    def _fit(self, g: int) -> None:
        """Refit at bar g on what is known at g's close (labels complete by g, minus the embargo)."""
        p = self.params
        hist = self._hist.view()[: g + 1]
        feats = {k: hist[:, j] for j, k in enumerate(ALL_FEATURES)}
        y = labels(p.task, hist[:, -1], self.horizon, feats)
        x = hist[:, [ALL_FEATURES.index(c) for c in self.features]]
        rows = ml_model.train_rows(x, y, g, self.horizon, p.embargo, p.train or None)
        if len(rows) < p.min_train:
            self._next_fit = g + 1  # try again at the next decision
            return
        size = ml_model.ModelSize(p.trees, p.depth, p.min_leaf)
        self.model = ml_model.fit(
            p.kind, x[rows], y[rows], len(self.classes), p.seed, size, purge=self.horizon
        )
        self._trained_at = g
        self._next_fit = g + p.retrain
        self.fits += 1
        self.fit_log.append((g, int(rows[0]), int(rows[-1])))


def _replace_task(params: MlParams, task: str) -> MlParams:
    import dataclasses

    return dataclasses.replace(params, task=task)
