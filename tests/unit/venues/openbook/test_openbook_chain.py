"""The local OpenBook chain (tests/fakes/openbook_chain.py): real signed transactions through LocalSolana, the
OpenBook instructions decoded with the IDL and applied to the sim CLOB; balances, book and accounts read back
through the adapter's decoders. Expected amounts are worked out by hand from the market's terms: 0.001 SOL
lots (base_lot_size 1e6), quote_lot_size 1 (1e-6 USDC), taker fee 1000 ppm (ceil), maker rebate 200 ppm
(floor)."""

from __future__ import annotations

from typing import Any

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address
from solders.transaction import VersionedTransaction

from botnft.venues.openbook import instructions as ix
from botnft.venues.openbook.layouts import (
    FillEvent,
    Market,
    decode_book_side,
    decode_event_heap,
    decode_market,
    decode_open_orders,
)
from fakes.openbook_chain import OpenBookChain
from fakes.solana_rpc import NATIVE_MINT, LocalSolana

SOL, USDC = 10**9, 10**6


class World:
    def __init__(self) -> None:
        self.chain = LocalSolana()
        self.ob = OpenBookChain(self.chain, taker_fee=1_000, maker_fee=-200)
        self.kp = Keypair()
        self.me = self.kp.pubkey()
        self.chain.airdrop(self.me, 10 * SOL)
        self.base = self.chain.set_token(self.me, NATIVE_MINT, 5 * SOL)
        self.quote = self.chain.set_token(self.me, self.ob.quote_mint, 1_000 * USDC)
        self.oo = ix.open_orders_address(self.me, 1)
        self.send(
            ix.create_open_orders_indexer(self.me),
            ix.create_open_orders_account(self.me, 1, self.ob.market, "t"),
        )
        self.m = self.market()

    def send(self, *ixs: Instruction, signer: Keypair | None = None) -> Any:
        kp = signer or self.kp
        self.chain.advance(1)
        bh, _ = self.chain.latest_blockhash()
        rec = self.chain._land(
            VersionedTransaction(MessageV0.try_compile(kp.pubkey(), list(ixs), [], bh), [kp])
        )
        assert rec is not None
        return rec

    def data(self, key: Pubkey) -> bytes:
        acc = self.chain.svm.get_account(key)
        assert acc is not None
        return bytes(acc.data)

    def market(self) -> Market:
        return decode_market(self.data(self.ob.market))

    def place(
        self, side: str, price: int, lots: int, cid: int, kind: str = "Limit", **kw: Any
    ) -> Instruction:
        order = ix.PlaceOrder(side, price, lots, kw.pop("max_quote", ix.I64_MAX), cid, kind, **kw)
        user = self.quote if side == "Bid" else self.base
        return ix.place_order(
            order,
            owner=self.me,
            open_orders=self.oo,
            market_key=self.ob.market,
            market=self.m,
            user_token_account=user,
        )

    def settle(self) -> Instruction:
        return ix.settle_funds(
            owner=self.me,
            open_orders=self.oo,
            market_key=self.ob.market,
            market=self.m,
            user_base=self.base,
            user_quote=self.quote,
        )

    def usdc(self) -> int:
        return self.chain.token_amount(self.me, self.ob.quote_mint)

    def wsol(self) -> int:
        return self.chain.token_amount(self.me, NATIVE_MINT)


def custom(rec: Any) -> int | None:
    text = str(rec.err)
    return (
        int(text.split("InstructionErrorCustom(")[1].split(")", maxsplit=1)[0]) if "Custom" in text else None
    )


def test_the_accounts_are_written_in_the_on_chain_layout() -> None:
    w = World()
    assert (w.m.base_lot_size, w.m.quote_lot_size, w.m.taker_fee, w.m.maker_fee) == (
        1_000_000,
        1,
        1_000,
        -200,
    )
    assert w.m.base_mint == NATIVE_MINT and w.m.quote_mint == w.ob.quote_mint
    assert w.m.market_authority == ix.market_authority(w.ob.market)
    oo = decode_open_orders(w.data(w.oo))
    assert (oo.owner, oo.market, oo.account_num, oo.name, oo.orders) == (w.me, w.ob.market, 1, "t", ())
    assert w.chain.svm.get_account(w.oo).owner == ix.OPENBOOK_PROGRAM
    assert decode_book_side(w.data(w.m.bids)).orders == () and decode_event_heap(w.data(w.m.event_heap)) == (
        0,
        [],
    )


