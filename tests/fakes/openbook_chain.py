"""OpenBook v2 on the local chain: a `LocalSolana` program handler (`register_program`) that executes the
OpenBook instructions of a transaction on the project's simulated order book and writes the program's
accounts (Market, the two BookSides, the EventHeap, OpenOrdersAccounts, indexers) in their on-chain layout
through the adapter's IDL encoders, so the adapter reads the chain exactly as on mainnet.

The matching engine is `botnft.venues.sim.clob.OrderBook` (price-time priority, the self-trade modes) and
the fees are `botnft.venues.sim.openbook_math` (taker ``taker_fees_ceil`` once per order on its
non-self-trade quote; maker rebate ``maker_rebate_floor`` / fee ``maker_fees_floor`` at consume time; bids
lock ``maker_fees_ceil``). Instructions are decoded with the IDL (`instructions.decode_instruction`).

What the handler does, per instruction, as the program (``programs/openbook-v2/src/instructions``):
* createOpenOrdersIndexer / createOpenOrdersAccount: the PDAs, ``account_num`` = indexer counter + 1, rent
  taken from the payer.
* placeOrder: the taker part matches at once (base lots up to ``max_base_lots``, a bid's quote up to
  ``max_quote_lots_including_fees``), the taker's proceeds go to its position's free balances, one
  ``FillEvent`` per maker matched goes to the event heap (makers are credited when the events are
  consumed), the rest posts (Limit, PostOnly; PostOnly that would cross posts nothing; PostOnlySlide
  slides to one tick off the best opposite price), funded from the free balance first and then from the
  user's token account into the vault (too little: the token program's ``InsufficientFunds``, custom 1).
  Logs ``TotalOrderFillEvent`` (``sol_log_data``) when it took liquidity. FillOrKill that cannot fill
  entirely fails with ``WouldExecutePartially``; AbortTransaction self-trades with ``WouldSelfTrade``.
* cancelOrder (by order id) and cancelOrderByClientOrderId (the first open order with that id): the locked
  funds return to the free balances; an order not in the account -> ``OpenOrdersOrderNotFound``, one filled
  entirely whose fill event is not consumed yet (in the account, off the book) -> ``OrderIdNotFound``.
* consumeEvents: the first ``min(limit, 8)`` events (``MAX_EVENTS_CONSUME``); one whose maker's account is
  not among the remaining accounts is skipped (logged) and stays on the heap.
* settleFunds: the free balances go from the vaults to the user's accounts.
Every transaction is all or nothing: the state is copied, changed, and kept only on success.

Differences from the program, on purpose: no oracle-pegged orders, no expiry, no referrers, no penalty.
`OpenBookChain.place` / `take` / `crank` let tests act as other participants without signatures.
"""

from __future__ import annotations

import base64
import copy
import copyreg
import time
from dataclasses import dataclass, field
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey
from solders.token.state import TokenAccount, TokenAccountState
from spl.token.constants import TOKEN_PROGRAM_ID

from botnft.venues.openbook import instructions as obix
from botnft.venues.openbook.idl import OpenBookLayoutError, openbook_idl, variant
from botnft.venues.openbook.layouts import (
    BookOrder,
    FillEvent,
    Market,
    OpenOrdersAccount,
    OpenOrderSlot,
    OutEvent,
    encode_book_side,
    encode_event_heap,
    encode_market,
    encode_open_orders,
    node_key,
)
from botnft.venues.sim.clob import OrderBook, SelfTradeMode
from botnft.venues.sim.openbook_math import (
    maker_fees_ceil,
    maker_fees_floor,
    maker_rebate_floor,
    taker_fees_ceil,
)
from fakes.solana_rpc import NATIVE_MINT, LocalSolana, ProgramCall, ProgramFailed, invoke_logs

copyreg.pickle(Pubkey, lambda p: (Pubkey.from_bytes, (bytes(p),)))  # the state is deep-copied per transaction
PROGRAM = obix.OPENBOOK_PROGRAM
ERRORS = {e["name"]: e["code"] for e in openbook_idl().doc["errors"]}
TOKEN_INSUFFICIENT_FUNDS = 1
MAX_SLOTS = 24
HEAP_SIZE = 600
MAX_EVENTS_CONSUME = 8
STP = {
    "DecrementTake": SelfTradeMode.DECREMENT_TAKE,
    "CancelProvide": SelfTradeMode.CANCEL_MAKER,
    "AbortTransaction": SelfTradeMode.ABORT,
}


