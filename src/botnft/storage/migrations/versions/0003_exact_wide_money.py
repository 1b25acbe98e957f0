"""Money columns hold 18 decimal places and 20 integer digits, exactly (SOL's lamports are 1e-9).

PostgreSQL: NUMERIC(18, 8) becomes NUMERIC, which keeps the digits written. SQLite: the INTEGER count of
1e-8 units becomes the decimal text itself in VARCHAR(40) (64-bit integers cannot hold 18 decimals); the
rows are converted exactly ('14212345678' -> '142.12345678'). Downgrading refuses to round: it fails,
naming the value, while any stored value does not fit NUMERIC(18, 8).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from alembic import op

from botnft.storage.errors import StorageError

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY_COLUMNS = {
    "trade_logs": ("amount", "price", "fee", "arrival_price"),
    "backtest_runs": ("initial_cash", "final_equity", "fees_paid", "funding_paid"),
    "trading_pairs": ("min_trade_size",),
}
NULLABLE = {"arrival_price"}
DEFAULT_ZERO = {"fee", "min_trade_size"}
OLD_LIMIT = Decimal(10) ** 10
OLD_QUANTUM = Decimal("0.00000001")


Type = sa.types.TypeEngine[Any]


def _narrow() -> Type:
    return sa.Numeric(precision=18, scale=8)


def _wide(sqlite: bool) -> Type:
    return sa.String(length=40) if sqlite else sa.Numeric()


def _alter(table: str, sqlite: bool, new: Type, old: Type) -> None:
    # SQLite rebuilds the table (copy, drop, rename); `migrate` turns its foreign keys off around this.
    with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch:
        for column in MONEY_COLUMNS[table]:
            batch.alter_column(
                column,
                type_=new,
                existing_type=old,
                existing_nullable=column in NULLABLE,
                existing_server_default=sa.text("0") if column in DEFAULT_ZERO else None,
            )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in MONEY_COLUMNS.items():
        if sqlite:
            _refuse_non_integers(table, columns)
        _alter(table, sqlite, _wide(sqlite), _narrow())
        if sqlite:
            for column in columns:
                units = f"CAST({column} AS INTEGER)"
                op.execute(
                    f"UPDATE {table} SET {column} = "
                    f"CASE WHEN {units} < 0 THEN '-' ELSE '' END || (abs({units}) / 100000000) || '.' || "
                    f"substr('0000000' || (abs({units}) % 100000000), -8) WHERE {column} IS NOT NULL"
                )


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table, columns in MONEY_COLUMNS.items():
        rows = bind.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}")).all()
        scaled = [
            {"row_id": row[0], **{name: _fits_old(table, name, row[i + 1]) for i, name in enumerate(columns)}}
            for row in rows
        ]
        _alter(table, sqlite, _narrow(), _wide(sqlite))
        if sqlite and scaled:  # integer 1e-8 units, as 0001 stores them
            assignments = ", ".join(f"{column} = :{column}" for column in columns)
            bind.execute(sa.text(f"UPDATE {table} SET {assignments} WHERE id = :row_id"), scaled)


def _fits_old(table: str, column: str, value: object) -> int | None:
    """`value` as integer 1e-8 units; `StorageError` when NUMERIC(18, 8) could not hold it exactly."""
    if value is None:
        return None
    try:
        number = Decimal(str(value))
        units = number.scaleb(8)
        exact = number.is_finite() and -OLD_LIMIT < number < OLD_LIMIT and units == units.to_integral_value()
    except InvalidOperation:
        exact = False
    if not exact:
        raise StorageError(
            f"cannot downgrade below revision 0003: {table}.{column} holds {value}, "
            "which NUMERIC(18,8) would round or cannot hold"
        )
    return int(units)


def _refuse_non_integers(table: str, columns: Sequence[str]) -> None:
    """0001 stored SQLite money as integers only; anything else is corrupt data, not something to convert."""
    for column in columns:
        query = f"SELECT {column} FROM {table} WHERE typeof({column}) NOT IN ('integer', 'null') LIMIT 1"
        found = op.get_bind().execute(sa.text(query)).first()
        if found is not None:
            raise StorageError(
                f"cannot migrate: {table}.{column} holds {found[0]!r}, not an integer of 1e-8 units"
            )
