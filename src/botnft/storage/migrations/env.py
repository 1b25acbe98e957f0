"""Alembic environment for the bot's schema, configured in code by `botnft.storage.migrate` (no alembic.ini).

`migrate` hands over an open connection in `config.attributes["connection"]`; run from the alembic CLI with
`sqlalchemy.url` set, it builds its own engine. Offline mode (`--sql`) renders the SQL for a DBA to run.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from botnft.storage.db import make_engine
from botnft.storage.migrate import check_sqlite_foreign_keys, without_sqlite_foreign_keys
from botnft.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or migrate through botnft.storage.migrate")
    engine = make_engine(url)
    try:
        with (
            engine.connect() as own_connection,
            without_sqlite_foreign_keys(own_connection),
            own_connection.begin(),
        ):
            _configure_and_run(own_connection)
            check_sqlite_foreign_keys(own_connection, engine.url)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
