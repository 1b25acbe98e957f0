"""The ccxt market data feed against the fake Binance: real candles, top of book, depth, funding."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from botnft.data import bundle
from botnft.data.loader import load_candles
from botnft.domain.errors import UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.market import Bar, BookSnapshot, FundingRate, Quote
from botnft.venues.ccxt.client import CcxtExecutionClient
from botnft.venues.ccxt.feed import CcxtMarketDataFeed
from botnft.venues.ccxt.settings import CcxtSettings
from fakes.binance import API_KEY, SECRET, FakeBinance

HOUR = 3600 * 10**9


async def _feed(market_type: str) -> tuple[FakeBinance, CcxtExecutionClient, CcxtMarketDataFeed]:
    fake = FakeBinance()
    url = await fake.start()
    s = CcxtSettings.from_mapping(
        {
            "exchange": "binance",
            "market_type": market_type,
            "symbols": ["SOL/USDT" if market_type == "spot" else "SOL/USDT:USDT"],
            "api_key": API_KEY,
            "secret": SECRET,
            "api_urls": url,
            "enable_rate_limit": False,
        }
    )
    client = CcxtExecutionClient(s)
    await client.connect()
    return fake, client, CcxtMarketDataFeed(client, history=50, poll_interval_s=0.01)


def test_bars_are_the_venues_closed_candles_once_each() -> None:
    src = load_candles(bundle.get("sol-spot-1h").path)

    async def main() -> None:
        fake, client, feed = await _feed("spot")
        try:
            inst = InstrumentId("SOL/USDT", "BINANCE")
            await feed.subscribe_bars(inst, HOUR)
            first = await feed.poll()
            again = await feed.poll()
        finally:
            await client.close()
            await fake.stop()
        assert again == []
        assert len(first) == 50 and all(isinstance(b, Bar) for b in first)
        assert [b.ts_ns for b in first] == [int(t) for t in src.ts_ns[-50:]]
        assert [b.close for b in first] == [float(c) for c in src.close[-50:]]
        assert [b.high for b in first] == [float(h) for h in src.high[-50:]]

    asyncio.run(main())


def test_quotes_books_and_funding_follow_the_venue() -> None:
    async def main() -> None:
        fake, client, feed = await _feed("swap")
        inst = InstrumentId("SOL-PERP", "BINANCE")
        try:
            await feed.subscribe_quotes(inst)
            await feed.subscribe_book(inst, depth=3)
            await feed.subscribe_funding(inst)
            q, book, fr = await feed.poll()
            assert await feed.poll() == []  # nothing changed
            fake.funding_rate = Decimal("-0.00025")
            (fr2,) = [e for e in await feed.poll() if isinstance(e, FundingRate)]
        finally:
            await client.close()
            await fake.stop()
        assert isinstance(q, Quote) and (q.bid, q.ask, q.bid_size, q.ask_size) == (
            Decimal("149.95"),
            Decimal("150.05"),
            Decimal(50),
            Decimal(50),
        )
        assert isinstance(book, BookSnapshot)
        assert [p for p, _ in book.bids] == [Decimal("149.95"), Decimal("149.90"), Decimal("149.85")]
        assert [p for p, _ in book.asks] == [Decimal("150.05"), Decimal("150.10"), Decimal("150.15")]
        assert isinstance(fr, FundingRate) and fr.rate == Decimal("0.0001")
        assert fr2.rate == Decimal("-0.00025")

    asyncio.run(main())


def test_user_mistakes_are_one_line_errors() -> None:
    async def main() -> None:
        fake, client, feed = await _feed("spot")
        inst = InstrumentId("SOL/USDT", "BINANCE")
        try:
            with pytest.raises(UserError, match="no ccxt timeframe"):
                await feed.subscribe_bars(inst, 7 * 10**9)
            with pytest.raises(UserError, match="not a perp"):
                await feed.subscribe_funding(inst)
            with pytest.raises(UserError, match="no oracle"):
                await feed.subscribe_oracle(inst)
        finally:
            await client.close()
            await fake.stop()

    asyncio.run(main())
