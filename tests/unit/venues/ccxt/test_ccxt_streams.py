"""The feed's ccxt.pro streams against the fake Binance's websocket: bars and quotes pushed, not polled; a
dropped connection loses no bar and repeats none."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from botnft.domain.events import OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.market import Bar, Quote
from botnft.domain.orders import Order, OrderType, Side
from botnft.venues.ccxt.client import CcxtExecutionClient
from botnft.venues.ccxt.feed import CcxtMarketDataFeed
from botnft.venues.ccxt.settings import CcxtSettings
from fakes.binance import API_KEY, SECRET, FakeBinance

HOUR_MS = 3_600_000
SPOT = InstrumentId("SOL/USDT", "BINANCE")
PERP = InstrumentId("SOL-PERP", "BINANCE")


def next_kline(last: list[Any], close: str) -> list[Any]:
    t = last[0] + HOUR_MS
    return [t, close, close, close, close, "7", t + HOUR_MS - 1, "0", 0, "0", "0", "0"]


@contextlib.asynccontextmanager
async def feed_on_fake() -> AsyncIterator[tuple[FakeBinance, CcxtExecutionClient, CcxtMarketDataFeed]]:
    fake = FakeBinance()
    fake.klines = fake.klines[-5:]
    url = await fake.start()
    s = CcxtSettings.from_mapping(
        {
            "exchange": "binance",
            "symbols": ["SOL/USDT"],
            "api_key": API_KEY,
            "secret": SECRET,
            "api_urls": url,
            "enable_rate_limit": False,
            "poll_interval_s": 0.05,
        }
    )
    client = CcxtExecutionClient(s)
    await client.connect()
    feed = CcxtMarketDataFeed(client, history=50)
    try:
        yield fake, client, feed
    finally:
        await feed.close()
        await client.close()
        await fake.stop()


class Reader:
    def __init__(self, feed: CcxtMarketDataFeed) -> None:
        self.got: list[Any] = []
        self.task = asyncio.create_task(self._run(feed))

    async def _run(self, feed: CcxtMarketDataFeed) -> None:
        async for ev in feed.stream():
            self.got.append(ev)

    async def until(self, n: int, kind: type, timeout: float = 10.0) -> list[Any]:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while len([e for e in self.got if isinstance(e, kind)]) < n:
            assert loop.time() < end, f"only {self.got}"
            await asyncio.sleep(0.02)
        return [e for e in self.got if isinstance(e, kind)]

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def rest_klines(fake: FakeBinance) -> int:
    return sum(1 for _, path, _ in fake.log if path == "/api/v3/klines")


def test_new_bars_arrive_over_the_stream_and_a_drop_loses_none() -> None:
    async def main() -> None:
        async with feed_on_fake() as (fake, _, feed):
            await feed.subscribe_bars(SPOT, 3600 * 10**9)
            first = [k[0] for k in fake.klines]
            r = Reader(feed)
            await r.until(5, Bar)  # the history, over REST
            while "solusdt@kline_1h" not in fake.streams.subscribed:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)
            polls = rest_klines(fake)
            for close in ("150.5", "151.5", "152.5"):
                fake.klines.append(next_kline(fake.klines[-1], close))
            await r.until(8, Bar)
            assert rest_klines(fake) == polls, "new bars came over the stream, not by polling"
            await fake.streams.drop()
            for close in ("153.5", "154.5"):
                fake.klines.append(next_kline(fake.klines[-1], close))
            bars = await r.until(10, Bar)
            fake.klines.append(next_kline(fake.klines[-1], "155.5"))
            bars = await r.until(11, Bar)
            await asyncio.sleep(0.3)
            await r.stop()
            bars = [e for e in r.got if isinstance(e, Bar)]
            assert [b.ts_ns // 1_000_000 for b in bars] == [k[0] for k in fake.klines]  # each once, in order
            assert [b.close for b in bars[5:]] == [150.5, 151.5, 152.5, 153.5, 154.5, 155.5]
            assert first == [b.ts_ns // 1_000_000 for b in bars[:5]]
            assert feed.stream_errors >= 1
            assert fake.streams.subscribed.count("solusdt@kline_1h") >= 2  # subscribed again after the drop

    asyncio.run(asyncio.wait_for(main(), 60))


def test_quotes_follow_the_top_of_the_book_over_the_stream() -> None:
    async def main() -> None:
        async with feed_on_fake() as (fake, client, feed):
            await feed.subscribe_quotes(SPOT)
            r = Reader(feed)
            (q,) = await r.until(1, Quote)
            assert (q.bid, q.ask, q.bid_size, q.ask_size) == (
                Decimal("149.95"),
                Decimal("150.05"),
                Decimal(50),
                Decimal(50),
            )
            depth_polls = sum(1 for _, p, _ in fake.log if p == "/api/v3/depth")
            await client.create_order(
                Order(
                    "q-1",
                    SPOT,
                    Side.BUY,
                    Decimal("2"),
                    client.now_ns(),
                    order_type=OrderType.LIMIT,
                    price=Decimal("150.00"),
                )
            )
            quotes = await r.until(2, Quote)
            await r.stop()
            assert (quotes[-1].bid, quotes[-1].bid_size, quotes[-1].ask) == (
                Decimal("150.00"),
                Decimal(2),
                Decimal("150.05"),
            )
            assert sum(1 for _, p, _ in fake.log if p == "/api/v3/depth") <= depth_polls + 0
            assert "solusdt@bookTicker" in fake.streams.subscribed

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize(
    ("market_type", "symbol", "inst"), [("spot", "SOL/USDT", SPOT), ("swap", "SOL/USDT:USDT", PERP)]
)
def test_the_user_data_stream_wakes_the_order_events_before_the_next_poll(
    market_type: str, symbol: str, inst: InstrumentId
) -> None:
    async def main() -> None:
        fake = FakeBinance()
        url = await fake.start()
        client = CcxtExecutionClient.from_config(
            {
                "exchange": "binance",
                "market_type": market_type,
                "symbols": [symbol],
                "api_key": API_KEY,
                "secret": SECRET,
                "api_urls": url,
                "enable_rate_limit": False,
                "poll_interval_s": 30,
            }  # a poll would come too late
        )
        await client.connect()
        events: list[Any] = []

        async def read() -> None:
            async for ev in client.stream():
                events.append(ev)

        task = asyncio.create_task(read())
        try:
            while fake.streams.user_subscriptions == 0:  # the signed userDataStream.subscribe.signature
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)  # the stream's first poll is done: the next is 30 s away
            await client.create_order(
                Order(
                    "u-1",
                    inst,
                    Side.SELL,
                    Decimal("2"),
                    client.now_ns(),
                    order_type=OrderType.LIMIT,
                    price=Decimal("152"),
                )
            )
            await fake.take(inst, Side.BUY, Decimal("152"), Decimal("2"))
            for _ in range(250):  # 5 s at most, far below the 30 s poll
                if any(isinstance(e, OrderFilled) for e in events):
                    break
                await asyncio.sleep(0.02)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await client.close()
            await fake.stop()
        fills = [e for e in events if isinstance(e, OrderFilled)]
        assert [(f.client_order_id, f.qty, f.price) for f in fills] == [("u-1", Decimal(2), Decimal(152))]
        assert fake.streams.user_events >= 1 and client.stream_errors == 0

    asyncio.run(asyncio.wait_for(main(), 60))