def test_rest_take_consume_settle_cancel_with_fees_to_the_unit() -> None:
    w = World()
    maker = w.ob.participant()
    w.ob.place(maker, False, 150_000, 100)  # 100 lots offered at 150 USDC/SOL
    usdc0, wsol0 = w.usdc(), w.wsol()
    # a resting bid: 10 lots at 145 locks 10 * 145_000 quote (no maker fee to lock: a rebate)
    assert w.send(w.place("Bid", 145_000, 10, 42)).err is None
    assert w.usdc() == usdc0 - 1_450_000
    oo = decode_open_orders(w.data(w.oo))
    assert (oo.bids_base_lots, oo.bids_quote_lots) == (10, 1_450_000)
    assert [(s.client_id, s.locked_price, s.is_bid) for s in oo.orders] == [(42, 145_000, True)]
    bids = decode_book_side(w.data(w.m.bids))
    assert (
        bids.levels() == [(145_000, 10)]
        and bids.orders[0].owner == w.oo
        and bids.orders[0].client_order_id == 42
    )
    # an IOC buy of 5 lots takes the ask: 750_000 quote + ceil(750_000 * 1000 / 1e6) = 750 fee; settled
    rec = w.send(w.place("Bid", 150_000, 5, 43, "ImmediateOrCancel"), w.settle())
    assert rec.err is None and any(line.startswith("Program data: ") for line in rec.logs)
    assert w.usdc() == usdc0 - 1_450_000 - 750_750 and w.wsol() == wsol0 + 5_000_000
    assert decode_book_side(w.data(w.m.asks)).levels() == [(150_000, 95)]
    # another participant sells 4 lots into our bid: a fill event, our account credited when consumed
    w.ob.place(w.ob.participant(), False, 145_000, 4, kind="ImmediateOrCancel")
    _, events = decode_event_heap(w.data(w.m.event_heap))
    assert len(events) == 2  # the maker fill of our IOC buy and the one of our bid
    fill = events[-1]
    assert isinstance(fill, FillEvent) and (fill.maker, fill.maker_client_order_id, fill.quantity) == (
        w.oo,
        42,
        4,
    )
    assert decode_book_side(w.data(w.m.bids)).levels() == [(145_000, 6)]
    # an event whose maker is not named is skipped and stays: naming ours consumes only our fill
    assert w.send(ix.consume_events(10, [w.oo], market_key=w.ob.market, market=w.m), w.settle()).err is None
    left = decode_event_heap(w.data(w.m.event_heap))[1]
    assert len(left) == 1 and isinstance(left[0], FillEvent) and left[0].maker == maker
    assert w.send(ix.consume_events(10, [maker], market_key=w.ob.market, market=w.m)).err is None
    assert decode_event_heap(w.data(w.m.event_heap))[1] == []
    # 4 lots at 145: 580_000 quote paid from the lock, rebate floor(580_000 * 200 / 1e6) = 116
    assert w.wsol() == wsol0 + 9_000_000 and w.usdc() == usdc0 - 1_450_000 - 750_750 + 116
    # cancel by client order id: the 6 lots left give back 870_000
    assert (
        w.send(
            ix.cancel_order_by_client_order_id(
                42, owner=w.me, open_orders=w.oo, market_key=w.ob.market, market=w.m
            ),
            w.settle(),
        ).err
        is None
    )
    assert w.usdc() == usdc0 - 750_750 - 580_000 + 116
    oo = decode_open_orders(w.data(w.oo))
    assert (oo.bids_base_lots, oo.bids_quote_lots, oo.orders) == (0, 0, ())
    assert decode_book_side(w.data(w.m.bids)).orders == ()
    # the market's accrued fees: both taker fees (ours 750, the participant's ceil(580_000 * 1e-3) = 580) less
    # both makers' rebates (the participant's floor(750_000 * 2e-4) = 150, ours 116)
    assert w.market().fees_accrued == 750 + 580 - 150 - 116


