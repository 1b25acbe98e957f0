"""Route quotes and the model store through the API; a stored run's equity curve recomputed once."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from api_testkit import bearer, login, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient


def auth(client: TestClient, app: FastAPI, scopes: str = "read") -> dict[str, str]:
    name = "u" + scopes.replace(" ", "")
    make_user(app, name, scopes)
    return bearer(login(client, name).json()["access_token"])


def test_a_quote_is_what_bot_route_prices_and_bad_requests_are_problems(
    client: TestClient, api_app: FastAPI
) -> None:
    from botnft.route_quote import quote_route

    headers = auth(client, api_app)
    at = "2025-06-01T00:00:00Z"
    answer = client.post(
        "/v1/route/quote", json={"side": "buy", "amount": "25", "horizon": "24h", "at": at}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    quote = answer.json()
    direct = quote_route("buy", Decimal(25), "SOL", "USDC", 86_400.0, datetime(2025, 6, 1, tzinfo=UTC))
    assert quote["split"] == json.loads(json.dumps(direct["split"]))
    assert quote["amount"] == "25" and quote["at"] == direct["at"]
    legs = quote["split"]["legs"]
    assert sum(Decimal(leg["base"]) for leg in legs) + Decimal(quote["split"]["unfilled_base"]) == 25

    for body, status in (
        ({"side": "buy", "amount": "0.0000000001"}, 422),  # below every venue's smallest size
        ({"side": "buy", "amount": "25", "horizon": "forever"}, 422),
        ({"side": "buy", "amount": "25", "quote": "EUR"}, 422),
        ({"side": "buy", "amount": "2.5e1"}, 422),
        ({"side": "buy", "amount": "25", "at": "2025-06-01T00:00:00"}, 422),
    ):
        refused = client.post("/v1/route/quote", json=body, headers=headers)
        assert refused.status_code == status, body
        assert refused.headers["content-type"] == "application/problem+json"
    assert client.post("/v1/route/quote", json={"side": "buy", "amount": "25"}).status_code == 401


def test_models_are_listed_from_the_store_with_their_reports(
    client: TestClient, api_app: FastAPI, tmp_path: Path
) -> None:
    root = api_app.state.settings.data_dir / "models"
    meta = {
        "id": "abc123",
        "kind": "rf",
        "task": "selector",
        "data": "sol-perp-1h",
        "metrics": {"auc": 0.61, "x": math.nan},
    }
    (root / "abc123").mkdir(parents=True)
    (root / "abc123" / "meta.json").write_text(json.dumps(meta))  # NaN as Python writes it
    (root / "broken").mkdir()
    (root / "broken" / "meta.json").write_text("{not json")
    headers = auth(client, api_app)
    listed = client.get("/v1/models", headers=headers).json()
    assert listed == [
        {"id": "abc123", "kind": "rf", "task": "selector", "data": "sol-perp-1h", "created": None,
         "metrics": {"auc": 0.61, "x": None}},
    ]  # fmt: skip
    report = client.get("/v1/models/abc123", headers=headers).json()
    assert report["meta"]["metrics"] == {"auc": 0.61, "x": None}
    for missing in ("nope", "broken", "..", "%2e%2e%2fetc"):
        assert client.get(f"/v1/models/{missing}", headers=headers).status_code == 404, missing


def test_a_run_stored_without_its_curve_is_recomputed_once_and_kept(
    client: TestClient, api_app: FastAPI
) -> None:
    """A run stored as `bot backtest` stores it (no curve): the API reruns its stored settings, checks the
    final equity against the stored one and keeps the curve."""
    from botnft.api.jobs import JobStore
    from botnft.backtest.persist import records
    from botnft.backtest.runner import run_backtest
    from botnft.backtest.spec import BacktestSpec
    from botnft.bootstrap import build_backtest
    from botnft.config import load_settings
    from botnft.storage import TradeStore

    settings = load_settings()
    spec = BacktestSpec(
        data="sol-spot-1h",
        strategy="ema_cross",
        cash=Decimal(5000),
        start=datetime(2024, 1, 1, tzinfo=UTC),
        end=datetime(2024, 2, 1, tzinfo=UTC),
        liquidity=settings.liquidity.model_dump(),
    )
    session = build_backtest(spec, risk=settings.risk)
    result = run_backtest(session)
    run_id = TradeStore(api_app.state.engine).save_backtest(*records(session, result))
    assert JobStore(api_app.state.engine).curve(run_id) is None
    headers = auth(client, api_app)
    curve = client.get(f"/v1/runs/{run_id}/equity", headers=headers).json()
    assert curve["ts_ns"] == [int(t) for t in result.ts_ns]
    assert curve["equity"] == [float(e) for e in result.equity]
    assert JobStore(api_app.state.engine).curve(run_id) is not None  # kept

    # a run its stored settings do not reproduce (here: a final equity no run makes) is a 409
    from sqlalchemy import update

    from botnft.storage.tables import BacktestRun

    other = TradeStore(api_app.state.engine).save_backtest(*records(session, result))
    with api_app.state.engine.begin() as connection:
        connection.execute(
            update(BacktestRun).where(BacktestRun.id == other).values(final_equity=Decimal("1.5"))
        )
    answer = client.get(f"/v1/runs/{other}/equity", headers=headers)
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("/not-reproducible")
