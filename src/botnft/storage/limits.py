"""What each column can hold, checked before anything is written: text lengths, 32-bit integers, finite
floats, JSON, money (`columns.check_money`). Every refusal is a one-line `StorageError` naming the value.

`check_run_inputs` lets a caller refuse, before a backtest starts, the inputs its run row could not hold.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Column, String

from botnft.storage.columns import check_money
from botnft.storage.errors import StorageError
from botnft.storage.tables import BacktestRun

INT32 = (-(2**31), 2**31 - 1)
_SHOWN = 40
"""Longer texts are shown abbreviated in messages, so a message stays one readable line."""


def length_of(column: Any) -> int:
    """The declared length of a String column of the models (the one place the limits are written down)."""
    column_type = cast(Column[Any], column).type
    if not isinstance(column_type, String) or column_type.length is None:  # pragma: no cover - schema bug
        raise TypeError(f"{column} is not a String column with a length")
    return column_type.length


def check_text(value: object, what: str, max_length: int, *, nullable: bool = False) -> str | None:
    """`value` if it is a string of at most `max_length` characters (None too when `nullable`)."""
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise StorageError(f"{what} must be a string, got {type(value).__name__} {_shown(value)}")
    if len(value) > max_length:
        raise StorageError(f"{what} {_shown(value)} is longer than {max_length} characters")
    return value


def check_int32(value: object, what: str) -> int:
    """An integer (numpy's included, bool not) that fits PostgreSQL's 32-bit INTEGER."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise StorageError(f"{what} must be an integer, got {type(value).__name__} {_shown(value)}") from None
    if not INT32[0] <= number <= INT32[1]:
        raise StorageError(f"{what} {number} does not fit a 32-bit INTEGER column ({INT32[0]} to {INT32[1]})")
    return number


def check_finite(value: object, what: str) -> float:
    """A finite real number (float, int, Decimal, numpy's; not bool) as a float: the column is DOUBLE."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise StorageError(f"{what} must be a float, got {type(value).__name__} {_shown(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise StorageError(f"{what} {value} is not a finite number")
    return number


def is_undefined(value: object) -> bool:
    """None or NaN: a figure with no value (a Sharpe ratio of a run without returns), stored as NULL."""
    return value is None or (isinstance(value, numbers.Real) and math.isnan(float(value)))


def check_json_object(value: object, what: str) -> dict[str, Any]:
    """`value` (a mapping) as plain JSON data; see `jsonable`."""
    if not isinstance(value, Mapping):
        raise StorageError(f"{what} must be a dict, got {type(value).__name__}")
    return cast(dict[str, Any], jsonable(value, what))


def jsonable(value: object, where: str) -> Any:
    """`value` as plain JSON data: Decimal and datetime become strings, non-finite floats None."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item, f"{where}[{index}]") for index, item in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalars, without importing numpy
    if callable(item):
        return jsonable(item(), where)
    raise StorageError(f"{where} holds a {type(value).__name__}, which cannot be stored as JSON")


def check_run_inputs(
    *,
    strategy: object,
    params: object,
    data_source: object,
    venue: object,
    seed: object,
    initial_cash: object,
    names: Mapping[str, str] | None = None,
) -> None:
    """Refuse, with the `StorageError` saving would raise later, a backtest input its run row cannot hold.

    The same checks `TradeStore.save_backtest` makes on these fields, so a run that passes here can only
    fail to be stored on its results (a final equity beyond 20 integer digits). `names` says how a message
    names each field (default 'run <field>'), e.g. {'seed': '--seed'}.
    """
    label = {field: f"run {field}" for field in RUN_INPUTS} | dict(names or {})
    runs = BacktestRun.__table__.c
    check_text(strategy, label["strategy"], length_of(runs.strategy))
    check_json_object(params, label["params"])
    check_text(data_source, label["data_source"], length_of(runs.data_source))
    check_text(venue, label["venue"], length_of(runs.venue))
    check_int32(seed, label["seed"])
    check_money(initial_cash, label["initial_cash"])


RUN_INPUTS = ("strategy", "params", "data_source", "venue", "seed", "initial_cash")


def _shown(value: object) -> str:
    text = repr(value)
    if len(text) <= _SHOWN:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[: _SHOWN - 1]}…{size}"
