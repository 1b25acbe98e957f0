"""The API's people and programs: users and API clients (argon2 hashes), refresh tokens (hashed, in
rotation families), failed logins for the throttle, and the audit log of state-changing calls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def _big_id() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
    )


def upgrade() -> None:
    for table in ("api_users", "api_clients"):
        secret = "password_hash" if table == "api_users" else "secret_hash"
        extra = (
            [
                sa.Column(
                    "password_changed_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False
                )
            ]
            if table == "api_users"
            else []
        )
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("name", sa.String(length=64), nullable=False),
            sa.Column(secret, sa.String(length=255), nullable=False),
            sa.Column("scopes", sa.String(length=64), nullable=False),
            sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
            *extra,
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("name", name=op.f(f"uq_{table}_name")),
        )
    op.create_table(
        "api_refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_api_refresh_tokens")),
    )
    op.create_index(op.f("ix_api_refresh_tokens_family_id"), "api_refresh_tokens", ["family_id"])
    op.create_table(
        "api_login_failures",
        _big_id(),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_login_failures")),
    )
    op.create_index(op.f("ix_api_login_failures_key_at"), "api_login_failures", ["key", "at"])
    op.create_table(
        "api_audit_log",
        _big_id(),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("principal", sa.String(length=80), nullable=True),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_audit_log")),
    )
    op.create_index(op.f("ix_api_audit_log_at"), "api_audit_log", ["at"])
    op.create_index(op.f("ix_api_audit_log_principal_at"), "api_audit_log", ["principal", "at"])


def downgrade() -> None:
    for table in ("api_audit_log", "api_login_failures", "api_refresh_tokens", "api_clients", "api_users"):
        op.drop_table(table)
