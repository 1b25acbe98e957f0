"""A `MarketDataFeed` of candles from a venue's candle query (a ccxt exchange's `fetch_ohlcv`), polled:
each round yields the candles from the last one seen on (the one still forming again, as it changes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from botnft.domain.errors import Retryable
from botnft.domain.ids import InstrumentId
from botnft.domain.market import Bar

#: (since_ns or None) -> candles in time order
FetchCandles = Callable[[int | None], Awaitable[Sequence[Bar]]]


class PollingCandleFeed:
    def __init__(self, fetch: FetchCandles, *, poll_s: float = 1.0) -> None:
        self.fetch = fetch
        self.poll_s = poll_s
        self.failures = 0

    async def subscribe_bars(self, instrument: InstrumentId, interval_ns: int) -> None:
        return None  # the candle query names its market and interval

    async def subscribe_quotes(self, instrument: InstrumentId) -> None:
        return None

    async def subscribe_book(self, instrument: InstrumentId, depth: int = 10) -> None:
        return None

    async def subscribe_funding(self, instrument: InstrumentId) -> None:
        return None

    async def subscribe_oracle(self, instrument: InstrumentId) -> None:
        return None

    async def stream(self) -> AsyncIterator[Bar]:
        last: Bar | None = None
        while True:
            try:
                bars = await self.fetch(None if last is None else last.ts_ns)
            except Retryable:
                self.failures += 1  # the venue is away for now: ask again next round
                bars = ()
            for bar in bars:
                if last is not None and (bar.ts_ns < last.ts_ns or bar == last):
                    continue
                last = bar
                yield bar
            await asyncio.sleep(self.poll_s)


def ohlcv_bars(rows: Sequence[Sequence[float]], instrument: InstrumentId) -> list[Bar]:
    """ccxt's OHLCV rows ([ms, open, high, low, close, volume]) as bars, in time order."""
    out = []
    for r in sorted(rows, key=lambda r: r[0]):
        o, h, low, c, v = (float(x) for x in r[1:6])
        out.append(Bar(instrument, int(r[0]) * 1_000_000, o, h, low, c, v))
    return out
