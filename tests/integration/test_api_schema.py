"""schemathesis against the API, in-process: every operation of the OpenAPI document, called with
generated inputs without a token, with a read token and with a read+trade+admin token: no server error,
every status code, content type, header and body as the document declares. Bounded: a few examples per
operation, no deadline per example (the first quote loads the venues' data).

`POST /v1/nodes` and `POST /v1/nodes/{run_id}/start` start `bot paper` processes: they are called here
without a token and with a read token only (refused before anything starts); their behaviour with the
trade scope is tested in tests/unit/api/test_routes_nodes.py.

Every check of schemathesis runs but `positive_data_acceptance`: a schema-valid request may still be a 422
when its values are checked further than a schema can say (a cursor another listing gave, a date without
a time zone, a strategy that does not exist, a spec its venues cannot run).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import positive_data_acceptance

from botnft.api.app import create_app
from botnft.api.settings import ApiSettings
from botnft.storage import BacktestRunRecord, TradeRecord, TradeStore, upgrade
from botnft.storage.journal import PaperStore

PASSWORD = "correct horse battery staple"
SPAWNING = {("POST", "/v1/nodes"), ("POST", "/v1/nodes/{run_id}/start")}
T0 = datetime(2024, 3, 1, tzinfo=UTC)
MAX_EXAMPLES = 25


def _seed(app: FastAPI) -> None:
    store = TradeStore(app.state.engine)
    run = BacktestRunRecord(
        strategy="ema_cross", params={"fast": "12"}, data_source="sol-spot-1h", venue="sim", seed=1,
        bars=10, fills=1, round_trips=0, initial_cash=Decimal(1000), final_equity=Decimal("999.5"),
        total_return=-0.0005, max_drawdown=0.01, start_ts=T0, end_ts=T0 + timedelta(hours=9),
        summary={"fee_bps": "10"},
    )  # fmt: skip
    trade = TradeRecord(
        ts=T0, venue="sim", symbol="SOL/USDT", base_asset="SOL", quote_asset="USDT", side="buy",
        amount=Decimal("1.5"), price=Decimal("100.25"), fee=Decimal("0.15"),
    )  # fmt: skip
    store.save_backtest(run, [trade])
    paper = PaperStore(app.state.engine)
    paper.create_run("paper-1", {"data": "sol-spot-1h", "strategy": "hold"}, pid=2**22 + 12345)  # no such pid
    paper.set_status(
        "paper-1", "stopped", summary={"final_equity": "1000", "positions": {"sim": {"SOL": "0"}}}
    )


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, dict[str, str]]]]:
    folder = tmp_path_factory.mktemp("api-schema")
    url = f"sqlite:///{folder / 'bot.sqlite'}"
    upgrade(url)
    app = create_app(
        ApiSettings(
            database_url=url, data_dir=folder / "data", argon2_time_cost=1, argon2_memory_kib=1024,
            rate_limit="100000/second", job_workers=0, request_timeout_s=60,
        )
    )  # fmt: skip
    _seed(app)
    app.state.accounts.add_user("reader", PASSWORD, frozenset({"read"}))
    app.state.accounts.add_user("boss", PASSWORD, frozenset({"read", "trade", "admin"}))
    headers: dict[str, dict[str, str]] = {"none": {}}
    with TestClient(app) as client:
        for name, who in (("read", "reader"), ("all", "boss")):
            form = {"grant_type": "password", "username": who, "password": PASSWORD}
            answer = client.post("/v1/auth/token", data=form)
            assert answer.status_code == 200, answer.text
            headers[name] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        yield app, headers


@pytest.fixture(scope="module")
def api_schema(api: tuple[FastAPI, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", api[0])


def _operations() -> list[str]:
    app = create_app(ApiSettings(database_url="sqlite://", data_dir=Path("/nonexistent"), job_workers=0))
    return [f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops]


@pytest.mark.parametrize("operation", _operations())
def test_every_operation_answers_as_documented_with_and_without_tokens(
    operation: str, api: tuple[FastAPI, dict[str, dict[str, str]]], api_schema: Any
) -> None:
    _, headers = api
    method, path = operation.split(" ", 1)
    found = api_schema[path][method]
    who_calls = ("none", "read") if (method, path) in SPAWNING else ("none", "read", "all")

    @given(case=found.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def check(case: Any) -> None:
        for who in who_calls:
            case.call_and_validate(headers=headers[who], excluded_checks=[positive_data_acceptance])

    check()


def test_the_document_declares_401_403_422_and_429_on_every_authenticated_route(
    api: tuple[FastAPI, Any],
) -> None:
    document = api[0].openapi()
    public = {"/v1/health", "/v1/ready", "/v1/auth/token", "/v1/auth/jwks", "/v1/auth/revoke"}
    checked = 0
    for path, operations in document["paths"].items():
        if path in public or not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            assert {"401", "403", "422", "429"} <= set(operation["responses"]), (method, path)
            assert operation.get("security"), (method, path)
            checked += 1
    assert checked >= 20


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(300)
def test_a_running_bot_serve_answers_as_documented(tmp_path: Path) -> None:
    """`bot serve` on loopback (a process of its own, uvicorn): a few generated requests per operation,
    with and without tokens; the server is stopped at the end whatever happens."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    url = f"sqlite:///{tmp_path / 'bot.sqlite'}"
    upgrade(url)
    setup = create_app(
        ApiSettings(database_url=url, data_dir=tmp_path / "data", argon2_time_cost=1, argon2_memory_kib=1024)
    )
    setup.state.accounts.add_user("boss", PASSWORD, frozenset({"read", "trade", "admin"}))
    _seed(setup)
    setup.state.engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "BOT_API_DATABASE_URL": url,
        "BOT_API_DATA_DIR": str(tmp_path / "data"),
        "BOT_API_RATE_LIMIT": "100000/second",
        "BOT_API_JOB_WORKERS": "0",
    }
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "botnft.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        form = {"grant_type": "password", "username": "boss", "password": PASSWORD}
        answer = httpx.post(f"{base}/v1/auth/token", data=form, timeout=10)
        assert answer.status_code == 200, answer.text
        headers = [{}, {"Authorization": f"Bearer {answer.json()['access_token']}"}]
        served = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = 0
        for result in served.get_all_operations():
            operation = result.ok()
            callers = headers[:1] if (operation.method.upper(), operation.path) in SPAWNING else headers

            @given(case=operation.as_strategy())
            @settings(
                max_examples=3,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
            )
            def check(case: Any) -> None:
                for who in callers:  # noqa: B023 - called in this iteration only
                    case.call_and_validate(
                        base_url=base, headers=who, excluded_checks=[positive_data_acceptance], timeout=30
                    )

            check()
            operations += 1
        assert operations >= 20
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
        log.close()
    text = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
