"""Backtest jobs submitted through the API (queued, claimed by workers, cancelled, finished with a stored
run) and stored runs' equity curves.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backtest_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("submitted_by", sa.String(length=80), nullable=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')",
            name=op.f("ck_backtest_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["backtest_runs.id"], name=op.f("fk_backtest_jobs_run_id_backtest_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_jobs")),
    )
    op.create_index(op.f("ix_backtest_jobs_status_id"), "backtest_jobs", ["status", "id"])
    op.create_table(
        "backtest_equity",
        sa.Column("run_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("curve", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["backtest_runs.id"], name=op.f("fk_backtest_equity_run_id_backtest_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_backtest_equity")),
    )


def downgrade() -> None:
    op.drop_table("backtest_equity")
    op.drop_index(op.f("ix_backtest_jobs_status_id"), table_name="backtest_jobs")
    op.drop_table("backtest_jobs")
