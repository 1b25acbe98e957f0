"""ml_selector: decisions independent of batching and of every bar after them (trained inside the run or
loaded from the store), no trading before a stored model's window ends, flat when stale or a feature is
missing, one-line errors for bad parameters."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest

from botnft.data import bundle
from botnft.data.bars import BarBatch
from botnft.data.loader import load_candles
from botnft.domain.errors import UserError
from botnft.strategy import ml_model
from botnft.strategy.library import build
from botnft.strategy.ml_selector import MlSelector

SMALL = {"trees": "8", "depth": "4", "min_leaf": "20", "min_train": "300", "train": "800", "retrain": "200",
         "horizon": "12", "embargo": "12"}  # fmt: skip


@pytest.fixture(scope="module")
def bars() -> BarBatch:
    return load_candles(bundle.DATASETS["sol-perp-1h"].path).slice(5000, 6600)


def _run(strategy: MlSelector, b: BarBatch, cuts: list[int] | None = None) -> list[tuple[int, float]]:
    edges = [0, *(cuts or []), len(b)]
    out = []
    for lo, hi in itertools.pairwise(edges):
        out += [(lo + i, t) for i, t in strategy.on_bars(b.slice(lo, hi))]
    return out


def _selector(**extra: str) -> MlSelector:
    s = build("ml_selector", {**SMALL, **extra})
    assert isinstance(s, MlSelector)
    return s


def _altered_after(b: BarBatch, t: int, rng: np.random.Generator) -> BarBatch:
    """A copy whose bars after t are scaled by random factors (highs up, lows down, volume up)."""
    f = rng.uniform(0.6, 1.4, size=len(b) - t - 1)

    def alt(a: np.ndarray, extra: float = 1.0) -> np.ndarray:
        c = a.copy()
        c[t + 1 :] *= f * extra
        return c

    return dataclasses.replace(
        b, open=alt(b.open), high=alt(b.high, 1.05), low=alt(b.low, 0.95), close=alt(b.close),
        volume=alt(b.volume, 1.3),
    )  # fmt: skip


def test_in_run_decisions_do_not_depend_on_the_batch_size(bars: BarBatch) -> None:
    whole = _run(_selector(), bars)
    assert len(whole) >= 5  # it trades
    rng = np.random.default_rng(2)
    cuts = sorted(rng.choice(np.arange(1, len(bars)), size=25, replace=False).tolist())
    assert _run(_selector(), bars, cuts) == whole
    assert _run(_selector(), bars, list(range(1, len(bars)))[::97]) == whole


def test_in_run_decisions_at_or_before_t_ignore_every_bar_after_t(bars: BarBatch) -> None:
    base = _selector()
    reference = _run(base, bars)
    assert base.fits >= 4
    for bar, first, last in base.fit_log:  # every label learnt was complete, with the embargo, at the refit
        assert last + 12 + 12 <= bar and bar - first < 800 + 24
    rng = np.random.default_rng(9)
    # random bars, and bars just after refits (where a refit that peeked ahead would show)
    near_fits = [g + k for g, _, _ in base.fit_log[1:4] for k in (0, 11)]
    for t in rng.integers(400, len(bars) - 50, size=3).tolist() + near_fits:
        changed = _run(_selector(), _altered_after(bars, t, rng))
        assert [s for s in changed if s[0] <= t] == [s for s in reference if s[0] <= t], t
        assert changed != reference  # the alteration is big enough to change later decisions


def test_the_same_data_and_seed_give_the_same_decisions_and_another_seed_may_not(bars: BarBatch) -> None:
    assert _run(_selector(seed="3"), bars) == _run(_selector(seed="3"), bars)


def _stored(tmp_path, b: BarBatch, features: tuple[str, ...], end: int) -> str:
    """A small model trained by hand on bars [0, end) and stored with the metadata bot train writes."""
    from botnft.strategy.features import compute_features, matrix
    from botnft.strategy.ml_targets import labels

    c = b.close[:end]
    f = compute_features(c, b.high[:end], b.low[:end], b.volume[:end])
    x = matrix(f, features)
    y = labels("selector", c, 12, f)
    rows = ml_model.train_rows(x, y, end - 1, 12, 0, None)
    model = ml_model.fit("gbm", x[rows], y[rows], 6, 0, ml_model.ModelSize(10, 3, 20), purge=12)
    meta = {"task": "selector", "features": list(features), "horizon": 12,
            "train_end_ns": int(b.ts_ns[end - 1] + b.interval_ns)}  # fmt: skip
    return ml_model.save(model, meta, tmp_path)


def test_a_stored_model_never_trades_before_its_training_window_ends(tmp_path, bars: BarBatch) -> None:
    from botnft.strategy.features import PRICE_FEATURES

    mid = 800
    model_id = _stored(tmp_path, bars, PRICE_FEATURES, mid)
    s = _selector(model=model_id, models_dir=str(tmp_path), stale="100000")
    signals = _run(s, bars)
    assert signals and min(i for i, _ in signals) >= mid  # decisions only after bar mid-1's close
    assert (
        _run(_selector(model=model_id, models_dir=str(tmp_path), stale="100000"), bars, [3, 500, 900])
        == signals
    )
    # leak-free after the window too: bars after t change nothing at or before t
    rng = np.random.default_rng(4)
    t = 1100
    alt = _run(
        _selector(model=model_id, models_dir=str(tmp_path), stale="100000"), _altered_after(bars, t, rng)
    )
    assert [x for x in alt if x[0] <= t] == [x for x in signals if x[0] <= t]


def test_a_stale_stored_model_goes_flat(tmp_path, bars: BarBatch) -> None:
    from botnft.strategy.features import PRICE_FEATURES

    model_id = _stored(tmp_path, bars, PRICE_FEATURES, 800)
    signals = _run(_selector(model=model_id, models_dir=str(tmp_path), stale="200"), bars)
    last_live = 800 + 200
    assert all(t == 0.0 for i, t in signals if i > last_live)
    held = 0.0
    for i, t in signals:
        if i <= last_live:
            held = t
    assert held == 0.0 or any(i > last_live and t == 0.0 for i, t in signals)  # flat once stale


def test_a_model_needing_a_feature_the_node_lacks_stays_flat(tmp_path, bars: BarBatch) -> None:
    # trained with funding; the candles the node sees carry none
    from botnft.strategy.features import compute_features, matrix
    from botnft.strategy.ml_targets import labels

    fund = np.full(800, 1e-4)
    f = compute_features(bars.close[:800], bars.high[:800], bars.low[:800], bars.volume[:800], fund)
    names = ("ema_spread", "rsi", "funding")
    x = matrix(f, names)
    y = labels("selector", bars.close[:800], 12, f)
    rows = ml_model.train_rows(x, y, 799, 12, 0, None)
    model = ml_model.fit("rf", x[rows], y[rows], 6, 0, ml_model.ModelSize(5, 3, 20), purge=12)
    end_ns = int(bars.ts_ns[799] + bars.interval_ns)
    meta = {"task": "selector", "features": list(names), "horizon": 12, "train_end_ns": end_ns}
    model_id = ml_model.save(model, meta, tmp_path)
    assert _run(_selector(model=model_id, models_dir=str(tmp_path), stale="100000"), bars) == []


def test_a_changed_artifact_is_refused(tmp_path, bars: BarBatch) -> None:
    from botnft.strategy.features import PRICE_FEATURES

    model_id = _stored(tmp_path, bars, PRICE_FEATURES, 800)
    meta = json.loads((tmp_path / model_id / "meta.json").read_text())
    (tmp_path / model_id / meta["artifact"]).write_text("tree\n")
    with pytest.raises(UserError, match="sha256"):
        _selector(model=model_id, models_dir=str(tmp_path))


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"kind": "svm"}, "unknown model"),
        ({"task": "price"}, "unknown task"),
        ({"horizon": "0"}, "horizon"),
        ({"features": "ema_spread+nope"}, "unknown feature"),
        ({"model": "0123456789abcdef"}, "not found"),
        ({"train": "100", "min_train": "300"}, "below min_train"),
    ],
)
def test_bad_parameters_are_one_line_user_errors(params: dict[str, str], needle: str, tmp_path) -> None:
    with pytest.raises(UserError, match=needle):
        build("ml_selector", {**params, "models_dir": str(tmp_path)})
