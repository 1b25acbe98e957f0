"""Live contract subjects for the ccxt adapter: Binance spot and USDⓈ-M perps through the real ccxt client,
pointed at the loopback fake Binance (`tests/fakes/binance.py`) by overriding `exchange.urls['api']`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

from live_contract import LiveSubject, register

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side
from botnft.venues.ccxt.client import CcxtExecutionClient
from botnft.venues.ccxt.settings import CcxtSettings
from fakes.binance import API_KEY, SECRET, FakeBinance

MID = Decimal("150.00")
CLIENT_TIMEOUT_MS = 800


def settings_for(url: str, market_type: str, exchange: str = "binance") -> CcxtSettings:
    symbol = "SOL/USDT" if market_type == "spot" else "SOL/USDT:USDT"
    return CcxtSettings.from_mapping(
        {
            "exchange": exchange,
            "market_type": market_type,
            "symbols": [symbol],
            "api_key": API_KEY,
            "secret": SECRET,
            "api_urls": url,
            "timeout_ms": CLIENT_TIMEOUT_MS,
            "poll_interval_s": 0.05,
            "enable_rate_limit": False,
        }
    )


def _subject(market_type: str, exchange: str = "binance"):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[LiveSubject]:
        fake = FakeBinance(mid=MID, delay_s=CLIENT_TIMEOUT_MS / 1000 + 0.7)
        url = await fake.start()
        client = CcxtExecutionClient(settings_for(url, market_type, exchange))
        try:
            await client.connect()
            inst = InstrumentId("SOL/USDT" if market_type == "spot" else "SOL-PERP", "BINANCE")

            def rest_price(side: Side) -> Decimal:
                return MID - Decimal(20) if side is Side.BUY else MID + Decimal(20)

            yield LiveSubject(
                client, inst, fake, Decimal("1.234") if market_type == "spot" else Decimal("2.37"), rest_price
            )
        finally:
            await client.close()
            await fake.stop()

    return factory


register("ccxt_binance_spot", _subject("spot"))
register("ccxt_binance_usdm", _subject("swap"))
