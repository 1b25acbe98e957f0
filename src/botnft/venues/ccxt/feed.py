"""`CcxtMarketDataFeed`: bars, best quotes, books and funding rates of a ccxt exchange.

Bars and quotes come from `ccxt.pro` streams (`watch_ohlcv`, `watch_bids_asks`) where the exchange has them
and `websocket` is on; everything else, and any stream ccxt cannot give, is polled over REST every
`poll_interval_s`. A bar is emitted once, when it has closed (a later candle has opened, or its open time plus
the interval is not after the clock); after a stream error the bars missed meanwhile are fetched over REST
before the stream is watched again, so a dropped connection loses none. Quotes, books and funding rates are
emitted when they change. CEXes have no oracle: `subscribe_oracle` is a `UserError`.
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
from botnft.venues.ccxt.exchange import build_exchange, ccxt_decimal
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

#: subscriptions a ccxt.pro stream can serve, with the capability flag that says so
WATCH = {"bars": "watchOHLCV", "quote": "watchBidsAsks"}


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
        websocket: bool | None = None,
    ) -> None:
        self.client = client
        self.poll_interval_s = poll_interval_s or client.settings.poll_interval_s
        self.history = history
        self.now_ns = clock_ns
        self.websocket = client.settings.websocket if websocket is None else websocket
        self.ws: Any = None
        self.stream_errors = 0
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
        """Every subscription's messages, as they come (one reader)."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        watched = [s for s in self._subs if s.kind in WATCH and await self._can_watch(s.kind)]
        polled = [s for s in self._subs if s not in watched]
        tasks = [asyncio.create_task(self._watch(s, queue)) for s in watched]
        if polled:
            tasks.append(asyncio.create_task(self._poll_loop(polled, queue)))
        try:
            while True:
                yield await queue.get()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Release the websocket exchange, if one was opened (the client closes its own session)."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def _can_watch(self, kind: str) -> bool:
        if not self.websocket:
            return False
        if self.ws is None:
            self.ws = build_exchange(self.client.settings, pro=True)
            if self.ws is None:
                self.websocket = False
                return False
            self.ws.set_markets(list(self.client.exchange.markets.values()))
            self.ws.newUpdates = (
                False  # each watch returns the whole cache; bars already sent are skipped here
            )
        return bool(self.ws.has.get(WATCH[kind]))

    async def _poll_loop(self, subs: list[_Sub], queue: asyncio.Queue[Any]) -> None:
        while True:
            for sub in subs:
                try:
                    for ev in await getattr(self, f"_poll_{sub.kind}")(sub):
                        queue.put_nowait(ev)
                except Retryable:
                    pass
            await asyncio.sleep(self.poll_interval_s)

    async def _watch(self, sub: _Sub, queue: asyncio.Queue[Any]) -> None:
        """Watch one subscription's stream; after an error, catch up over REST, then watch again."""
        catch_up = True
        while True:
            try:
                if catch_up:
                    for ev in await getattr(self, f"_poll_{sub.kind}")(sub):
                        queue.put_nowait(ev)
                    catch_up = False
                for ev in await self._watch_once(sub):
                    queue.put_nowait(ev)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a dropped stream: ccxt.pro reconnects on the next watch call
                if type(e).__name__ == "NotSupported":
                    await self._poll_loop([sub], queue)
                self.stream_errors += 1
                catch_up = True
                await asyncio.sleep(self.poll_interval_s)

    async def _watch_once(self, sub: _Sub) -> list[Any]:
        if sub.kind == "bars":
            tf, interval_ns = sub.arg
            with ccxt_decimal():
                rows = await self.ws.watch_ohlcv(sub.symbol, tf)
            fresh = [r for r in rows if sub.last is None or ms_to_ns(r[0]) > sub.last]
            if sub.last is not None and fresh and ms_to_ns(fresh[0][0]) > sub.last + interval_ns:
                # a gap (candles that closed before the stream was subscribed): fill it over REST first
                return [*await self._poll_bars(sub), *self._closed_bars(sub, rows)]
            return self._closed_bars(sub, rows)
        with ccxt_decimal():
            tickers = await self.ws.watch_bids_asks([sub.symbol])
        t = tickers.get(sub.symbol) or {}
        if t.get("bid") is None or t.get("ask") is None:
            return []
        size = self.client.contract_size(sub.instrument)
        bid, ask = dec(t["bid"]), dec(t["ask"])
        bsz, asz = dec(t.get("bidVolume") or 0) * size, dec(t.get("askVolume") or 0) * size
        key = (bid, bsz, ask, asz)
        if key == sub.last:
            return []
        sub.last = key
        return [Quote(sub.instrument, ms_to_ns(t.get("timestamp")) or self.now_ns(), bid, ask, bsz, asz)]

    def _closed_bars(self, sub: _Sub, rows: list[list[Any]]) -> list[Bar]:
        _, interval_ns = sub.arg
        now = self.now_ns()
        newest = ms_to_ns(rows[-1][0]) if rows else 0
        bars = []
        for ts, o, h, lo, c, v in rows:
            ts_ns = ms_to_ns(ts)
            if sub.last is not None and ts_ns <= sub.last:
                continue
            if ts_ns + interval_ns > now and ts_ns >= newest:
                continue  # still forming: no later candle yet and its interval has not ended
            bars.append(Bar(sub.instrument, ts_ns, float(o), float(h), float(lo), float(c), float(v)))
        if bars:
            sub.last = bars[-1].ts_ns
        return bars

    async def _poll_bars(self, sub: _Sub) -> list[Bar]:
        tf, _ = sub.arg
        ex = self.client.exchange
        since = None if sub.last is None else sub.last // 1_000_000
        rows = await self.client.call("fetch_ohlcv", ex.fetch_ohlcv, sub.symbol, tf, since, self.history)
        return self._closed_bars(sub, rows)

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
