"""`OpenBookReader`: the reading half of `client.OpenBookClient` (the OpenBook v2 `ExecutionClient`): the
market account, the tracked orders and what the chain says of them.

Outcomes (on `stream()`): a rejected or expired transaction -> ``OrderRejected`` (reason from the program's
error: ``insufficient_funds``, ``would_self_trade``, ``fok_unfillable``, ``too_many_open_orders``, else
``transaction_failed``) / ``OrderExpired``; a landed one -> ``OrderAccepted``, then the taker fill read from
the transaction's ``TotalOrderFillEvent`` log (base and quote moved, the taker fee in quote), then maker fills
read from the event heap (``FillEvent`` with our open-orders account as maker; fee = the market's maker fee or
rebate, negative for a rebate) — and, when a fill event was consumed before we saw it, from the book: the
order's leaf quantity (or its absence) says how much of what it posted has traded, reported at its own price.
A remainder that does not rest (IOC, market, a PostOnly that would cross) -> ``OrderCanceled``.

Balances (`fetch_balance`) are the wallet's tokens plus what its open-orders account holds and what
unconsumed fill events of its orders move; `settle()` cranks the heap's front and settles the free
balances into the wallet (maker proceeds otherwise wait for a public cranker and our next transaction).
After a restart the journaled orders are picked up again and their events re-emitted with the same trade
ids (taker ``<signature>:taker``, heap ``<seq>:<slot>:<ts>``, book ``book:<u64>:<lots>``); a fill reported
from the heap before the restart and from the book after it has two ids.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from solders.pubkey import Pubkey
from solders.signature import Signature

from botnft.domain.errors import Retryable, UserError
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderExpired, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Spot
from botnft.domain.reports import FillReport, MassStatus, OrderStatusReport, PositionReport
from botnft.venues.openbook import instructions as obix
from botnft.venues.openbook.layouts import (
    Market,
    decode_book_side,
    decode_event_heap,
    decode_market,
    decode_open_orders,
)
from botnft.venues.openbook.settings import OpenBookSettings
from botnft.venues.openbook.tracking import (
    OrderTrack,
    fill_event,
    fill_reports,
    in_market,
    order_report,
    order_status,
    progress,
    taker_fill,
)
from botnft.venues.sim.openbook_math import maker_fees_floor, maker_rebate_floor
from botnft.venues.solana.journal import JournalEntry
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender, custom_error
from botnft.venues.solana.watcher import WatchedClient

__all__ = ["ERROR_REASONS", "OBEvent", "OpenBookReader"]

OBEvent = OrderAccepted | OrderFilled | OrderCanceled | OrderRejected | OrderExpired
ERROR_REASONS = {
    1: "insufficient_funds",
    6029: "would_self_trade",
    6043: "fok_unfillable",
    6036: "too_many_open_orders",
}
LAMPORTS = Decimal(10) ** 9


class OpenBookReader(WatchedClient[OBEvent, OpenBookSettings]):
    """The market, the orders this client tracks, and their outcomes and reports (module docstring);
    `client.OpenBookClient` adds what sends. `clock` gives nanoseconds."""

    log = logging.getLogger("botnft.venues.openbook")
    polling = "the orders"

    def __init__(
        self,
        rpc: SolanaRpc,
        sender: TransactionSender,
        key: WalletKey,
        settings: OpenBookSettings | None = None,
        *,
        name: str = "OPENBOOK",
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__()
        self.name, self.rpc, self.sender, self.key, self.clock = name, rpc, sender, key, clock
        self.settings = s = settings if settings is not None else OpenBookSettings()
        self.program = Pubkey.from_string(s.program_id)
        self.market_key = Pubkey.from_string(s.market)
        self.iid = InstrumentId(s.symbol, name)
        self.open_orders = obix.open_orders_address(key.pubkey, s.account_num, self.program)
        self._market: Market | None = None
        self._instrument: Spot | None = None
        self._orders: dict[str, OrderTrack] = {}
        self._watching: set[str] = set()
        self._poll_lock = asyncio.Lock()  # one poll at a time: the watcher's and a caller's never interleave

    # market -----------------------------------------------------------------------------------------
    @property
    def market(self) -> Market:
        if self._market is None:
            raise UserError(f"{self.name}: call start() first (the market account is not loaded)")
        return self._market

    async def load_market(self) -> Market:
        data = await self.rpc.account_data(self.market_key)
        if data is None:
            raise UserError(f"{self.name}: no market account at {self.market_key}")
        m = decode_market(data)
        s = self.settings
        tick = Decimal(m.quote_lot_size).scaleb(m.base_decimals) / Decimal(m.base_lot_size).scaleb(
            m.quote_decimals
        )
        lot = Decimal(m.base_lot_size).scaleb(-m.base_decimals)
        self._market = m
        self._instrument = Spot(self.iid, s.base, s.quote, tick, lot, lot * s.min_lots)
        return m

    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {self.iid: self._instrument} if self._instrument is not None else {}

    def _mine(self, e: JournalEntry) -> bool:
        return e.detail.get("venue") == self.name and e.detail.get("market") == str(self.market_key)

    def _track(self, e: JournalEntry) -> OrderTrack:
        t = OrderTrack.of(e)
        self._orders[e.client_order_id] = t
        self._watching.add(e.signature)
        return t

    # reading the chain ------------------------------------------------------------------------------
    async def poll(self) -> list[OBEvent]:
        """Resolve the watched transactions, read the open-orders account, the book and the event heap in one
        request, and emit (once each) what changed for our orders."""
        async with self._poll_lock:
            return await self._poll()

    async def _poll(self) -> list[OBEvent]:
        journal = self.sender.journal
        pending = [s for s in self._watching if (e := journal.get(s)) is not None and e.state == "pending"]
        if pending:
            await self.sender.statuses(pending)
        out: list[OBEvent] = []
        for sig in sorted(self._watching):
            e = journal.get(sig)
            if e is None or not e.final:
                continue
            self._watching.discard(sig)
            if e.detail.get("kind") == "order" and e.client_order_id in self._orders:
                out += await self._decided(self._orders[e.client_order_id], e)
            elif e.detail.get("kind") == "cancel":
                t = self._orders.get(str(e.detail["order"]))
                if t is not None:
                    t.canceled, t.cancel_pending = t.canceled or e.state == "landed", False
        out += await self._sync()
        for ev in out:
            self._queue.put_nowait(ev)
        return out

    async def _decided(self, t: OrderTrack, e: JournalEntry) -> list[OBEvent]:
        t.entry = e
        now = self.clock()
        if e.state == "expired":
            t.closed = True
            return [OrderExpired(now, t.cid)]
        if e.state == "failed":
            t.closed = True
            code = custom_error(e.err)
            reason = ERROR_REASONS.get(code[1], "transaction_failed") if code else "transaction_failed"
            fee = Decimal(0)
            if e.slot is not None:
                tx = await self.rpc.transaction(Signature.from_string(e.signature))
                fee = (
                    Decimal(tx.transaction.meta.fee) / LAMPORTS
                    if tx is not None and tx.transaction.meta
                    else fee
                )
            return [OrderRejected(now, t.cid, self.iid, reason, f"{e.signature}: {e.err}", fee, "SOL")]
        await self._read_taker(t)
        t.accepted = True
        out: list[OBEvent] = [OrderAccepted(now, t.cid, e.signature)]
        if t.taker is not None and t.taker[0]:
            out.append(self._fill(t, f"{e.signature}:taker", t.taker[0], t.taker[1], t.taker[2], "taker"))
        return out

    async def _read_taker(self, t: OrderTrack) -> None:
        if t.taker is not None:
            return
        tx = await self.rpc.transaction(Signature.from_string(t.entry.signature))
        meta = tx.transaction.meta if tx is not None else None
        if meta is None:
            raise Retryable(f"{t.entry.signature} is confirmed but the node has no transaction for it yet")
        t.taker = taker_fill(meta.log_messages or [], self.open_orders, self.market.base_lot_size)

    def _fill(self, t: OrderTrack, trade_id: str, lots: int, quote: int, fee: int, liq: str) -> OrderFilled:
        assert self._instrument is not None
        return fill_event(t, self._instrument, self.market, trade_id, (lots, quote, fee), liq, self.clock())

    def _maker_fill(self, t: OrderTrack, trade_id: str, lots: int, price_lots: int) -> OrderFilled:
        m = self.market
        quote = lots * price_lots * m.quote_lot_size
        fee = maker_fees_floor(quote, m.maker_fee) - maker_rebate_floor(quote, m.maker_fee)
        t.maker[trade_id] = (lots, price_lots, fee)
        return self._fill(t, trade_id, lots, quote, fee, "maker")

    async def _sync(self) -> list[OBEvent]:
        live = [t for t in self._orders.values() if t.accepted and not t.closed]
        if not live:
            return []
        m = self.market
        datas = await self.rpc.accounts_data([self.open_orders, m.bids, m.asks, m.event_heap])
        if any(d is None for d in datas):
            raise Retryable(f"{self.name}: the open-orders account or the market's book is not readable")
        oo = decode_open_orders(datas[0])  # type: ignore[arg-type]
        leaves = {(o.client_order_id): o for side in datas[1:3] for o in decode_book_side(side).orders  # type: ignore[arg-type]
                  if o.owner == self.open_orders}  # fmt: skip
        _, heap = decode_event_heap(datas[3])  # type: ignore[arg-type]
        out: list[OBEvent] = []
        for t in live:
            p = progress(t, oo, leaves, heap, self.open_orders)
            out += [self._maker_fill(t, tid, lots, price) for tid, lots, price in p.fills]
            t.resting, t.closed = p.resting, p.closed
            if p.cancel_reason is not None:
                out.append(OrderCanceled(self.clock(), t.cid, p.cancel_reason))
        return out

    # reports ----------------------------------------------------------------------------------------
    def _report(self, t: OrderTrack) -> OrderStatusReport:
        assert self._instrument is not None
        return order_report(t, self._instrument, self.market, self.clock())

    async def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        """The order as the chain sees it; None if it was never journaled (so never sent). Raises `Retryable`
        while the node cannot be asked."""
        t = self._orders.get(client_order_id)
        if t is None:
            entries = [e for e in self.sender.journal.for_order(client_order_id) if self._mine(e)]
            if not entries:
                return None
            t = self._track(entries[-1])
        await self.poll()
        return self._report(t)

    async def fetch_open_orders(self, instrument: InstrumentId | None = None) -> Sequence[OrderStatusReport]:
        if instrument is not None and instrument != self.iid:
            return []
        await self.poll()
        return [self._report(t) for t in self._orders.values() if order_status(t).is_open]

    def _fill_reports(self, since_ns: int | None) -> list[FillReport]:
        assert self._instrument is not None
        tracks = [t for t in self._orders.values() if since_ns is None or t.ts_ns >= since_ns]
        return fill_reports(tracks, self._instrument, self.market, self.clock())

    async def fetch_my_trades(self, since_ns: int | None = None) -> Sequence[FillReport]:
        await self.poll()
        return self._fill_reports(since_ns)

    async def fetch_balance(self) -> Mapping[str, Decimal]:
        """What the wallet owns on this market: its token accounts (SOL: with its lamports) plus its
        open-orders account (free, locked in orders, and what unconsumed fill events move: `in_market`)."""
        m, s = self.market, self.settings
        native = await self.rpc.balances(self.key.pubkey, {s.base: m.base_mint, s.quote: m.quote_mint})
        oo_data, heap_data = await self.rpc.accounts_data([self.open_orders, m.event_heap])
        base, quote = native[s.base], native[s.quote]
        if oo_data is not None and heap_data is not None:
            b, q = in_market(
                decode_open_orders(oo_data), decode_event_heap(heap_data)[1], self.open_orders, m
            )
            base, quote = base + b, quote + q
        return {
            s.base: Decimal(base).scaleb(-m.base_decimals),
            s.quote: Decimal(quote).scaleb(-m.quote_decimals),
        }

    async def fetch_positions(self) -> Sequence[PositionReport]:
        bal = await self.fetch_balance()
        return [PositionReport(self.clock(), self.iid, bal[self.settings.base])]

    async def mass_status(self, since_ns: int | None = None) -> MassStatus:
        await self.poll()
        orders = tuple(
            self._report(t) for t in self._orders.values() if since_ns is None or t.ts_ns >= since_ns
        )
        balances = await self.fetch_balance()
        return MassStatus(self.name, self.clock(), orders, tuple(self._fill_reports(since_ns)),
                          tuple(await self.fetch_positions()), tuple(sorted(balances.items())))  # fmt: skip
