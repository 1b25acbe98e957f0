"""`CcxtMarketDataFeed`: bars, best quotes, books and funding rates of a ccxt exchange, polled over REST.

Each subscription is polled every `poll_interval_s`; a bar is emitted once, when it has closed (its open
time plus the interval is not after the clock); quotes, books and funding rates are emitted when they change.
Each message carries the venue's timestamp. CEXes have no oracle: `subscribe_oracle` is a `UserError`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from botnft.domain.errors import Retryable, UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.market import Bar, BookSnapshot, FundingRate, Quote
from botnft.venues.ccxt.client import CcxtExecutionClient
from botnft.venues.ccxt.mapping import dec, ms_to_ns

S = 1_000_000_000
#: bar lengths ccxt names by a timeframe string
TIMEFRAMES = {
    60 * S: "1m",
    300 * S: "5m",
    900 * S: "15m",
    1800 * S: "30m",
    3600 * S: "1h",
    14400 * S: "4h",
    86400 * S: "1d",
}


@dataclass
class _Sub:
    kind: str
    instrument: InstrumentId
    symbol: str
    arg: Any = None
    last: Any = None


class CcxtMarketDataFeed:
    """Market data through the exchange object of a connected `CcxtExecutionClient` (one HTTP session)."""

    def __init__(
        self,
        client: CcxtExecutionClient,
        *,
        poll_interval_s: float | None = None,
        history: int = 100,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.client = client
        self.poll_interval_s = poll_interval_s or client.settings.poll_interval_s
        self.history = history
        self.now_ns = clock_ns
        self._subs: list[_Sub] = []

    def _add(self, kind: str, instrument: InstrumentId, arg: Any = None) -> None:
        symbol = self.client.symbol(instrument)
        self._subs.append(_Sub(kind, instrument, symbol, arg))

    async def subscribe_bars(self, instrument: InstrumentId, interval_ns: int) -> None:
        tf = TIMEFRAMES.get(interval_ns)
        if tf is None:
            raise UserError(
                f"no ccxt timeframe for bars of {interval_ns // S} s ({', '.join(TIMEFRAMES.values())})"
            )
        self._add("bars", instrument, (tf, interval_ns))

    async def subscribe_quotes(self, instrument: InstrumentId) -> None:
        self._add("quote", instrument)

    async def subscribe_book(self, instrument: InstrumentId, depth: int = 10) -> None:
        self._add("book", instrument, depth)

    async def subscribe_funding(self, instrument: InstrumentId) -> None:
        if not instrument.is_perp:
            raise UserError(f"{instrument} is not a perp: it has no funding rate")
        self._add("funding", instrument)

    async def subscribe_oracle(self, instrument: InstrumentId) -> None:
        raise UserError(f"{self.client.name} has no oracle prices (subscribe Pyth for {instrument})")

    async def poll(self) -> list[Any]:
        """One round over every subscription: the new messages, in subscription order."""
        out: list[Any] = []
        for sub in self._subs:
            out.extend(await getattr(self, f"_poll_{sub.kind}")(sub))
        return out

    async def stream(self) -> AsyncIterator[Any]:
        while True:
            try:
                events = await self.poll()
            except Retryable:
                events = []
            for ev in events:
                yield ev
            await asyncio.sleep(self.poll_interval_s)

    async def _poll_bars(self, sub: _Sub) -> list[Bar]:
        tf, interval_ns = sub.arg
        ex = self.client.exchange
        since = None if sub.last is None else sub.last // 1_000_000
        rows = await self.client.call("fetch_ohlcv", ex.fetch_ohlcv, sub.symbol, tf, since, self.history)
        now = self.now_ns()
        bars = []
        for ts, o, h, lo, c, v in rows:
            ts_ns = ms_to_ns(ts)
            if (sub.last is not None and ts_ns <= sub.last) or ts_ns + interval_ns > now:
                continue
            bars.append(Bar(sub.instrument, ts_ns, float(o), float(h), float(lo), float(c), float(v)))
        if bars:
            sub.last = bars[-1].ts_ns
        return bars

    async def _book(self, sub: _Sub, depth: int) -> BookSnapshot:
        ex = self.client.exchange
        raw = await self.client.call("fetch_order_book", ex.fetch_order_book, sub.symbol, depth)
        ts = ms_to_ns(raw.get("timestamp")) or self.now_ns()
        size = self.client.contract_size(sub.instrument)
        bids = tuple((dec(p), dec(q) * size) for p, q, *_ in raw.get("bids", [])[:depth])
        asks = tuple((dec(p), dec(q) * size) for p, q, *_ in raw.get("asks", [])[:depth])
        return BookSnapshot(sub.instrument, ts, bids, asks)

    async def _poll_book(self, sub: _Sub) -> list[BookSnapshot]:
        book = await self._book(sub, int(sub.arg))
        key = (book.bids, book.asks)
        if key == sub.last:
            return []
        sub.last = key
        return [book]

    async def _poll_quote(self, sub: _Sub) -> list[Quote]:
        book = await self._book(sub, 5)
        if not book.bids or not book.asks:
            return []
        (bid, bsz), (ask, asz) = book.bids[0], book.asks[0]
        key = (bid, bsz, ask, asz)
        if key == sub.last:
            return []
        sub.last = key
        return [Quote(sub.instrument, book.ts_ns, bid, ask, bsz, asz)]

    async def _poll_funding(self, sub: _Sub) -> list[FundingRate]:
        ex = self.client.exchange
        raw = await self.client.call("fetch_funding_rate", ex.fetch_funding_rate, sub.symbol)
        rate = raw.get("fundingRate")
        if rate is None:
            return []
        fr = FundingRate(sub.instrument, ms_to_ns(raw.get("timestamp")) or self.now_ns(), dec(rate))
        key = (fr.rate, raw.get("fundingTimestamp"))  # the quote time moves on every call; the rate may not
        if key == sub.last:
            return []
        sub.last = key
        return [fr]


__all__ = ["TIMEFRAMES", "CcxtMarketDataFeed"]
