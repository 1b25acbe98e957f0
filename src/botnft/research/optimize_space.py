"""`bot optimize`'s parameter space: a TOML or JSON file, one entry per strategy parameter,

    fast  = {type = "int", low = 3, high = 30}
    slow  = {type = "int", low = 20, high = 200, step = 5}
    target_vol = {type = "float", low = 0.1, high = 1.0, log = true}
    short = {type = "categorical", choices = [true, false]}

checked against the strategy: an unknown key or type, a bound of the wrong kind, or a parameter the strategy
does not take is a one-line `UserError`. Nothing here imports Optuna: the space is a plain description that
`optimize.suggest` turns into Optuna's calls, and it is stored with the study (`to_json`) so that a worker
joining the study gets the same space.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botnft.domain.errors import UserError

TYPES = ("int", "float", "categorical")
KEYS = {
    "int": ("type", "low", "high", "step", "log"),
    "float": ("type", "low", "high", "step", "log"),
    "categorical": ("type", "choices"),
}
Choice = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str  # int | float | categorical
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: tuple[Choice, ...] = ()

    def to_json(self) -> dict[str, Any]:
        if self.type == "categorical":
            return {"type": self.type, "choices": list(self.choices)}
        out: dict[str, Any] = {"type": self.type, "low": self.low, "high": self.high, "log": self.log}
        if self.step is not None:
            out["step"] = self.step
        return out

    def probes(self) -> list[Choice]:
        """Values spread over the range (low, middle, high), for the strategy's own checks."""
        if self.type == "categorical":
            return list(self.choices)
        assert self.low is not None and self.high is not None
        mid = (self.low + self.high) / 2
        if self.type == "int":
            return [int(self.low), int(self.low + (int(self.high) - int(self.low)) // 2), int(self.high)]
        return [float(self.low), float(mid), float(self.high)]


def raw_value(v: Choice) -> str:
    """A sampled value as the `k=v` text the strategies parse (`true`/`false` for booleans)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def _number(where: str, key: str, v: Any, integer: bool) -> int | float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise UserError(f"{where}: {key} must be a number, got {v!r}")
    if integer and not isinstance(v, int):
        if not (isinstance(v, float) and v.is_integer()):
            raise UserError(f"{where}: {key} must be an integer for an int parameter, got {v!r}")
        v = int(v)
    if not math.isfinite(v):
        raise UserError(f"{where}: {key} must be finite, got {v!r}")
    return int(v) if integer else float(v)


def _param(where: str, name: str, spec: Any) -> Param:
    if not isinstance(spec, Mapping):
        raise UserError(f'{where}: {name} must be a table like {{type = "int", low = 1, high = 10}}')
    kind = spec.get("type")
    if kind not in TYPES:
        raise UserError(f"{where}: {name}: type must be one of {', '.join(TYPES)}, got {kind!r}")
    w = f"{where}: {name}"
    unknown = [k for k in spec if k not in KEYS[kind]]
    if unknown:
        raise UserError(f"{w}: unknown key {unknown[0]!r} for type {kind}; allowed: {', '.join(KEYS[kind])}")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise UserError(f"{w}: choices must be a non-empty list")
        for c in choices:
            if not isinstance(c, str | int | float | bool):
                raise UserError(f"{w}: a choice must be a string, number or boolean, got {c!r}")
        if len({(type(c), c) for c in choices}) != len(choices):
            raise UserError(f"{w}: choices repeat a value")
        return Param(name, kind, choices=tuple(choices))
    for key in ("low", "high"):
        if key not in spec:
            raise UserError(f"{w}: {kind} needs low and high")
    integer = kind == "int"
    low, high = _number(w, "low", spec["low"], integer), _number(w, "high", spec["high"], integer)
    if low > high:
        raise UserError(f"{w}: low ({low}) is above high ({high})")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise UserError(f"{w}: log must be true or false, got {log!r}")
    step = None if "step" not in spec else _number(w, "step", spec["step"], integer)
    if step is not None and step <= 0:
        raise UserError(f"{w}: step must be positive, got {step}")
    if log and low <= 0:
        raise UserError(f"{w}: a log scale needs low > 0, got {low}")
    if log and step is not None and not (integer and step == 1):
        raise UserError(f"{w}: give step or log, not both")
    return Param(name, kind, low, high, step, log)


def parse_text(text: str, fmt: str, where: str) -> dict[str, Param]:
    """The parameters of a space written as `fmt` ('toml' or 'json') text."""
    try:
        data: Any = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{where}: invalid {fmt.upper()}: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise UserError(f"{where}: the parameter space is empty (one entry per parameter to search)")
    return {str(name): _param(where, str(name), spec) for name, spec in data.items()}


def load(path: Path) -> dict[str, Param]:
    """The space in `path` (.toml or .json), every mistake one line."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("toml", "json"):
        raise UserError(f"--param-space must be a .toml or .json file, got {path.name}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"param-space file not found: {path}") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the param-space file {path}: {exc}") from None
    return parse_text(text, fmt, path.name)


def from_json(data: Mapping[str, Any]) -> dict[str, Param]:
    return {name: _param("stored space", name, spec) for name, spec in data.items()}


def to_json(space: Mapping[str, Param]) -> dict[str, Any]:
    return {name: p.to_json() for name, p in space.items()}


def _field_kind(t: Any) -> str:
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    return name if name in ("int", "float", "bool", "str") else "str"


def _fits(p: Param, kind: str) -> bool:
    """Whether the values of `p` are of the kind the strategy's field holds."""
    if p.type == "int":
        return kind in ("int", "float")
    if p.type == "float":
        return kind == "float"
    checks = {
        "bool": lambda c: isinstance(c, bool),
        "int": lambda c: isinstance(c, int) and not isinstance(c, bool),
        "float": lambda c: isinstance(c, int | float) and not isinstance(c, bool),
        "str": lambda c: isinstance(c, str),
    }
    return all(checks[kind](c) for c in p.choices)


def check_for_strategy(
    strategy: str, space: Mapping[str, Param], fixed: Mapping[str, str], where: str
) -> None:
    """Refuse a parameter the strategy does not take, values of the wrong kind, a parameter both searched and
    fixed, and a space whose every probe (all lows, middles, highs) the strategy refuses."""
    from botnft.strategy.library import REGISTRY, build_parts
    from botnft.strategy.sizing import SizingParams

    if strategy not in REGISTRY:
        raise UserError(f"unknown strategy {strategy!r}; available: {', '.join(sorted(REGISTRY))}")
    fields = {f.name: _field_kind(f.type) for f in dataclasses.fields(REGISTRY[strategy].Params)}
    fields.update({f.name: _field_kind(f.type) for f in dataclasses.fields(SizingParams)})
    for name, p in space.items():
        if name not in fields:
            own = ", ".join(f.name for f in dataclasses.fields(REGISTRY[strategy].Params)) or "none"
            raise UserError(f"{where}: strategy {strategy} takes no parameter {name!r}; its own: {own}")
        if not _fits(p, fields[name]):
            raise UserError(f"{where}: {name} holds {fields[name]} values; a {p.type} space does not fit it")
        if name in fixed:
            raise UserError(f"{name} is both searched ({where}) and fixed (--param); drop one")
    build_parts(strategy, dict(fixed))  # the fixed parameters alone
    first: UserError | None = None
    for k in range(3):
        probe = {n: raw_value(p.probes()[min(k, len(p.probes()) - 1)]) for n, p in space.items()}
        try:
            build_parts(strategy, {**fixed, **probe})
            return
        except UserError as exc:
            first = first or exc
    raise UserError(f"{where}: strategy {strategy} refuses the space's lows, middles and highs: {first}")
