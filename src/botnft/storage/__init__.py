"""Storage: the schema, its migrations, and the store that turns records into rows and back.

Two databases, one code path: SQLite (the embedded default) and PostgreSQL (production). Imports only the
standard library, SQLAlchemy, Alembic, psycopg and `botnft.domain`.
"""

from botnft.storage.columns import MONEY_DOMAIN, check_money, round_money
from botnft.storage.db import check_connection, make_engine
from botnft.storage.errors import StorageError, StorageUnavailable
from botnft.storage.limits import check_run_inputs
from botnft.storage.migrate import current, downgrade, head, upgrade
from botnft.storage.records import BacktestRunRecord, TradeRecord
from botnft.storage.repository import TradeStore

__all__ = [
    "MONEY_DOMAIN",
    "BacktestRunRecord",
    "StorageError",
    "StorageUnavailable",
    "TradeRecord",
    "TradeStore",
    "check_connection",
    "check_money",
    "check_run_inputs",
    "current",
    "downgrade",
    "head",
    "make_engine",
    "round_money",
    "upgrade",
]