def test_a_failed_instruction_changes_nothing_but_the_fee() -> None:
    w = World()
    w.ob.place(w.ob.participant(), False, 150_000, 10_000)
    asks_before, oo_before, usdc0 = w.data(w.m.asks), w.data(w.oo), w.usdc()
    # 10_000 lots (10 SOL) at 150 need 1_501.5 USDC: the wallet holds 1_000 -> the token program's
    # InsufficientFunds (custom 1), and nothing of the OpenBook part happened
    rec = w.send(w.place("Bid", 150_000, 10_000, 1, "ImmediateOrCancel"), w.settle())
    assert custom(rec) == 1 and rec.fee > 0
    assert (w.data(w.m.asks), w.data(w.oo), w.usdc()) == (asks_before, oo_before, usdc0)


def test_program_errors() -> None:
    w = World()
    w.ob.place(w.ob.participant(), False, 150_000, 3)
    assert custom(w.send(w.place("Bid", 150_000, 5, 1, "FillOrKill"))) == 6043  # WouldExecutePartially
    assert w.send(w.place("Ask", 160_000, 2, 2)).err is None  # our own ask rests at 160
    w.ob.place(w.ob.participant(), False, 150_000, 0 + 1)
    rec = w.send(w.place("Bid", 170_000, 10, 3, "ImmediateOrCancel", self_trade_behavior="AbortTransaction"))
    assert custom(rec) == 6029  # WouldSelfTrade
    stranger = Keypair()
    w.chain.airdrop(stranger.pubkey(), SOL)
    cancel = ix.cancel_order_by_client_order_id(
        2, owner=stranger.pubkey(), open_orders=w.oo, market_key=w.ob.market, market=w.m
    )
    assert custom(w.send(cancel, signer=stranger)) == 6034  # NoOwnerOrDelegate
    cancel = ix.cancel_order(12345, owner=w.me, open_orders=w.oo, market_key=w.ob.market, market=w.m)
    assert custom(w.send(cancel)) == 6038  # OpenOrdersOrderNotFound
    by_cid = ix.cancel_order_by_client_order_id(
        99, owner=w.me, open_orders=w.oo, market_key=w.ob.market, market=w.m
    )
    assert custom(w.send(by_cid)) == 6038  # no open order with that client order id
    # our ask at 160 filled entirely, its fill event not consumed: in the account, off the book
    w.ob.place(w.ob.participant(), True, 160_000, 6, kind="ImmediateOrCancel")  # 4 at 150, then ours
    by_cid = ix.cancel_order_by_client_order_id(
        2, owner=w.me, open_orders=w.oo, market_key=w.ob.market, market=w.m
    )
    assert custom(w.send(by_cid)) == 6025  # OrderIdNotFound
    # a PostOnly that would cross posts nothing, and the transaction succeeds
    w.ob.place(w.ob.participant(), False, 150_000, 1)
    usdc0 = w.usdc()
    assert w.send(w.place("Bid", 150_000, 1, 4, "PostOnly")).err is None
    assert w.usdc() == usdc0 and decode_open_orders(w.data(w.oo)).by_client_id(4) is None


def test_a_bid_takes_no_more_than_its_quote_budget() -> None:
    w = World()
    w.ob.place(w.ob.participant(), False, 150_000, 100)
    # budget 300_000 quote lots: 1 lot costs 150_000 + 150 fee, so 1 lot fits (2 lots need 300_300)
    rec = w.send(w.place("Bid", 150_000, 10, 5, "ImmediateOrCancel", max_quote=300_000), w.settle())
    assert rec.err is None and decode_book_side(w.data(w.m.asks)).levels() == [(150_000, 99)]


@pytest.mark.parametrize("kind", ["Market", "ImmediateOrCancel"])
def test_market_and_ioc_orders_never_rest(kind: str) -> None:
    w = World()
    w.ob.place(w.ob.participant(), False, 150_000, 3)
    assert w.send(w.place("Bid", 150_000, 5, 6, kind), w.settle()).err is None
    assert decode_open_orders(w.data(w.oo)).orders == () and decode_book_side(w.data(w.m.bids)).orders == ()
    assert w.wsol() == 5 * SOL + 3_000_000


def test_the_instructions_applied_are_recorded_decoded() -> None:
    w = World()
    w.send(w.place("Bid", 1_000, 1, 9))
    names = [n for n, _ in w.ob.instructions]
    assert names == ["createOpenOrdersIndexer", "createOpenOrdersAccount", "placeOrder"]
    assert w.ob.instructions[-1][1].args.client_order_id == 9
    assert get_associated_token_address(w.me, NATIVE_MINT) == w.base
