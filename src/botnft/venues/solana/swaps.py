"""`SwapClient`: what the Solana swap venues' `ExecutionClient`s (Jupiter, Raydium) share: the markets they
list, the journal's rows of the venue, and every outcome read from the chain. A subclass builds, signs and
sends the swap (`create_order`, through `_swap_terms`, `_check_funds` and `_send_swap`), and defines `start`,
`close` and its priority fee.

Outcomes arrive on `stream()` once the chain decides (the watcher polls the journal's pending transactions
of the venue): ``OrderFilled`` with the wallet's base and quote changes read from the landed transaction
(token balances of the wallet in it; the fee in SOL: the network fee plus any rent the swap deposited, less
rent returned, so the wallet's SOL moves by exactly the fill and its fee; ``trade_id`` the signature);
``OrderRejected`` when it landed failed (reason ``slippage`` for a program error among the venue's
`slippage_codes`, else ``transaction_failed``; the fee it paid is reported); ``OrderExpired`` when it provably
can never land. `fetch_order` answers the same from the journal and the chain, by client id or
(`fetch_order_by_signature`) by signature.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from solders.pubkey import Pubkey
from solders.signature import Signature
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
from botnft.venues.solana.deltas import TxEffect, wallet_effect
from botnft.venues.solana.journal import JournalEntry
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender, custom_error
from botnft.venues.solana.watcher import WatchedClient
from botnft.venues.swap_market import SwapMarket

__all__ = ["LAMPORTS", "PRICE_STEP", "SwapClient", "SwapEvent", "SwapSettings"]

PRICE_STEP = Decimal("0.00000001")
LAMPORTS = Decimal(10) ** 9
SwapEvent = OrderFilled | OrderRejected | OrderExpired
STATUS = {"pending": OrderStatus.SUBMITTED, "failed": OrderStatus.REJECTED, "expired": OrderStatus.EXPIRED,
          "landed": OrderStatus.FILLED}  # fmt: skip


class SwapSettings(Protocol):
    @property
    def poll_interval_s(self) -> float: ...

    @property
    def markets(self) -> tuple[SwapMarket, ...]: ...


S = TypeVar("S", bound=SwapSettings)


def _units(n: int, decimals: int) -> Decimal:
    return Decimal(n).scaleb(-decimals)


class SwapClient(WatchedClient[SwapEvent, S]):
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
    #: the venue's programs' custom error codes that mean the price moved past the slippage limit
    slippage_codes: frozenset[int] = frozenset()
    polling = "the pending swaps"

    def __init__(
        self,
        rpc: SolanaRpc,
        sender: TransactionSender,
        key: WalletKey,
        settings: S,
        *,
        name: str,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__()
        self.name = name
        self.rpc, self.sender, self.key = rpc, sender, key
        self.settings = settings
        self.clock = clock
        self.markets: dict[InstrumentId, SwapMarket] = {}
        self._instruments: dict[InstrumentId, Instrument] = {}
        for m in self.settings.markets:
            iid = InstrumentId(m.symbol, name)
            self.markets[iid] = m
            self._instruments[iid] = Spot(iid, m.base, m.quote, PRICE_STEP, m.lot, m.min_size)
        self._watching: set[str] = set()
        self._effects: dict[str, TxEffect] = {}

    def _mine(self, e: JournalEntry) -> bool:
        return e.detail.get("venue") == self.name

    async def poll(self, *, also: Sequence[str] = ()) -> list[SwapEvent]:
        """Ask the chain about the transactions this client watches (those it sent, and `also`), and emit
        (once each) the events of those now decided."""
        journal = self.sender.journal
        self._watching.update(also)
        pending = [s for s in self._watching if (e := journal.get(s)) is not None and e.state == "pending"]
        if pending:
            await self.sender.statuses(pending)
        out: list[SwapEvent] = []
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
            raise InvalidOrder(f"{self.name} lists {', '.join(map(str, self.markets))}, not {iid}",
                               reason="unknown_instrument")  # fmt: skip
        return self.markets[iid], self._instruments[iid]

    def _swap_terms(self, order: Order) -> tuple[SwapMarket, Decimal, int]:
        """The order's market, its size checked on the market's grid, and that size in native base units."""
        m, inst = self._market(order.instrument)
        if order.order_type is not OrderType.MARKET:
            raise InvalidOrder(
                f"{self.name} swaps at once: market orders only", reason="unsupported_order_type"
            )
        qty = inst.check_qty(order.amount)
        return m, qty, int(qty.scaleb(m.base_decimals))

    async def _check_funds(self, m: SwapMarket, buy: bool, spend: int, *, wrap: bool) -> None:
        """`InsufficientFunds` unless the wallet can spend `spend` native units of what the swap pays."""
        in_mint = m.quote_mint if buy else m.base_mint
        have = await self.rpc.spendable(self.key.pubkey, Pubkey.from_string(in_mint), wrap=wrap)
        if have < spend:
            sym = m.quote if buy else m.base
            raise InsufficientFunds(f"the wallet holds {have} native {sym}, the swap may spend {spend}")

    async def _send_swap(
        self, signed: VersionedTransaction, last_valid: int, order: Order, detail: Mapping[str, Any]
    ) -> OrderAck:
        """Journal and broadcast the signed swap (`TransactionSender.send`); its ack."""
        sig = str(signed.signatures[0])
        self._watching.add(sig)  # watched even if the send raises: the row is journaled first
        await self.sender.send(signed, last_valid, client_order_id=order.client_order_id, detail=detail)
        return OrderAck(self.clock(), order.client_order_id, venue_order_id=sig, signature=sig)

    async def _known(self, e: JournalEntry) -> OrderAck:
        """An order already journaled: never a new transaction; a pending one is re-broadcast as is."""
        if e.state == "pending":
            out = await self.sender.status(e.signature)
            if not out.final:
                await self.sender.rebroadcast(e.signature)
        return OrderAck(self.clock(), e.client_order_id, venue_order_id=e.signature, signature=e.signature)

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

    async def _event(self, e: JournalEntry) -> SwapEvent:
        cid, iid = e.client_order_id, InstrumentId.parse(e.detail["instrument"])
        if e.state == "expired":
            return OrderExpired(self.clock(), cid)
        if e.state == "failed":
            code = custom_error(e.err)
            slipped = code is not None and code[1] in self.slippage_codes
            reason = "slippage" if slipped else "transaction_failed"
            fee = Decimal(0)
            if e.slot is not None:  # landed failed: it paid its fee (a preflight refusal did not land)
                fee = (await self._effect(e)).fee / LAMPORTS
            return OrderRejected(self.clock(), cid, iid, reason, f"{e.signature}: {e.err}", fee, "SOL")
        eff = await self._effect(e)
        qty, quote_qty, price, fee = self._fill_of(e, eff)
        side = Side(e.detail["side"])
        return OrderFilled(self._ts(eff), cid, iid, side, qty, price, fee, "SOL", "taker",
                           quote_qty=quote_qty, trade_id=e.signature)  # fmt: skip

    async def _report(self, e: JournalEntry) -> OrderStatusReport:
        if e.state == "pending":
            await self.sender.status(e.signature)
            now = self.sender.journal.get(e.signature)
            assert now is not None
            e = now
        iid = InstrumentId.parse(e.detail["instrument"])
        amount = Decimal(e.detail["amount"])
        filled, average = Decimal(0), None
        if e.state == "landed":
            qty, _, price, _ = self._fill_of(e, await self._effect(e))
            filled, average = min(qty, amount), price
        return OrderStatusReport(self.clock(), e.client_order_id, e.signature, iid, Side(e.detail["side"]),
                                 amount, filled, STATUS[e.state], average, e.signature)  # fmt: skip

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
                out.append(FillReport(self._ts(eff), e.signature, e.client_order_id, e.signature,
                                      InstrumentId.parse(e.detail["instrument"]), Side(e.detail["side"]),
                                      qty, price, fee, "SOL"))  # fmt: skip
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
        return MassStatus(self.name, self.clock(), tuple(orders), tuple(fills),
                          tuple(await self.fetch_positions()), tuple(sorted(balances.items())))  # fmt: skip
