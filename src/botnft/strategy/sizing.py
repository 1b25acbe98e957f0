"""The sizing option every exposure strategy takes (``--param sizing=...``): its parameters and their checks.

* ``sizing=vol_target``: the exposure times the leverage that makes the position's annualised volatility
  ``target_vol`` (realised volatility: the standard deviation of the last ``window`` log returns), at most
  ``max_leverage``;
* ``sizing=kelly``: the exposure times a scaled, capped Kelly fraction (``kelly_scale`` × mean / variance
  of the last ``window`` returns in the signal's direction, at most ``kelly_cap``; flat without an edge);
* ``sizing=risk_per_trade``: the exposure whose loss at a stop ``stop_atr`` ATRs away is ``risk_share``
  of equity (leverage ``risk_share`` × price / stop distance), at most ``max_leverage``.

The scaling itself runs one layer up (``botnft.engine.sizing``, on ``botnft.risk.sizing``'s helpers);
here the keys are split from the strategy's own and checked, each mistake one line naming the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from botnft.domain.errors import UserError
from botnft.strategy.base import parse_params

METHODS = ("none", "vol_target", "kelly", "risk_per_trade")
#: the keys each method reads (besides ``sizing``)
USES: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "vol_target": frozenset({"target_vol", "window", "max_leverage"}),
    "kelly": frozenset({"window", "kelly_scale", "kelly_cap"}),
    "risk_per_trade": frozenset({"risk_share", "stop_atr", "atr_period", "max_leverage"}),
}


@dataclass(frozen=True, slots=True)
class SizingParams:
    sizing: str = "none"
    target_vol: float = 0.5  # annualised
    window: int = 168  # bars of returns
    max_leverage: float = 3.0
    kelly_scale: float = 0.5
    kelly_cap: float = 1.0
    risk_share: float = 0.01
    stop_atr: float = 3.0
    atr_period: int = 14

    def check(self) -> None:
        if self.sizing not in METHODS:
            raise UserError(f"parameter sizing must be one of {', '.join(METHODS)}, got {self.sizing!r}")
        for name, ok, rule in (
            ("target_vol", 0.0 < self.target_vol <= 10.0, "in (0, 10]"),
            ("window", 2 <= self.window <= 1_000_000, "in [2, 1000000]"),
            ("max_leverage", 0.0 < self.max_leverage <= 100.0, "in (0, 100]"),
            ("kelly_scale", 0.0 < self.kelly_scale <= 1.0, "in (0, 1]"),
            ("kelly_cap", 0.0 < self.kelly_cap <= 100.0, "in (0, 100]"),
            ("risk_share", 0.0 < self.risk_share < 1.0, "in (0, 1)"),
            ("stop_atr", 0.0 < self.stop_atr <= 1_000.0, "in (0, 1000]"),
            ("atr_period", 1 <= self.atr_period <= 10_000, "in [1, 10000]"),
        ):
            if not ok:
                raise UserError(f"parameter {name} must be {rule}, got {getattr(self, name)}")


SIZING_KEYS = frozenset(f.name for f in dataclasses.fields(SizingParams))


def split_sizing(strategy: str, raw: dict[str, str]) -> tuple[dict[str, str], SizingParams | None]:
    """``raw`` without the sizing keys, and the sizing they ask for (None: the strategy's own exposure).
    A sizing key its method does not read is refused, so a typo never passes silently."""
    own = {k: v for k, v in raw.items() if k not in SIZING_KEYS}
    given = {k: v for k, v in raw.items() if k in SIZING_KEYS}
    if not given:
        return own, None
    if strategy == "funding_carry":
        raise UserError("funding_carry sizes its own legs: the sizing parameters do not apply to it")
    params = parse_params(strategy, SizingParams, given)
    extra = sorted(set(given) - {"sizing"} - USES[params.sizing])
    if extra:
        raise UserError(f"parameter {extra[0]} does not apply to sizing={params.sizing}")
    return own, (None if params.sizing == "none" else params)
