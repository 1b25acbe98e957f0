"""Raydium as a live `ExecutionClient`: market swaps through the trade API (``compute`` -> ``transaction``),
signed by the wallet and sent by the Solana `TransactionSender` (journal before send), with every outcome
read from the landed transaction.

create_order (a market order; size on the base mint's native grid, at least the market's minimum): a BUY is
a ``swap-base-out`` of the base amount (quote in, at most ``otherAmountThreshold``), a SELL a
``swap-base-in`` of it; the wallet must hold what the swap may spend. ``wrapSol``/``unwrapSol`` are set when
SOL goes in / comes out; for any other mint the wallet's associated token account is named
(``inputAccount``/``outputAccount``). The API must answer with exactly one transaction.

Blockhash and the recovery rule. The trade API does not say until when its transaction is valid. When the
wallet is the transaction's only signer (what the API builds), its blockhash is replaced by ours from
``getLatestBlockhash`` before signing, so the journaled ``lastValidBlockHeight`` is exact. When another
signature is already in it (it cannot be re-signed), the blockhash is kept and the journal gets our latest
``lastValidBlockHeight`` plus ``foreign_blockhash_margin``: an upper bound, so "expired" is never declared
early (the API's blockhash is older than ours unless its node runs ahead of ours by more than the margin).

A client order id already in the journal is never sent again: the ack of its transaction is returned (a
pending one is re-broadcast as the same bytes). Outcomes arrive on `stream()` once the chain decides:
``OrderFilled`` with the wallet's base and quote changes read from the landed transaction (the fee in SOL: the
network fee plus any rent the swap deposited, less rent returned, so the wallet's SOL moves by exactly the
fill and its fee; ``trade_id`` the signature); ``OrderRejected`` when it landed failed (reason ``slippage``
for the Raydium programs' slippage errors: AMM v4 ``ExceededSlippage`` 30, CPMM ``ExceededSlippage`` 6005,
CLMM ``PriceSlippageCheck`` 6017, ``TooLittleOutputReceived`` 6018, ``TooMuchInputPaid`` 6019; else
``transaction_failed``); ``OrderExpired`` when it provably can never land.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from types import MappingProxyType

from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.token.associated import get_associated_token_address
from solders.transaction import VersionedTransaction

from botnft.domain.errors import InsufficientFunds, InvalidOrder, OrderNotFound, Rejected, Retryable
from botnft.domain.events import OrderExpired, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Spot
from botnft.domain.orders import Order, OrderStatus, OrderType, Side
from botnft.domain.reports import (
    CancelAck,
    FillReport,
    MassStatus,
    OrderAck,
    OrderStatusReport,
    PositionReport,
)
from botnft.venues.raydium.api import RaydiumApi, SwapCompute
from botnft.venues.raydium.settings import RaydiumSettings
from botnft.venues.solana.deltas import TxEffect, wallet_effect
from botnft.venues.solana.journal import JournalEntry, SendJournal
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender, custom_error
from botnft.venues.swap_market import SOL_MINT, SwapMarket

__all__ = ["SLIPPAGE_CODES", "RaydiumClient", "build_raydium"]

PRICE_STEP = Decimal("0.00000001")
LAMPORTS = Decimal(10) ** 9
SLIPPAGE_CODES = frozenset({30, 6005, 6017, 6018, 6019})
RayEvent = OrderFilled | OrderRejected | OrderExpired


def _units(n: int, decimals: int) -> Decimal:
    return Decimal(n).scaleb(-decimals)


class RaydiumClient:
    """See the module docstring. `clock` gives nanoseconds (events, acks, journal rows)."""

    has: Mapping[str, bool] = MappingProxyType(
        {
            "createOrder": True,
            "market": True,
            "limit": False,
            "cancelOrder": False,
            "fetchOrder": True,
            "fetchMyTrades": True,
            "fetchBalance": True,
            "idempotentClientOrderId": True,
        }
    )

    def __init__(
        self,
        api: RaydiumApi,
        rpc: SolanaRpc,
        sender: TransactionSender,
        key: WalletKey,
        settings: RaydiumSettings | None = None,
        *,
        name: str = "RAYDIUM",
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.name = name
        self.api, self.rpc, self.sender, self.key = api, rpc, sender, key
        self.settings = settings if settings is not None else RaydiumSettings()
        self.clock = clock
        self.markets: dict[InstrumentId, SwapMarket] = {}
        self._instruments: dict[InstrumentId, Instrument] = {}
        for m in self.settings.markets:
            iid = InstrumentId(m.symbol, name)
            self.markets[iid] = m
            self._instruments[iid] = Spot(iid, m.base, m.quote, PRICE_STEP, m.lot, m.min_size)
        self._queue: asyncio.Queue[RayEvent] = asyncio.Queue()
        self._watching: set[str] = set()
        self._effects: dict[str, TxEffect] = {}
        self._watcher: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"RaydiumClient({self.name}, {self.settings.trade_url}, wallet={self.key.address})"

    # lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> list[RayEvent]:
        """Resolve every pending journaled transaction of this venue (the recovery rule) and start the
        watcher; returns (and streams) the events of those that were decided."""
        before = [e.signature for e in self.sender.journal.entries("pending") if self._mine(e)]
        await self.sender.recover()
        events = await self.poll(also=before)
        self._ensure_watcher()
        return events

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.api.aclose()
        await self.rpc.close()

    async def __aenter__(self) -> RaydiumClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _ensure_watcher(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(Retryable):
                await self.poll()
            await asyncio.sleep(self.settings.poll_interval_s)

    async def stream(self) -> AsyncIterator[RayEvent]:
        self._ensure_watcher()
        while True:
            yield await self._queue.get()

    def _mine(self, e: JournalEntry) -> bool:
        return e.detail.get("venue") == self.name

    async def poll(self, *, also: Sequence[str] = ()) -> list[RayEvent]:
        """Ask the chain about the transactions this client watches (those it sent, and `also`), and emit
        (once each) the events of those now decided."""
        journal = self.sender.journal
        self._watching.update(also)
        pending = [s for s in self._watching if (e := journal.get(s)) is not None and e.state == "pending"]
        if pending:
            await self.sender.statuses(pending)
        out: list[RayEvent] = []
        for sig in sorted(self._watching):
            e = journal.get(sig)
            if e is None or not e.final:
                continue
            ev = await self._event(e)
            self._watching.discard(sig)
            out.append(ev)
            self._queue.put_nowait(ev)
        return out

    # the port ---------------------------------------------------------------------------------------
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return dict(self._instruments)

    def _market(self, iid: InstrumentId) -> tuple[SwapMarket, Instrument]:
        if iid not in self.markets:
            raise InvalidOrder(
                f"{self.name} lists {', '.join(map(str, self.markets))}, not {iid}",
                reason="unknown_instrument",
            )
        return self.markets[iid], self._instruments[iid]

    def _account(self, mint: str) -> str | None:
        """The wallet's token account for a non-SOL mint (the API wraps and unwraps SOL itself)."""
        if mint == SOL_MINT:
            return None
        return str(get_associated_token_address(self.key.pubkey, Pubkey.from_string(mint)))

    async def create_order(self, order: Order) -> OrderAck:
        m, inst = self._market(order.instrument)
        if order.order_type is not OrderType.MARKET:
            raise InvalidOrder(
                f"{self.name} swaps at once: market orders only", reason="unsupported_order_type"
            )
        qty = inst.check_qty(order.amount)
        native = int(qty.scaleb(m.base_decimals))
        self._ensure_watcher()
        previous = self.sender.journal.for_order(order.client_order_id)
        if previous:
            return await self._known(previous[-1])
        buy = order.side is Side.BUY
        in_mint, out_mint = (m.quote_mint, m.base_mint) if buy else (m.base_mint, m.quote_mint)
        s = self.settings
        c = await self.api.compute_swap(in_mint, out_mint, native, s.slippage_bps, base_in=not buy)
        if (c.output_amount if buy else c.input_amount) != native or (c.input_mint, c.output_mint) != (
            in_mint,
            out_mint,
        ):
            raise Rejected(f"the route does not trade exactly {native} native {m.base}", reason="no_route")
        spend = c.other_amount_threshold if buy else c.input_amount
        have = await self.rpc.spendable(self.key.pubkey, Pubkey.from_string(in_mint), wrap=True)
        if have < spend:
            sym = m.quote if buy else m.base
            raise InsufficientFunds(f"the wallet holds {have} native {sym}, the swap may spend {spend}")
        raws = await self.api.swap_transactions(
            c,
            self.key.address,
            compute_unit_price_micro_lamports=await self._priority(),
            wrap_sol=in_mint == SOL_MINT,
            unwrap_sol=out_mint == SOL_MINT,
            input_account=self._account(in_mint),
            output_account=self._account(out_mint),
        )
        if len(raws) != 1:
            raise Rejected(
                f"{self.name} built {len(raws)} transactions; one is supported", reason="bad_transaction"
            )
        signed, last_valid = await self._sign(raws[0])
        detail = self._detail(order, qty, native, c)
        sig = str(signed.signatures[0])
        self._watching.add(sig)  # watched even if the send raises: the row is journaled first
        await self.sender.send(signed, last_valid, client_order_id=order.client_order_id, detail=detail)
        return OrderAck(self.clock(), order.client_order_id, venue_order_id=sig, signature=sig)

    async def _sign(self, raw: bytes) -> tuple[VersionedTransaction, int]:
        """Sign the API's transaction; its journaled last valid height (module docstring)."""
        try:
            tx = VersionedTransaction.from_bytes(raw)
        except ValueError as exc:
            raise Rejected(
                f"{self.name} returned a transaction we cannot read: {exc}", reason="bad_transaction"
            ) from None
        msg = tx.message
        latest = await self.rpc.latest_blockhash()
        only_us = msg.header.num_required_signatures == 1 and msg.account_keys[0] == self.key.pubkey
        if only_us and isinstance(msg, MessageV0):
            fresh = MessageV0(
                msg.header,
                list(msg.account_keys),
                latest.blockhash,
                list(msg.instructions),
                list(msg.address_table_lookups),
            )
            tx = VersionedTransaction.populate(fresh, [Signature.default()])
            last_valid = latest.last_valid_block_height
        else:
            last_valid = latest.last_valid_block_height + self.settings.foreign_blockhash_margin
        try:
            return self.key.sign(tx), last_valid
        except ValueError as exc:
            raise Rejected(
                f"{self.name} returned a transaction we cannot sign: {exc}", reason="bad_transaction"
            ) from None

    def _detail(self, order: Order, qty: Decimal, native: int, c: SwapCompute) -> dict[str, object]:
        return {
            "venue": self.name,
            "instrument": str(order.instrument),
            "side": order.side.value,
            "amount": str(qty),
            "native": native,
            "input_mint": c.input_mint,
            "output_mint": c.output_mint,
            "quote_in": str(c.input_amount),
            "quote_out": str(c.output_amount),
            "threshold": str(c.other_amount_threshold),
            "pools": [step.pool_id for step in c.route_plan],
            "ts_ns": self.clock(),
        }

    async def _known(self, e: JournalEntry) -> OrderAck:
        """An order already journaled: never a new transaction; a pending one is re-broadcast as is."""
        if e.state == "pending":
            out = await self.sender.status(e.signature)
            if not out.final:
                await self.sender.rebroadcast(e.signature)
        return OrderAck(self.clock(), e.client_order_id, venue_order_id=e.signature, signature=e.signature)

    async def _priority(self) -> int:
        s = self.settings
        if s.priority_fee == "none":
            return 0
        if isinstance(s.priority_fee, int):
            return s.priority_fee
        fees = await self.api.auto_fee()
        level = {"vh": fees.very_high, "h": fees.high, "m": fees.medium}[s.priority_level]
        return min(level, s.max_priority_micro_lamports)

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        if not self.sender.journal.for_order(client_order_id):
            raise OrderNotFound(f"{self.name} has no order {client_order_id}")
        raise Rejected(f"{self.name} swaps cannot be canceled ({client_order_id})", reason="not_cancelable")

    async def cancel_all_orders(self, instrument: InstrumentId | None = None) -> Sequence[CancelAck]:
        return []

    # reading outcomes -------------------------------------------------------------------------------
    async def _effect(self, e: JournalEntry) -> TxEffect:
        got = self._effects.get(e.signature)
        if got is None:
            tx = await self.rpc.transaction(Signature.from_string(e.signature))
            if tx is None:
                raise Retryable(f"{e.signature} is confirmed but the node has no transaction for it yet")
            got = wallet_effect(tx, self.key.pubkey)
            self._effects[e.signature] = got
        return got

    def _fill_of(self, e: JournalEntry, eff: TxEffect) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(base qty, quote qty, average price, fee in SOL) of a landed swap, from the wallet's changes."""
        m = self.markets[InstrumentId.parse(e.detail["instrument"])]
        base_d = eff.deltas.get(m.base_mint, 0)
        quote_d = eff.deltas.get(m.quote_mint, 0)
        buy = e.detail["side"] == Side.BUY.value
        qty = _units(base_d if buy else -base_d, m.base_decimals)
        quote_qty = _units(-quote_d if buy else quote_d, m.quote_decimals)
        fee = Decimal(eff.sol_cost) / LAMPORTS
        if qty <= 0:
            return Decimal(0), quote_qty, Decimal(0), fee
        with localcontext() as ctx:
            ctx.prec = 60
            price = (quote_qty / qty).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)
        return qty, quote_qty, price, fee

    def _ts(self, eff: TxEffect | None) -> int:
        if eff is not None and eff.block_time is not None:
            return eff.block_time * 10**9
        return self.clock()

    async def _event(self, e: JournalEntry) -> RayEvent:
        cid, iid = e.client_order_id, InstrumentId.parse(e.detail["instrument"])
        if e.state == "expired":
            return OrderExpired(self.clock(), cid)
        if e.state == "failed":
            code = custom_error(e.err)
            reason = "slippage" if code is not None and code[1] in SLIPPAGE_CODES else "transaction_failed"
            fee = Decimal(0)
            if e.slot is not None:  # landed failed: it paid its fee (a preflight refusal did not land)
                fee = (await self._effect(e)).fee / LAMPORTS
            return OrderRejected(self.clock(), cid, iid, reason, f"{e.signature}: {e.err}", fee, "SOL")
        eff = await self._effect(e)
        qty, quote_qty, price, fee = self._fill_of(e, eff)
        side = Side(e.detail["side"])
        return OrderFilled(
            self._ts(eff),
            cid,
            iid,
            side,
            qty,
            price,
            fee,
            "SOL",
            "taker",
            quote_qty=quote_qty,
            trade_id=e.signature,
        )

    async def _report(self, e: JournalEntry) -> OrderStatusReport:
        if e.state == "pending":
            await self.sender.status(e.signature)
            now = self.sender.journal.get(e.signature)
            assert now is not None
            e = now
        iid = InstrumentId.parse(e.detail["instrument"])
        amount = Decimal(e.detail["amount"])
        status = {
            "pending": OrderStatus.SUBMITTED,
            "failed": OrderStatus.REJECTED,
            "expired": OrderStatus.EXPIRED,
            "landed": OrderStatus.FILLED,
        }[e.state]
        filled, average = Decimal(0), None
        if e.state == "landed":
            qty, _, price, _ = self._fill_of(e, await self._effect(e))
            filled, average = min(qty, amount), price
        return OrderStatusReport(
            self.clock(), e.client_order_id, e.signature, iid, Side(e.detail["side"]), amount, filled, status,
            average, e.signature,
        )  # fmt: skip

    async def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        """The order's last transaction as the chain sees it; None if it was never journaled (so never sent).
        Raises `Retryable` while the node cannot be asked."""
        entries = [e for e in self.sender.journal.for_order(client_order_id) if self._mine(e)]
        return await self._report(entries[-1]) if entries else None

    async def fetch_order_by_signature(self, signature: str) -> OrderStatusReport | None:
        e = self.sender.journal.get(signature)
        return await self._report(e) if e is not None and self._mine(e) else None

    async def fetch_open_orders(self, instrument: InstrumentId | None = None) -> Sequence[OrderStatusReport]:
        out = []
        for e in self.sender.journal.entries("pending"):
            if self._mine(e) and (instrument is None or e.detail["instrument"] == str(instrument)):
                rep = await self._report(e)
                if rep.status.is_open:
                    out.append(rep)
        return out

    async def fetch_my_trades(self, since_ns: int | None = None) -> Sequence[FillReport]:
        out = []
        for e in self.sender.journal.entries("landed"):
            if not self._mine(e) or (since_ns is not None and int(e.detail.get("ts_ns", 0)) < since_ns):
                continue
            eff = await self._effect(e)
            qty, _, price, fee = self._fill_of(e, eff)
            if qty > 0:
                out.append(
                    FillReport(
                        self._ts(eff),
                        e.signature,
                        e.client_order_id,
                        e.signature,
                        InstrumentId.parse(e.detail["instrument"]),
                        Side(e.detail["side"]),
                        qty,
                        price,
                        fee,
                        "SOL",
                    )
                )
        return out

    async def fetch_balance(self) -> Mapping[str, Decimal]:
        mints: dict[str, tuple[str, int]] = {}
        for m in self.markets.values():
            mints[m.base] = (m.base_mint, m.base_decimals)
            mints[m.quote] = (m.quote_mint, m.quote_decimals)
        native = await self.rpc.balances(
            self.key.pubkey, {s: Pubkey.from_string(v[0]) for s, v in mints.items()}
        )
        return {s: _units(native[s], mints[s][1]) for s in mints}

    async def fetch_positions(self) -> Sequence[PositionReport]:
        bal = await self.fetch_balance()
        now = self.clock()
        return [PositionReport(now, iid, bal[m.base]) for iid, m in self.markets.items()]

    async def mass_status(self, since_ns: int | None = None) -> MassStatus:
        last: dict[str, JournalEntry] = {}
        for e in self.sender.journal.entries():  # the last attempt of each order
            if self._mine(e) and (since_ns is None or int(e.detail.get("ts_ns", 0)) >= since_ns):
                last[e.client_order_id] = e
        orders = [await self._report(e) for e in last.values()]
        fills = await self.fetch_my_trades(since_ns)
        balances = await self.fetch_balance()
        positions = await self.fetch_positions()
        return MassStatus(
            self.name,
            self.clock(),
            tuple(orders),
            tuple(fills),
            tuple(positions),
            tuple(sorted(balances.items())),
        )


def build_raydium(
    settings: RaydiumSettings | Mapping[str, object],
    *,
    key: WalletKey,
    rpc_url: str,
    journal: SendJournal | str | Path,
    rpc_timeout_s: float = 10.0,
    skip_preflight: bool = False,
    clock: Callable[[], int] = time.time_ns,
) -> RaydiumClient:
    """A `RaydiumClient` over its own `SolanaRpc`, `RaydiumApi` and a `TransactionSender` on `journal` (a
    `SendJournal`, shareable with the other Solana venues, or the path of its SQLite file). Call
    ``await client.start()`` (or ``async with``) before trading: it resolves what a previous run left
    pending."""
    s = settings if isinstance(settings, RaydiumSettings) else RaydiumSettings.from_mapping(settings)
    rpc = SolanaRpc(rpc_url, timeout_s=rpc_timeout_s)
    j = journal if isinstance(journal, SendJournal) else SendJournal(journal)
    sender = TransactionSender(
        rpc, j, skip_preflight=skip_preflight, poll_interval_s=s.poll_interval_s, clock=clock
    )
    return RaydiumClient(RaydiumApi(s.api), rpc, sender, key, s, clock=clock)
