"""The app's shell: every error is an RFC 9457 problem without internals; bad input (malformed JSON,
unknown fields, invalid decimals, oversized bodies) is a 4xx and writes nothing; the time limit; security
headers; the CORS allowlist; health and readiness; the audit of state-changing calls; the OpenAPI document."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_testkit import bearer
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from botnft.api.app import create_app
from botnft.api.auth import TradePrincipal
from botnft.api.deps import EngineDep
from botnft.api.problems import AUTHED_RESPONSES

SECRET_INTERNAL = "connection to db-internal-7 failed: password=hunter2"


class NewPair(BaseModel):
    model_config = ConfigDict(extra="forbid")
    symbol: str = Field(max_length=20)
    min_trade_size: Decimal = Field(ge=0, max_digits=38, decimal_places=18, allow_inf_nan=False)


probe = APIRouter(prefix="/v1/probe", responses=AUTHED_RESPONSES)


@probe.post("/pairs", status_code=201)
def add_pair(pair: NewPair, principal: TradePrincipal, engine: EngineDep) -> dict[str, str]:
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO trading_pairs (symbol, base_asset, quote_asset, venue, min_trade_size)"
                " VALUES (:s, 'SOL', 'USDC', 'sim', :m)"
            ),
            {"s": pair.symbol, "m": str(pair.min_trade_size)},
        )
    return {"symbol": pair.symbol}


@probe.get("/boom")
def boom() -> None:
    raise RuntimeError(SECRET_INTERNAL)


@probe.get("/slow")
async def slow() -> dict[str, str]:
    await asyncio.sleep(3)
    return {"late": "yes"}


def with_probe(app: FastAPI) -> FastAPI:
    app.include_router(probe)
    return app


@pytest.fixture
def app(api_app: FastAPI) -> FastAPI:
    return with_probe(api_app)


@pytest.fixture
def web(app: FastAPI) -> Any:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def trader(app: FastAPI) -> dict[str, str]:
    return bearer(app.state.tokens.issue("user", "tester", frozenset({"trade"})).token)


def pairs(app: FastAPI) -> int:
    with app.state.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT COUNT(*) FROM trading_pairs")).scalar_one())


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status"} <= set(body)
    return body


def test_a_valid_body_writes_one_row(app: FastAPI, web: Any) -> None:
    response = web.post(
        "/v1/probe/pairs", json={"symbol": "SOL/USDC", "min_trade_size": "0.001"}, headers=trader(app)
    )
    assert response.status_code == 201
    assert pairs(app) == 1


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b'{"symbol": "SOL/USDC", "min_trade_size": ', None),
        (b'{"symbol": "SOL/USDC", "min_trade_size": "1", "admin": true}', "body.admin"),
        (b'{"symbol": "SOL/USDC", "min_trade_size": "1e999999"}', "body.min_trade_size"),
        (b'{"symbol": "SOL/USDC", "min_trade_size": "NaN"}', "body.min_trade_size"),
        (b'{"symbol": "SOL/USDC", "min_trade_size": "0.0000000000000000001"}', "body.min_trade_size"),
        (b'{"symbol": "SOL/USDC", "min_trade_size": "-1"}', "body.min_trade_size"),
        (b'{"symbol": "SOL/USDC"}', "body.min_trade_size"),
        (b"[]", "body"),
    ],
)
def test_bad_input_is_a_422_problem_naming_the_field_and_nothing_is_written(
    app: FastAPI, web: Any, content: bytes, where: str | None
) -> None:
    response = web.post(
        "/v1/probe/pairs", content=content, headers={**trader(app), "Content-Type": "application/json"}
    )
    body = assert_problem(response, 422)
    if where is None:
        assert body["type"].endswith("/malformed-json")
    else:
        assert where in [p["name"] for p in body["invalid-params"]]
    assert "hunter2" not in response.text
    assert pairs(app) == 0


def test_a_body_that_is_not_even_text_is_a_400_problem_and_nothing_is_written(app: FastAPI, web: Any) -> None:
    response = web.post(
        "/v1/probe/pairs",
        content=b"\xff\xfe not json",
        headers={**trader(app), "Content-Type": "application/json"},
    )
    assert_problem(response, 400)
    assert pairs(app) == 0


def test_the_value_of_a_bad_field_is_never_echoed(app: FastAPI, web: Any) -> None:
    response = web.post(
        "/v1/probe/pairs",
        json={"symbol": "s3cr3t-" + "x" * 30, "min_trade_size": "1"},
        headers=trader(app),
    )
    assert_problem(response, 422)
    assert "s3cr3t" not in response.text


def test_an_oversized_body_is_413_whether_declared_or_streamed_and_nothing_is_written(
    make_settings: Any, clock: Any
) -> None:
    app = with_probe(create_app(make_settings(max_body_bytes=2048), clock=clock))
    with TestClient(app, raise_server_exceptions=False) as web:
        big = b'{"symbol": "S", "min_trade_size": "1", "pad": "' + b"x" * 4096 + b'"}'
        declared = web.post(
            "/v1/probe/pairs", content=big, headers={**trader(app), "Content-Type": "application/json"}
        )
        assert_problem(declared, 413)

        def chunks() -> Any:
            for start in range(0, len(big), 512):
                yield big[start : start + 512]

        streamed = web.post(
            "/v1/probe/pairs", content=chunks(), headers={**trader(app), "Content-Type": "application/json"}
        )
        assert "content-length" not in {k.lower() for k in streamed.request.headers}
        assert_problem(streamed, 413)
        assert pairs(app) == 0


def test_a_request_past_the_time_limit_is_a_503_problem(make_settings: Any, clock: Any) -> None:
    app = with_probe(create_app(make_settings(request_timeout_s=0.3), clock=clock))
    with TestClient(app, raise_server_exceptions=False) as web:
        body = assert_problem(web.get("/v1/probe/slow"), 503)
        assert body["type"].endswith("/timeout")


def test_an_unexpected_error_is_a_bare_500_problem_without_internals(web: Any) -> None:
    response = web.get("/v1/probe/boom")
    body = assert_problem(response, 500)
    assert (
        "hunter2" not in response.text
        and "RuntimeError" not in response.text
        and "db-internal" not in response.text
    )
    assert body["detail"] == "an internal error occurred"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unknown_paths_and_wrong_methods_are_problems(web: Any) -> None:
    assert_problem(web.get("/v1/nothing-here"), 404)
    assert_problem(web.delete("/v1/health"), 405)


def test_security_headers_are_on_every_response_and_hsts_only_with_tls(
    app: FastAPI, make_settings: Any, clock: Any
) -> None:
    with TestClient(app, raise_server_exceptions=False) as web:
        for response in (web.get("/v1/health"), web.get("/v1/nothing"), web.post("/v1/auth/token", data={})):
            headers = response.headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert "default-src 'self'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "DENY"
            assert headers["referrer-policy"] == "no-referrer"
            assert "strict-transport-security" not in headers
    with TestClient(app, base_url="https://testserver") as tls:
        assert tls.get("/v1/health").headers["strict-transport-security"].startswith("max-age=31536000")
    behind_proxy = create_app(make_settings(hsts=True), clock=clock)
    with TestClient(behind_proxy) as web:
        assert "strict-transport-security" in web.get("/v1/health").headers


def test_cors_answers_only_allowlisted_origins(make_settings: Any, clock: Any) -> None:
    app = create_app(make_settings(cors_origins=("https://console.example",)), clock=clock)
    with TestClient(app) as web:
        allowed = web.options(
            "/v1/auth/token",
            headers={"Origin": "https://console.example", "Access-Control-Request-Method": "POST"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://console.example"
        other = web.get("/v1/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(make_settings(), clock=clock)) as closed:
        assert (
            "access-control-allow-origin"
            not in closed.get("/v1/health", headers={"Origin": "https://console.example"}).headers
        )


def test_health_is_ok_and_ready_checks_the_database_is_reachable_and_migrated(
    web: Any, make_settings: Any, clock: Any, tmp_path: Path
) -> None:
    assert web.get("/v1/health").json()["status"] == "ok"
    ready = web.get("/v1/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    empty = create_app(make_settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}"), clock=clock)
    with TestClient(empty) as not_migrated:
        assert "bot db upgrade" in assert_problem(not_migrated.get("/v1/ready"), 503)["detail"]
    down = create_app(make_settings(database_url="postgresql://nobody@127.0.0.1:9/none"), clock=clock)
    with TestClient(down) as unreachable:
        body = assert_problem(unreachable.get("/v1/ready"), 503)
        assert body["detail"] == "the database is unreachable"


def test_state_changing_calls_are_audited_with_the_principal_and_reads_are_not(
    app: FastAPI, web: Any
) -> None:
    web.post("/v1/probe/pairs", json={"symbol": "SOL/USDC", "min_trade_size": "1"}, headers=trader(app))
    web.post("/v1/probe/pairs", json={"symbol": "SOL/USDC"}, headers=trader(app))
    web.post("/v1/probe/pairs", json={"symbol": "X", "min_trade_size": "1"})
    web.get("/v1/health")
    entries = app.state.audit.entries()
    assert [(e["principal"], e["action"], e["status"]) for e in entries] == [
        (None, "POST /v1/probe/pairs", 401),
        ("user:tester", "POST /v1/probe/pairs", 422),
        ("user:tester", "POST /v1/probe/pairs", 201),
    ]


def test_the_openapi_document_declares_problem_responses_and_the_oauth2_scopes(web: Any) -> None:
    document = web.get("/openapi.json").json()
    token_responses = document["paths"]["/v1/auth/token"]["post"]["responses"]
    for status in ("400", "401", "422", "429"):
        assert token_responses[status]["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    probe_op = document["paths"]["/v1/probe/pairs"]["post"]
    assert {"401", "403", "422", "429"} <= set(probe_op["responses"])
    assert probe_op["security"] == [{"OAuth2PasswordBearer": ["trade"]}]
    scheme = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert set(scheme["flows"]["password"]["scopes"]) == {"read", "trade", "admin"}
    assert web.get("/docs").status_code == 200
