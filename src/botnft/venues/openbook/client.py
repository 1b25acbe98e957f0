"""OpenBook v2 as a live `ExecutionClient`: limit and market orders on one market, built from the IDL
(`instructions`), signed by the wallet and sent by the Solana `TransactionSender` (journal before send), with
every outcome read from the chain.

Orders. A LIMIT order is ``placeOrder`` Limit (GTC), PostOnly (POST_ONLY), ImmediateOrCancel (IOC) or
FillOrKill (FOK); a MARKET order is ``Market`` with, for a bid, ``max_quote_lots_including_fees`` from the
book read just before (the asks that fill it, plus the taker fee, plus ``market_slippage_bps``). Sizes and
prices must sit on the market's grid (``base_lot_size``, ``quote_lot_size`` and decimals read from the market
account): off-grid is `InvalidOrder`, nothing sent. Each order transaction is ``placeOrder`` then
``settleFunds``, so what the order took comes back to the wallet in the same transaction. The client order id
goes on chain as OpenBook's u64 ``client_order_id`` (the first 8 bytes of sha256 of our id): with the journal
it makes ``create_order`` idempotent (an id already journaled is never sent again) and finds the order in
the open-orders account and the book after a restart. Cancel is ``cancelOrderByClientOrderId`` +
``settleFunds``.

Outcomes, balances and reports: `reading.OpenBookReader`, which this client extends.

The wallet's open-orders account (number ``account_num``) and its indexer are created at `start` when
missing, with the wallet's base and quote token accounts (idempotent ATA creation). On a SOL market with
``wrap_sol`` (the default) every transaction that moves tokens is wrapped as the OpenBook UI does (`wsol`):
the wrapped-SOL account created when missing and funded from native SOL with what the order needs beyond the
free and wrapped SOL already there, and closed after ``settleFunds``, so SOL the wallet gets back is native
(an account that existed before is made again empty: the wallet's rent stays where it was).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from solders.compute_budget import set_compute_unit_price
from solders.instruction import Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.token.associated import get_associated_token_address
from solders.transaction import VersionedTransaction
from spl.token.instructions import create_idempotent_associated_token_account

from botnft.domain.errors import InsufficientFunds, InvalidOrder, OrderNotFound, Retryable, UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, Side
from botnft.domain.reports import CancelAck, OrderAck
from botnft.venues.openbook import instructions as obix
from botnft.venues.openbook.layouts import (
    BookSide,
    FillEvent,
    OpenOrdersAccount,
    decode_book_side,
    decode_event_heap,
    decode_open_orders,
)
from botnft.venues.openbook.ordering import market_terms, order_terms
from botnft.venues.openbook.reading import OBEvent, OpenBookReader
from botnft.venues.openbook.settings import OpenBookSettings
from botnft.venues.openbook.tracking import order_status
from botnft.venues.openbook.wsol import (
    NATIVE_MINT,
    TOKEN_ACCOUNT_RENT,
    fee_reserve,
    unwrap,
    wrap,
    wrap_needed,
    wsol_account,
)
from botnft.venues.sim.openbook_math import taker_fees_ceil
from botnft.venues.solana.journal import JournalEntry, SendJournal
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.table import solana_sender

__all__ = ["OpenBookClient", "build_openbook", "client_id_u64"]


def client_id_u64(client_order_id: str) -> int:
    """Our client order id as OpenBook's u64 ``client_order_id`` (sha256's first 8 bytes, big-endian)."""
    return int.from_bytes(hashlib.sha256(client_order_id.encode()).digest()[:8], "big")


class OpenBookClient(OpenBookReader):
    """See the module docstring (and `OpenBookReader`'s). `clock` gives nanoseconds."""

    has: Mapping[str, bool] = MappingProxyType(
        {"createOrder": True, "market": True, "limit": True, "cancelOrder": True, "fetchOrder": True,
         "fetchMyTrades": True, "fetchBalance": True, "idempotentClientOrderId": True}
    )  # fmt: skip

    def __repr__(self) -> str:
        return f"OpenBookClient({self.name}, market={self.market_key}, wallet={self.key.address})"

    # lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> list[OBEvent]:
        """Load the market, create the open-orders account if missing, resolve what an earlier run left
        pending (the recovery rule), pick up its orders, and start the watcher."""
        await self.load_market()
        # first, by the recovery rule, this venue's pending rows (a journal shared with other Solana venues
        # leaves theirs to them): a setup transaction an earlier run left pending is then not sent twice
        mine = [e.signature for e in self.sender.journal.entries("pending") if self._mine(e)]
        if mine:
            await self.sender.statuses(mine)
        await self._ensure_open_orders()
        for e in self.sender.journal.entries():
            if self._mine(e) and e.detail.get("kind") == "order" and e.client_order_id not in self._orders:
                self._track(e)
        for e in self.sender.journal.entries():
            if self._mine(e) and e.detail.get("kind") == "cancel":
                t = self._orders.get(str(e.detail["order"]))
                if t is not None and e.state == "landed":
                    t.canceled = True
                elif t is not None and e.state == "pending":
                    t.cancel_pending = True
                    self._watching.add(e.signature)
        events = await self.poll()
        self._ensure_watcher()
        return events

    async def close(self) -> None:
        await self._stop_watcher()
        await self.rpc.close()

    async def _ensure_open_orders(self) -> None:
        for e in self.sender.journal.entries("pending"):  # a setup still in flight: its outcome first
            if self._mine(e) and e.detail.get("kind") == "setup":
                await self.sender.confirm(e.signature, timeout_s=60)
        if await self.rpc.account_data(self.open_orders) is not None:
            return
        owner, m, num = self.key.pubkey, self.market, self.settings.account_num
        ixs = [  # a wrapped-SOL account is made by each transaction that needs it (`wsol`)
            create_idempotent_associated_token_account(owner, owner, mint)
            for mint in (m.base_mint, m.quote_mint)
            if not (self.wraps_sol and mint == NATIVE_MINT)
        ]
        if await self.rpc.account_data(obix.open_orders_indexer(owner, self.program)) is None:
            ixs.append(obix.create_open_orders_indexer(owner, program=self.program))
        ixs.append(obix.create_open_orders_account(owner, num, self.market_key, "bot", program=self.program))
        sig = await self._send(
            ixs, f"{self.name}:setup:{self.market_key}:{num}:{self.clock()}", {"kind": "setup"}
        )
        out = await self.sender.confirm(sig, timeout_s=60)
        if out.state != "landed":
            raise UserError(
                f"{self.name}: creating open-orders account {self.open_orders} {out.state}: {out.err}"
            )

    async def _send(self, ixs: Sequence[Instruction], cid: str, detail: Mapping[str, Any]) -> str:
        pre = [set_compute_unit_price(self.settings.priority_fee)] if self.settings.priority_fee else []
        latest = await self.rpc.latest_blockhash()
        msg = MessageV0.try_compile(self.key.pubkey, [*pre, *ixs], [], latest.blockhash)
        tx = self.key.sign(VersionedTransaction.populate(msg, [Signature.default()]))
        row = {"venue": self.name, "market": str(self.market_key), "ts_ns": self.clock(), **detail}
        sig = str(tx.signatures[0])
        self._watching.add(sig)  # watched even if the send raises: the row is journaled first
        await self.sender.send(tx, latest.last_valid_block_height, client_order_id=cid, detail=row)
        return sig

    # orders -----------------------------------------------------------------------------------------
    async def create_order(self, order: Order) -> OrderAck:
        m = self.market
        if order.instrument != self.iid:
            raise InvalidOrder(
                f"{self.name} lists {self.iid}, not {order.instrument}", reason="unknown_instrument"
            )
        assert self._instrument is not None
        lots, price_lots, kind = order_terms(order, self._instrument)
        self._ensure_watcher()
        previous = [e for e in self.sender.journal.for_order(order.client_order_id) if self._mine(e)]
        if previous:
            return await self._known(previous[-1], order)
        bid = order.side is Side.BUY
        u64 = client_id_u64(order.client_order_id)
        (wallet_base, wallet_quote), present, oo, book = await self._funds_view(not bid)
        if oo is not None and oo.by_client_id(u64) is not None:
            raise InvalidOrder(
                f"client order id {order.client_order_id} is already on the book",
                reason="duplicate_client_order_id",
            )
        if price_lots is None:  # market: a bid's budget from the asks, an ask sells into any bid
            price_lots, budget = market_terms(m, bid, lots, book, self.settings.market_slippage_bps)
        else:
            quote = price_lots * lots * m.quote_lot_size
            budget = quote + taker_fees_ceil(quote, max(m.taker_fee, m.maker_fee, 0))
        free = (oo.quote_free_native if bid else oo.base_free_native) if oo is not None else 0
        held = wallet_quote if bid else wallet_base
        need = budget if bid else lots * m.base_lot_size
        to_wrap, have = 0, held + free
        if self.wraps_sol and (m.quote_mint if bid else m.base_mint) == NATIVE_MINT:
            to_wrap = wrap_needed(need, held, free)
            rent = 0 if present[0 if not bid else 1] else TOKEN_ACCOUNT_RENT
            reserve = fee_reserve(self.settings.priority_fee) + rent
            have += max(0, await self.rpc.lamports(self.key.pubkey) - reserve)
        if need > have:
            verb = "may spend" if bid else "sells"
            symbol = self.settings.quote if bid else self.settings.base
            raise InsufficientFunds(f"the order {verb} {need} native {symbol}, the wallet holds {have}")
        place = obix.PlaceOrder(
            "Bid" if bid else "Ask",
            price_lots,
            lots,
            -(-budget // m.quote_lot_size) if bid else obix.I64_MAX,
            u64,
            kind,
        )
        base_ata, quote_ata = self._atas()
        place_ix = obix.place_order(place, **self._ours(), user_token_account=quote_ata if bid else base_ata)
        had = present[0] if m.base_mint == NATIVE_MINT else present[1]
        ixs = self._sol_wrapped([place_ix, self._settle_ix()], to_wrap, had)
        detail = {
            "kind": "order",
            "instrument": str(self.iid),
            "side": order.side.value,
            "amount": str(order.amount),
            "lots": lots,
            "price_lots": price_lots,
            "type": kind,
            "cid_u64": str(u64),
            "wrap_lamports": to_wrap,
        }
        sig = await self._send(ixs, order.client_order_id, detail)
        entry = self.sender.journal.get(sig)
        assert entry is not None
        self._track(entry)
        return OrderAck(self.clock(), order.client_order_id, venue_order_id=sig, signature=sig)

    async def _funds_view(
        self, asks_side: bool
    ) -> tuple[tuple[int, int], tuple[bool, bool], OpenOrdersAccount | None, BookSide | None]:
        """(base, quote) in the wallet's token accounts, whether each exists, open orders, the book side."""
        m = self.market
        base_ata, quote_ata = self._atas()
        side = m.asks if not asks_side else m.bids
        datas = await self.rpc.accounts_data([base_ata, quote_ata, self.open_orders, side])
        amounts = [
            int.from_bytes(d[64:72], "little") if d is not None and len(d) >= 72 else 0 for d in datas[:2]
        ]
        oo = decode_open_orders(datas[2]) if datas[2] is not None else None
        book = decode_book_side(datas[3]) if datas[3] is not None else None
        return (amounts[0], amounts[1]), (datas[0] is not None, datas[1] is not None), oo, book

    @property
    def wraps_sol(self) -> bool:
        """``wrap_sol`` on a market one of whose mints is SOL's."""
        m = self.market
        return self.settings.wrap_sol and NATIVE_MINT in (m.base_mint, m.quote_mint)

    def _sol_wrapped(
        self, ixs: Sequence[Instruction], lamports: int = 0, had: bool | None = None
    ) -> list[Instruction]:
        """`ixs` between the wrapped-SOL account's creation (funded with `lamports`) and its close (`wsol`);
        `had`: the account existed before (None: unknown), so it is made again after the close."""
        if not self.wraps_sol:
            return list(ixs)
        return [*wrap(self.key.pubkey, lamports), *ixs, *unwrap(self.key.pubkey, keep=had is not False)]

    async def _has_wsol_account(self) -> bool | None:
        if not self.wraps_sol:
            return None
        return await self.rpc.account_data(wsol_account(self.key.pubkey)) is not None

    def _ours(self) -> dict[str, Any]:
        """The accounts every instruction of ours names: owner, open-orders account, market, program."""
        return {"owner": self.key.pubkey, "open_orders": self.open_orders, "market_key": self.market_key,
                "market": self.market, "program": self.program}  # fmt: skip

    def _settle_ix(self) -> Instruction:
        base_ata, quote_ata = self._atas()
        return obix.settle_funds(**self._ours(), user_base=base_ata, user_quote=quote_ata)

    def _atas(self) -> tuple[Pubkey, Pubkey]:
        m, owner = self.market, self.key.pubkey
        return get_associated_token_address(owner, m.base_mint), get_associated_token_address(
            owner, m.quote_mint
        )

    async def _known(self, e: JournalEntry, order: Order) -> OrderAck:
        """An order already journaled: never a new transaction (a pending one is re-broadcast as is)."""
        d = e.detail
        if (d.get("side"), d.get("amount"), d.get("instrument")) != (
            order.side.value,
            str(order.amount),
            str(order.instrument),
        ):
            raise InvalidOrder(
                f"client order id {order.client_order_id} was used for another order",
                reason="duplicate_client_order_id",
            )
        if e.state == "pending":
            out = await self.sender.status(e.signature)
            if not out.final:
                await self.sender.rebroadcast(e.signature)
        if e.client_order_id not in self._orders:
            self._track(e)
        return OrderAck(self.clock(), e.client_order_id, venue_order_id=e.signature, signature=e.signature)

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        t = self._orders.get(client_order_id)
        if t is None:
            entries = [e for e in self.sender.journal.for_order(client_order_id) if self._mine(e)]
            if not entries:
                raise OrderNotFound(f"{self.name} has no order {client_order_id}")
            t = self._track(entries[-1])
        if t.closed:
            raise OrderNotFound(
                f"{self.name} order {client_order_id} is no longer open ({order_status(t).value})"
            )
        had = await self._has_wsol_account()
        ixs = self._sol_wrapped(
            [obix.cancel_order_by_client_order_id(t.u64, **self._ours()), self._settle_ix()], had=had
        )
        t.cancel_pending = not t.canceled
        name = f"{client_order_id}#cancel"
        try:
            await self._send(ixs, name, {"kind": "cancel", "order": client_order_id})
        except ValueError:
            pass  # a cancel already pending or landed is not sent again
        except BaseException:
            if not any(e.state == "pending" for e in self.sender.journal.for_order(name)):
                t.cancel_pending = False  # nothing in flight: the order's fate is the book's again
            raise
        return CancelAck(self.clock(), client_order_id)

    async def cancel_all_orders(self, instrument: InstrumentId | None = None) -> Sequence[CancelAck]:
        out = []
        for r in await self.fetch_open_orders(instrument):
            out.append(await self.cancel_order(r.client_order_id))
        return out

    async def settle(self, limit: int = 8) -> str | None:
        """Crank the front of the event heap (``consumeEvents`` naming the makers of its first `limit` events,
        so the program credits our maker fills among them) and ``settleFunds`` our free balances into the
        wallet, in one transaction through the sender; returns its signature, or None when there is nothing
        of ours to consume or settle."""
        m = self.market
        oo_data, heap_data = await self.rpc.accounts_data([self.open_orders, m.event_heap])
        if oo_data is None or heap_data is None:
            raise Retryable(f"{self.name}: the open-orders account or the event heap is not readable")
        oo, (_, heap) = decode_open_orders(oo_data), decode_event_heap(heap_data)
        front = heap[:limit]
        makers = [e.maker if isinstance(e, FillEvent) else e.owner for e in front]
        if self.open_orders not in makers and not (oo.base_free_native or oo.quote_free_native):
            return None
        consume = obix.consume_events(
            len(front), makers, market_key=self.market_key, market=m, program=self.program
        )
        had = await self._has_wsol_account()
        ixs = self._sol_wrapped([consume, self._settle_ix()] if front else [self._settle_ix()], had=had)
        return await self._send(ixs, f"{self.name}:settle:{self.clock()}", {"kind": "settle"})


def build_openbook(
    settings: OpenBookSettings | Mapping[str, object], *, key: WalletKey, rpc_url: str,
    journal: SendJournal | str | Path, rpc_timeout_s: float = 10.0, skip_preflight: bool = False,
    clock: Callable[[], int] = time.time_ns, name: str = "OPENBOOK",
) -> OpenBookClient:  # fmt: skip
    """An `OpenBookClient` over its own `SolanaRpc` and a `TransactionSender` on `journal` (shareable with the
    other Solana venues, or the path of its SQLite file). ``await client.start()`` (or ``async with``) before
    trading."""
    s = settings if isinstance(settings, OpenBookSettings) else OpenBookSettings.from_mapping(settings)
    rpc, sender = solana_sender(rpc_url, journal, rpc_timeout_s=rpc_timeout_s, skip_preflight=skip_preflight,
                                poll_interval_s=s.poll_interval_s, clock=clock)  # fmt: skip
    return OpenBookClient(rpc, sender, key, s, name=name, clock=clock)
