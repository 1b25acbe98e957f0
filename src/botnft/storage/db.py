"""Engines for the two supported databases (SQLite, the embedded default; PostgreSQL, the production store).

`make_engine` turns a URL a person typed into a working engine or a one-line `StorageUnavailable`;
`check_connection` proves the database answers. Driver errors become one-line messages here and only here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, make_url

from botnft.storage.errors import StorageError, StorageUnavailable

CONNECT_TIMEOUT_S = 3
"""How long a PostgreSQL connection attempt may take before the database counts as unreachable."""

_EXPECTED = "expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
_POSTGRES_ALIASES = {"postgres", "postgresql"}
_DEFAULT_POSTGRES_DRIVER = "postgresql+psycopg"


def make_engine(url: str) -> Engine:
    """Build an engine for `url`; `postgresql://` (and `postgres://`) mean psycopg 3.

    For a SQLite file the parent directory is created and foreign keys are switched on for every connection.
    Raises `StorageUnavailable` when the URL cannot even give an engine: unparseable, unknown scheme or
    driver, driver not installed. Reaching the server is `check_connection`'s job.
    """
    parsed = _parse(url)
    shown = display_url(parsed)
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            _create_sqlite_parent(parsed, shown)
            engine = create_engine(parsed)
            _make_sqlite_behave(engine)
        elif backend == "postgresql":
            engine = create_engine(
                parsed, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
            )
        else:
            engine = create_engine(parsed)
    except exc.NoSuchModuleError as error:
        raise StorageUnavailable(shown, _unknown_plugin_reason(parsed)) from error
    except ImportError as error:
        missing = error.name or parsed.get_driver_name()
        raise StorageUnavailable(shown, f"driver {missing} is not installed") from error
    except exc.ArgumentError as error:
        raise StorageUnavailable(shown, first_line(str(error))) from error
    return engine


def check_connection(engine: Engine) -> None:
    """Open a connection and run `SELECT 1`; `StorageUnavailable` with a one-line reason if that fails."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except exc.DBAPIError as error:
        raise StorageUnavailable(display_url(engine.url), driver_reason(error)) from error


def display_url(url: URL) -> str:
    """The URL as a person should see it in a message: no password, and psycopg implied for PostgreSQL."""
    drivername = "postgresql" if url.drivername == _DEFAULT_POSTGRES_DRIVER else url.drivername
    shown = URL.create(  # built afresh: URL.set(password=None) would keep the password
        drivername,
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query={key: value for key, value in url.query.items() if key != "password"},
    )
    return shown.render_as_string(hide_password=False)


def translate(error: exc.SQLAlchemyError, url: URL) -> StorageError:
    """The storage error for a failure while using a database that was reachable when we started."""
    if isinstance(error, exc.StatementError) and isinstance(error.orig, StorageError):
        return error.orig  # raised by a column type while binding a value
    reason = driver_reason(error)
    if _is_missing_table(error):
        return StorageError(f"database {display_url(url)} is not migrated ({reason}): run `bot db upgrade`")
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        return StorageUnavailable(display_url(url), reason)
    return StorageError(f"database {display_url(url)} refused the write: {reason}")


def driver_reason(error: BaseException) -> str:
    """A one-line reason from a driver exception: 'connection refused', 'database "x" does not exist'."""
    original = getattr(error, "orig", None) or error
    message = str(original)
    host = re.search(r"failed to resolve host '([^']*)'", message)
    if host:
        return f"unknown host {host.group(1)}"
    reason = first_line(message)
    reason = re.sub(r"^connection failed: ", "", reason)
    reason = re.sub(r"^connection to server at .*? failed: ", "", reason)
    reason = re.sub(r"^(FATAL|ERROR):\s+", "", reason)
    reason = re.sub(r"^\((\w+\.)*\w+\)\s*", "", reason)  # SQLAlchemy's "(sqlite3.OperationalError) " prefix
    if reason[:1].isupper() and not reason[1:2].isupper():
        reason = reason[0].lower() + reason[1:]
    return reason or type(original).__name__


def first_line(message: str) -> str:
    """The first non-empty line of `message`, stripped."""
    for line in message.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        redacted = re.sub(r"//([^:/@]*):[^@/]*@", r"//\1@", url)
        raise StorageUnavailable(redacted, f"not a database URL ({_EXPECTED})") from error
    if parsed.drivername in _POSTGRES_ALIASES:
        parsed = parsed.set(drivername=_DEFAULT_POSTGRES_DRIVER)
    return parsed


def _unknown_plugin_reason(url: URL) -> str:
    backend, _, driver = url.drivername.partition("+")
    try:
        known_backend = make_url(f"{backend}://").get_dialect(_is_async=False) is not None
    except (exc.NoSuchModuleError, ImportError):
        known_backend = False
    if known_backend and driver:
        return f"unknown driver {driver!r} for {backend}"
    return f"unknown database scheme {backend!r} ({_EXPECTED})"


def _create_sqlite_parent(url: URL, shown: str) -> None:
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return
    try:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = f"cannot create directory {Path(database).parent}: {error.strerror or error}"
        raise StorageUnavailable(shown, reason.lower()) from error


def _make_sqlite_behave(engine: Engine) -> None:
    """Foreign keys on; real transactions (DDL and SAVEPOINT included) instead of pysqlite's implicit ones.

    This is SQLAlchemy's documented recipe for pysqlite: hand transaction control to SQLAlchemy by turning
    off the driver's own BEGIN handling and emitting BEGIN when SQLAlchemy starts a transaction.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def _is_missing_table(error: exc.SQLAlchemyError) -> bool:
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) == "42P01":  # PostgreSQL undefined_table
        return True
    return "no such table" in str(original or error)
