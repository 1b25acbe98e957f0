"""A paper run's settings as stored with the run (JSON), so `--resume` continues with exactly them."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from botnft.backtest.spec import BacktestSpec

_DECIMALS = ("fee_bps", "size", "cash_fraction", "cash")
_DATES = ("start", "end")


def spec_to_json(spec: BacktestSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(spec):
        v = getattr(spec, f.name)
        if v is None:
            out[f.name] = None
        elif f.name in _DECIMALS:
            out[f.name] = str(v)
        elif f.name in _DATES:
            out[f.name] = v.isoformat()
        elif f.name == "venues":
            out[f.name] = list(v)
        elif f.name in ("params", "liquidity"):
            out[f.name] = {k: dict(x) if isinstance(x, dict) else x for k, x in dict(v).items()}
        else:
            out[f.name] = v
    return out


def spec_from_json(data: dict[str, Any]) -> BacktestSpec:
    values: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(BacktestSpec)}
    for k, raw in data.items():
        if k not in names:
            continue
        value: Any = raw
        if raw is not None and k in _DECIMALS:
            value = Decimal(raw)
        elif raw is not None and k in _DATES:
            value = datetime.fromisoformat(raw)
        elif k == "venues":
            value = tuple(raw)
        values[k] = value
    return BacktestSpec(**values)
