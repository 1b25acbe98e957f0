"""`--seed` reaches a learned strategy: the run's seed seeds its models unless the strategy's own
``seed`` parameter is given."""

from __future__ import annotations

from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest


def _seed_of(**kw: object) -> int:
    session = build_backtest(BacktestSpec(data="sol-perp-1h", strategy="ml_selector", **kw))  # type: ignore[arg-type]
    return int(session.node.strategy.params.seed)


def test_the_run_seed_becomes_the_models_seed() -> None:
    assert _seed_of(seed=7) == 7
    assert _seed_of(seed=8) == 8


def test_an_explicit_seed_parameter_wins() -> None:
    assert _seed_of(seed=7, params={"seed": "3"}) == 3
