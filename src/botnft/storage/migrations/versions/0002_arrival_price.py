"""trade_logs.arrival_price: the mid when the order was decided, for post-trade cost analysis.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trade_logs") as batch:
        batch.add_column(sa.Column("arrival_price", sa.Numeric(precision=18, scale=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trade_logs") as batch:
        batch.drop_column("arrival_price")
