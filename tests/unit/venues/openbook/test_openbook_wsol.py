"""A wallet that holds SOL only as native lamports sells and buys on a SOL/USDC market: with ``wrap_sol`` (the
default) each order transaction creates the wrapped-SOL account, wraps what the sell needs, places, settles
and closes the account, so the wallet's lamports and USDC move by exactly the trade, the taker fee and the
5,000-lamport signature fee (worked by hand below); without it the sell is refused as insufficient funds and
nothing is sent."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from solders.keypair import Keypair
from solders.system_program import ID as SYSTEM_PROGRAM
from solders.token.associated import get_associated_token_address
from spl.token.constants import ASSOCIATED_TOKEN_PROGRAM_ID, TOKEN_PROGRAM_ID

from botnft.domain.errors import InsufficientFunds, UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from botnft.venues.openbook import instructions as obix
from botnft.venues.openbook.client import OpenBookClient, build_openbook
from botnft.venues.openbook.settings import OpenBookSettings
from botnft.venues.solana import SendJournal, WalletKey
from fakes.openbook_chain import OpenBookChain
from fakes.solana_rpc import NATIVE_MINT, LocalSolana

IID = InstrumentId("SOL/USDC", "OPENBOOK")
SOL = 10**9
SIG_FEE = 5_000


def ioc(cid: str, side: Side, price: str, qty: str) -> Order:
    return Order(cid, IID, side, Decimal(qty), 0, order_type=OrderType.LIMIT, price=Decimal(price),
                 tif=TimeInForce.IOC)  # fmt: skip


def world() -> tuple[LocalSolana, OpenBookChain, Keypair]:
    """Lots: 0.001 SOL; price lots: 0.001 USDC per SOL; taker fee 0.1 %. A bid for 1 SOL at 150 and an ask of
    1 SOL at 151 from another participant; our wallet: 3 SOL native, no token account at all."""
    chain = LocalSolana(slow_s=1.0)
    ob = OpenBookChain(chain, taker_fee=1_000, maker_fee=0)
    other = ob.participant()
    ob.place(other, True, 150_000, 1_000)
    ob.place(other, False, 151_000, 1_000)
    kp = Keypair()
    chain.airdrop(kp.pubkey(), 3 * SOL)
    return chain, ob, kp


def client(ob: OpenBookChain, kp: Keypair, url: str, **settings: Any) -> OpenBookClient:
    s = {"market": str(ob.market), "poll_interval_s": 0.05, **settings}
    return build_openbook(s, key=WalletKey(kp, "t"), rpc_url=url, journal=SendJournal(":memory:"),
                          rpc_timeout_s=1.0)  # fmt: skip


async def filled(c: OpenBookClient, cid: str) -> None:
    for _ in range(200):
        rep = await c.fetch_order(cid)
        if rep is not None and rep.status is OrderStatus.FILLED:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{cid}: {rep}")


def test_native_sol_only_sells_and_buys_with_balances_worked_by_hand() -> None:
    async def main() -> None:
        chain, ob, kp = world()
        me = kp.pubkey()
        wsol = get_associated_token_address(me, NATIVE_MINT)
        async with chain.serve() as url, client(ob, kp, url) as c:
            lamports0 = chain.lamports(me)  # after the setup transaction (open-orders account, USDC account)
            assert chain.lamports(wsol) == 0 and chain.token_amount(me, ob.quote_mint) == 0

            ack = await c.create_order(ioc("s-1", Side.SELL, "150", "0.5"))
            await filled(c, "s-1")
            # 500 lots at 150: 75 USDC, taker fee ceil(75_000_000 * 1_000 / 1e6) = 75_000 micro-USDC
            assert chain.token_amount(me, ob.quote_mint) == 75_000_000 - 75_000
            assert chain.lamports(me) == lamports0 - SOL // 2 - SIG_FEE
            assert chain.lamports(wsol) == 0  # closed again: nothing left wrapped, its rent back
            tx = chain.landed[ack.signature or ""].tx.message
            keys = tx.account_keys
            programs = [keys[i.program_id_index] for i in tx.instructions]
            assert programs == [ASSOCIATED_TOKEN_PROGRAM_ID, SYSTEM_PROGRAM, TOKEN_PROGRAM_ID,
                                obix.OPENBOOK_PROGRAM, obix.OPENBOOK_PROGRAM, TOKEN_PROGRAM_ID]  # fmt: skip
            assert tx.instructions[2].data == bytes([17])  # SyncNative
            assert tx.instructions[5].data == bytes([9])  # CloseAccount

            bal = await c.fetch_balance()
            assert bal["SOL"] == Decimal(lamports0 - SOL // 2 - SIG_FEE).scaleb(-9)
            assert bal["USDC"] == Decimal("74.925")

            # buying 0.2 SOL at 151 brings native SOL: 30.2 USDC + fee ceil(30_200_000 * 1e-3) = 30_200
            await c.create_order(ioc("b-1", Side.BUY, "151", "0.2"))
            await filled(c, "b-1")
            assert chain.token_amount(me, ob.quote_mint) == 74_925_000 - 30_200_000 - 30_200
            assert chain.lamports(me) == lamports0 - SOL // 2 - SIG_FEE + SOL // 5 - SIG_FEE
            assert chain.lamports(wsol) == 0

            # more than the lamports less the fee reserve and the account's rent: refused, nothing sent
            sent = sum(chain.sends.values())
            with pytest.raises(InsufficientFunds):
                await c.create_order(ioc("s-2", Side.SELL, "150", "2.7"))
            assert sum(chain.sends.values()) == sent and await c.fetch_order("s-2") is None

    asyncio.run(asyncio.wait_for(main(), 60))


def test_without_wrap_sol_a_native_only_sell_is_insufficient_funds_and_nothing_is_sent() -> None:
    async def main() -> None:
        chain, ob, kp = world()
        async with chain.serve() as url, client(ob, kp, url, wrap_sol=False) as c:
            sent = sum(chain.sends.values())
            with pytest.raises(InsufficientFunds):
                await c.create_order(ioc("s-1", Side.SELL, "150", "0.5"))
            assert sum(chain.sends.values()) == sent
            # with wrapped SOL in the wallet the same sell goes through, and it stays wrapped
            chain.set_token(kp.pubkey(), NATIVE_MINT, SOL)
            await c.create_order(ioc("s-1", Side.SELL, "150", "0.5"))
            await filled(c, "s-1")
            assert chain.token_amount(kp.pubkey(), NATIVE_MINT) == SOL // 2

    asyncio.run(asyncio.wait_for(main(), 60))


def test_wrap_sol_setting() -> None:
    assert OpenBookSettings.from_mapping({}).wrap_sol is True
    assert OpenBookSettings.from_mapping({"wrap_sol": False}).wrap_sol is False
    with pytest.raises(UserError, match="wrap_sol must be true or false") as e:
        OpenBookSettings.from_mapping({"wrap_sol": "yes"})
    assert "\n" not in str(e.value)


def test_the_local_chain_runs_token_instructions_after_openbook_ones_and_undoes_all_when_they_fail() -> None:
    from solders.message import MessageV0
    from solders.transaction import VersionedTransaction
    from spl.token.instructions import CloseAccountParams, close_account

    from botnft.venues.openbook.layouts import decode_market, decode_open_orders

    chain, ob, kp = world()
    me = kp.pubkey()
    chain.airdrop(me, SOL)
    usdc = chain.set_token(me, ob.quote_mint, 100 * 10**6)
    oo = obix.open_orders_address(me, 1)

    def land(*ixs: Any) -> Any:
        chain.advance(1)
        bh, _ = chain.latest_blockhash()
        rec = chain.land(VersionedTransaction(MessageV0.try_compile(me, list(ixs), [], bh), [kp]))
        assert rec is not None
        return rec

    assert (
        land(obix.create_open_orders_indexer(me), obix.create_open_orders_account(me, 1, ob.market)).err
        is None
    )
    acc = chain.svm.get_account(ob.market)
    assert acc is not None
    m = decode_market(bytes(acc.data))
    bid = obix.place_order(obix.PlaceOrder("Bid", 140_000, 100, obix.I64_MAX, 7), owner=me, open_orders=oo,
                           market_key=ob.market, market=m, user_token_account=usdc)  # fmt: skip
    # closing a token account that still holds USDC fails (non-native, non-zero): the bid placed before it is
    # undone, the USDC stays, only the fee is paid
    lamports = chain.lamports(me)
    rec = land(bid, close_account(CloseAccountParams(TOKEN_PROGRAM_ID, usdc, me, me)))
    assert rec.err is not None and getattr(rec.err, "index", None) == 1, rec.err
    assert chain.token_amount(me, ob.quote_mint) == 100 * 10**6
    assert chain.lamports(me) == lamports - SIG_FEE
    oo_acc = chain.svm.get_account(oo)
    assert oo_acc is not None and decode_open_orders(bytes(oo_acc.data)).by_client_id(7) is None
    assert [o.client_order_id for o in ob.book_orders(True)] == [0]  # only the other participant's bid
    # the same bid alone rests
    assert land(bid).err is None
    assert sorted(o.client_order_id for o in ob.book_orders(True)) == [0, 7]
