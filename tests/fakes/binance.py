"""A loopback fake of Binance's REST API (spot `/api/v3` and USDⓈ-M `/fapi`), for the ccxt adapter's tests.

It speaks the subset the adapter uses, in Binance's own JSON shapes and error codes (developers.binance.com:
spot "General endpoints", "Trading endpoints", "Account endpoints", "Market data endpoints", "Error codes";
USDⓈ-M "Market Data", "Trade", "Account"). Signed requests are checked as Binance checks them: HMAC-SHA256 of
the query string (GET/DELETE) or form body (POST) with the account's secret, compared to `signature`; a bad
signature gets `{"code": -1022}` and a wrong API key `{"code": -2015}`.

Orders match on the project's order book (`botnft.venues.sim.clob.OrderBook`, price-time priority in integer
ticks and lots) against a market maker's ladder, so fills are real matching. Faults for tests: `inject(kind)`
makes the next order-entry request meet a 429 with Retry-After, a 503, a delay past the client's timeout
(executed first), or a dropped connection after execution (`lost_response`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side, TimeInForce
from botnft.venues.sim.clob import SelfTradeMode
from fakes.binance_shapes import (
    API_KEY,
    SECRET,
    FakeOrder,
    Market,
    bundled_klines,
    exchange_info_json,
    futures_account_json,
    futures_balance_json,
    leverage_bracket_json,
    order_json,
    plain,
)
from fakes.binance_ws import StreamHub

USER = "user"
MAKER = "maker"
TAKER = "taker"
FAULTS = ("rate_limit", "server_error", "timeout", "lost_response")


class BinanceError(Exception):
    def __init__(self, http: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.http, self.code, self.msg = http, code, msg


class FakeBinance:
    """State of one Binance account and its markets, plus the aiohttp app serving it on 127.0.0.1."""

    def __init__(
        self,
        *,
        mid: Decimal = Decimal("150.00"),
        balances: Mapping[str, Decimal] | None = None,
        fee_rate: Decimal = Decimal("0.001"),
        levels: int = 10,
        level_qty: Decimal = Decimal(50),
        level_gap_ticks: int = 5,
        delay_s: float = 3.0,
        klines: list[list[Any]] | None = None,
        klines_interval: str = "1h",
        funding_rate: Decimal = Decimal("0.0001"),
    ) -> None:
        self.markets = {
            "spot": Market(
                "SOLUSDT",
                "SOL",
                "USDT",
                Decimal("0.01"),
                Decimal("0.001"),
                Decimal("0.001"),
                Decimal(5),
                False,
            ),
            "fapi": Market(
                "SOLUSDT", "SOL", "USDT", Decimal("0.01"), Decimal("0.01"), Decimal("0.01"), Decimal(5), True
            ),
        }
        self.balances: dict[str, Decimal] = dict(balances or {"USDT": Decimal(100_000), "SOL": Decimal(100)})
        self.locked: dict[str, Decimal] = {}
        self.futures_wallet = Decimal(100_000)
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (qty, entry price)
        self.leverage = 10
        self.fee_rate = fee_rate
        self.delay_s = delay_s
        self.klines = klines if klines is not None else bundled_klines()
        self.klines_interval = klines_interval
        self.funding_rate = funding_rate
        self.mid = mid
        self.orders: dict[tuple[str, int], FakeOrder] = {}
        self.by_client: dict[tuple[str, str], FakeOrder] = {}
        self.trades: dict[str, list[dict[str, Any]]] = {"spot": [], "fapi": []}
        self.creates: dict[str, int] = {}
        self.held: dict[str, int] = {}
        self.faults: list[str] = []
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._ids = itertools.count(1001)
        self._trade_ids = itertools.count(5001)
        self._clock_ms = 1_764_000_000_000
        mid_ticks = {k: m.ticks(mid) for k, m in self.markets.items()}
        for k, m in self.markets.items():
            for i in range(1, levels + 1):
                m.book.add(MAKER, True, mid_ticks[k] - i * level_gap_ticks, m.lots(level_qty))
                m.book.add(MAKER, False, mid_ticks[k] + i * level_gap_ticks, m.lots(level_qty))
        self._runner: web.AppRunner | None = None
        self.streams = StreamHub(self)
        self.listen_keys: set[str] = set()
        self.clock_skew_ms = 0  # how far the venue's clock runs ahead of ours (tests set it)
        self.url = ""

    # --- lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        self.streams.routes(app)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        await self.streams.drop()  # open websockets would hold the server's shutdown
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- test control (VenueControl) -----------------------------------------------------------------
    def inject(self, fault: str, count: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
        self.faults.extend([fault] * count)

    def creates_received(self, client_order_id: str) -> int:
        return self.creates.get(client_order_id, 0)

    def orders_held(self, client_order_id: str) -> int:
        return self.held.get(client_order_id, 0)

    async def take(self, instrument: InstrumentId, side: Side, price: Decimal, qty: Decimal) -> None:
        """Another participant sends a limit IOC at `price` for `qty` that meets the account's resting orders
        (the market maker's ladder is skipped, as if it had moved away)."""
        kind = "fapi" if instrument.is_perp else "spot"
        m = self.markets[kind]
        ladder = frozenset(o.order_id for o in m.book.orders_of(MAKER))
        sub = m.book.submit(
            TAKER, side is Side.BUY, m.lots(qty), limit=m.ticks(price), tif=TimeInForce.IOC, exclude=ladder
        )
        if sub.plan is not None and sub.ok:
            for match in sub.plan.matches:
                self._maker_filled(kind, match.maker.tag, Decimal(match.price) * m.tick, match.qty * m.step)

    def now_ms(self) -> int:
        self._clock_ms = max(self._clock_ms + 1, int(time.time() * 1000))
        return self._clock_ms

    # --- HTTP ------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        body = await request.text() if request.method == "POST" else ""
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        params.update(dict(parse_qsl(body, keep_blank_values=True)))
        self.log.append((request.method, path, params))
        try:
            route = ROUTES.get((request.method, path))
            if route is None:
                raise BinanceError(404, -1000, f"no fake for {request.method} {path}")
            handler, signed, entry = route
            if signed == "key":  # listenKey requests carry the API key only
                if request.headers.get("X-MBX-APIKEY") != API_KEY:
                    raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
            elif signed:
                self._check_signature(request, body)
            fault = self.faults.pop(0) if entry and self.faults else None
            if fault == "rate_limit":
                return web.json_response(
                    {
                        "code": -1003,
                        "msg": "Too many requests; current limit is 1200 request weight per 1 "
                        "MINUTE. Please use the websocket for live updates to avoid polling the API.",
                    },
                    status=429,
                    headers={"Retry-After": "1"},
                )
            if fault == "server_error":
                return web.json_response(
                    {
                        "code": -1001,
                        "msg": "Internal error; unable to process your request. Please try again.",
                    },
                    status=503,
                )
            result = handler(self, "fapi" if path.startswith("/fapi") else "spot", params)
            if fault == "timeout":
                await asyncio.sleep(self.delay_s)
            if fault == "lost_response":
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            return web.json_response(result)
        except BinanceError as e:
            return web.json_response({"code": e.code, "msg": e.msg}, status=e.http)

    def _check_signature(self, request: web.Request, body: str) -> None:
        if request.headers.get("X-MBX-APIKEY") != API_KEY:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        payload = body if request.method == "POST" else request.query_string
        unsigned, sep, signature = payload.rpartition("&signature=")
        want = hmac.new(SECRET.encode(), unsigned.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(signature, want):
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        params = dict(parse_qsl(unsigned))
        server = int(time.time() * 1000) + self.clock_skew_ms
        sent, window = int(params.get("timestamp", "0")), int(params.get("recvWindow", "5000"))
        if sent >= server + 1000 or server - sent > window:  # Binance's "Timing security" rule
            raise BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")

    # --- market data ----------------------------------------------------------------------------------
    def exchange_info(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        m = self.markets[kind]
        return exchange_info_json(m, self.now_ms())

    def depth(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        m = self._market(kind, params)
        n = int(params.get("limit", "100"))
        return {
            "lastUpdateId": m.book.version,
            "bids": [[plain(p * m.tick), plain(q * m.step)] for p, q in m.book.depth(True, n)],
            "asks": [[plain(p * m.tick), plain(q * m.step)] for p, q in m.book.depth(False, n)],
        }

    def klines_json(self, kind: str, params: dict[str, str]) -> list[list[Any]]:
        self._market(kind, params)
        if params.get("interval") != self.klines_interval:
            raise BinanceError(400, -1120, "Invalid interval.")
        start = int(params.get("startTime", "0"))
        end = int(params.get("endTime", str(2**62)))
        rows = [k for k in self.klines if start <= k[0] <= end]
        limit = min(int(params.get("limit", "500")), 1500)
        return rows[:limit] if "startTime" in params else rows[-limit:]  # no start: the most recent

    def premium_index(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        m = self._market(kind, params)
        mark = self.mid
        now = self.now_ms()
        return {
            "symbol": m.symbol,
            "markPrice": plain(mark),
            "indexPrice": plain(mark),
            "estimatedSettlePrice": plain(mark),
            "lastFundingRate": plain(self.funding_rate),
            "interestRate": "0.00010000",
            "nextFundingTime": (now // 28_800_000 + 1) * 28_800_000,
            "time": now,
        }

    def listen_key(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        key = f"fake-listen-key-{len(self.listen_keys) + 1}"
        self.listen_keys.add(key)
        return {"listenKey": key}

    def keep_alive(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        return {"listenKey": max(self.listen_keys, default="")}

    def time(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        return {"serverTime": self.now_ms()}

    # --- orders ---------------------------------------------------------------------------------------
    def _market(self, kind: str, params: dict[str, str]) -> Market:
        m = self.markets[kind]
        if params.get("symbol") != m.symbol:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return m

    def new_order(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        m = self._market(kind, params)
        cid = params.get("newClientOrderId") or f"auto-{next(self._ids)}"
        self.creates[cid] = self.creates.get(cid, 0) + 1
        prior = self.by_client.get((kind, cid))
        if prior is not None and prior.status in ("NEW", "PARTIALLY_FILLED"):
            raise BinanceError(400, -2010, "Duplicate order sent.")
        side = Side.BUY if params.get("side") == "BUY" else Side.SELL
        typ = params.get("type", "")
        if typ not in ("LIMIT", "MARKET"):
            raise BinanceError(400, -1116, "Invalid orderType.")
        qty = Decimal(params.get("quantity", "0"))
        price = Decimal(params["price"]) if typ == "LIMIT" else Decimal(0)
        tif = params.get("timeInForce", "GTC" if typ == "LIMIT" else "")
        if qty < m.min_qty or qty % m.step:
            raise BinanceError(400, -1013, "Filter failure: LOT_SIZE")
        if typ == "LIMIT" and (price <= 0 or price % m.tick):
            raise BinanceError(400, -1013, "Filter failure: PRICE_FILTER")
        is_bid = side is Side.BUY
        limit_t = m.ticks(price) if typ == "LIMIT" else None
        o = FakeOrder(
            next(self._ids),
            cid,
            m,
            side,
            typ,
            tif,
            price,
            qty,
            self.now_ms(),
            reduce_only=params.get("reduceOnly") == "true",
        )
        tif_enum = {
            "GTC": TimeInForce.GTC,
            "IOC": TimeInForce.IOC,
            "FOK": TimeInForce.FOK,
            "GTX": TimeInForce.POST_ONLY,
            "": TimeInForce.IOC,
        }.get(tif, TimeInForce.GTC)
        sub = m.book.submit(
            USER,
            is_bid,
            m.lots(qty),
            limit=limit_t,
            tif=tif_enum,
            stp=SelfTradeMode.CANCEL_MAKER,
            tag=str(o.order_id),
            approve=lambda plan, rest: self._afford(kind, m, is_bid, plan, rest, limit_t),
        )
        if not sub.ok:
            if sub.reason == "insufficient":
                raise BinanceError(
                    400,
                    -2019 if m.perp else -2010,
                    "Margin is insufficient."
                    if m.perp
                    else "Account has insufficient balance for requested action.",
                )
            if sub.reason == "no_liquidity":
                o.status = "EXPIRED"
            else:
                raise BinanceError(400, -2010, f"Order would immediately match and take ({sub.reason}).")
        self.orders[(kind, o.order_id)] = o
        self.by_client[(kind, cid)] = o
        self.held[cid] = self.held.get(cid, 0) + 1
        fills = []
        if sub.plan is not None and sub.ok:
            for match in sub.plan.matches:
                px, q = Decimal(match.price) * m.tick, match.qty * m.step
                fills.append(self._fill(kind, o, px, q, maker=False))
                if match.maker.owner == USER:
                    self._maker_filled(kind, match.maker.tag, px, q)
                else:
                    pass  # the market maker's ladder has no account here
        if sub.rested is not None:
            o.resting_id = sub.rested.order_id
            if not m.perp:
                self._lock(m, is_bid, qty - o.executed, price)
        elif o.status in ("NEW", "PARTIALLY_FILLED"):
            o.status = "EXPIRED" if o.executed < o.qty else "FILLED"
        out = order_json(kind, o)
        if not m.perp:
            out["fills"] = fills
        return out

    def _afford(
        self, kind: str, m: Market, is_bid: bool, plan: Any, rest: int, limit_t: int | None
    ) -> str | None:
        take_quote = sum((Decimal(x.price) * m.tick * x.qty * m.step for x in plan.matches), Decimal(0))
        take_base = sum(x.qty for x in plan.matches) * m.step
        rest_base = rest * m.step
        rest_quote = rest_base * (Decimal(limit_t) * m.tick if limit_t is not None else Decimal(0))
        if m.perp:
            need = (take_quote + rest_quote) / self.leverage + take_quote * self.fee_rate
            return "insufficient" if need > self._futures_available() else None
        if is_bid:
            need = take_quote + rest_quote
            return "insufficient" if need > self._free(m.quote) else None
        return "insufficient" if take_base + rest_base > self._free(m.base) else None

    def _free(self, asset: str) -> Decimal:
        return self.balances.get(asset, Decimal(0)) - self.locked.get(asset, Decimal(0))

    def _futures_available(self) -> Decimal:
        used = sum((abs(q) * px for q, px in self.positions.values()), Decimal(0)) / self.leverage
        return self.futures_wallet - used

    def _lock(self, m: Market, is_bid: bool, qty: Decimal, price: Decimal) -> None:
        asset, amount = (m.quote, qty * price) if is_bid else (m.base, qty)
        self.locked[asset] = self.locked.get(asset, Decimal(0)) + amount

    def _maker_filled(self, kind: str, tag: str | None, price: Decimal, qty: Decimal) -> None:
        if tag is None:
            return
        o = self.orders.get((kind, int(tag)))
        if o is None:
            return
        if not o.market.perp:
            self._lock(o.market, o.side is Side.BUY, -qty, o.price)
        self._fill(kind, o, price, qty, maker=True)
        if o.executed == o.qty:
            o.resting_id = None

    def _fill(self, kind: str, o: FakeOrder, price: Decimal, qty: Decimal, *, maker: bool) -> dict[str, Any]:
        m = o.market
        buy = o.side is Side.BUY
        notional = price * qty
        tid = next(self._trade_ids)
        pnl = Decimal(0)
        if m.perp:
            fee, fee_asset = notional * self.fee_rate, m.quote
            self.futures_wallet -= fee
            pnl = self._move_position(m.symbol, qty if buy else -qty, price)
            self.futures_wallet += pnl
        elif buy:
            fee, fee_asset = qty * self.fee_rate, m.base
            self._add(m.base, qty - fee)
            self._add(m.quote, -notional)
        else:
            fee, fee_asset = notional * self.fee_rate, m.quote
            self._add(m.base, -qty)
            self._add(m.quote, notional - fee)
        o.executed += qty
        o.quote += notional
        o.status = "FILLED" if o.executed == o.qty else "PARTIALLY_FILLED"
        ts = self.now_ms()
        trade = {
            "symbol": m.symbol,
            "id": tid,
            "orderId": o.order_id,
            "price": plain(price),
            "qty": plain(qty),
            "quoteQty": plain(notional),
            "commission": plain(fee),
            "commissionAsset": fee_asset,
            "time": ts,
        }
        if m.perp:
            trade.update(
                {
                    "buyer": buy,
                    "maker": maker,
                    "side": "BUY" if buy else "SELL",
                    "positionSide": "BOTH",
                    "realizedPnl": plain(pnl),
                    "marginAsset": m.quote,
                }
            )
        else:
            trade.update({"orderListId": -1, "isBuyer": buy, "isMaker": maker, "isBestMatch": True})
        self.trades[kind].append(trade)
        return {
            "price": plain(price),
            "qty": plain(qty),
            "commission": plain(fee),
            "commissionAsset": fee_asset,
            "tradeId": tid,
        }

    def _add(self, asset: str, amount: Decimal) -> None:
        self.balances[asset] = self.balances.get(asset, Decimal(0)) + amount

    def _move_position(self, symbol: str, dq: Decimal, price: Decimal) -> Decimal:
        """Signed position change at `price`; returns the realized profit of the part that closes."""
        q, entry = self.positions.get(symbol, (Decimal(0), Decimal(0)))
        pnl = Decimal(0)
        if q == 0 or (q > 0) == (dq > 0):
            new = q + dq
            entry = (q * entry + dq * price) / new
        else:
            closing = min(abs(dq), abs(q)) * (1 if dq > 0 else -1)
            pnl = -closing * (price - entry)
            new = q + dq
            if new != 0 and (new > 0) != (q > 0):
                entry = price
        self.positions[symbol] = (new, entry if new != 0 else Decimal(0))
        return pnl

    def _find(self, kind: str, params: dict[str, str]) -> FakeOrder:
        self._market(kind, params)
        o: FakeOrder | None = None
        if "orderId" in params:
            o = self.orders.get((kind, int(params["orderId"])))
        elif "origClientOrderId" in params:
            o = self.by_client.get((kind, params["origClientOrderId"]))
        if o is None:
            raise BinanceError(400, -2013, "Order does not exist.")
        return o

    def get_order(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        return order_json(kind, self._find(kind, params))

    def cancel_order(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            o = self._find(kind, params)
        except BinanceError:
            raise BinanceError(400, -2011, "Unknown order sent.") from None
        if o.status not in ("NEW", "PARTIALLY_FILLED") or o.resting_id is None:
            raise BinanceError(400, -2011, "Unknown order sent.")
        o.market.book.cancel(o.resting_id)
        o.resting_id = None
        if not o.market.perp:
            self._lock(o.market, o.side is Side.BUY, -(o.qty - o.executed), o.price)
        o.status = "CANCELED"
        return order_json(kind, o)

    def open_orders(self, kind: str, params: dict[str, str]) -> list[dict[str, Any]]:
        if "symbol" in params:
            self._market(kind, params)
        return [
            order_json(kind, o)
            for (k, _), o in self.orders.items()
            if k == kind and o.status in ("NEW", "PARTIALLY_FILLED")
        ]

    def my_trades(self, kind: str, params: dict[str, str]) -> list[dict[str, Any]]:
        self._market(kind, params)
        since = int(params.get("startTime", "0"))
        rows = [t for t in self.trades[kind] if t["time"] >= since]
        return rows[: int(params.get("limit", "500"))]

    # --- account ----------------------------------------------------------------------------------------
    def account(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": plain(self.fee_rate),
                "taker": plain(self.fee_rate),
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": False,
            "canDeposit": False,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.now_ms(),
            "accountType": "SPOT",
            "balances": [
                {
                    "asset": a,
                    "free": plain(v - self.locked.get(a, Decimal(0))),
                    "locked": plain(self.locked.get(a, Decimal(0))),
                }
                for a, v in sorted(self.balances.items())
            ],
            "permissions": ["SPOT"],
            "uid": 354937868,
        }

    def futures_account(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        return futures_account_json(self.futures_wallet, self._futures_available(), self.now_ms())

    def futures_balance(self, kind: str, params: dict[str, str]) -> list[dict[str, Any]]:
        return futures_balance_json(self.futures_wallet, self._futures_available(), self.now_ms())

    def position_risk(self, kind: str, params: dict[str, str]) -> list[dict[str, Any]]:
        m = self.markets["fapi"]
        q, entry = self.positions.get(m.symbol, (Decimal(0), Decimal(0)))
        mark = entry
        return [
            {
                "symbol": m.symbol,
                "positionAmt": plain(q),
                "entryPrice": plain(entry),
                "breakEvenPrice": plain(entry),
                "markPrice": plain(mark),
                "unRealizedProfit": "0.00000000",
                "liquidationPrice": "0",
                "leverage": str(self.leverage),
                "maxNotionalValue": "1000000",
                "marginType": "cross",
                "isolatedMargin": "0.00000000",
                "isAutoAddMargin": "false",
                "positionSide": "BOTH",
                "notional": plain(q * mark),
                "isolatedWallet": "0",
                "updateTime": self.now_ms(),
            }
        ]

    def leverage_bracket(self, kind: str, params: dict[str, str]) -> list[dict[str, Any]]:
        return leverage_bracket_json(self.markets["fapi"].symbol)


F = FakeBinance
#: (method, path) -> (handler, signed, order entry: faults apply)
ROUTES: dict[tuple[str, str], tuple[Any, bool | str, bool]] = {
    ("GET", "/api/v3/time"): (F.time, False, False),
    ("GET", "/api/v3/exchangeInfo"): (F.exchange_info, False, False),
    ("GET", "/api/v3/depth"): (F.depth, False, False),
    ("GET", "/api/v3/klines"): (F.klines_json, False, False),
    ("POST", "/api/v3/order"): (F.new_order, True, True),
    ("GET", "/api/v3/order"): (F.get_order, True, False),
    ("DELETE", "/api/v3/order"): (F.cancel_order, True, True),
    ("GET", "/api/v3/openOrders"): (F.open_orders, True, False),
    ("GET", "/api/v3/myTrades"): (F.my_trades, True, False),
    ("GET", "/api/v3/account"): (F.account, True, False),
    ("GET", "/fapi/v1/time"): (F.time, False, False),
    ("GET", "/fapi/v1/exchangeInfo"): (F.exchange_info, False, False),
    ("GET", "/fapi/v1/depth"): (F.depth, False, False),
    ("GET", "/fapi/v1/klines"): (F.klines_json, False, False),
    ("GET", "/fapi/v1/premiumIndex"): (F.premium_index, False, False),
    ("POST", "/fapi/v1/order"): (F.new_order, True, True),
    ("GET", "/fapi/v1/order"): (F.get_order, True, False),
    ("DELETE", "/fapi/v1/order"): (F.cancel_order, True, True),
    ("GET", "/fapi/v1/openOrders"): (F.open_orders, True, False),
    ("GET", "/fapi/v1/userTrades"): (F.my_trades, True, False),
    ("GET", "/fapi/v1/leverageBracket"): (F.leverage_bracket, True, False),
    ("POST", "/fapi/v1/listenKey"): (F.listen_key, "key", False),
    ("PUT", "/fapi/v1/listenKey"): (F.keep_alive, "key", False),
    ("GET", "/fapi/v2/positionRisk"): (F.position_risk, True, False),
    ("GET", "/fapi/v2/balance"): (F.futures_balance, True, False),
    ("GET", "/fapi/v2/account"): (F.futures_account, True, False),
}
