"""Schema migrations driven from code: Alembic is configured here, so an installed wheel migrates (no ini).

The migration scripts ship inside the package (`botnft/storage/migrations`). `upgrade` is idempotent.
A database stamped with a revision this version does not ship (a newer bot migrated it) is refused with a
one-line `StorageError` by every function here, before anything is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import URL, Connection, exc

from botnft.storage.db import check_connection, display_url, make_engine, translate
from botnft.storage.errors import StorageError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision` (all migrations by default); a no-op when already there.

    Raises `StorageUnavailable` when the database cannot be reached, `StorageError` when it is at a revision
    this version does not know.
    """
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" removes every table the migrations made)."""
    _run(url, lambda config: command.downgrade(config, revision))


def current(url: str) -> str | None:
    """The revision the database at `url` is at, or None for a database never migrated.

    A revision this version does not know is a `StorageError`, not an answer: nothing here could use it.
    """
    engine = make_engine(url)
    try:
        check_connection(engine)
        with engine.connect() as connection:
            revisions = _known_revisions(connection, engine.url)
            return revisions[0] if revisions else None
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


def _known_revisions(connection: Connection, url: URL) -> tuple[str, ...]:
    """The revisions the database is stamped with; `StorageError` for one this version does not ship."""
    stamped = MigrationContext.configure(connection).get_current_heads()
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    for revision in stamped:
        if revision not in known:
            raise StorageError(
                f"database {display_url(url)} is at revision {revision!r}, which this version does not know; "
                f"a newer version of the bot migrated it (this one knows up to {head()!r}): "
                "use that version, or another database"
            )
    return stamped


def _run(url: str, action: Callable[[Config], None]) -> None:
    engine = make_engine(url)
    try:
        check_connection(engine)
        with (
            engine.connect() as connection,
            without_sqlite_foreign_keys(connection),
            connection.begin(),
        ):
            _known_revisions(connection, engine.url)
            action(_config(connection))
            check_sqlite_foreign_keys(connection, engine.url)
    except exc.SQLAlchemyError as error:
        raise translate(error, engine.url) from error
    except CommandError as error:  # e.g. a target revision that does not exist
        raise StorageError(f"cannot migrate database {display_url(engine.url)}: {error}") from error
    finally:
        engine.dispose()


@contextmanager
def without_sqlite_foreign_keys(connection: Connection) -> Iterator[None]:
    """SQLite alters a table by rebuilding it, which a referenced table cannot survive with foreign keys on;
    SQLite's own recipe switches them off outside the transaction and checks every key before commit."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection  # the driver's connection: no transaction begins
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def check_sqlite_foreign_keys(connection: Connection, url: URL) -> None:
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
    if broken is not None:
        raise StorageError(
            f"database {display_url(url)} has a {broken[0]} row (rowid {broken[1]}) that points at no "
            f"{broken[2]} row; the migration was not applied"
        )
