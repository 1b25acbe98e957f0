"""Paper runs: the run table (settings, status, kill flag), the node's journal and snapshots, and the
paper venues' own state, kept apart from the node's.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _run_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["paper_runs.run_id"])


def upgrade() -> None:
    op.create_table(
        "paper_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("bars_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_event_ts", sa.BigInteger(), nullable=True),
        sa.Column("kill_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'stopped', 'killed', 'finished', 'crashed')",
            name=op.f("ck_paper_runs_status"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_paper_runs")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["paper_runs.run_id"], name=op.f("fk_journal_entries_run_id_paper_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_journal_entries")),
    )
    op.create_table(
        "node_snapshots",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("bar", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["paper_runs.run_id"], name=op.f("fk_node_snapshots_run_id_paper_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "bar", name=op.f("pk_node_snapshots")),
    )
    op.create_table(
        "paper_venue_states",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("bar", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["paper_runs.run_id"], name=op.f("fk_paper_venue_states_run_id_paper_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_paper_venue_states")),
    )


def downgrade() -> None:
    for table in ("paper_venue_states", "node_snapshots", "journal_entries", "paper_runs"):
        op.drop_table(table)
