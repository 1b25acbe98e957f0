"""The named strategies, one file each. `build(name, params)` is how the rest of the bot gets one."""

from __future__ import annotations

from typing import Any

from botnft.domain.errors import UserError
from botnft.strategy.base import Strategy, parse_params
from botnft.strategy.carry import FundingCarry
from botnft.strategy.library.crossover import EmaCross, SmaCross
from botnft.strategy.library.hold import Hold
from botnft.strategy.ml_selector import MlSelector
from botnft.strategy.sizing import SizingParams, split_sizing

REGISTRY: dict[str, Any] = {cls.name: cls for cls in (EmaCross, SmaCross, Hold, FundingCarry, MlSelector)}
DEFAULT = "ema_cross"


def build(name: str, raw_params: dict[str, str] | None = None) -> Strategy:
    """The strategy with its own parameters; the sizing keys (``strategy.sizing``) are checked here and
    applied by ``botnft.engine.sizing.build_sized``, which a run uses."""
    return build_parts(name, raw_params)[0]


def build_parts(name: str, raw_params: dict[str, str] | None = None) -> tuple[Strategy, SizingParams | None]:
    """The strategy and the sizing its parameters ask for (None: its own exposure)."""
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise UserError(f"unknown strategy {name!r}; available: {', '.join(sorted(REGISTRY))}") from None
    own, sizing = split_sizing(name, raw_params or {})
    params = parse_params(name, cls.Params, own)
    strategy: Strategy = cls(params)
    return strategy, sizing


def describe() -> dict[str, dict[str, Any]]:
    """Each strategy's parameters and defaults, for `bot strategies` and the docs."""
    import dataclasses

    return {
        n: {f.name: f.default for f in dataclasses.fields(cls.Params)} for n, cls in sorted(REGISTRY.items())
    }
