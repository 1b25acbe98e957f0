"""`bot train`'s work: load the candles (with the perp's funding and the spot close for its basis when the
data provide them), compute the features, label, train walk-forward, score out of sample against the
baselines, fit the final model on everything and store it with its metadata."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from botnft.domain.errors import UserError
from botnft.research import evaluate, walkforward
from botnft.strategy import ml_model
from botnft.strategy.features import ALL_FEATURES, FeatureParams, compute_features, funding_per_bar, matrix
from botnft.strategy.indicators import F64
from botnft.strategy.ml_targets import Costs, classes, labels

YEAR_NS = 365.25 * 24 * 3600 * 1e9


@dataclass(frozen=True, slots=True)
class TrainSpec:
    data: str
    kind: str
    task: str
    seed: int = 0
    features: tuple[str, ...] | None = None  # None: every feature the data provide
    wf: walkforward.WalkForward = field(default_factory=walkforward.WalkForward)
    size: ml_model.ModelSize = field(default_factory=ml_model.ModelSize)
    costs: Costs = field(default_factory=Costs)
    spot: str | None = None  # spot candles for the basis (default: the bundled spot set of a bundled perp)
    n_boot: int = 500
    start_ns: int | None = None
    end_ns: int | None = None


@dataclass(slots=True)
class Loaded:
    name: str
    market: str
    ts_ns: NDArray[np.int64]
    interval_ns: int
    close: F64
    high: F64
    low: F64
    volume: F64
    funding_now: F64 | None
    funding_paid: F64
    spot_close: F64 | None
    digest: str


def _funding_paid(ts_ns: NDArray[Any], interval_ns: int, f_ts: NDArray[Any], rate: F64) -> F64:
    """The funding booked in each bar: events in (open, close]."""
    close_ts = np.asarray(ts_ns, dtype=np.int64) + interval_ns
    pos = np.searchsorted(np.asarray(close_ts), np.asarray(f_ts, dtype=np.int64), side="left")
    out = np.zeros(len(close_ts))
    ok = (pos < len(close_ts)) & (
        np.asarray(f_ts) > np.asarray(ts_ns, dtype=np.int64)[np.minimum(pos, len(ts_ns) - 1)]
    )
    np.add.at(out, pos[ok], np.asarray(rate, dtype=np.float64)[ok])
    return out


def load(spec: TrainSpec) -> Loaded:
    from botnft.bootstrap import load_market_data
    from botnft.data import bundle
    from botnft.data.loader import load_candles

    md = load_market_data(spec.data)
    bars = md.bars.between(spec.start_ns, spec.end_ns)
    if len(bars) < 2:
        raise UserError(f"too little data: {len(bars)} bars in {md.name} for the requested span")
    ts = np.asarray(bars.ts_ns, dtype=np.int64)
    h = hashlib.sha256()
    for a in (ts, bars.open, bars.high, bars.low, bars.close, bars.volume):
        h.update(np.ascontiguousarray(a).tobytes())
    funding_now, paid = None, np.zeros(len(bars))
    if md.funding is not None and len(md.funding):
        f = md.funding
        funding_now = funding_per_bar(ts, bars.interval_ns, f.ts_ns, f.rate)
        paid = _funding_paid(ts, bars.interval_ns, f.ts_ns, f.rate)
        h.update(np.ascontiguousarray(f.ts_ns).tobytes() + np.ascontiguousarray(f.rate).tobytes())
    spot_close = None
    spot_name = spec.spot or ("sol-spot-1h" if md.market == "perp" and spec.data in bundle.DATASETS else None)
    if md.market == "perp" and spot_name:
        s = load_candles(bundle.get(spot_name).path if spot_name in bundle.DATASETS else Path(spot_name))
        pos = np.searchsorted(s.ts_ns, ts)
        pos = np.minimum(pos, len(s.ts_ns) - 1)
        hit = s.ts_ns[pos] == ts
        spot_close = np.where(hit, s.close[pos], np.nan)
        h.update(np.ascontiguousarray(spot_close).tobytes())
    return Loaded(
        md.name, md.market, ts, bars.interval_ns, np.asarray(bars.close), np.asarray(bars.high),
        np.asarray(bars.low), np.asarray(bars.volume), funding_now, paid, spot_close, h.hexdigest(),
    )  # fmt: skip


def choose_features(spec: TrainSpec, feats: dict[str, F64]) -> tuple[str, ...]:
    """The requested features (each must exist and have values), or every feature with values."""
    if spec.features is not None:
        for name in spec.features:
            if name not in ALL_FEATURES:
                raise UserError(f"unknown feature {name!r}; known: {', '.join(ALL_FEATURES)}")
            if np.isnan(feats[name]).all():
                raise UserError(f"missing feature column {name!r}: the data provide no values for it")
        return spec.features
    return tuple(n for n in ALL_FEATURES if not np.isnan(feats[n]).all())


@dataclass(slots=True)
class TrainResult:
    spec: TrainSpec
    data: Loaded
    features: tuple[str, ...]
    folds: list[walkforward.FoldResult]
    metrics: dict[str, float]
    scored: list[evaluate.Scored]
    oos: slice
    model_id: str
    model_dir: Path
    timings: dict[str, float]
    class_counts: dict[str, int]
    chosen_counts: dict[str, int]

    def summary(self) -> dict[str, Any]:
        return {
            "data": self.data.name,
            "data_sha256": self.data.digest,
            "model": self.spec.kind,
            "task": self.spec.task,
            "seed": self.spec.seed,
            "model_id": self.model_id,
            "features": list(self.features),
            "folds": [_fold_json(f) for f in self.folds],
            "oos_bars": self.oos.stop - self.oos.start,
            "metrics": self.metrics,
            "strategies": {s.name: s.to_json() for s in self.scored},
            "oos_class_counts": self.class_counts,
            "oos_chosen_counts": self.chosen_counts,
        }


def _fold_json(f: walkforward.FoldResult) -> dict[str, int]:
    return {"start": f.start, "end": f.end, "train_first": f.train_first, "train_last": f.train_last,
            "samples": f.samples}  # fmt: skip


def train(spec: TrainSpec, models_root: Path, step: Callable[[str], None] | None = None) -> TrainResult:
    """The whole `bot train` run; `step` is told each stage as it finishes (the progress bar)."""
    ml_model.check_kind(spec.kind)
    names = classes(spec.task)
    t0 = time.perf_counter()
    d = load(spec)
    fp = FeatureParams()
    feats = compute_features(d.close, d.high, d.low, d.volume, d.funding_now, d.spot_close, None, fp)
    chosen_features = choose_features(spec, feats)
    x = matrix(feats, chosen_features)
    y = labels(spec.task, d.close, spec.wf.horizon, feats, d.funding_paid, spec.costs)
    timings = {"load_and_features_s": time.perf_counter() - t0}
    if step:
        step("features")
    t1 = time.perf_counter()
    proba, folds = walkforward.run(
        spec.wf, x, y, spec.kind, len(names), spec.seed, spec.size, fp.warmup,
        on_fold=(lambda k: step(f"fold {k + 1}")) if step else None,
    )  # fmt: skip
    timings["walk_forward_s"] = time.perf_counter() - t1
    oos = slice(folds[0].start, folds[-1].end)
    metrics = walkforward.classification_metrics(proba[oos], y[oos])
    t2 = time.perf_counter()
    legs = evaluate.legs_of(spec.task, proba[oos], {k: v[oos] for k, v in feats.items()}, spec.wf.horizon)
    spot = d.close if d.spot_close is None else np.where(np.isnan(d.spot_close), d.close, d.spot_close)
    funding_now = d.funding_now if d.funding_now is not None else np.full(len(d.close), np.nan)
    market = evaluate.Market(d.ts_ns[oos], spot[oos], d.close[oos], d.funding_paid[oos], funding_now[oos])
    per_year = YEAR_NS / d.interval_ns
    scored = evaluate.compare(market, legs, spec.costs, per_year, spec.n_boot, spec.seed)
    timings["evaluation_s"] = time.perf_counter() - t2
    if step:
        step("evaluation")
    t3 = time.perf_counter()
    n = len(x)
    rows = ml_model.train_rows(x, y, n - 1, spec.wf.horizon, 0, spec.wf.train_bars)
    final = ml_model.fit(spec.kind, x[rows], y[rows], len(names), spec.seed, spec.size, purge=spec.wf.horizon)
    yo = y[oos]
    counts = {names[i]: int(np.sum(yo == i)) for i in range(len(names))}
    po = proba[oos]
    choice = np.argmax(np.nan_to_num(po, nan=-1.0), axis=1)[~np.isnan(po).any(axis=1)]
    chosen = {names[i]: int(np.sum(choice == i)) for i in range(len(names))}
    meta = {
        "task": spec.task,
        "classes": list(names),
        "features": list(chosen_features),
        "feature_params": {k: getattr(fp, k) for k in fp.__slots__},
        "horizon": spec.wf.horizon,
        "embargo": spec.wf.embargo,
        "train_first_ns": int(d.ts_ns[rows[0]]),
        "train_end_ns": int(d.ts_ns[n - 1] + d.interval_ns),  # the last label's future ends here
        "interval_ns": d.interval_ns,
        "samples": len(rows),
        "walk_forward": {"folds": [_fold_json(f) for f in folds], "metrics": metrics},
        "strategies": {s.name: s.to_json() for s in scored},
        "data": d.name,
        "data_sha256": d.digest,
        "seed": spec.seed,
        "size": {"n_estimators": spec.size.n_estimators, "max_depth": spec.size.max_depth,
                 "min_leaf": spec.size.min_leaf},
        "versions": ml_model.versions(),
    }  # fmt: skip
    model_id = ml_model.save(final, meta, models_root)
    timings["final_fit_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0
    if step:
        step("final model")
    return TrainResult(
        spec,
        d,
        chosen_features,
        folds,
        metrics,
        scored,
        oos,
        model_id,
        models_root / model_id,
        timings,
        counts,
        chosen,
    )
