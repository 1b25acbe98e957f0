"""Walk-forward folds, purging and embargo, out-of-sample metrics, and the model store."""

from __future__ import annotations

import hashlib
import json
import math
import zipfile

import numpy as np
import pytest

from botnft.domain.errors import UserError
from botnft.research import walkforward
from botnft.strategy import ml_model


def test_train_rows_keep_only_labels_complete_before_the_cutoff_minus_the_embargo() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    y = rng.integers(0, 2, size=500).astype(float)
    x[100, 1] = np.nan
    y[200] = np.nan
    for cutoff, h, emb, window in [(400, 24, 10, None), (300, 5, 0, 100), (50, 24, 24, None)]:
        rows = ml_model.train_rows(x, y, cutoff, h, emb, window).tolist()
        expected = [
            s for s in range(500)
            if s + h + emb <= cutoff and (window is None or s > cutoff - h - emb - window)
            and s not in (100, 200)
        ]  # fmt: skip
        assert rows == expected


def test_folds_tile_the_tail_and_too_little_data_is_refused() -> None:
    wf = walkforward.WalkForward(folds=3, test_bars=100, horizon=10, embargo=5, min_train=200)
    assert wf.test_windows(1000, 50) == [(700, 800), (800, 900), (900, 1000)]
    with pytest.raises(UserError, match="too little data for the windows"):
        wf.test_windows(560, 50)  # 260 left before the tests, 265 needed


def test_out_of_sample_predictions_ignore_data_after_t_and_train_only_before_each_fold() -> None:
    rng = np.random.default_rng(1)
    n = 1400
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(float)
    wf = walkforward.WalkForward(folds=3, test_bars=200, horizon=6, embargo=6, min_train=300)
    size = ml_model.ModelSize(10, 3, 10)
    proba, folds = walkforward.run(wf, x, y, "gbm", 2, 0, size, 0)
    for f in folds:
        assert f.train_last + wf.horizon + wf.embargo < f.start
    assert np.isnan(proba[: folds[0].start]).all() and not np.isnan(proba[folds[0].start :]).any()
    t = 1050
    x2, y2 = x.copy(), y.copy()
    x2[t + 1 :] = rng.normal(size=(n - t - 1, 4)) * 5
    y2[t + 1 :] = 1.0 - y2[t + 1 :]
    proba2, _ = walkforward.run(wf, x2, y2, "gbm", 2, 0, size, 0)
    assert np.array_equal(proba2[: t + 1], proba[: t + 1], equal_nan=True)
    assert not np.array_equal(proba2[t + 1 :], proba[t + 1 :])
    again, _ = walkforward.run(wf, x, y, "gbm", 2, 0, size, 0)
    assert np.array_equal(again, proba, equal_nan=True)  # reproducible for a seed


def test_classification_metrics_of_a_hand_worked_case() -> None:
    p = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [np.nan, np.nan]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    m = walkforward.classification_metrics(p, y)
    assert m["samples"] == 3 and m["accuracy"] == pytest.approx(2 / 3)
    assert m["log_loss"] == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.4)) / 3)
    assert m["brier"] == pytest.approx((2 * 0.2**2 + 2 * 0.3**2 + 2 * 0.6**2) / 3)


def test_calibration_undoes_an_overconfident_model() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 0.95, size=20_000)
    y = (rng.random(20_000) < p).astype(float)
    raw = np.column_stack([(1 - p) ** 3, p**3])
    raw /= raw.sum(axis=1, keepdims=True)  # log-odds three times too large
    t, bias = ml_model.fit_calibration(raw, y, 2)
    assert t == pytest.approx(3.0, rel=0.1)
    assert abs(bias[1] - bias[0]) < 0.1


@pytest.mark.parametrize("kind", ["rf", "gbm"])
def test_stored_models_round_trip_without_pickle_with_identical_predictions(kind: str, tmp_path) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 5))
    y = rng.integers(0, 3, size=600).astype(float)
    model = ml_model.fit(kind, x, y, 3, 7, ml_model.ModelSize(10, 3, 10), purge=5)
    model_id = ml_model.save(model, {"features": ["a", "b", "c", "d", "e"], "seed": 7}, tmp_path)
    assert ml_model.save(model, {"features": ["a", "b", "c", "d", "e"], "seed": 7}, tmp_path) == model_id
    loaded, meta = ml_model.load(model_id, tmp_path)
    assert np.array_equal(loaded.proba(x), model.proba(x))
    blob = (tmp_path / model_id / meta["artifact"]).read_bytes()
    assert meta["sha256"] == hashlib.sha256(blob).hexdigest()
    if kind == "gbm":
        assert blob.startswith(b"tree\n")  # LightGBM's text model
    else:
        with zipfile.ZipFile(tmp_path / model_id / "model.skops") as z:
            assert "schema.json" in z.namelist()
            assert not any(n.endswith(".pkl") for n in z.namelist())


def test_a_skops_file_with_an_untrusted_type_is_refused(tmp_path) -> None:
    import functools

    import skops.io as sio

    blob = sio.dumps({"x": functools.partial(print, "hello")})
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "model.skops").write_bytes(blob)
    meta = {"kind": "rf", "n_classes": 2, "sha256": hashlib.sha256(blob).hexdigest()}
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="untrusted types"):
        ml_model.load(str(folder), tmp_path)
