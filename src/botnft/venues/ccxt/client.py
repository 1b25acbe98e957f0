"""`CcxtExecutionClient`: one ccxt exchange (spot or USDⓈ-M perps) as the bot's `ExecutionClient`.

Every order carries our client order id in the exchange's own parameter. `create_order` never sends an id
twice: an id already acknowledged returns its ack, and an id whose earlier request got no answer is first
looked up at the venue (by client id) and re-sent only if the venue says it does not exist. Orders are
checked against the instrument's grids before anything is sent (off-grid is an error, never truncated).
Events (accepts, fills, cancels) come from `stream()`, which polls the orders this client knows and its
trades (`OrderTracker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from botnft.domain.errors import InvalidOrder, OrderNotFound, Rejected, Retryable, UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.money import plain
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.domain.reports import (
    CancelAck,
    FillReport,
    MassStatus,
    OrderAck,
    OrderStatusReport,
    PositionReport,
)
from botnft.venues.ccxt.errors import map_error, surely_not_executed
from botnft.venues.ccxt.exchange import build_exchange, ccxt_decimal
from botnft.venues.ccxt.mapping import dec, fee_of, instrument_of, ms_to_ns, status_report
from botnft.venues.ccxt.settings import CcxtSettings
from botnft.venues.ccxt.tracker import OrderTracker

TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "PO"}


class CcxtExecutionClient:
    """An exchange through `ccxt.async_support`. `await connect()` loads the markets (unknown symbols are a
    `UserError`); `await close()` releases the HTTP session. `exchange` may be passed for tests."""

    def __init__(
        self,
        settings: CcxtSettings,
        *,
        exchange: Any | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        trades_page: int = 500,
    ) -> None:
        self.settings = settings
        self.trades_page = trades_page
        self.name = settings.venue_name.lower()
        self.has: Mapping[str, bool] = {
            "idempotentClientOrderId": True,
            "fetchOrder": True,
            "cancelOrder": True,
            "fetchPositions": settings.market_type == "swap",
        }
        self.exchange = exchange if exchange is not None else build_exchange(settings)
        self.now_ns = clock_ns
        self._instruments: dict[InstrumentId, Instrument] = {}
        self._symbols: dict[InstrumentId, str] = {}
        self._contract_size: dict[InstrumentId, Decimal] = {}
        self._by_symbol: dict[str, InstrumentId] = {}
        self._acks: dict[str, OrderAck] = {}
        self._unsure: set[str] = set()
        self._cid_instrument: dict[str, InstrumentId] = {}
        self.started_ns = clock_ns()
        self.stream_errors = 0
        self.tracker = OrderTracker(self)

    def __repr__(self) -> str:
        return f"CcxtExecutionClient({self.settings!r})"

    # --- lifecycle ---------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, raw: Mapping[str, Any], **kw: Any) -> CcxtExecutionClient:
        """Build from a config table (see `CcxtSettings.from_mapping`); `await connect()` before use."""
        return cls(CcxtSettings.from_mapping(raw), **kw)

    async def connect(self) -> None:
        self.started_ns = self.now_ns()
        try:
            with ccxt_decimal():
                markets = await self.exchange.load_markets()
        except Exception as e:
            raise map_error(e, f"{self.name}: load_markets") from e
        symbols = self.settings.symbols or tuple(
            s
            for s, m in markets.items()
            if m.get(self.settings.market_type) and m.get("active", True) is not False
        )
        for sym in symbols:
            m = markets.get(sym)
            if m is None or not m.get(self.settings.market_type):
                raise UserError(f"{self.settings.exchange} has no {self.settings.market_type} market {sym!r}")
            inst = instrument_of(m, self.settings.venue_name, int(self.exchange.precisionMode))
            self._instruments[inst.id] = inst
            self._symbols[inst.id] = sym
            self._by_symbol[sym] = inst.id
            size = dec(m.get("contractSize") or 1) if m.get("contract") else Decimal(1)
            self._contract_size[inst.id] = size

    async def close(self) -> None:
        await self.exchange.close()

    async def __aenter__(self) -> CcxtExecutionClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- lookups -----------------------------------------------------------------------------------
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return dict(self._instruments)

    def symbol(self, inst: InstrumentId) -> str:
        try:
            return self._symbols[inst]
        except KeyError:
            raise InvalidOrder(f"{self.name} does not trade {inst}", reason="unknown_instrument") from None

    def instrument_of_symbol(self, symbol: str) -> InstrumentId | None:
        return self._by_symbol.get(symbol)

    def contract_size(self, inst: InstrumentId) -> Decimal:
        return self._contract_size.get(inst, Decimal(1))

    def known_orders(self) -> Mapping[str, InstrumentId]:
        return dict(self._cid_instrument)

    async def call(self, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            with ccxt_decimal():
                return await fn(*args, **kw)
        except Exception as e:
            raise map_error(e, f"{self.name} {what}") from e

    # --- orders ------------------------------------------------------------------------------------
    def _check(self, order: Order) -> tuple[str, Decimal, Decimal | None]:
        spec = self._instruments.get(order.instrument)
        if spec is None:
            raise InvalidOrder(f"{self.name} does not trade {order.instrument}", reason="unknown_instrument")
        spec.check_qty(order.amount)
        price = None
        if order.order_type is OrderType.LIMIT:
            assert order.price is not None
            price = spec.check_price(order.price)
        elif order.order_type is not OrderType.MARKET:
            raise InvalidOrder(
                f"{self.name}: {order.order_type.value} orders are not supported", reason="order_type"
            )
        amount = order.amount / self.contract_size(order.instrument)
        return self.symbol(order.instrument), amount, price

    async def create_order(self, order: Order) -> OrderAck:
        symbol, amount, price = self._check(order)
        cid = order.client_order_id
        known = self._acks.get(cid)
        if known is not None:
            return known
        if cid in self._unsure or order.ts_ns < self.started_ns:
            # no answer to an earlier attempt, or an order from before this process started (a restart):
            # ask the venue first, send only if it has no such order
            rep = await self.fetch_order(cid)  # Retryable while the venue cannot tell
            if rep is not None:
                return self._remember(cid, rep.venue_order_id)
            self._unsure.discard(cid)
        params: dict[str, Any] = {self.settings.client_id_param: cid}
        if order.order_type is OrderType.LIMIT and order.tif is not TimeInForce.GTC:
            params["timeInForce"] = TIF[order.tif]
        if order.reduce_only:
            params["reduceOnly"] = True
        self._cid_instrument[cid] = order.instrument
        self.tracker.watch(cid)
        try:
            with ccxt_decimal():
                raw = await self.exchange.create_order(
                    symbol,
                    order.order_type.value,
                    order.side.value,
                    plain(amount),
                    plain(price) if price else None,
                    params,
                )
        except Exception as e:
            err = map_error(e, f"{self.name} create_order {cid}")
            if isinstance(err, Retryable) and not surely_not_executed(e):
                self._unsure.add(cid)
            elif not isinstance(err, Retryable):
                self.tracker.forget(cid)
            raise err from e
        return self._remember(cid, str(raw["id"]) if raw.get("id") is not None else None)

    def _remember(self, cid: str, venue_id: str | None) -> OrderAck:
        ack = OrderAck(self.now_ns(), cid, venue_id)
        self._acks[cid] = ack
        self._unsure.discard(cid)
        return ack

    async def _order_params(self, cid: str) -> list[InstrumentId]:
        inst = self._cid_instrument.get(cid)
        return [inst] if inst is not None else list(self._instruments)

    async def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        """The order by our client id, or None if the venue says it has no such order (for every
        instrument this client trades, when the id was not sent from here)."""
        for inst in await self._order_params(client_order_id):
            try:
                with ccxt_decimal():
                    raw = await self.exchange.fetch_order(
                        "", self.symbol(inst), {"clientOrderId": client_order_id}
                    )
            except Exception as e:
                err = map_error(e, f"{self.name} fetch_order {client_order_id}")
                if isinstance(err, OrderNotFound):
                    continue
                raise err from e
            self._cid_instrument[client_order_id] = inst
            raw = dict(raw, clientOrderId=raw.get("clientOrderId") or client_order_id)
            rep: OrderStatusReport = status_report(raw, inst, self.contract_size(inst), self.now_ns())
            self.tracker.learn(rep)
            return rep
        return None

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        insts = await self._order_params(client_order_id)
        last: Rejected | None = None
        for inst in insts:
            try:
                params = {"clientOrderId": client_order_id}
                with ccxt_decimal():
                    await self.exchange.cancel_order("", self.symbol(inst), params)
            except Exception as e:
                err = map_error(e, f"{self.name} cancel_order {client_order_id}")
                if isinstance(err, OrderNotFound):
                    last = err
                    continue
                raise err from e
            self.tracker.watch(client_order_id)
            return CancelAck(self.now_ns(), client_order_id)
        raise last or OrderNotFound(f"{self.name}: no order {client_order_id}")

    async def cancel_all_orders(self, instrument: InstrumentId | None = None) -> Sequence[CancelAck]:
        acks = []
        for rep in await self.fetch_open_orders(instrument):
            acks.append(await self.cancel_order(rep.client_order_id))
        return acks

    async def fetch_open_orders(self, instrument: InstrumentId | None = None) -> Sequence[OrderStatusReport]:
        out: list[OrderStatusReport] = []
        for inst in [instrument] if instrument is not None else list(self._instruments):
            rows = await self.call("fetch_open_orders", self.exchange.fetch_open_orders, self.symbol(inst))
            for raw in rows:
                rep = status_report(raw, inst, self.contract_size(inst), self.now_ns())
                self._cid_instrument[rep.client_order_id] = inst
                self.tracker.learn(rep)
                self.tracker.watch(rep.client_order_id)  # a working order found here reports its events too
                out.append(rep)
        return out

    async def fetch_my_trades(self, since_ns: int | None = None) -> Sequence[FillReport]:
        """Our trades since `since_ns` (all the venue keeps when None), page by page: each page starts at
        the last page's latest trade time, and a trade seen twice at that boundary is kept once."""
        out: list[FillReport] = []
        for inst in self._instruments:
            seen: set[str] = set()
            since_ms = since_ns // 1_000_000 if since_ns is not None else None
            while True:
                rows = await self.call(
                    "fetch_my_trades",
                    self.exchange.fetch_my_trades,
                    self.symbol(inst),
                    since_ms,
                    self.trades_page,
                )
                fresh = [t for t in rows if str(t["id"]) not in seen]
                for t in fresh:
                    seen.add(str(t["id"]))
                    out.append(await self._fill_report(inst, t))
                if len(rows) < self.trades_page or not fresh:
                    break
                since_ms = max(int(t["timestamp"]) for t in rows)
        return out

    async def _fill_report(self, inst: InstrumentId, t: Mapping[str, Any]) -> FillReport:
        cid = await self.tracker.client_id_of(inst, str(t["order"]))
        fee, fee_asset = fee_of(t)
        return FillReport(
            ts_ns=ms_to_ns(t.get("timestamp")),
            trade_id=str(t["id"]),
            client_order_id=cid,
            venue_order_id=str(t["order"]),
            instrument=inst,
            side=Side.BUY if t["side"] == "buy" else Side.SELL,
            qty=dec(t["amount"]) * self.contract_size(inst),
            price=dec(t["price"]),
            fee=fee,
            fee_asset=fee_asset,
            liquidity="maker" if t.get("takerOrMaker") == "maker" else "taker",
        )

    async def fetch_positions(self) -> Sequence[PositionReport]:
        now = self.now_ns()
        if self.settings.market_type == "spot":
            bal = await self.fetch_balance()
            return [
                PositionReport(now, i, bal.get(spec.base, Decimal(0)))
                for i, spec in self._instruments.items()
            ]
        syms = [self._symbols[i] for i in self._instruments]
        rows = await self.call("fetch_positions", self.exchange.fetch_positions, syms)
        held: dict[InstrumentId, PositionReport] = {}
        for p in rows:
            inst = self._by_symbol.get(p.get("symbol", ""))
            if inst is None:
                continue
            qty = dec(p.get("contracts") or 0) * self.contract_size(inst)
            if p.get("side") == "short":
                qty = -qty
            entry = p.get("entryPrice")
            held[inst] = PositionReport(now, inst, qty, dec(entry) if entry else None)
        return [held.get(i, PositionReport(now, i, Decimal(0))) for i in self._instruments]

    async def fetch_balance(self) -> Mapping[str, Decimal]:
        raw = await self.call("fetch_balance", self.exchange.fetch_balance)
        total = raw.get("total") or {}
        return {str(a): dec(v) for a, v in total.items() if v is not None}

    async def mass_status(self, since_ns: int | None = None) -> MassStatus:
        """Open orders, fills since `since_ns`, positions and balances, for reconciliation."""
        orders = list(await self.fetch_open_orders())
        fills = tuple(await self.fetch_my_trades(since_ns))
        seen = {o.client_order_id for o in orders}
        for cid in {f.client_order_id for f in fills} - seen:
            rep = await self.fetch_order(cid)
            if rep is not None:
                orders.append(rep)
        positions = tuple(await self.fetch_positions())
        balances = tuple(sorted((await self.fetch_balance()).items()))
        return MassStatus(self.name, self.now_ns(), tuple(orders), fills, positions, balances)

    # --- events ------------------------------------------------------------------------------------
    async def stream(self) -> AsyncIterator[Any]:
        """Venue events for the orders this client knows (one reader). The orders and trades are polled
        every `poll_interval_s`, and at once whenever the exchange's user data stream (`ccxt.pro`
        `watch_orders`, with `websocket` on) says an order changed; polling stays the source of truth, so a
        stream that fails or drops only makes events slower."""
        wake = asyncio.Event()
        watcher = asyncio.create_task(self._watch_orders(wake)) if self.settings.websocket else None
        try:
            while True:
                try:
                    events = await self.tracker.poll()
                except Retryable:
                    events = []
                for ev in events:
                    yield ev
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.settings.poll_interval_s)
                wake.clear()
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)

    async def _watch_orders(self, wake: asyncio.Event) -> None:
        ws = build_exchange(self.settings, pro=True)
        if ws is None:
            return
        try:
            if not ws.has.get("watchOrders"):
                return
            ws.set_markets(list(self.exchange.markets.values()))
            failures = 0
            while True:
                try:
                    await ws.watch_orders()
                    failures = 0
                    wake.set()
                except asyncio.CancelledError:
                    raise
                except Exception:  # no stream, or it dropped: polling carries on; try again later
                    failures += 1
                    self.stream_errors += 1
                    await asyncio.sleep(min(60.0, self.settings.poll_interval_s * 2 ** min(failures, 6)))
        finally:
            await ws.close()
