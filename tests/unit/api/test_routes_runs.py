"""Runs, trades and pairs through the API: filters, pages, exact money, scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from api_testkit import bearer, login, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from botnft.storage import BacktestRunRecord, TradeRecord, TradeStore

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def run_record(
    strategy: str, venue: str = "sim", data: str = "sol-spot-1h", seed: int = 0
) -> BacktestRunRecord:
    return BacktestRunRecord(
        strategy=strategy,
        params={"fast": "12"},
        data_source=data,
        venue=venue,
        seed=seed,
        bars=100,
        fills=2,
        round_trips=1,
        initial_cash=Decimal("100000"),
        final_equity=Decimal("100123.45678901"),
        total_return=0.0012345678901,
        max_drawdown=0.05,
        sharpe=None,
        start_ts=T0,
        end_ts=T0 + timedelta(hours=99),
        fees_paid=Decimal("0.000000000000000001"),
        summary={"strategy": strategy, "fee_bps": "10"},
    )


def trade(k: int, side: str, amount: str, price: str, venue: str = "sim") -> TradeRecord:
    return TradeRecord(
        ts=T0 + timedelta(hours=k),
        venue=venue,
        symbol="SOL/USDT",
        base_asset="SOL",
        quote_asset="USDT",
        side=side,
        amount=Decimal(amount),
        price=Decimal(price),
        fee=Decimal("-0.000001"),
        client_order_id=f"c{k}",
    )


@pytest.fixture
def seeded(api_app: FastAPI) -> list[int]:
    store = TradeStore(api_app.state.engine)
    ids = [
        store.save_backtest(
            run_record("ema_cross"),
            [trade(1, "buy", "1.000000001", "100.5"), trade(2, "sell", "1.000000001", "101")],
        ),
        store.save_backtest(
            run_record("hold", venue="drift", data="sol-perp-1h"), [trade(3, "buy", "2", "99", "drift")]
        ),
        store.save_backtest(run_record("ema_cross", seed=7), []),
    ]
    store.record_trade(trade(4, "sell", "0.5", "98.25"))
    return ids


def token(client: TestClient, app: FastAPI, scopes: str = "read") -> dict[str, str]:
    name = "u" + scopes.replace(" ", "")
    make_user(app, name, scopes)
    return bearer(login(client, name).json()["access_token"])


def test_runs_need_a_token_and_the_read_scope(
    client: TestClient, api_app: FastAPI, seeded: list[int]
) -> None:
    assert client.get("/v1/runs").status_code == 401
    assert client.get("/v1/runs", headers=bearer("not-a-token")).status_code == 401
    answer = client.get("/v1/runs", headers=token(client, api_app, "trade"))
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"


def test_runs_are_listed_newest_first_with_filters_and_pages(
    client: TestClient, api_app: FastAPI, seeded: list[int]
) -> None:
    auth = token(client, api_app)
    everything = client.get("/v1/runs", headers=auth).json()
    assert [r["id"] for r in everything["items"]] == seeded[::-1]
    assert everything["next_cursor"] is None

    first = client.get("/v1/runs", params={"limit": 2}, headers=auth).json()
    assert [r["id"] for r in first["items"]] == [seeded[2], seeded[1]]
    second = client.get("/v1/runs", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth).json()
    assert [r["id"] for r in second["items"]] == [seeded[0]]
    assert second["next_cursor"] is None

    by_strategy = client.get("/v1/runs", params={"strategy": "ema_cross"}, headers=auth).json()["items"]
    assert [r["id"] for r in by_strategy] == [seeded[2], seeded[0]]
    by_venue = client.get("/v1/runs", params={"venue": "drift", "data": "sol-perp-1h"}, headers=auth).json()
    assert [r["id"] for r in by_venue["items"]] == [seeded[1]]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert client.get("/v1/runs", params={"created_from": future}, headers=auth).json()["items"] == []
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert len(client.get("/v1/runs", params={"created_from": past}, headers=auth).json()["items"]) == 3


def test_a_bad_cursor_or_a_naive_date_is_a_422_problem(
    client: TestClient, api_app: FastAPI, seeded: list[int]
) -> None:
    auth = token(client, api_app)
    for params in (
        {"cursor": "garbage"},
        {"created_from": "2024-01-01T00:00:00"},
        {"limit": 0},
        {"limit": 501},
    ):
        answer = client.get("/v1/runs", params=params, headers=auth)
        assert answer.status_code == 422, params
        assert answer.json()["status"] == 422
    fills_cursor = client.get(f"/v1/runs/{seeded[0]}/fills", params={"limit": 1}, headers=auth).json()[
        "next_cursor"
    ]
    assert client.get("/v1/runs", params={"cursor": fills_cursor}, headers=auth).status_code == 422


def test_a_run_shows_its_money_exactly_as_stored(
    client: TestClient, api_app: FastAPI, seeded: list[int]
) -> None:
    auth = token(client, api_app)
    run = client.get(f"/v1/runs/{seeded[0]}", headers=auth).json()
    assert run["final_equity"] == "100123.45678901"
    assert run["fees_paid"] == "0.000000000000000001"
    assert run["initial_cash"] == "100000"
    assert run["sharpe"] is None
    assert run["start"] == "2024-03-01T12:00:00Z"
    assert run["summary"] == {"strategy": "ema_cross", "fee_bps": "10"}
    assert client.get("/v1/runs/999999", headers=auth).status_code == 404
    assert client.get(f"/v1/runs/{2**40}", headers=auth).status_code == 404


def test_fills_come_in_execution_order_in_pages(
    client: TestClient, api_app: FastAPI, seeded: list[int]
) -> None:
    auth = token(client, api_app)
    page = client.get(f"/v1/runs/{seeded[0]}/fills", params={"limit": 1}, headers=auth).json()
    assert [(f["side"], f["amount"], f["price"], f["fee"]) for f in page["items"]] == [
        ("buy", "1.000000001", "100.5", "-0.000001")
    ]
    rest = client.get(
        f"/v1/runs/{seeded[0]}/fills", params={"cursor": page["next_cursor"]}, headers=auth
    ).json()
    assert [(f["side"], f["price"], f["client_order_id"]) for f in rest["items"]] == [("sell", "101", "c2")]
    assert rest["next_cursor"] is None
    assert client.get("/v1/runs/424242/fills", headers=auth).status_code == 404


def test_trades_filter_by_run_venue_side_and_live(
    client: TestClient, api_app: FastAPI, seeded: list[int]
) -> None:
    auth = token(client, api_app)
    every = client.get("/v1/trades", headers=auth).json()["items"]
    assert len(every) == 4
    live = client.get("/v1/trades", params={"live": "true"}, headers=auth).json()["items"]
    assert [(t["run_id"], t["side"], t["amount"], t["price"]) for t in live] == [
        (None, "sell", "0.5", "98.25")
    ]
    drift = client.get("/v1/trades", params={"venue": "drift"}, headers=auth).json()["items"]
    assert [(t["run_id"], t["amount"]) for t in drift] == [(seeded[1], "2")]
    sells = client.get("/v1/trades", params={"side": "sell", "live": "false"}, headers=auth).json()["items"]
    assert [t["client_order_id"] for t in sells] == ["c2"]
    assert client.get("/v1/trades", params={"side": "hold"}, headers=auth).status_code == 422


def test_pairs_list_every_market_by_venue(client: TestClient, api_app: FastAPI, seeded: list[int]) -> None:
    pairs = client.get("/v1/pairs", headers=token(client, api_app)).json()
    assert [(p["venue"], p["symbol"], p["base_asset"], p["quote_asset"]) for p in pairs] == [
        ("drift", "SOL/USDT", "SOL", "USDT"),
        ("sim", "SOL/USDT", "SOL", "USDT"),
    ]
    assert pairs[0]["min_trade_size"] == "0"
