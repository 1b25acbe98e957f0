"""Column types that make both databases give back exactly what was stored: money and UTC timestamps.

Money is any Decimal with at most 20 integer digits and 18 decimal places (what DECIMAL(38, 18) holds: SOL's
1e-9 lamports, USDC's 1e-6, prices that are quotients). It reads back digit for digit as it was written
(`Decimal('1.50')` stays `1.50`), on both databases. PostgreSQL stores it as NUMERIC without a fixed scale,
which keeps the digits given. SQLite has no exact decimal (its NUMERIC turns text into a double), so there
the column is VARCHAR(40) holding the decimal text ('-1091.239449293'): raw SQL sees exact text; compare or
sum it in Python, or CAST it to REAL for an approximate look. A value outside the domain is a
`StorageError`, never rounded (DESIGN C1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

from botnft.storage.errors import StorageError

MONEY_PRECISION = 38
MONEY_SCALE = 18
MONEY_INTEGER_DIGITS = MONEY_PRECISION - MONEY_SCALE
MONEY_DOMAIN = (
    f"stored money has at most {MONEY_INTEGER_DIGITS} integer digits and {MONEY_SCALE} decimal places"
)
SQLITE_MONEY_LENGTH = 1 + MONEY_INTEGER_DIGITS + 1 + MONEY_SCALE
"""Sign, integer digits, point, decimals: the longest decimal text a SQLite money column holds."""

_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_LIMIT = Decimal(10) ** MONEY_INTEGER_DIGITS
_EXACT = Context(prec=2 * MONEY_PRECISION + 4, traps=[InvalidOperation])
"""Arithmetic context for money conversions: wide enough to be exact, whatever the caller's context is."""


def check_money(value: object, what: str = "value") -> Decimal:
    """`value` as the Decimal both databases store and give back, else a `StorageError` naming `what`.

    Accepts `Decimal` and `int` (never `float`: a float is already rounded). The result equals `value`;
    only its form is made canonical: no exponent above 0 (`1E+3` -> `1000`), none below -18 when the digits
    beyond are zeros, and no negative zero. Called for every money value written, so the common case is short.
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
            f"{what} {number} has more than {MONEY_INTEGER_DIGITS} integer digits ({MONEY_DOMAIN})"
        )
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -MONEY_SCALE:
        quantized = number.quantize(_QUANTUM, context=_EXACT)
        if quantized != number:
            raise StorageError(f"{what} {number} has more than {MONEY_SCALE} decimal places ({MONEY_DOMAIN})")
        number = quantized
    elif exponent > 0:
        number = number.quantize(Decimal(1), context=_EXACT)
    if number.is_zero() and number.is_signed():
        number = number.copy_abs()
    return number


def round_money(value: Decimal, what: str = "value") -> Decimal:
    """`value` rounded half-even to the stored grid (18 decimal places) where it has more: for reference
    figures, such as a decision's mid, that are quotients and not money that moved. A value out of range
    is still a `StorageError`."""
    if isinstance(value, Decimal) and value.is_finite() and -_LIMIT < value < _LIMIT:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MONEY_SCALE:
            value = value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN, context=_EXACT)
    return check_money(value, what)


def check_utc(value: object, what: str = "timestamp") -> datetime:
    """`value` as an aware UTC datetime; `StorageError` for anything else (a naive time is ambiguous)."""
    if not isinstance(value, datetime):
        raise StorageError(f"{what} must be a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise StorageError(f"{what} {value.isoformat()} has no time zone; pass an aware UTC datetime")
    return value.astimezone(UTC)


def _stored_money(value: object, dialect: Dialect) -> Decimal:
    """A money value as the database gave it back, checked: anything else is corrupt data, refused."""
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        number = Decimal("NaN")
    try:
        return check_money(number)
    except StorageError:
        raise StorageError(
            f"corrupt money value {value!r} in {dialect.name}: expected a decimal number ({MONEY_DOMAIN})"
        ) from None


class Money(TypeDecorator[Decimal]):
    """Exact money on every dialect: NUMERIC on PostgreSQL, decimal text in VARCHAR(40) on SQLite."""

    impl = Numeric(asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(SQLITE_MONEY_LENGTH))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = check_money(value)
        if dialect.name == "sqlite":
            return format(exact, "f")
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return _stored_money(value, dialect)

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
