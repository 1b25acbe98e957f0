"""Storage: the schema, its migrations, and the store that turns records into rows and back.

Two databases, one code path: SQLite (the embedded default) and PostgreSQL (production). Imports only the
standard library, SQLAlchemy, Alembic, psycopg and `botnft.domain`.
"""

from botnft.storage.db import check_connection, make_engine
from botnft.storage.errors import StorageError, StorageUnavailable
from botnft.storage.migrate import current, downgrade, head, upgrade
from botnft.storage.records import BacktestRunRecord, TradeRecord
from botnft.storage.repository import TradeStore

__all__ = [
    "BacktestRunRecord",
    "StorageError",
    "StorageUnavailable",
    "TradeRecord",
    "TradeStore",
    "check_connection",
    "current",
    "downgrade",
    "head",
    "make_engine",
    "upgrade",
]
