"""Fixtures for integration tests against real databases: a SQLite file and a throw-away PostgreSQL database.

`database_url` is parametrised over both backends. The PostgreSQL database is created once per test module
and per xdist worker (`bot_test_<uuid>`, so parallel runs never share one), emptied before each test, and
dropped at the end. If PostgreSQL cannot be reached its cases FAIL, always: a suite that skips them would
pass with the production store untested. `BOT_TEST_POSTGRES_URL` names another server's admin database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa

from botnft.storage import make_engine
from botnft.storage.db import driver_reason

POSTGRES_ADMIN_URL = os.environ.get(
    "BOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _postgres_unreachable(url: sa.URL, reason: str) -> NoReturn:
    shown = url.render_as_string(hide_password=True)
    pytest.fail(f"PostgreSQL at {shown} is unreachable (its tests never skip): {reason}", pytrace=False)


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """URL of a fresh PostgreSQL database that lives as long as the test module (on this worker)."""
    engine = make_engine(POSTGRES_ADMIN_URL)
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    name = f"bot_test_{uuid.uuid4().hex}"
    unreachable = None
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.DBAPIError as error:
        unreachable = driver_reason(error)
    if unreachable is not None:
        engine.dispose()
        _postgres_unreachable(engine.url, unreachable)
    try:
        yield engine.url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """'sqlite' or 'postgres'."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database of this backend (a fresh SQLite file, or the emptied module database)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'bot.sqlite'}"
    url = str(request.getfixturevalue("postgres_database"))
    _empty_postgres(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on `database_url`, disposed after the test."""
    built = make_engine(database_url)
    try:
        yield built
    finally:
        built.dispose()
