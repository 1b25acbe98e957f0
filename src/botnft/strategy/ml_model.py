"""The learned models: fitting (random forest or LightGBM), probability calibration, and the model store.

Calibration is a temperature and per-class bias on the log-probabilities, fitted by maximum likelihood on
the last part of the training window (purged from the part the model is fitted on), and kept as plain
numbers. The store never uses pickle: a random forest is a skops file loaded with an explicit list of
trusted types, LightGBM its native text model; beside it, `meta.json` with the features, windows, metrics,
data hash, seed, library versions, calibration and the artifact's sha256, checked before loading.

scikit-learn, LightGBM, skops and scipy are imported only when a model is fitted or loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from botnft.domain.errors import UserError
from botnft.strategy.indicators import F64

KINDS = ("rf", "gbm")
#: the only types a stored random forest may contain beyond skops' defaults
TRUSTED_SKOPS_TYPES = ["sklearn.tree._tree.Tree"]
ARTIFACT = {"rf": "model.skops", "gbm": "model.txt"}


@dataclass(frozen=True, slots=True)
class ModelSize:
    """How big the models are: tests and in-run training use small ones."""

    n_estimators: int = 100
    max_depth: int = 6
    min_leaf: int = 50


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UserError(f"unknown model {kind!r}; choose rf or gbm")


@dataclass(slots=True)
class TrainedModel:
    kind: str
    n_classes: int
    estimator: Any  # sklearn RandomForestClassifier | lightgbm.Booster
    temperature: float = 1.0
    bias: tuple[float, ...] = ()

    def raw_proba(self, x: F64) -> F64:
        """Class probabilities before calibration, (n, n_classes) with every class (unseen ones 0)."""
        if len(x) == 0:
            return np.empty((0, self.n_classes))
        if self.kind == "gbm":
            p = np.asarray(self.estimator.predict(x), dtype=np.float64)
            return np.asarray(p.reshape(len(x), self.n_classes), dtype=np.float64)
        p = np.asarray(self.estimator.predict_proba(x), dtype=np.float64)
        full = np.zeros((len(x), self.n_classes))
        full[:, np.asarray(self.estimator.classes_, dtype=np.int64)] = p
        return full

    def proba(self, x: F64) -> F64:
        """Calibrated class probabilities; a row with a missing feature is all NaN."""
        out = np.full((len(x), self.n_classes), np.nan)
        ok = ~np.isnan(x).any(axis=1) if len(x) else np.zeros(0, dtype=bool)
        if ok.any():
            out[ok] = _calibrated(
                self.raw_proba(x[ok]), self.temperature, np.asarray(self.bias or [0.0] * self.n_classes)
            )
        return out


def _calibrated(p: F64, temperature: float, bias: F64) -> F64:
    z = np.log(np.clip(p, 1e-6, 1.0)) / temperature + bias
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def fit_calibration(p: F64, y: F64, n_classes: int) -> tuple[float, tuple[float, ...]]:
    """Temperature and biases minimising the log loss on (p, y), with a small ridge on the biases."""
    from scipy.optimize import minimize

    yi = y.astype(np.int64)
    logp = np.log(np.clip(p, 1e-6, 1.0))

    def loss(theta: F64) -> float:
        t = math.exp(theta[0])
        z = logp / t + theta[1:]
        z = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(lse - z[np.arange(len(yi)), yi]) + 1e-3 * np.sum(theta[1:] ** 2))

    res = minimize(loss, np.zeros(n_classes + 1), method="L-BFGS-B", bounds=[(-3.0, 3.0)] * (n_classes + 1))
    theta = res.x
    return math.exp(float(theta[0])), tuple(float(b) for b in theta[1:])


def fit(
    kind: str,
    x: F64,
    y: F64,
    n_classes: int,
    seed: int,
    size: ModelSize | None = None,
    calibration_share: float = 0.2,
    purge: int = 0,
) -> TrainedModel:
    """Fit on the first part of (x, y) (time-ordered, no NaN), calibrate on its last `calibration_share`;
    the `purge` samples before the calibration part are left out of both (their labels overlap it)."""
    check_kind(kind)
    s = size or ModelSize()
    n = len(x)
    n_cal = int(n * calibration_share)
    n_fit = n - n_cal - purge
    if n_fit < 50 or (calibration_share > 0 and n_cal < 20):
        raise UserError(f"too little data to train: {n} samples for the requested windows")
    xf, yf = x[:n_fit], y[:n_fit].astype(np.int64)
    if kind == "rf":
        from sklearn.ensemble import RandomForestClassifier

        est: Any = RandomForestClassifier(
            n_estimators=s.n_estimators, max_depth=s.max_depth, min_samples_leaf=s.min_leaf,
            random_state=seed, n_jobs=1,
        ).fit(xf, yf)  # fmt: skip
    else:
        import lightgbm as lgb

        params = {
            "objective": "multiclass", "num_class": n_classes, "learning_rate": 0.05,
            "num_leaves": 2 ** min(s.max_depth, 5) - 1, "max_depth": s.max_depth,
            "min_data_in_leaf": s.min_leaf, "feature_fraction": 0.8, "bagging_fraction": 0.8,
            "bagging_freq": 1, "lambda_l2": 1.0, "seed": seed, "deterministic": True,
            "force_row_wise": True, "num_threads": 1, "verbose": -1,
        }  # fmt: skip
        est = lgb.train(params, lgb.Dataset(xf, yf, free_raw_data=True), num_boost_round=s.n_estimators)
    model = TrainedModel(kind, n_classes, est)
    if n_cal:
        xc, yc = x[n - n_cal :], y[n - n_cal :]
        model.temperature, model.bias = fit_calibration(model.raw_proba(xc), yc, n_classes)
    return model


def artifact_bytes(model: TrainedModel) -> bytes:
    if model.kind == "gbm":
        return str(model.estimator.model_to_string()).encode()
    import skops.io as sio

    return _canonical_zip(bytes(sio.dumps(model.estimator)))


def _canonical_zip(blob: bytes) -> bytes:
    """The skops zip rewritten so that one model gives one file (and one ID) whenever it is saved: skops
    names its array entries and reference links after object ids and stamps the time; here they are
    numbered in the order schema.json first names them, with a fixed time."""
    import io
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(blob))
    schema = src.read("schema.json").decode()
    rename: dict[str, str] = {}
    for name in re.findall(r'"(\d+\.npy)"', schema):
        rename.setdefault(name, f"{len(rename)}.npy")
    schema = re.sub(r'"(\d+\.npy)"', lambda m: f'"{rename[m.group(1)]}"', schema)
    ids: dict[str, str] = {}  # object ids that link repeated references: renumbered, same links
    for value in re.findall(r'"__id__": (\d+)', schema):
        ids.setdefault(value, str(len(ids) + 1))
    schema = re.sub(r'"__id__": (\d+)', lambda m: f'"__id__": {ids[m.group(1)]}', schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        entries = {"schema.json": schema.encode()}
        for name in src.namelist():
            if name != "schema.json":
                entries[rename.get(name, name)] = src.read(name)
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, entries[name])
    return out.getvalue()


def save(model: TrainedModel, meta: dict[str, Any], root: Path) -> str:
    """Write the model and its metadata under `root`/ID and return ID (derived from the content: the same
    data, settings and seed give the same ID)."""
    blob = artifact_bytes(model)
    digest = hashlib.sha256(blob).hexdigest()
    full = {
        **meta,
        "kind": model.kind,
        "n_classes": model.n_classes,
        "calibration": {"temperature": model.temperature, "bias": list(model.bias)},
        "artifact": ARTIFACT[model.kind],
        "sha256": digest,
    }
    text = json.dumps(full, sort_keys=True, indent=2, default=str)
    model_id = hashlib.sha256(blob + text.encode()).hexdigest()[:16]
    full["id"] = model_id
    folder = root / model_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ARTIFACT[model.kind]).write_bytes(blob)
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(full, sort_keys=True, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(folder / "meta.json")
    return model_id


def resolve(ref: str, root: Path) -> Path:
    """A model folder from an ID under `root` or a folder path."""
    for folder in (Path(ref), root / ref):
        if (folder / "meta.json").is_file():
            return folder
    raise UserError(f"model {ref!r} not found (no meta.json in {ref} or {root / ref})")


def load(ref: str, root: Path) -> tuple[TrainedModel, dict[str, Any]]:
    """The stored model and its metadata; a changed artifact (sha256) or an untrusted type is refused."""
    folder = resolve(ref, root)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        kind = meta["kind"]
        check_kind(kind)
        blob = (folder / ARTIFACT[kind]).read_bytes()
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"model {ref!r} is unreadable: {exc}") from None
    if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
        raise UserError(f"model {ref!r}: the artifact does not match its sha256; refusing to load it")
    if kind == "gbm":
        import lightgbm as lgb

        est: Any = lgb.Booster(model_str=blob.decode())
    else:
        import skops.io as sio

        untrusted = sio.get_untrusted_types(data=blob)
        extra = sorted(set(untrusted) - set(TRUSTED_SKOPS_TYPES))
        if extra:
            raise UserError(f"model {ref!r} contains untrusted types: {', '.join(extra)}")
        est = sio.loads(blob, trusted=TRUSTED_SKOPS_TYPES)
    cal = meta.get("calibration", {})
    model = TrainedModel(
        kind, int(meta["n_classes"]), est, float(cal.get("temperature", 1.0)), tuple(cal.get("bias", ()))
    )
    return model, meta


def versions() -> dict[str, str]:
    """The versions of the libraries a model depends on."""
    import importlib.metadata as md

    out = {"numpy": np.__version__}
    for name in ("scikit-learn", "lightgbm", "skops", "scipy"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "absent"
    return out


def train_rows(
    x: F64, y: F64, cutoff: int, horizon: int, embargo: int, window: int | None
) -> NDArray[np.int64]:
    """Indices of the samples a model decided at bar `cutoff` may learn from: each label (which looks
    `horizon` bars ahead) complete by `cutoff` with `embargo` bars to spare, within the last `window` bars
    (None: all), with no missing feature or label."""
    last = cutoff - horizon - embargo  # s + horizon <= cutoff - embargo
    first = 0 if window is None else max(0, last - window + 1)
    if last < first:
        return np.empty(0, dtype=np.int64)
    idx = np.arange(first, last + 1)
    ok = ~np.isnan(x[idx]).any(axis=1) & ~np.isnan(y[idx])
    return idx[ok]
