"""Binance's response shapes: real recorded responses and the fake's answers both hold to the JSON Schema in
tests/fixtures/binance/schema.json (written from Binance's API docs, see its description), and the real
responses, replayed to the adapter over loopback, map to the values written out here by hand."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jsonschema
import pytest
from aiohttp import web

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import OrderStatus, Side
from botnft.venues.ccxt.client import CcxtExecutionClient
from botnft.venues.ccxt.settings import CcxtSettings
from fakes.binance import API_KEY, SECRET, FakeBinance, Market, exchange_info_json

FIXTURES = Path(__file__).parents[3] / "fixtures" / "binance"
SCHEMA = json.loads((FIXTURES / "schema.json").read_text())
REAL = json.loads((FIXTURES / "recorded_real.json").read_text())["cases"]
FAKE_FILE = FIXTURES / "recorded_fake.json"


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]})


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("case", sorted(REAL))
def test_real_recorded_responses_hold_to_the_schema(case: str) -> None:
    errors = [e.message for e in validator(case).iter_errors(REAL[case]["response"])]
    assert errors == []


@pytest.mark.parametrize(
    ("case", "mutate", "words"),
    [
        ("spot_order", lambda r: r.pop("clientOrderId"), "'clientOrderId' is a required property"),
        ("spot_order", lambda r: r.update(status="DONE"), "'DONE' is not one of"),
        ("spot_order", lambda r: r.update(executedQty=0.1), "0.1 is not of type 'string'"),
        ("fapi_order", lambda r: r.update(positionSide="UP"), "'UP' is not one of"),
        ("spot_account", lambda r: r["balances"][0].update(free="1e-8"), "does not match"),
    ],
)
def test_the_schema_catches_a_wrong_shape(case: str, mutate: Any, words: str) -> None:
    resp = json.loads(json.dumps(REAL[case]["response"]))
    mutate(resp)
    messages = " | ".join(e.message for e in validator(case).iter_errors(resp))
    assert words in messages


# ------------------------------------------------------------------------ the fake's answers, recorded
def signed(params: dict[str, Any]) -> str:
    q = urlencode({**params, "timestamp": int(time.time() * 1000), "recvWindow": 10_000})
    return q + "&signature=" + hmac.new(SECRET.encode(), q.encode(), hashlib.sha256).hexdigest()


async def record_fake() -> dict[str, dict[str, Any]]:
    """Every endpoint the adapter uses, once, against a fresh fake; each answer keyed by its schema name."""
    fake = FakeBinance()
    url = await fake.start()
    out: dict[str, dict[str, Any]] = {}
    h = {"X-MBX-APIKEY": API_KEY}
    try:
        async with aiohttp.ClientSession() as http:

            async def call(name: str, method: str, path: str, params: dict[str, Any], sign: bool) -> None:
                query = signed(params) if sign else urlencode(params)
                if method == "POST":
                    resp = await http.post(
                        url + path,
                        data=query,
                        headers={**h, "Content-Type": "application/x-www-form-urlencoded"},
                    )
                else:
                    resp = await http.request(method, f"{url}{path}?{query}", headers=h)
                body = await resp.json()
                assert resp.status == 200, (name, body)
                out[name] = {"endpoint": f"{method} {path}", "request": params, "response": body}

            s, f = {"symbol": "SOLUSDT"}, {"symbol": "SOLUSDT"}
            await call("time", "GET", "/api/v3/time", {}, False)
            await call("spot_exchange_info", "GET", "/api/v3/exchangeInfo", {}, False)
            await call("depth", "GET", "/api/v3/depth", {**s, "limit": 5}, False)
            await call("klines", "GET", "/api/v3/klines", {**s, "interval": "1h", "limit": 3}, False)
            await call(
                "spot_new_order",
                "POST",
                "/api/v3/order",
                {
                    **s,
                    "side": "BUY",
                    "type": "MARKET",
                    "quantity": "1.5",
                    "newClientOrderId": "rec-1",
                    "newOrderRespType": "FULL",
                },
                True,
            )
            await call("spot_order", "GET", "/api/v3/order", {**s, "origClientOrderId": "rec-1"}, True)
            await call("spot_my_trades", "GET", "/api/v3/myTrades", s, True)
            await call("spot_account", "GET", "/api/v3/account", {}, True)
            await call(
                "spot_new_order_resting",
                "POST",
                "/api/v3/order",
                {
                    **s,
                    "side": "SELL",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "1",
                    "price": "160",
                    "newClientOrderId": "rec-2",
                },
                True,
            )
            await call("spot_open_orders", "GET", "/api/v3/openOrders", s, True)
            await call("fapi_exchange_info", "GET", "/fapi/v1/exchangeInfo", {}, False)
            await call("fapi_premium_index", "GET", "/fapi/v1/premiumIndex", f, False)
            await call(
                "fapi_order",
                "POST",
                "/fapi/v1/order",
                {**f, "side": "SELL", "type": "MARKET", "quantity": "2", "newClientOrderId": "rec-3"},
                True,
            )
            await call("fapi_user_trades", "GET", "/fapi/v1/userTrades", f, True)
            await call("fapi_open_orders", "GET", "/fapi/v1/openOrders", f, True)
            await call("fapi_position_risk_v2", "GET", "/fapi/v2/positionRisk", f, True)
            await call("fapi_balance", "GET", "/fapi/v2/balance", {}, True)
            await call("fapi_account_v2", "GET", "/fapi/v2/account", {}, True)
            await call("fapi_leverage_bracket", "GET", "/fapi/v1/leverageBracket", {}, True)
            good = signed({"symbol": "SOLUSDT"})
            bad = good[:-1] + ("1" if good.endswith("0") else "0")  # one hex digit off
            resp = await http.get(f"{url}/api/v3/openOrders?{bad}", headers=h)
            out["error"] = {
                "endpoint": "GET /api/v3/openOrders (bad signature)",
                "request": {},
                "response": await resp.json(),
                "status": resp.status,
            }
    finally:
        await fake.stop()
    return out


def schema_of(name: str) -> str:
    return "spot_new_order" if name == "spot_new_order_resting" else name


def test_the_fakes_answers_hold_to_the_schema_now_and_as_recorded() -> None:
    live = asyncio.run(record_fake())
    if os.environ.get("BOT_RECORD_FIXTURES") == "1" or not FAKE_FILE.exists():
        FAKE_FILE.write_text(
            json.dumps(
                {
                    "source": "answers of tests/fakes/binance.py, recorded by "
                    "test_ccxt_fixtures.record_fake (BOT_RECORD_FIXTURES=1 rewrites)",
                    "cases": live,
                },
                indent=1,
            )
            + "\n"
        )
    stored = json.loads(FAKE_FILE.read_text())["cases"]
    assert sorted(stored) == sorted(live)
    for name in sorted(live):
        for where, data in (("live", live), ("recorded", stored)):
            errors = [e.message for e in validator(schema_of(name)).iter_errors(data[name]["response"])]
            assert errors == [], (where, name, errors)
    assert live["error"]["status"] == 400 and live["error"]["response"]["code"] == -1022
    assert live["spot_new_order"]["response"]["fills"], "a market order's FULL answer lists its fills"


# -------------------------------------------------------------- real responses replayed to the adapter
async def replay(cases: dict[str, str]) -> tuple[web.AppRunner, str]:
    """A loopback server answering each (method, path) with a real recorded response."""
    by_path = {tuple(REAL[c]["endpoint"].split(" ")): REAL[c]["response"] for c in cases.values()}
    markets = [
        Market(
            "LTCUSDT", "LTC", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"), Decimal(5), False
        ),
        Market(
            "BTCUSDT", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal(5), True
        ),
    ]

    async def handle(request: web.Request) -> web.Response:
        if request.path.endswith("/exchangeInfo"):
            return web.json_response(exchange_info_json(markets[request.path.startswith("/fapi")], 0))
        if request.path == "/fapi/v1/leverageBracket":
            return web.json_response([])
        body = by_path.get((request.method, request.path))
        if body is None:
            return web.json_response({"code": -1000, "msg": "not recorded"}, status=404)
        return web.json_response(body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def client_for(url: str, market_type: str, **kw: Any) -> CcxtExecutionClient:
    raw: dict[str, Any] = {
        "exchange": "binance",
        "market_type": market_type,
        "api_key": API_KEY,
        "secret": SECRET,
        "api_urls": url,
        "enable_rate_limit": False,
        "symbols": ["LTC/USDT"] if market_type == "spot" else ["BTC/USDT:USDT"],
    }
    raw.update(kw)
    return CcxtExecutionClient(CcxtSettings.from_mapping(raw))


def test_real_spot_responses_map_to_the_domain() -> None:
    async def main() -> None:
        runner, url = await replay(
            {"o": "spot_order", "oo": "spot_open_orders", "t": "spot_my_trades", "b": "spot_account"}
        )
        client = client_for(url, "spot")
        try:
            await client.connect()
            ltc = InstrumentId("LTC/USDT", "BINANCE")
            rep = await client.fetch_order("x-R4BD3S825806ed40c861260428a48c")
            assert rep is not None
            assert (rep.instrument, rep.side, rep.amount, rep.filled, rep.status, rep.average) == (
                ltc,
                Side.SELL,
                Decimal("0.1"),
                Decimal("0.1"),
                OrderStatus.FILLED,
                Decimal("90.8"),
            )
            assert rep.venue_order_id == "3397148653"
            (open_rep,) = await client.fetch_open_orders()
            assert (open_rep.client_order_id, open_rep.amount, open_rep.status) == (
                "x-R4BD3S82102a551f8c1642bba06728",
                Decimal("0.2"),
                OrderStatus.ACCEPTED,
            )
            (fill,) = await client.fetch_my_trades()
            assert (
                fill.trade_id,
                fill.venue_order_id,
                fill.side,
                fill.qty,
                fill.price,
                fill.fee,
                fill.fee_asset,
                fill.liquidity,
            ) == (
                "309520010",
                "3784695242",
                Side.SELL,
                Decimal("0.2"),
                Decimal("69.63"),
                Decimal("0.013926"),
                "USDT",
                "taker",
            )
            bal = await client.fetch_balance()
            assert (bal["LTC"], bal["ETH"], bal["BTC"]) == (Decimal("0.919741"), Decimal("0.02229833"), 0)
        finally:
            await client.close()
            await runner.cleanup()

    asyncio.run(main())


def test_real_perp_responses_map_to_the_domain() -> None:
    async def main() -> None:
        runner, url = await replay({"p": "fapi_position_risk_v3", "o": "fapi_order", "t": "fapi_user_trades"})
        client = client_for(url, "swap", options={"fetchPositionsRisk": {"useV2": False}})
        try:
            await client.connect()
            btc = InstrumentId("BTC-PERP", "BINANCE")
            (pos,) = await client.fetch_positions()
            assert (pos.instrument, pos.qty, pos.entry_price) == (btc, Decimal("0.009"), Decimal("67445.9"))
            rep = await client.fetch_order("x-xcKtGhcu68f8383451844295b3e8b9")
            assert rep is not None and (rep.amount, rep.filled, rep.status) == (
                Decimal("0.2"),
                Decimal(0),
                OrderStatus.ACCEPTED,
            )
            (fill,) = await client.fetch_my_trades()
            assert (fill.side, fill.qty, fill.price, fill.fee, fill.fee_asset) == (
                Side.BUY,
                Decimal("0.01"),
                Decimal("36567.1"),
                Decimal("0.1462684"),
                "USDT",
            )
        finally:
            await client.close()
            await runner.cleanup()

    asyncio.run(main())
