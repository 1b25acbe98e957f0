"""Helpers for the API's tests (import as `api_testkit`): a cheap argon2 cost, a movable clock, and
`make_user` / `bearer` / `login`. The fixtures built on them are in this folder's conftest.py."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

FAST_ARGON2: dict[str, Any] = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
"""A cheap argon2id cost for tests (hashes still verify the same way; production defaults are 3 / 64 MiB)."""

TEST_DEFAULTS: dict[str, Any] = {**FAST_ARGON2, "rate_limit": "100000/second"}
"""What `make_settings` starts from: cheap hashes and a rate limit tests of other things never reach."""

PASSWORD = "correct horse battery staple"


class Clock:
    """Epoch seconds the app reads for token and throttle times; tests move it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_user(app: FastAPI, name: str, scopes: str, password: str = PASSWORD) -> None:
    app.state.accounts.add_user(name, password, frozenset(scopes.split()))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, name: str, password: str = PASSWORD, **form: str) -> Any:
    """POST the password grant; the response (status not checked)."""
    return client.post(
        "/v1/auth/token", data={"grant_type": "password", "username": name, "password": password, **form}
    )
