"""Initial schema: trading_pairs, backtest_runs, trade_logs.

Written by hand with plain SQLAlchemy types, so it never changes when the models do: money is
NUMERIC(18, 8) (on SQLite it holds integer 1e-8 units, see `botnft.storage.columns`), timestamps are
TIMESTAMP WITH TIME ZONE in UTC.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")


def _money() -> sa.Numeric[Decimal]:
    return sa.Numeric(precision=18, scale=8)


def upgrade() -> None:
    op.create_table(
        "trading_pairs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("base_asset", sa.String(length=10), nullable=False),
        sa.Column("quote_asset", sa.String(length=10), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("min_trade_size", _money(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trading_pairs"),
        sa.UniqueConstraint("symbol", "venue", name="uq_trading_pairs_symbol_venue"),
    )
    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("strategy", sa.String(length=50), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("data_source", sa.String(length=200), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("start_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bars", sa.Integer(), nullable=False),
        sa.Column("fills", sa.Integer(), nullable=False),
        sa.Column("round_trips", sa.Integer(), nullable=False),
        sa.Column("initial_cash", _money(), nullable=False),
        sa.Column("final_equity", _money(), nullable=False),
        sa.Column("total_return", sa.Double(), nullable=False),
        sa.Column("max_drawdown", sa.Double(), nullable=False),
        sa.Column("sharpe", sa.Double(), nullable=True),
        sa.Column("fees_paid", _money(), nullable=False),
        sa.Column("funding_paid", _money(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backtest_runs"),
    )
    op.create_table(
        "trade_logs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trade_type", sa.String(length=10), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("price", _money(), nullable=False),
        sa.Column("fee", _money(), server_default=sa.text("0"), nullable=False),
        sa.Column("venue", sa.String(length=20), nullable=False),
        sa.Column("strategy", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=20), server_default=sa.text("'executed'"), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=True),
        sa.Column("tx_signature", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("trade_type IN ('buy', 'sell')", name="ck_trade_logs_trade_type"),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["trading_pairs.id"], name="fk_trade_logs_pair_id_trading_pairs"
        ),
        sa.ForeignKeyConstraint(["run_id"], ["backtest_runs.id"], name="fk_trade_logs_run_id_backtest_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_trade_logs"),
    )
    op.create_index("ix_trade_logs_run_id", "trade_logs", ["run_id"])
    op.create_index("ix_trade_logs_pair_id_ts", "trade_logs", ["pair_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_trade_logs_pair_id_ts", table_name="trade_logs")
    op.drop_index("ix_trade_logs_run_id", table_name="trade_logs")
    op.drop_table("trade_logs")
    op.drop_table("backtest_runs")
    op.drop_table("trading_pairs")