class _Fail(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _err(name: str, message: str) -> _Fail:
    return _Fail(ERRORS[name], f"{name}: {message}")


@dataclass
class _Leaf:
    key: int
    oo: Pubkey
    slot: int
    client_id: int
    timestamp: int


@dataclass
class _OO:
    address: Pubkey
    owner: Pubkey
    account_num: int
    name: str = ""
    base_free: int = 0
    quote_free: int = 0
    bids_base_lots: int = 0
    asks_base_lots: int = 0
    bids_quote_lots: int = 0
    locked_maker_fees: int = 0
    maker_volume: int = 0
    taker_volume: int = 0
    slots: dict[int, tuple[int, int, int, bool]] = field(default_factory=dict)  # slot -> key, cid, price, bid


@dataclass
class _State:
    book: OrderBook = field(default_factory=OrderBook)
    leaves: dict[int, _Leaf] = field(default_factory=dict)  # clob order id -> leaf
    by_key: dict[int, int] = field(default_factory=dict)  # order key -> clob order id
    oos: dict[Pubkey, _OO] = field(default_factory=dict)
    indexers: dict[Pubkey, list[Pubkey]] = field(default_factory=dict)  # owner -> its OO accounts
    events: list[FillEvent | OutEvent] = field(default_factory=list)
    heap_seq: int = 0
    seq_num: int = 0
    fees_accrued: int = 0
    base_deposits: int = 0
    quote_deposits: int = 0


class _Tokens:
    """Token balances read from the chain, changed here, written back at commit."""

    def __init__(self, chain: LocalSolana) -> None:
        self.chain = chain
        self.changed: dict[Pubkey, TokenAccount] = {}
        self.lamports: dict[Pubkey, int] = {}

    def get(self, key: Pubkey) -> TokenAccount:
        if key in self.changed:
            return self.changed[key]
        acc = self.chain.svm.get_account(key)
        if acc is None or acc.owner != TOKEN_PROGRAM_ID:
            raise _Fail(3012, f"{key} is not a token account")  # Anchor AccountNotInitialized
        return TokenAccount.from_bytes(bytes(acc.data))

    def move(self, src: Pubkey, dst: Pubkey, amount: int, mint: Pubkey) -> None:
        if amount == 0:
            return
        a, b = self.get(src), self.get(dst)
        if a.mint != mint or b.mint != mint:
            raise _err(
                "InvalidMarketVault", f"token accounts of mint {a.mint}/{b.mint}, the market's is {mint}"
            )
        if a.amount < amount:
            raise _Fail(TOKEN_INSUFFICIENT_FUNDS, f"{src} holds {a.amount}, {amount} needed")
        self.changed[src] = _with_amount(a, a.amount - amount)
        self.changed[dst] = _with_amount(b, b.amount + amount)

    def mint(self, key: Pubkey, amount: int) -> None:
        ta = self.get(key)
        self.changed[key] = _with_amount(ta, ta.amount + amount)

    def commit(self) -> None:
        for key, ta in self.changed.items():
            acc = self.chain.svm.get_account(key)
            assert acc is not None
            lamports = acc.lamports
            if ta.mint == NATIVE_MINT:  # wrapped SOL: lamports follow the amount
                lamports = self.chain.rent_token + ta.amount
            self.chain.svm.set_account(key, Account(lamports, bytes(ta), TOKEN_PROGRAM_ID, False, 0))
        for key, delta in self.lamports.items():
            acc = self.chain.svm.get_account(key)
            assert acc is not None
            self.chain.svm.set_account(
                key, Account(acc.lamports + delta, acc.data, acc.owner, acc.executable, acc.rent_epoch)
            )


def _with_amount(ta: TokenAccount, amount: int) -> TokenAccount:
    native = ta.is_native
    return TokenAccount(ta.mint, ta.owner, amount, ta.delegate, ta.state, native, ta.delegated_amount,
                        ta.close_authority)  # fmt: skip


class OpenBookChain:
    """One OpenBook v2 market on `chain` (module docstring). `market` is its address."""

    program_id = PROGRAM

    def __init__(
        self,
        chain: LocalSolana,
        *,
        base_mint: Pubkey = NATIVE_MINT,
        quote_mint: Pubkey | None = None,
        base_decimals: int = 9,
        quote_decimals: int = 6,
        base_lot_size: int = 1_000_000,
        quote_lot_size: int = 1,
        maker_fee: int = 0,
        taker_fee: int = 0,
        name: str = "SOL-USDC",
        clock: Any = time.time,
    ) -> None:
        self.chain, self.clock = chain, clock
        self.market = Pubkey.new_unique()
        self.quote_mint = quote_mint if quote_mint is not None else Pubkey.new_unique()
        if chain.svm.get_account(self.quote_mint) is None:
            chain.create_mint(self.quote_mint, quote_decimals)
        authority = obix.market_authority(self.market)
        vaults = []
        for mint in (base_mint, self.quote_mint):
            vault = Pubkey.new_unique()
            native = chain.rent_token if mint == NATIVE_MINT else None
            ta = TokenAccount(mint, authority, 0, None, TokenAccountState.Initialized, native, 0, None)
            chain.svm.set_account(vault, Account(chain.rent_token, bytes(ta), TOKEN_PROGRAM_ID, False, 0))
            vaults.append(vault)
        self.meta = Market(
            name=name, base_decimals=base_decimals, quote_decimals=quote_decimals, market_authority=authority,
            bids=Pubkey.new_unique(), asks=Pubkey.new_unique(), event_heap=Pubkey.new_unique(),
            base_mint=base_mint, quote_mint=self.quote_mint, market_base_vault=vaults[0],
            market_quote_vault=vaults[1], base_lot_size=base_lot_size, quote_lot_size=quote_lot_size,
            maker_fee=maker_fee, taker_fee=taker_fee,
        )  # fmt: skip
        self.st = _State()
        self.instructions: list[tuple[str, Any]] = []  # every executed instruction, decoded
        self._written: dict[Pubkey, bytes] = {}
        self._sides: dict[bool, tuple[BookOrder, ...]] = {}
        self._write()
        chain.register_program(self)

    # the hook -----------------------------------------------------------------------------------------
    def execute(self, chain: LocalSolana, calls: list[ProgramCall], *, simulate: bool) -> list[str]:
        st, tokens = copy.deepcopy(self.st), _Tokens(chain)
        logs: list[str] = []
        done = []
        for c in calls:
            keys = [m.pubkey for m in c.accounts]
            signers = {m.pubkey for m in c.accounts if m.is_signer}
            try:
                name, args, acc, rest = obix.decode_instruction(c.data, keys)
                handler = getattr(self, f"_ix_{name}", None)
                if handler is None:
                    raise _Fail(101, f"instruction {name} is not simulated here")  # Anchor fallback
                lines = handler(st, tokens, args, acc, rest, signers)
            except OpenBookLayoutError as exc:
                raise ProgramFailed(
                    c.index, 102, invoke_logs(PROGRAM, [f"Program log: {exc}"], 102)
                ) from None
            except _Fail as f:
                raise ProgramFailed(
                    c.index, f.code, invoke_logs(PROGRAM, [f"Program log: {f}"], f.code)
                ) from None
            logs += invoke_logs(PROGRAM, [f"Program log: Instruction: {name[0].upper()}{name[1:]}", *lines])
            done.append((name, args))
        if not simulate:
            self.st = st
            tokens.commit()
            self.instructions += done
            self._write()
        return logs

    def checkpoint(self) -> tuple[_State, int]:
        """The state before a transaction, for `restore` when an instruction after ours fails."""
        return copy.deepcopy(self.st), len(self.instructions)

    def restore(self, mark: tuple[_State, int]) -> None:
        """Back to `checkpoint`'s state (the chain restores the accounts; the write cache is reset)."""
        self.st = mark[0]
        del self.instructions[mark[1] :]
        self._written.clear()
        self._sides.clear()

    # accounts -----------------------------------------------------------------------------------------
    def market_state(self) -> Market:
        st = self.st
        return Market(
            **{
                **{f: getattr(self.meta, f) for f in Market.__slots__},
                "seq_num": st.seq_num,
                "fees_accrued": st.fees_accrued,
                "base_deposit_total": st.base_deposits,
                "quote_deposit_total": st.quote_deposits,
            }
        )

    def book_orders(self, is_bid: bool) -> list[BookOrder]:
        out = []
        for price, _ in self.st.book.depth(is_bid):
            for o in self.st.book.level(is_bid, price):
                leaf = self.st.leaves[o.order_id]
                out.append(BookOrder(leaf.key, leaf.oo, leaf.slot, o.qty, leaf.timestamp, leaf.client_id))
        return out

    def open_orders(self, address: Pubkey) -> OpenOrdersAccount:
        o = self.st.oos[address]
        slots = tuple(
            OpenOrderSlot(s, key, cid, price, 0 if bid else 1)
            for s, (key, cid, price, bid) in sorted(o.slots.items())
        )
        return OpenOrdersAccount(
            owner=o.owner, market=self.market, account_num=o.account_num, bids_base_lots=o.bids_base_lots,
            asks_base_lots=o.asks_base_lots, base_free_native=o.base_free, quote_free_native=o.quote_free,
            locked_maker_fees=o.locked_maker_fees, bids_quote_lots=o.bids_quote_lots,
            maker_volume=o.maker_volume, taker_volume=o.taker_volume, name=o.name, orders=slots,
        )  # fmt: skip

    def _set(self, key: Pubkey, data: bytes) -> None:
        if self._written.get(key) == data:
            return
        self._written[key] = data
        rent = self.chain.svm.minimum_balance_for_rent_exemption(len(data))
        self.chain.svm.set_account(key, Account(rent, data, PROGRAM, False, 0))

    def _write(self) -> None:
        m = self.meta
        self._set(self.market, encode_market(self.market_state()))
        for key, is_bid in ((m.bids, True), (m.asks, False)):
            orders = tuple(self.book_orders(is_bid))
            if self._sides.get(is_bid) != orders:  # encoding a side is the slow part: only when it changed
                self._sides[is_bid] = orders
                self._set(key, encode_book_side(is_bid, orders))
        self._set(m.event_heap, encode_event_heap(self.st.events, self.st.heap_seq))
        for address in self.st.oos:
            self._set(address, encode_open_orders(self.open_orders(address)))
        idl = openbook_idl()
        for owner, accounts in self.st.indexers.items():
            data = idl.encode_account(
                "openOrdersIndexer", {"bump": 0, "created_counter": len(accounts), "addresses": accounts}
            )
            self._set(obix.open_orders_indexer(owner), data)
        self.chain.notify()

    # instructions -------------------------------------------------------------------------------------
    def _market_check(self, acc: dict[str, Pubkey]) -> None:
        if acc["market"] != self.market:
            raise _Fail(2006, f"market {acc['market']} is not {self.market}")  # Anchor ConstraintSeeds-like
        for name in ("bids", "asks", "eventHeap"):
            want = {"bids": self.meta.bids, "asks": self.meta.asks, "eventHeap": self.meta.event_heap}[name]
            if name in acc and acc[name] != want:
                raise _Fail(2001, f"{name} {acc[name]} is not the market's")  # ConstraintHasOne

    def _owned(self, st: _State, acc: dict[str, Pubkey], signers: set[Pubkey], signer: str) -> _OO:
        oo = st.oos.get(acc["openOrdersAccount"])
        if oo is None:
            raise _Fail(3012, f"open orders account {acc['openOrdersAccount']} does not exist")
        if acc[signer] != oo.owner or acc[signer] not in signers:
            raise _err("NoOwnerOrDelegate", f"{acc[signer]} does not own {oo.address}")
        return oo

    def _rent(self, tokens: _Tokens, payer: Pubkey, space: int) -> None:
        tokens.lamports[payer] = tokens.lamports.get(
            payer, 0
        ) - self.chain.svm.minimum_balance_for_rent_exemption(space)

    def _ix_createOpenOrdersIndexer(self, st: _State, tokens: _Tokens, args: Any, acc: dict[str, Pubkey],
                                    rest: list[Pubkey], signers: set[Pubkey]) -> list[str]:  # fmt: skip
        owner = acc["owner"]
        if acc["openOrdersIndexer"] != obix.open_orders_indexer(owner) or owner in st.indexers:
            raise _Fail(2006, "open orders indexer address or already initialized")
        st.indexers[owner] = []
        self._rent(tokens, acc["payer"], 8 + 1 + 4 + 4 + 32 * 8)
        return []

    def _ix_createOpenOrdersAccount(self, st: _State, tokens: _Tokens, args: Any, acc: dict[str, Pubkey],
                                    rest: list[Pubkey], signers: set[Pubkey]) -> list[str]:  # fmt: skip
        owner = acc["owner"]
        self._market_check(acc)
        if owner not in st.indexers or owner not in signers:
            raise _Fail(3012, f"{owner} has no open orders indexer")
        num = len(st.indexers[owner]) + 1
        address = obix.open_orders_address(owner, num)
        if acc["openOrdersAccount"] != address:
            raise _Fail(2006, f"open orders account {num} of {owner} is {address}")
        if len(args.name) > 32:
            raise _err("InvalidInputNameLength", "name longer than 32 bytes")
        st.oos[address] = _OO(address, owner, num, args.name)
        st.indexers[owner].append(address)
        self._rent(tokens, acc["payer"], 8 + 1256)
        return []

    def _ix_placeOrder(self, st: _State, tokens: _Tokens, args: Any, acc: dict[str, Pubkey],
                       rest: list[Pubkey], signers: set[Pubkey]) -> list[str]:  # fmt: skip
        self._market_check(acc)
        oo = self._owned(st, acc, signers, "signer")
        a = args.args
        is_bid = variant(a.side) == "Bid"
        vault = self.meta.market_quote_vault if is_bid else self.meta.market_base_vault
        if acc["marketVault"] != vault:
            raise _err("InvalidMarketVault", f"{acc['marketVault']} is not the market's vault")
        kind, stp = variant(a.order_type), STP[variant(a.self_trade_behavior)]
        if a.max_base_lots <= 0 or a.max_quote_lots_including_fees <= 0:
            raise _err("InvalidInputLots", "max_base_lots and max_quote_lots_including_fees must be positive")
        if a.price_lots <= 0:
            raise _err("InvalidInputPriceLots", f"price_lots {a.price_lots}")
        return self._place(
            st,
            tokens,
            oo,
            is_bid,
            a.price_lots,
            a.max_base_lots,
            a.max_quote_lots_including_fees,
            a.client_order_id,
            kind,
            stp,
            acc["userTokenAccount"],
        )

    def _place(
        self,
        st: _State,
        tokens: _Tokens,
        oo: _OO,
        is_bid: bool,
        price: int,
        max_base: int,
        max_quote: int,
        cid: int,
        kind: str,
        stp: SelfTradeMode,
        user: Pubkey | None,
    ) -> list[str]:
        m, book, now = self.meta, st.book, int(self.clock())
        bls, qls, tf, mf = m.base_lot_size, m.quote_lot_size, m.taker_fee, m.maker_fee
        if kind == "PostOnlySlide" and book.would_cross(is_bid, price):
            other = book.best_ask() if is_bid else book.best_bid()
            assert other is not None
            price = other - 1 if is_bid else other + 1
            if price <= 0:
                return []
        limit = None if kind == "Market" else price
        seq = st.seq_num
        st.seq_num += 1
        posts = kind in ("Limit", "PostOnly", "PostOnlySlide")
        take = not kind.startswith("PostOnly")
        budget = max_quote * qls if is_bid else None
        plan = None
        if take and not (kind == "PostOnly" and book.would_cross(is_bid, price)):
            plan = book.plan(is_bid, max_base, limit, owner=str(oo.address), stp=stp)
            if plan.aborted:
                raise _err("WouldSelfTrade", "the order would trade with its own account")
            if budget is not None:
                lots = _affordable(plan, budget, qls, tf)
                if lots < plan.filled:
                    plan = book.plan(is_bid, lots, limit, owner=str(oo.address), stp=stp) if lots else None
        elif kind == "PostOnly" and book.would_cross(is_bid, price):
            return []  # the program skips posting a PostOnly that would cross
        filled = plan.filled if plan is not None else 0
        if kind == "FillOrKill" and filled < max_base:
            raise _err("WouldExecutePartially", f"{filled} of {max_base} lots available")
        quote_lots = sum(x.price * x.qty for x in plan.matches) if plan else 0
        fee_quote = sum(x.price * x.qty for x in plan.matches if not x.self_trade) * qls if plan else 0
        taker_fee = taker_fees_ceil(fee_quote, tf)
        quote_native = quote_lots * qls
        rest = max_base - filled if posts else 0
        if rest and budget is not None:
            left = budget - quote_native - taker_fee
            rest = max(0, min(rest, left // (price * qls)))
            while rest and rest * price * qls + maker_fees_ceil(rest * price * qls, mf) > left:
                rest -= 1
        if rest and len(oo.slots) >= MAX_SLOTS:
            raise _err("OpenOrdersFull", f"{oo.address} holds {MAX_SLOTS} orders")
        lock_fee = maker_fees_ceil(rest * price * qls, mf) if rest and is_bid else 0
        if is_bid:
            need = quote_native + taker_fee + rest * price * qls + lock_fee
            have = oo.quote_free
        else:
            need = (filled + rest) * bls
            have = oo.base_free
        from_free = min(have, need)
        deposit = need - from_free
        if deposit and user is None:
            raise _Fail(TOKEN_INSUFFICIENT_FUNDS, "no token account to deposit from")
        if deposit:
            assert user is not None
            tokens.move(user, m.market_quote_vault if is_bid else m.market_base_vault, deposit,
                        m.quote_mint if is_bid else m.base_mint)  # fmt: skip
        if is_bid:
            oo.quote_free -= from_free
            st.quote_deposits += deposit
            oo.base_free += filled * bls
        else:
            oo.base_free -= from_free
            st.base_deposits += deposit
            oo.quote_free += quote_native - taker_fee
        st.fees_accrued += taker_fee
        oo.taker_volume += quote_native
        if plan is not None:
            for x in plan.cancels:  # CancelProvide: our resting orders out of the way (an Out event)
                leaf = st.leaves[x.order_id]
                self._push(st, OutEvent(0 if x.is_bid else 1, leaf.slot, now, st.heap_seq, leaf.oo, x.qty))
            for x in plan.matches:
                leaf = st.leaves[x.maker.order_id]
                out = x.qty == x.maker.qty
                self._push(
                    st,
                    FillEvent(
                        0 if is_bid else 1,
                        out,
                        leaf.slot,
                        now,
                        seq,
                        leaf.oo,
                        leaf.timestamp,
                        oo.address,
                        cid,
                        x.price,
                        x.qty,
                        leaf.client_id,
                    ),
                )
            book.execute(plan)
            for x in plan.matches:  # a maker filled entirely leaves the book (its slot stays until consumed)
                if x.maker.qty == 0 and x.maker.order_id in st.leaves:
                    self._forget(st, x.maker.order_id)
            for x in plan.cancels:
                self._release(st, st.leaves[x.order_id], x.is_bid, x.price, x.qty)
                self._forget(st, x.order_id)
        if rest:
            slot = min(set(range(MAX_SLOTS)) - set(oo.slots))
            key = node_key(is_bid, price, seq)
            o = book.add(str(oo.address), is_bid, price, rest)
            st.leaves[o.order_id] = _Leaf(key, oo.address, slot, cid, now)
            st.by_key[key] = o.order_id
            oo.slots[slot] = (key, cid, price, is_bid)
            if is_bid:
                oo.bids_base_lots += rest
                oo.bids_quote_lots += rest * price
                oo.locked_maker_fees += lock_fee
            else:
                oo.asks_base_lots += rest
        if not filled:
            return []
        paid, received = ((quote_native + taker_fee, filled * bls) if is_bid
                          else (filled * bls, quote_native - taker_fee))  # fmt: skip
        data = openbook_idl().encode_event("TotalOrderFillEvent", {
            "side": 0 if is_bid else 1, "taker": oo.address, "total_quantity_paid": paid,
            "total_quantity_received": received, "fees": taker_fee,
        })  # fmt: skip
        return [f"Program data: {base64.b64encode(data).decode()}"]

    def _push(self, st: _State, e: FillEvent | OutEvent) -> None:
        if len(st.events) >= HEAP_SIZE:
            raise _err("InvalidInputHeapSlots", "the event heap is full: consume events first")
        st.events.append(e)
        st.heap_seq += 1

    def _forget(self, st: _State, order_id: int) -> None:
        leaf = st.leaves.pop(order_id)
        st.by_key.pop(leaf.key, None)

    def _release(self, st: _State, leaf: _Leaf, is_bid: bool, price: int, lots: int) -> None:
        """An order's remaining `lots` leave the book: its locked funds become free again."""
        oo, m = st.oos[leaf.oo], self.meta
        oo.slots.pop(leaf.slot, None)
        if is_bid:
            quote = lots * price * m.quote_lot_size
            fee = maker_fees_ceil(quote, m.maker_fee)
            fee = min(fee, oo.locked_maker_fees)
            oo.bids_base_lots -= lots
            oo.bids_quote_lots -= lots * price
            oo.locked_maker_fees -= fee
            oo.quote_free += quote + fee
        else:
            oo.asks_base_lots -= lots
            oo.base_free += lots * m.base_lot_size

    def _cancel(self, st: _State, oo: _OO, order_id: int) -> None:
        leaf = st.leaves[order_id]
        o = st.book.cancel(order_id)
        assert o is not None
        self._release(st, leaf, o.is_bid, o.price, o.qty)
        self._forget(st, order_id)

    def _ix_cancelOrder(self, st: _State, tokens: _Tokens, args: Any, acc: dict[str, Pubkey],
                        rest: list[Pubkey], signers: set[Pubkey]) -> list[str]:  # fmt: skip
        self._market_check(acc)
        oo = self._owned(st, acc, signers, "signer")
        owned = any(key == args.order_id for key, _, _, _ in oo.slots.values())
        oid = st.by_key.get(args.order_id)
        if not owned:
            raise _err("OpenOrdersOrderNotFound", f"no order {args.order_id} in {oo.address}")
        if oid is None:  # filled entirely, its fill event not consumed yet: nothing left on the book
            raise _err("OrderIdNotFound", f"order {args.order_id} is not on the book")
        self._cancel(st, oo, oid)
        return []

    def _ix_cancelOrderByClientOrderId(self, st: _State, tokens: _Tokens, args: Any, acc: dict[str, Pubkey],
                                       rest: list[Pubkey], signers: set[Pubkey]) -> list[str]:  # fmt: skip
        self._market_check(acc)
        oo = self._owned(st, acc, signers, "signer")
        # the first open order with that client order id (``find_order_with_client_order_id``)
        key = next((k for _, (k, cid, _, _) in sorted(oo.slots.items()) if cid == args.client_order_id), None)
        if key is None:
            raise _err("OpenOrdersOrderNotFound", f"client order id = {args.client_order_id}")
        if key not in st.by_key:
            raise _err("OrderIdNotFound", f"order {key} is not on the book")
        self._cancel(st, oo, st.by_key[key])
        return []

    def _ix_consumeEvents(self, st: _State, tokens: _Tokens, args: Any, acc: dict[str, Pubkey],
                          rest: list[Pubkey], signers: set[Pubkey]) -> list[str]:  # fmt: skip
        self._market_check(acc)
        return self._consume(st, args.limit, set(rest))

    def _consume(self, st: _State, limit: int, makers: set[Pubkey]) -> list[str]:
        m, logs = self.meta, []
        for e in list(st.events[: min(limit, MAX_EVENTS_CONSUME)]):
            owner = e.maker if isinstance(e, FillEvent) else e.owner
            if owner not in makers or owner not in st.oos:
                logs.append(f"Program log: Unable to find account {owner}, skipping")
                continue
            oo = st.oos[owner]
            if isinstance(e, FillEvent):
                quote = e.price * e.quantity * m.quote_lot_size
                self_trade = e.maker == e.taker
                maker_bid = e.taker_side == 1
                fee = 0 if self_trade else maker_fees_floor(quote, m.maker_fee)
                rebate = 0 if self_trade else maker_rebate_floor(quote, m.maker_fee)
                if maker_bid:
                    oo.base_free += e.quantity * m.base_lot_size
                    oo.bids_base_lots -= e.quantity
                    oo.bids_quote_lots -= e.quantity * e.price
                    locked = min(maker_fees_ceil(quote, m.maker_fee), oo.locked_maker_fees)
                    oo.locked_maker_fees -= locked
                    oo.quote_free += locked - fee + rebate
                else:
                    oo.asks_base_lots -= e.quantity
                    oo.quote_free += quote - fee + rebate
                st.fees_accrued += fee - rebate
                oo.maker_volume += quote
                if e.maker_out:
                    oo.slots.pop(e.maker_slot, None)
            else:
                oo.slots.pop(e.owner_slot, None)
            st.events.remove(e)
        return logs

    def _ix_settleFunds(self, st: _State, tokens: _Tokens, args: Any, acc: dict[str, Pubkey],
                        rest: list[Pubkey], signers: set[Pubkey]) -> list[str]:  # fmt: skip
        self._market_check(acc)
        oo = self._owned(st, acc, signers, "owner")
        m = self.meta
        if acc["marketBaseVault"] != m.market_base_vault or acc["marketQuoteVault"] != m.market_quote_vault:
            raise _err("InvalidMarketVault", "settle names other vaults")
        tokens.move(m.market_base_vault, acc["userBaseAccount"], oo.base_free, m.base_mint)
        tokens.move(m.market_quote_vault, acc["userQuoteAccount"], oo.quote_free, m.quote_mint)
        st.base_deposits -= oo.base_free
        st.quote_deposits -= oo.quote_free
        oo.base_free = oo.quote_free = 0
        return []

    # other participants (no signatures: a test acts for them) -----------------------------------------
    def participant(self, owner: Pubkey | None = None) -> Pubkey:
        """A participant's open-orders account (created on first use), funded without limit."""
        owner = owner if owner is not None else Pubkey.new_unique()
        st = self.st
        st.indexers.setdefault(owner, [])
        address = obix.open_orders_address(owner, len(st.indexers[owner]) + 1)
        st.oos[address] = _OO(address, owner, len(st.indexers[owner]) + 1, "participant")
        st.indexers[owner].append(address)
        self._write()
        return address

    def place(self, oo: Pubkey, is_bid: bool, price_lots: int, base_lots: int, *, kind: str = "Limit",
              client_id: int = 0) -> None:  # fmt: skip
        """`oo` (a participant) places an order; its funds are minted into its free balance as needed."""
        st, tokens = copy.deepcopy(self.st), _Tokens(self.chain)
        acct = st.oos[oo]
        m = self.meta
        quote, base = 2 * base_lots * price_lots * m.quote_lot_size + 10**6, base_lots * m.base_lot_size
        acct.quote_free += quote
        acct.base_free += base
        tokens.mint(m.market_quote_vault, quote)
        tokens.mint(m.market_base_vault, base)
        st.quote_deposits += quote
        st.base_deposits += base
        self._place(st, tokens, acct, is_bid, price_lots, base_lots, (1 << 63) - 1, client_id, kind,
                    SelfTradeMode.DECREMENT_TAKE, None)  # fmt: skip
        tokens.commit()
        self.st = st
        self._write()

    def crank(self, limit: int = 64) -> None:
        """consumeEvents for every maker (what a public cranker does)."""
        st = copy.deepcopy(self.st)
        self._consume(st, limit, set(st.oos))
        self.st = st
        self._write()


def _affordable(plan: Any, budget: int, qls: int, taker_rate: int) -> int:
    """Base lots of `plan` whose quote plus the taker fee stays within `budget` (native quote)."""
    lots, quote, fee_quote = 0, 0, 0
    for x in plan.matches:
        lo, hi = 0, x.qty
        while lo < hi:
            mid = (lo + hi + 1) // 2
            q = quote + mid * x.price * qls
            fq = fee_quote + (0 if x.self_trade else mid * x.price * qls)
            if q + taker_fees_ceil(fq, taker_rate) <= budget:
                lo = mid
            else:
                hi = mid - 1
        lots += lo
        if lo < x.qty:
            break
        quote += x.qty * x.price * qls
        fee_quote += 0 if x.self_trade else x.qty * x.price * qls
    return lots
