"""Walk-forward training: the data's tail is cut into consecutive test folds; each fold's model learns only
from samples whose labels are complete before the fold starts, with an embargo between (purging), and
predicts the fold. The out-of-sample predictions of all folds, stitched, are what the evaluation scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from botnft.domain.errors import UserError
from botnft.strategy import ml_model
from botnft.strategy.indicators import F64


@dataclass(frozen=True, slots=True)
class WalkForward:
    folds: int = 5
    test_bars: int = 2000
    horizon: int = 24
    embargo: int = 24
    train_bars: int | None = None  # None: an expanding window from the first bar
    min_train: int = 1000

    def check(self) -> None:
        if self.folds < 1:
            raise UserError(f"folds must be at least 1, got {self.folds}")
        for name in ("test_bars", "horizon", "min_train"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.embargo < 0:
            raise UserError(f"embargo must be zero or more, got {self.embargo}")
        if self.train_bars is not None and self.train_bars < self.min_train:
            raise UserError(f"train_bars ({self.train_bars}) is below min_train ({self.min_train})")

    def test_windows(self, n: int, first_usable: int) -> list[tuple[int, int]]:
        """[start, end) of each test fold over `n` bars, the folds ending at the last bar; refused when
        the first fold would leave fewer than `min_train` training bars after the features' warm-up."""
        self.check()
        start = n - self.folds * self.test_bars
        need = first_usable + self.min_train + self.horizon + self.embargo
        if start < need:
            raise UserError(
                f"too little data for the windows: {n} bars, {self.folds} folds of {self.test_bars} need "
                f"{need + self.folds * self.test_bars} (warm-up {first_usable}, min_train {self.min_train}, "
                f"horizon {self.horizon}, embargo {self.embargo})"
            )
        return [(start + k * self.test_bars, start + (k + 1) * self.test_bars) for k in range(self.folds)]


@dataclass(frozen=True, slots=True)
class FoldResult:
    start: int
    end: int
    train_first: int
    train_last: int
    samples: int


def run(
    wf: WalkForward,
    x: F64,
    y: F64,
    kind: str,
    n_classes: int,
    seed: int,
    size: ml_model.ModelSize,
    first_usable: int,
    on_fold: Callable[[int], None] | None = None,
) -> tuple[F64, list[FoldResult]]:
    """Out-of-sample class probabilities for every bar of the test folds (NaN elsewhere) and the folds."""
    n = len(x)
    proba = np.full((n, n_classes), np.nan)
    folds = []
    for k, (a, b) in enumerate(wf.test_windows(n, first_usable)):
        rows = ml_model.train_rows(x, y, a - 1, wf.horizon, wf.embargo, wf.train_bars)
        if len(rows) < wf.min_train:
            raise UserError(f"too little data for the windows: fold {k + 1} has {len(rows)} training samples")
        model = ml_model.fit(kind, x[rows], y[rows], n_classes, seed + k, size, purge=wf.horizon)
        proba[a:b] = model.proba(x[a:b])
        folds.append(FoldResult(a, b, int(rows[0]), int(rows[-1]), len(rows)))
        if on_fold is not None:
            on_fold(k)
    return proba, folds


def classification_metrics(proba: F64, y: F64) -> dict[str, float]:
    """Accuracy, log loss and (multi-class) Brier score over the rows with a prediction and a label."""
    ok = ~np.isnan(proba).any(axis=1) & ~np.isnan(y)
    p, yi = proba[ok], y[ok].astype(np.int64)
    if len(yi) == 0:
        raise UserError("no out-of-sample bar has both a prediction and a label")
    onehot = np.zeros_like(p)
    onehot[np.arange(len(yi)), yi] = 1.0
    return {
        "samples": float(len(yi)),
        "accuracy": float(np.mean(np.argmax(p, axis=1) == yi)),
        "log_loss": float(-np.mean(np.log(np.clip(p[np.arange(len(yi)), yi], 1e-15, 1.0)))),
        "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1))),
        "base_rate_accuracy": float(np.max(np.bincount(yi, minlength=p.shape[1])) / len(yi)),
    }
