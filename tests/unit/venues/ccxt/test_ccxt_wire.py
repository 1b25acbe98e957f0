"""Bybit and OKX through the same adapter: markets (set as ccxt's unified structures) map to instruments,
and an order reaches the wire, here a loopback recorder, with our client order id in that exchange's own
field and the size in contracts."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

from botnft.domain.errors import Rejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderType, Side
from botnft.venues.ccxt.client import CcxtExecutionClient
from botnft.venues.ccxt.settings import CcxtSettings


def unified_market(
    ex: Any, symbol: str, venue_id: str, swap: bool, contract_size: float | None, amount_step: float
) -> Any:
    base, quote = symbol.split(":", maxsplit=1)[0].split("/")
    return ex.safe_market_structure(
        {
            "id": venue_id,
            "symbol": symbol,
            "base": base,
            "quote": quote,
            "baseId": base,
            "quoteId": quote,
            "settle": quote if swap else None,
            "settleId": quote if swap else None,
            "type": "swap" if swap else "spot",
            "spot": not swap,
            "margin": False,
            "swap": swap,
            "future": False,
            "option": False,
            "active": True,
            "contract": swap,
            "linear": True if swap else None,
            "inverse": False if swap else None,
            "contractSize": contract_size,
            "precision": {"amount": amount_step, "price": 0.01},
            "limits": {"amount": {"min": amount_step}, "price": {}, "cost": {}, "leverage": {}},
            "info": {},
        }
    )


async def place(
    exchange: str,
    market_type: str,
    symbol: str,
    venue_id: str,
    contract_size: float | None,
    amount_step: float,
    amount: Decimal,
) -> tuple[CcxtExecutionClient, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append({"method": request.method, "path": request.path, "body": await request.text()})
        return web.json_response(
            {"code": "51000", "msg": "recorded", "retCode": 10001, "retMsg": "recorded", "data": []}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    settings = CcxtSettings.from_mapping(
        {
            "exchange": exchange,
            "market_type": market_type,
            "symbols": [symbol],
            "api_key": "k-1",
            "secret": "s-1",
            "password": "p-1",
            "api_urls": f"http://{host}:{port}",
            "enable_rate_limit": False,
            "options": {"enableUnifiedMargin": False, "enableUnifiedAccount": True},
        }
    )
    client = CcxtExecutionClient(settings)
    client.exchange.set_markets(
        [unified_market(client.exchange, symbol, venue_id, market_type == "swap", contract_size, amount_step)]
    )
    try:
        await client.connect()
        (inst,) = client.instruments()
        order = Order(
            "bot-77",
            inst,
            Side.BUY,
            amount,
            client.now_ns(),
            order_type=OrderType.LIMIT,
            price=Decimal("150.01"),
        )
        with pytest.raises(Rejected, match="recorded"):
            await client.create_order(order)
    finally:
        await client.close()
        await runner.cleanup()
    return client, seen


@pytest.mark.parametrize(
    ("exchange", "market_type", "symbol", "venue_id", "size", "step", "amount", "field", "sent", "want_inst"),
    [
        (
            "bybit",
            "spot",
            "SOL/USDT",
            "SOLUSDT",
            None,
            0.001,
            "0.3",
            "orderLinkId",
            ("qty", "0.3"),
            "SOL/USDT.BYBIT",
        ),
        (
            "bybit",
            "swap",
            "SOL/USDT:USDT",
            "SOLUSDT",
            1,
            0.1,
            "0.3",
            "orderLinkId",
            ("qty", "0.3"),
            "SOL-PERP.BYBIT",
        ),
        (
            "okx",
            "spot",
            "SOL/USDT",
            "SOL-USDT",
            None,
            0.0001,
            "0.3",
            "clOrdId",
            ("sz", "0.3"),
            "SOL/USDT.OKX",
        ),
        (
            "okx",
            "swap",
            "SOL/USDT:USDT",
            "SOL-USDT-SWAP",
            0.1,
            0.01,
            "0.3",
            "clOrdId",
            ("sz", "3"),
            "SOL-PERP.OKX",
        ),
    ],
)
def test_the_order_carries_our_client_id_in_the_exchanges_own_field(
    exchange: str,
    market_type: str,
    symbol: str,
    venue_id: str,
    size: float | None,
    step: float,
    amount: str,
    field: str,
    sent: tuple[str, str],
    want_inst: str,
) -> None:
    client, seen = asyncio.run(place(exchange, market_type, symbol, venue_id, size, step, Decimal(amount)))
    assert list(client.instruments()) == [InstrumentId.parse(want_inst)]
    (req,) = [r for r in seen if r["method"] == "POST"]
    body = json.loads(req["body"])
    body = body[0] if isinstance(body, list) else body
    assert body[field] == "bot-77"
    key, value = sent
    assert Decimal(body[key]) == Decimal(value)
    assert Decimal(body["px" if exchange == "okx" else "price"]) == Decimal("150.01")


def test_an_okx_perp_lot_is_in_coins_not_contracts() -> None:
    client, _ = asyncio.run(place("okx", "swap", "SOL/USDT:USDT", "SOL-USDT-SWAP", 0.1, 0.01, Decimal("0.3")))
    (spec,) = client.instruments().values()
    assert (spec.lot_size, spec.min_size) == (Decimal("0.001"), Decimal("0.001"))
