"""What the resource routes share: opaque pagination cursors, the page size parameter, decimal strings,
thread offloading of blocking storage calls, and the 404/409 problems."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from botnft.api.problems import AUTHED_RESPONSES, ProblemError, problem_responses
from botnft.domain.money import plain
from botnft.storage.errors import StorageError

_T = TypeVar("_T")

MAX_PAGE = 500
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")]
Cursor = Annotated[
    str | None,
    Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="the `next_cursor` of the previous page"),
]
#: a decimal number as text (money and sizes): digits with an optional sign and fraction, no exponent
DECIMAL_PATTERN = r"^[+-]?(\d{1,30}(\.\d{0,18})?|\.\d{1,18})$"
DecimalText = Annotated[str, Field(pattern=DECIMAL_PATTERN, max_length=50, examples=["100000", "0.5"])]

AUTHED = AUTHED_RESPONSES
AUTHED_404 = {**AUTHED_RESPONSES, **problem_responses(404)}
AUTHED_404_409 = {**AUTHED_RESPONSES, **problem_responses(404, 409)}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def encode_cursor(kind: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The id a page continues before (or after); a cursor of another listing or garbage is a 422."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix == kind and number.isdigit() and len(number) <= 18:
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ProblemError(422, "the cursor is not one this listing gave", kind="validation")


def money(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def not_found(what: str) -> ProblemError:
    return ProblemError(404, f"no {what}", kind="not-found")


async def blocking(call: Callable[..., _T], *args: Any) -> _T:
    """Run a blocking storage call in a worker thread; the database being away is a 503 problem."""
    try:
        return await anyio.to_thread.run_sync(call, *args)
    except StorageError:
        raise ProblemError(503, "the database is unavailable", kind="unavailable") from None


def to_decimal(text: str | None, name: str) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except ArithmeticError:
        raise ProblemError(422, f"{name} is not a decimal number", kind="validation") from None
