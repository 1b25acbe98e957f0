"""The research simulation's returns, costs and funding by hand; the selector's labels; and `bot train`'s
pipeline: reproducible for a seed, refusing too little data or a feature the data lack."""

from __future__ import annotations

import numpy as np
import pytest

from botnft.domain.errors import UserError
from botnft.research import evaluate, pipeline, walkforward
from botnft.strategy.ml_model import ModelSize
from botnft.strategy.ml_targets import Costs, forward_sum, labels


def _market(spot: list[float], perp: list[float], paid: list[float]) -> evaluate.Market:
    n = len(spot)
    return evaluate.Market(
        np.arange(n, dtype=np.int64), np.array(spot), np.array(perp), np.array(paid), np.full(n, np.nan)
    )


def test_spot_returns_pay_the_fee_on_each_change_of_position() -> None:
    m = _market([100.0, 110.0, 99.0], [100.0, 110.0, 99.0], [0.0, 0.0, 0.0])
    legs = evaluate.Legs(np.array([1.0, 1.0, 0.0]), np.zeros(3))
    r = evaluate.returns(m, legs, Costs(spot_fee=0.001, perp_fee=0.0005))
    assert r.tolist() == pytest.approx([-0.001, 0.1, -0.1 - 0.001])


def test_a_short_perp_earns_the_funding_longs_pay() -> None:
    m = _market([100.0, 100.0, 100.0], [100.0, 95.0, 95.0], [0.0, 0.0001, 0.0002])
    legs = evaluate.Legs(np.zeros(3), np.array([-1.0, -1.0, -1.0]))
    r = evaluate.returns(m, legs, Costs(spot_fee=0.001, perp_fee=0.0005))
    assert r.tolist() == pytest.approx([-0.0005, 0.05 + 0.0001, 0.0002])


def test_a_carry_is_delta_neutral_and_collects_funding() -> None:
    m = _market([100.0, 120.0], [100.0, 120.0], [0.0, 0.0003])
    legs = evaluate.Legs(np.array([1.0, 1.0]), np.array([-1.0, -1.0]))
    r = evaluate.returns(m, legs, Costs(0.0, 0.0))
    assert r.tolist() == pytest.approx([0.0, 0.0003])


def test_forward_sums_and_direction_labels_look_exactly_horizon_bars_ahead() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert forward_sum(x, 2)[:3].tolist() == [5.0, 7.0, 9.0] and np.isnan(forward_sum(x, 2)[3:]).all()
    y = labels("direction", np.array([10.0, 11.0, 9.0, 12.0, 12.0]), 2)
    assert y[:3].tolist() == [0.0, 1.0, 1.0] and np.isnan(y[3:]).all()


SMALL = dict(
    data="sol-perp-1h", kind="gbm", task="selector", seed=4,
    wf=walkforward.WalkForward(folds=2, test_bars=500, horizon=12, embargo=12, min_train=800),
    size=ModelSize(10, 3, 30), n_boot=50, start_ns=int(np.datetime64("2025-09-01", "ns").astype(np.int64)),
)  # fmt: skip


def test_the_same_data_and_seed_give_the_same_metrics_and_model(tmp_path) -> None:
    a = pipeline.train(pipeline.TrainSpec(**SMALL), tmp_path / "a")
    b = pipeline.train(pipeline.TrainSpec(**SMALL), tmp_path / "b")
    assert a.summary() == b.summary()
    assert a.model_id == b.model_id
    assert {s.name for s in a.scored} == {"model", "buy_and_hold", "always_perp", "always_spot", "ema_cross"}
    assert "funding" in a.features and "basis" in a.features and "book_spread" not in a.features
    assert a.folds[0].train_last + 12 + 12 < a.folds[0].start


def test_too_little_data_for_the_windows_is_refused(tmp_path) -> None:
    spec = pipeline.TrainSpec(
        **{**SMALL, "start_ns": int(np.datetime64("2026-04-01", "ns").astype(np.int64))}
    )
    with pytest.raises(UserError, match="too little data for the windows"):
        pipeline.train(spec, tmp_path)


def test_a_feature_the_data_do_not_provide_is_refused(tmp_path) -> None:
    spec = pipeline.TrainSpec(**{**SMALL, "data": "sol-spot-1h", "features": ("ema_spread", "funding")})
    with pytest.raises(UserError, match="missing feature column 'funding'"):
        pipeline.train(spec, tmp_path)
