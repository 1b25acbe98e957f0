"""The schema as SQLAlchemy 2 declarative models: trading pairs, trade logs, backtest runs, paper runs.

The migrations in `migrations/versions/` create exactly this schema (a test compares them); change both
together. Constraint and index names follow `NAMING_CONVENTION`, so they are the same on every dialect.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from botnft.storage.columns import Money, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NOW = text("CURRENT_TIMESTAMP")
"""Server default for `created_at`: the database's clock, in UTC (SQLite's CURRENT_TIMESTAMP is UTC)."""

TRADE_TYPES = ("buy", "sell")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TradingPair(Base):
    """A market on a venue; trades point at it. Unique by (symbol, venue)."""

    __tablename__ = "trading_pairs"
    __table_args__ = (UniqueConstraint("symbol", "venue"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(20))
    base_asset: Mapped[str] = mapped_column(String(10))
    quote_asset: Mapped[str] = mapped_column(String(10))
    venue: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    min_trade_size: Mapped[Decimal] = mapped_column(Money(), server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=NOW)


class BacktestRun(Base):
    """One stored backtest: what ran (strategy, params, data, seed), its headline figures and full summary."""

    __tablename__ = "backtest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=NOW)
    strategy: Mapped[str] = mapped_column(String(50))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_source: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(20))
    seed: Mapped[int] = mapped_column(Integer)
    start_ts: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_ts: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bars: Mapped[int] = mapped_column(Integer)
    fills: Mapped[int] = mapped_column(Integer)
    round_trips: Mapped[int] = mapped_column(Integer)
    initial_cash: Mapped[Decimal] = mapped_column(Money())
    final_equity: Mapped[Decimal] = mapped_column(Money())
    total_return: Mapped[float] = mapped_column(Double)
    max_drawdown: Mapped[float] = mapped_column(Double)
    sharpe: Mapped[float | None] = mapped_column(Double)
    fees_paid: Mapped[Decimal] = mapped_column(Money())
    funding_paid: Mapped[Decimal] = mapped_column(Money())
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class TradeLog(Base):
    """One executed trade. `run_id` is NULL for live and paper trades, set for a backtest's fills."""

    __tablename__ = "trade_logs"
    __table_args__ = (
        CheckConstraint("trade_type IN ('buy', 'sell')", name="trade_type"),
        Index(None, "run_id"),
        Index(None, "pair_id", "ts"),
    )

    # BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" autoincrements (rowid).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    pair_id: Mapped[int] = mapped_column(ForeignKey("trading_pairs.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("backtest_runs.id"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    trade_type: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal] = mapped_column(Money())
    fee: Mapped[Decimal] = mapped_column(Money(), server_default=text("0"))
    venue: Mapped[str] = mapped_column(String(20))
    strategy: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'executed'"))
    client_order_id: Mapped[str | None] = mapped_column(String(64))
    tx_signature: Mapped[str | None] = mapped_column(String(128))
    arrival_price: Mapped[Decimal | None] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=NOW)


PAPER_STATUSES = ("running", "stopped", "killed", "finished", "crashed")


class PaperRun(Base):
    """One `bot paper` run: its settings (the spec, to resume with), where it is, and the kill flag that
    `bot kill` sets from another shell."""

    __tablename__ = "paper_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'stopped', 'killed', 'finished', 'crashed')", name="status"),
    )

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=NOW)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    bars_done: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_event_ts: Mapped[int | None] = mapped_column(BigInteger)
    kill_requested: Mapped[bool] = mapped_column(Boolean, server_default=false())
    pid: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class JournalEntry(Base):
    """The node's journal: every command, event and input of a paper run, in `seq` order. `payload` is a
    readable rendering; `data` the exact object (pickled by the bot itself) that recovery replays."""

    __tablename__ = "journal_entries"

    run_id: Mapped[str] = mapped_column(ForeignKey("paper_runs.run_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)


class NodeSnapshot(Base):
    """The node's state after bar `bar` (journal position `seq`), without its venues."""

    __tablename__ = "node_snapshots"

    run_id: Mapped[str] = mapped_column(ForeignKey("paper_runs.run_id"), primary_key=True)
    bar: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[bytes] = mapped_column(LargeBinary)


class PaperVenueState(Base):
    """The paper venues' own state (all venues of a run in one blob: they share a wallet and pools),
    written by the venue side after every change, apart from the node's journal."""

    __tablename__ = "paper_venue_states"

    run_id: Mapped[str] = mapped_column(ForeignKey("paper_runs.run_id"), primary_key=True)
    bar: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[bytes] = mapped_column(LargeBinary)


class ApiUser(Base):
    """A person who logs in to the API (OAuth2 password flow). `scopes` is space-separated (read trade
    admin); `password_hash` is an argon2id PHC string, never the password."""

    __tablename__ = "api_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=NOW)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=NOW)


class ApiClient(Base):
    """A program that calls the API (OAuth2 client-credentials flow): `name` is its client_id."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=NOW)


class RefreshToken(Base):
    """One refresh token, stored as its SHA-256 (the token itself is never stored). Tokens rotated from one
    login share `family_id`; presenting a used or revoked one revokes the whole family."""

    __tablename__ = "api_refresh_tokens"
    __table_args__ = (Index(None, "family_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, server_default=false())


class LoginFailure(Base):
    """A failed login, keyed `account:NAME` or `ip:ADDRESS`: the throttle counts them within its window."""

    __tablename__ = "api_login_failures"
    __table_args__ = (Index(None, "key", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One state-changing call: who (`user:NAME`, `client:NAME`, or NULL when unauthenticated), what
    (method, path, the route's template), when, from where (client IP) and the result (HTTP status)."""

    __tablename__ = "api_audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "principal", "at"))

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    principal: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class BacktestJob(Base):
    """A backtest asked for through the API: its spec (JSON, money as decimal strings), who asked, and
    where it is. Workers claim queued jobs (`worker`, `heartbeat_at`); a finished job names its stored run
    (`run_id`) and keeps the run's summary in `result`, a failed one a one-line `error`."""

    __tablename__ = "backtest_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="status"),
        Index(None, "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=NOW)
    submitted_by: Mapped[str | None] = mapped_column(String(80))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), server_default=text("'queued'"))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default=false())
    worker: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    run_id: Mapped[int | None] = mapped_column(ForeignKey("backtest_runs.id"))
    error: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class BacktestEquity(Base):
    """A stored run's equity curve, thinned to at most a few thousand points (first and last kept):
    `curve` is {"ts_ns": [...], "equity": [...]}."""

    __tablename__ = "backtest_equity"

    run_id: Mapped[int] = mapped_column(ForeignKey("backtest_runs.id"), primary_key=True, autoincrement=False)
    points: Mapped[int] = mapped_column(Integer)
    curve: Mapped[dict[str, Any]] = mapped_column(JSON)
