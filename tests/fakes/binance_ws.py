"""Binance's public market streams for the fake exchange (tests/fakes/binance.py), over a loopback websocket.

Speaks the raw-stream protocol of Binance's "WebSocket Streams" docs: the client sends
`{"method": "SUBSCRIBE", "params": ["solusdt@kline_1h", "solusdt@bookTicker"], "id": 1}`, gets
`{"result": null, "id": 1}`, then `kline` events (`{"e": "kline", "E", "s", "k": {...}}`, the latest candle
at once and each new one as the fake's klines grow) and book tickers (`{"u", "s", "b", "B", "a", "A"}`, at
once and whenever the best levels change). Spot streams live under `/stream/...`, USDⓈ-M under
`/fstream/...` (the loopback layout `botnft.venues.ccxt.exchange.override_urls` gives ccxt's stream URLs).
`drop()` closes every stream connection, as a venue's disconnect would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from fakes.binance_shapes import plain

if TYPE_CHECKING:
    from fakes.binance import FakeBinance

PUSH_EVERY_S = 0.02
REPEAT_S = 0.25


class StreamHub:
    def __init__(self, fake: FakeBinance) -> None:
        self.fake = fake
        self.sockets: set[web.WebSocketResponse] = set()
        self.subscribed: list[str] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/stream/{tail:.*}", self.handle)
        app.router.add_get("/fstream/{tail:.*}", self.handle)

    async def drop(self) -> None:
        for ws in list(self.sockets):
            await ws.close(code=1006, message=b"dropped by the test")

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        kind = "fapi" if request.path.startswith("/fstream") else "spot"
        self.sockets.add(ws)
        streams: list[str] = []
        pusher = asyncio.create_task(self._push(ws, kind, streams))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                if req.get("method") == "SUBSCRIBE":
                    streams.extend(req.get("params", []))
                    self.subscribed.extend(req.get("params", []))
                    await ws.send_json({"result": None, "id": req.get("id")})
                elif req.get("method") == "UNSUBSCRIBE":
                    for s in req.get("params", []):
                        with contextlib.suppress(ValueError):
                            streams.remove(s)
                    await ws.send_json({"result": None, "id": req.get("id")})
        finally:
            pusher.cancel()
            self.sockets.discard(ws)
        return ws

    async def _push(self, ws: web.WebSocketResponse, kind: str, streams: list[str]) -> None:
        sent_kline: dict[str, float] = {}
        sent_top: dict[str, Any] = {}
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while not ws.closed:
                for s in list(streams):
                    sym, _, channel = s.partition("@")
                    if channel.startswith("kline_"):
                        await self._kline(ws, kind, sym.upper(), channel[len("kline_") :], s, sent_kline)
                    elif channel == "bookTicker":
                        await self._top(ws, kind, sym.upper(), s, sent_top)
                await asyncio.sleep(PUSH_EVERY_S)

    async def _kline(
        self,
        ws: web.WebSocketResponse,
        kind: str,
        symbol: str,
        interval: str,
        key: str,
        sent: dict[str, float],
    ) -> None:
        fake = self.fake
        if interval != fake.klines_interval or not fake.klines:
            return
        last = sent.get(key, -1)
        rows = [k for k in fake.klines if k[0] > last] if last >= 0 else fake.klines[-1:]
        now = asyncio.get_running_loop().time()
        if not rows and now - sent.get(key + "#at", 0) >= REPEAT_S:
            rows = fake.klines[-1:]  # Binance repeats the current candle every second or two
        if rows:
            sent[key + "#at"] = now
        for k in rows:
            t, o, h, lo, c, v, close_t, qv, n, tbv, tqv, _ = k
            await ws.send_json(
                {
                    "e": "kline",
                    "E": fake.now_ms(),
                    "s": symbol,
                    "k": {
                        "t": t,
                        "T": close_t,
                        "s": symbol,
                        "i": interval,
                        "f": 0,
                        "L": 0,
                        "o": o,
                        "c": c,
                        "h": h,
                        "l": lo,
                        "v": v,
                        "n": n,
                        "x": True,
                        "q": qv,
                        "V": tbv,
                        "Q": tqv,
                        "B": "0",
                    },
                }
            )
            sent[key] = t

    async def _top(
        self, ws: web.WebSocketResponse, kind: str, symbol: str, key: str, sent: dict[str, Any]
    ) -> None:
        m = self.fake.markets[kind]
        bid, ask = m.book.depth(True, 1), m.book.depth(False, 1)
        if not bid or not ask:
            return
        top = (bid[0], ask[0])
        if sent.get(key) == top:
            return
        sent[key] = top
        (bp, bq), (ap, aq) = top
        await ws.send_json(
            {
                "u": m.book.version,
                "s": symbol,
                "b": plain(bp * m.tick),
                "B": plain(bq * m.step),
                "a": plain(ap * m.tick),
                "A": plain(aq * m.step),
            }
        )
