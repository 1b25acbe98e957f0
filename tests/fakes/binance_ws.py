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
import hashlib
import hmac
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from fakes.binance_shapes import API_KEY, SECRET, FakeOrder, plain

if TYPE_CHECKING:
    from fakes.binance import FakeBinance

PUSH_EVERY_S = 0.02
REPEAT_S = 0.25


class StreamHub:
    def __init__(self, fake: FakeBinance) -> None:
        self.fake = fake
        self.sockets: set[web.WebSocketResponse] = set()
        self.subscribed: list[str] = []
        self.user_subscriptions = 0
        self.user_events = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/stream/{tail:.*}", self.handle)
        app.router.add_get("/fstream/{tail:.*}", self.handle)
        app.router.add_get("/ws-api/{tail:.*}", self.handle_api)

    async def handle_api(self, request: web.Request) -> web.WebSocketResponse:
        """The spot WebSocket API's user data stream: `userDataStream.subscribe.signature` (params signed as
        Binance's WebSocket API signs them: HMAC-SHA256 of the key-sorted query), then an `executionReport`
        event, wrapped as `{"subscriptionId": 0, "event": {...}}`, for every change of a spot order."""
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self.sockets.add(ws)
        pusher: asyncio.Task[None] | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                req = json.loads(msg.data)
                params = dict(req.get("params") or {})
                signature = str(params.pop("signature", ""))
                query = "&".join(f"{k}={params[k]}" for k in sorted(params))
                want = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
                if req.get("method") != "userDataStream.subscribe.signature":
                    await ws.send_json(
                        {
                            "id": req.get("id"),
                            "status": 400,
                            "error": {"code": -1100, "msg": "Unsupported method."},
                        }
                    )
                elif params.get("apiKey") != API_KEY or not hmac.compare_digest(signature, want):
                    await ws.send_json(
                        {
                            "id": req.get("id"),
                            "status": 400,
                            "error": {"code": -1022, "msg": "Signature for this request is not valid."},
                        }
                    )
                else:
                    await ws.send_json({"id": req.get("id"), "status": 200, "result": {"subscriptionId": 0}})
                    self.user_subscriptions += 1
                    if pusher is None:
                        pusher = asyncio.create_task(self._push_user(ws))
        finally:
            if pusher is not None:
                pusher.cancel()
            self.sockets.discard(ws)
        return ws

    async def _push_user(self, ws: web.WebSocketResponse, kind: str = "spot") -> None:
        """Every change of an order of `kind` as the account's user data event: spot's `executionReport`
        (wrapped for the WebSocket API subscription), USDⓈ-M's `ORDER_TRADE_UPDATE` (listenKey stream)."""
        seen = {key: (o.status, o.executed) for key, o in self.fake.orders.items()}
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while not ws.closed:
                for key, o in list(self.fake.orders.items()):
                    state = (o.status, o.executed)
                    if key[0] != kind or seen.get(key) == state:
                        continue
                    before = seen.get(key, ("NEW", Decimal(0)))[1]
                    seen[key] = state
                    now = self.fake.now_ms()
                    if kind == "spot":
                        msg = {"subscriptionId": 0, "event": execution_report(o, o.executed - before, now)}
                    else:
                        msg = order_trade_update(o, o.executed - before, now)
                    await ws.send_json(msg)
                    self.user_events += 1
                await asyncio.sleep(PUSH_EVERY_S)

    async def drop(self) -> None:
        for ws in list(self.sockets):
            await ws.close(code=1006, message=b"dropped by the test")

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        kind = "fapi" if request.path.startswith("/fstream") else "spot"
        self.sockets.add(ws)
        key = request.query.get("listenKey")
        if key is not None:  # a USDⓈ-M user data stream (`/fstream/private/ws?listenKey=...`)
            try:
                if key not in self.fake.listen_keys:
                    await ws.close(code=1008, message=b"invalid listenKey")
                    return ws
                self.user_subscriptions += 1
                pusher = asyncio.create_task(self._push_user(ws, "fapi"))
                async for _ in ws:
                    pass
                pusher.cancel()
            finally:
                self.sockets.discard(ws)
            return ws
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


def execution_report(o: FakeOrder, last_qty: Decimal, now_ms: int) -> dict[str, Any]:
    """Binance's `executionReport` user data event for an order's current state."""
    avg = o.quote / o.executed if o.executed else Decimal(0)
    return {
        "e": "executionReport",
        "E": now_ms,
        "s": o.market.symbol,
        "c": o.client_id,
        "S": "BUY" if o.side.value == "buy" else "SELL",
        "o": o.type,
        "f": o.tif or "GTC",
        "q": plain(o.qty),
        "p": plain(o.price),
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": "TRADE" if last_qty > 0 else ("CANCELED" if o.status == "CANCELED" else "NEW"),
        "X": o.status,
        "r": "NONE",
        "i": o.order_id,
        "l": plain(last_qty),
        "z": plain(o.executed),
        "L": plain(avg if last_qty > 0 else Decimal(0)),
        "n": "0",
        "N": None,
        "T": now_ms,
        "t": -1,
        "I": 0,
        "w": o.status in ("NEW", "PARTIALLY_FILLED"),
        "m": False,
        "M": False,
        "O": o.time,
        "Z": plain(o.quote),
        "Y": "0",
        "Q": "0.00000000",
        "W": o.time,
        "V": "EXPIRE_MAKER",
    }


def order_trade_update(o: FakeOrder, last_qty: Decimal, now_ms: int) -> dict[str, Any]:
    """Binance USDⓈ-M's `ORDER_TRADE_UPDATE` user data event for an order's current state."""
    avg = o.quote / o.executed if o.executed else Decimal(0)
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": now_ms,
        "T": now_ms,
        "o": {
            "s": o.market.symbol,
            "c": o.client_id,
            "S": "BUY" if o.side.value == "buy" else "SELL",
            "o": o.type,
            "f": o.tif or "GTC",
            "q": plain(o.qty),
            "p": plain(o.price),
            "ap": plain(avg),
            "sp": "0",
            "x": "TRADE" if last_qty > 0 else ("CANCELED" if o.status == "CANCELED" else "NEW"),
            "X": o.status,
            "i": o.order_id,
            "l": plain(last_qty),
            "z": plain(o.executed),
            "L": plain(avg if last_qty > 0 else Decimal(0)),
            "N": o.market.quote,
            "n": "0",
            "T": now_ms,
            "t": 0,
            "b": "0",
            "a": "0",
            "m": False,
            "R": o.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": o.type,
            "ps": "BOTH",
            "cp": False,
            "rp": "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
        },
    }
