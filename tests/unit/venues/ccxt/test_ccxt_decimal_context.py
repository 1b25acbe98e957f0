"""ccxt's decimal_to_precision sets the current decimal context's rounding to ROUND_HALF_UP; the adapter runs
every ccxt call in a context of its own, so the process keeps half-even rounding after an order."""

from __future__ import annotations

import asyncio
import decimal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # tests/ (the fakes package)

pytest.importorskip("ccxt")
from botnft.domain.orders import Order, Side
from botnft.venues.ccxt.client import CcxtExecutionClient
from fakes.binance import API_KEY, SECRET, FakeBinance


def test_ccxt_itself_leaks_its_rounding_into_the_callers_context() -> None:
    from ccxt.base.decimal_to_precision import ROUND, decimal_to_precision

    with decimal.localcontext() as ctx:
        assert ctx.rounding == decimal.ROUND_HALF_EVEN
        decimal_to_precision("1.25", ROUND, 1)
        assert ctx.rounding == decimal.ROUND_HALF_UP  # what the adapter must keep away from the process


def test_an_order_through_the_adapter_leaves_the_context_half_even() -> None:
    async def trade() -> None:
        fake = FakeBinance(mid=Decimal("150.00"), balances={"USDT": Decimal(10_000), "SOL": Decimal(0)})
        url = await fake.start()
        client = CcxtExecutionClient.from_config(
            {"exchange": "binance", "market_type": "spot", "symbols": ["SOL/USDT"], "api_key": API_KEY,
             "secret": SECRET, "api_urls": url, "enable_rate_limit": False, "websocket": False}
        )  # fmt: skip
        try:
            await client.connect()
            inst = next(iter(client.instruments()))
            await client.create_order(Order("c-1", inst, Side.BUY, Decimal("1.25"), 0))
            await client.fetch_order("c-1")
        finally:
            await client.close()
            await fake.stop()

    with decimal.localcontext() as ctx:
        asyncio.run(trade())
        assert ctx.rounding == decimal.ROUND_HALF_EVEN
        assert Decimal("0.125").quantize(Decimal("0.01")) == Decimal("0.12")  # half-even, not half-up
