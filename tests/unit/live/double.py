"""A TEST DOUBLE of a live venue: an async `ExecutionClient` over a tiny in-memory spot exchange (market
orders fill at the price the test sets, balances move, trades get ids). It is idempotent on the client
order id, counts every create request it receives per id, and injects faults: `lost` (the order lands
and the answer is lost: the call times out), `refuse` (rate limited, nothing lands), `reject`.
It stands in for the real adapters only in these unit tests of the bridge."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal as D

from botnft.domain.errors import InsufficientFunds, InvalidOrder, RateLimited
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.domain.market import Bar
from botnft.domain.orders import Order, OrderStatus, Side
from botnft.domain.reports import (
    CancelAck,
    FillReport,
    MassStatus,
    OrderAck,
    OrderStatusReport,
    PositionReport,
)

SOL = Spot(InstrumentId("SOL/USDT", "DOUBLE"), "SOL", "USDT", D("0.01"), D("0.001"), D("0.001"))


class DoubleExchange:
    name = "DOUBLE"
    has = {"fetchOrder": True, "fetchMyTrades": True, "idempotentClientOrderId": True}
    fee_rate = D("0.001")

    def __init__(self, cash: D = D(10_000), price: D = D(100)) -> None:
        self.price = price
        self.balances = {"USDT": cash, "SOL": D(0)}
        self.orders: dict[str, OrderStatusReport] = {}
        self.trades: list[FillReport] = []
        self.creates = Counter[str]()  # create requests received, by client order id
        self.faults: list[str] = []
        self.delay_s = 10.0  # how long a "lost" answer hangs (past the bridge's timeout)
        self.now = 1

    def instruments(self) -> dict[InstrumentId, Spot]:
        return {SOL.id: SOL}

    def _tick(self) -> int:
        self.now += 1
        return self.now

    async def create_order(self, order: Order) -> OrderAck:
        coid = order.client_order_id
        self.creates[coid] += 1
        fault = self.faults.pop(0) if self.faults else None
        if fault == "refuse":
            raise RateLimited("429")
        if fault == "reject":
            raise InvalidOrder("bad size")
        if coid not in self.orders:
            self._execute(order)
        if fault == "lost":
            await asyncio.sleep(self.delay_s)
        return OrderAck(self._tick(), coid, f"V{coid}")

    def _execute(self, order: Order) -> None:
        coid, qty = order.client_order_id, order.amount
        if qty % SOL.lot_size:
            raise InvalidOrder(f"{qty} off the lot grid")
        notional = (qty * self.price).quantize(D("0.00000001"))
        fee = (notional * self.fee_rate).quantize(D("0.00000001"))
        if order.side is Side.BUY and self.balances["USDT"] < notional + fee:
            raise InsufficientFunds("not enough USDT")
        if order.side is Side.SELL and self.balances["SOL"] < qty:
            raise InsufficientFunds("not enough SOL")
        sign = D(order.side.sign)
        self.balances["SOL"] += sign * qty
        self.balances["USDT"] -= sign * notional + fee
        ts = self._tick()
        self.trades.append(
            FillReport(ts, f"T{len(self.trades) + 1}", coid, f"V{coid}", SOL.id, order.side, qty, self.price,
                       fee, "USDT")
        )  # fmt: skip
        self.orders[coid] = OrderStatusReport(
            ts, coid, f"V{coid}", SOL.id, order.side, qty, qty, OrderStatus.FILLED, self.price
        )

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        return CancelAck(self._tick(), client_order_id)

    async def cancel_all_orders(self, instrument: InstrumentId | None = None) -> list[CancelAck]:
        return []

    async def fetch_open_orders(self, instrument: InstrumentId | None = None) -> list[OrderStatusReport]:
        return [r for r in self.orders.values() if r.status.is_open]

    async def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        return self.orders.get(client_order_id)

    async def fetch_my_trades(self, since_ns: int | None = None) -> list[FillReport]:
        return [t for t in self.trades if since_ns is None or t.ts_ns >= since_ns]

    async def fetch_positions(self) -> list[PositionReport]:
        return []

    async def fetch_balance(self) -> dict[str, D]:
        return dict(self.balances)

    async def mass_status(self, since_ns: int | None = None) -> MassStatus:
        return MassStatus(
            self.name, self._tick(), tuple(self.orders.values()), tuple(await self.fetch_my_trades(since_ns)),
            (), tuple(self.balances.items()),
        )  # fmt: skip


class ListFeed:
    """A TEST DOUBLE market-data feed: yields the given bars (moving the exchange's price to each close),
    `pause_s` apart."""

    def __init__(self, bars: list[Bar], exchange: DoubleExchange, pause_s: float = 0.0) -> None:
        self.bars = bars
        self.exchange = exchange
        self.pause_s = pause_s

    async def stream(self) -> AsyncIterator[Bar]:
        for bar in self.bars:
            self.exchange.price = D(repr(bar.close)).quantize(D("0.01"))
            yield bar
            await asyncio.sleep(self.pause_s)
