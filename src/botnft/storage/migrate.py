"""Schema migrations driven from code: Alembic is configured here, so an installed wheel migrates (no ini).

The migration scripts ship inside the package (`botnft/storage/migrations`). `upgrade` is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, exc

from botnft.storage.db import check_connection, make_engine, translate

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision` (all migrations by default); a no-op when already there.

    Raises `StorageUnavailable` when the database cannot be reached.
    """
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" removes every table the migrations made)."""
    _run(url, lambda config: command.downgrade(config, revision))


def current(url: str) -> str | None:
    """The revision the database at `url` is at, or None for a database never migrated."""
    engine = make_engine(url)
    try:
        check_connection(engine)
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except exc.SQLAlchemyError as error:
        raise translate(error, engine.url) from error
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision this version of the bot ships."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:  # pragma: no cover - the package always ships at least one migration
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return revision


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def _run(url: str, action: Callable[[Config], None]) -> None:
    engine = make_engine(url)
    try:
        check_connection(engine)
        with engine.begin() as connection:
            action(_config(connection))
    except exc.SQLAlchemyError as error:
        raise translate(error, engine.url) from error
    finally:
        engine.dispose()
