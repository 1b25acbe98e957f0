"""Column types that make both databases give back exactly what was stored: money and UTC timestamps.

Money is DECIMAL(18, 8) everywhere. PostgreSQL stores it natively. SQLite has no exact decimal: a NUMERIC
column turns '1234567890.12345678' into a double and '9999999999.99999999' into 10000000000, so on SQLite
the same declared column holds the value as an INTEGER count of 1e-8 units (at most 18 digits, which fits
SQLite's 64-bit integers). Ordering, equality and SUM stay exact; raw SQL on SQLite sees scaled integers.
A value that does not fit DECIMAL(18, 8) is a `StorageError`, never rounded (DESIGN C1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

from botnft.storage.errors import StorageError

MONEY_PRECISION = 18
MONEY_SCALE = 8
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_LIMIT = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)
_EXACT = Context(prec=2 * MONEY_PRECISION, traps=[InvalidOperation])
"""Arithmetic context for money conversions: wide enough to be exact, whatever the caller's context is."""


def check_money(value: object, what: str = "value") -> Decimal:
    """`value` as a Decimal that DECIMAL(18, 8) holds exactly, else a `StorageError` naming `what` and value.

    Accepts `Decimal` and `int` (never `float`: a float is already rounded). Called for every money value
    written, twice on the bulk path (record check, then column type), so the common case is kept short.
    """
    if type(value) is Decimal:
        number = value
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        raise StorageError(f"{what} must be a Decimal, got {type(value).__name__} {value!r}")
    if not number.is_finite():
        raise StorageError(f"{what} {number} is not a finite number")
    if not -_LIMIT < number < _LIMIT:
        raise StorageError(
            f"{what} {number} has more than {MONEY_PRECISION - MONEY_SCALE} integer digits "
            f"(column is DECIMAL({MONEY_PRECISION},{MONEY_SCALE}))"
        )
    quantized = number.quantize(_QUANTUM, context=_EXACT)
    if quantized != number:
        raise StorageError(
            f"{what} {number} has more than {MONEY_SCALE} decimal places "
            f"(column is DECIMAL({MONEY_PRECISION},{MONEY_SCALE}))"
        )
    return quantized


def check_utc(value: object, what: str = "timestamp") -> datetime:
    """`value` as an aware UTC datetime; `StorageError` for anything else (a naive time is ambiguous)."""
    if not isinstance(value, datetime):
        raise StorageError(f"{what} must be a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise StorageError(f"{what} {value.isoformat()} has no time zone; pass an aware UTC datetime")
    return value.astimezone(UTC)


class _SQLiteScaledInteger(Numeric[Decimal]):
    """NUMERIC(18, 8) in DDL, with the driver's float conversions switched off: Money passes integers."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class Money(TypeDecorator[Decimal]):
    """DECIMAL(18, 8) that reads back as `Decimal` on every dialect and refuses values it would round."""

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteScaledInteger(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = check_money(value)
        if dialect.name == "sqlite":
            return int(exact.scaleb(MONEY_SCALE, context=_EXACT))
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            if not isinstance(value, int):
                raise StorageError(
                    f"corrupt money value {value!r} in SQLite: expected an integer of 1e-8 units"
                )
            return Decimal(value).scaleb(-MONEY_SCALE, context=_EXACT)
        return Decimal(value)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UTCDateTime(TypeDecorator[datetime]):
    """TIMESTAMP WITH TIME ZONE that takes and gives aware UTC datetimes on every dialect.

    SQLite keeps no offset, so the value is converted to UTC before it is written and marked UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = check_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    @property
    def python_type(self) -> type[datetime]:
        return datetime
