"""The strategy protocol and its parameters.

A strategy reads columnar bars and returns *signals*: (bar index, target exposure) with target in
[-1, 1] (1 = full long, 0 = flat, -1 = full short), decided at that bar's close. It is fed the bars in
batches of any size (one bar at a time live, large batches in a backtest) and must give the same signals
whatever the batch size: indicator state is carried from one batch to the next.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Protocol

from botnft.domain.errors import UserError
from botnft.ports import BarArrays

Signal = tuple[int, float]


class Strategy(Protocol):
    name: ClassVar[str]

    def on_bars(self, bars: BarArrays) -> list[Signal]:
        """Signals for this batch, indices relative to the batch, in increasing order."""
        ...


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, kind: Any, raw: str) -> Any:
    text = raw.strip()
    if kind is bool or kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise UserError(f"parameter {name} must be true or false, got {raw!r}")
    try:
        if kind is int or kind == "int":
            return int(text)
        if kind is float or kind == "float":
            return float(text)
    except ValueError:
        raise UserError(
            f"parameter {name} must be a number ({kind if isinstance(kind, str) else kind.__name__}), "
            f"got {raw!r}"
        ) from None
    return text


def parse_params(strategy: str, params_cls: type[Any], raw: dict[str, str]) -> Any:
    """Build a strategy's frozen params dataclass from `k=v` strings; unknown keys are a user error."""
    fields = {f.name: f for f in dataclasses.fields(params_cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        known = ", ".join(fields) or "none"
        raise UserError(f"unknown parameter {unknown[0]!r} for strategy {strategy}; known: {known}")
    values = {k: _coerce(k, fields[k].type, v) for k, v in raw.items()}
    params = params_cls(**values)
    check = getattr(params, "check", None)
    if check is not None:
        check()
    return params
