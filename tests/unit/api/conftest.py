"""Fixtures for the API's unit tests: a migrated SQLite database per test (copied from one migrated once
per session), settings with a cheap argon2 cost, a movable clock, the app and a TestClient on it, and
`make_user` / `bearer` helpers. Any test module under tests/unit/api may use them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_testkit import TEST_DEFAULTS, Clock
from fastapi import FastAPI
from fastapi.testclient import TestClient

from botnft.api.app import create_app
from botnft.api.settings import ApiSettings
from botnft.storage import upgrade


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-template") / "bot.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(migrated_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "db" / "bot.sqlite"
    path.parent.mkdir(parents=True)
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., ApiSettings]:
    def make(**overrides: Any) -> ApiSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            **TEST_DEFAULTS,
        }
        values.update(overrides)
        return ApiSettings(**values)

    return make


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api_app(make_settings: Callable[..., ApiSettings], clock: Clock) -> FastAPI:
    return create_app(make_settings(), clock=clock)


@pytest.fixture
def client(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app, raise_server_exceptions=False) as test_client:
        yield test_client
