"""Swaps with ``wrapAndUnwrapSol`` (Jupiter's default) leave no wrapped SOL behind: SOL bought arrives as
native SOL (the wrapped-SOL account is closed at the end of the transaction) and SOL sold is wrapped from the
native balance inside it, so a wallet can sell SOL it bought. The fill's fee is everything else the swap cost
the wallet in SOL (network fee, less the rent of a wrapped-SOL account it closed), so the ledger's SOL and
the chain's agree to the lamport."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from solders.keypair import Keypair
from solders.token.associated import get_associated_token_address

from botnft.domain.events import OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, Side
from botnft.venues.jupiter import JupiterSettings, build_jupiter
from botnft.venues.solana import SendJournal, WalletKey
from fakes.jupiter_api import USDC, FakeJupiter
from fakes.solana_rpc import NATIVE_MINT, LocalSolana

SOL_USDC = InstrumentId("SOL/USDC", "JUPITER")
LAMPORTS = 10**9
TOKEN_ACCOUNT_RENT = 2_039_280  # rent-exempt minimum of a 165-byte SPL token account


def run(fn: Callable[..., Awaitable[None]], *, sol: str, wrapped: str = "0") -> None:
    async def main() -> None:
        chain = LocalSolana(slow_s=0.8)
        api = FakeJupiter(chain)
        kp = Keypair()
        api.fund_user(kp.pubkey(), sol=Decimal(sol), usdc=Decimal(1_000), wrapped_sol=Decimal(wrapped))
        async with chain.serve() as rpc_url, api.serve() as jup_url:
            cfg = {"base_url": jup_url, "poll_interval_s": 0.02, "timeout_s": 1.0, "priority_fee": "none"}
            settings, key, journal = (
                JupiterSettings.from_mapping(cfg),
                WalletKey(kp, "test"),
                SendJournal(":memory:"),
            )
            client = build_jupiter(settings, key=key, rpc_url=rpc_url, journal=journal, rpc_timeout_s=0.5)
            async with client:
                await asyncio.wait_for(fn(chain, kp, client), 30)

    asyncio.run(main())


async def fill(client: Any, cid: str, side: Side, qty: str) -> OrderFilled:
    await client.create_order(Order(cid, SOL_USDC, side, Decimal(qty), 0))
    ev = await asyncio.wait_for(anext(aiter(client.stream())), 5)
    assert isinstance(ev, OrderFilled), ev
    return ev


def test_sol_bought_arrives_native_and_can_be_sold_beyond_the_native_balance_before() -> None:
    async def go(chain: LocalSolana, kp: Keypair, client: Any) -> None:
        me = kp.pubkey()
        wsol = get_associated_token_address(me, NATIVE_MINT)
        assert chain.lamports(me) == 2 * LAMPORTS
        buy = await fill(client, "b1", Side.BUY, "1")
        fee1 = chain.landed[buy.trade_id].fee
        assert buy.qty == 1 and buy.fee == Decimal(fee1) / LAMPORTS and buy.fee_asset == "SOL"
        # all of it native: 2 + 1 SOL less the network fee; no wrapped-SOL account left
        assert chain.lamports(me) == 3 * LAMPORTS - fee1
        assert chain.lamports(wsol) == 0 and chain.token_amount(me, NATIVE_MINT) == 0
        bal = await client.fetch_balance()
        assert bal["SOL"] == Decimal(3 * LAMPORTS - fee1) / LAMPORTS
        # 2.9 SOL is more than the 2 native SOL held before the buy: the swap wraps it from native SOL
        sell = await fill(client, "s1", Side.SELL, "2.9")
        fee2 = chain.landed[sell.trade_id].fee
        assert sell.qty == Decimal("2.9") and sell.fee == Decimal(fee2) / LAMPORTS
        assert chain.lamports(me) == 3 * LAMPORTS - fee1 - 29 * LAMPORTS // 10 - fee2
        assert chain.lamports(wsol) == 0
        usdc = chain.token_amount(me, USDC)
        assert Decimal(usdc) / 10**6 == 1_000 - buy.quote_qty + sell.quote_qty  # type: ignore[operator]

    run(go, sol="2")


def test_wrapped_sol_already_held_is_unwrapped_and_its_rent_returned_as_a_negative_cost() -> None:
    async def go(chain: LocalSolana, kp: Keypair, client: Any) -> None:
        me = kp.pubkey()
        before = chain.lamports(me) + chain.token_amount(me, NATIVE_MINT)
        assert before == 2 * LAMPORTS + LAMPORTS // 2  # 2 native + 0.5 wrapped
        buy = await fill(client, "b1", Side.BUY, "1")
        fee = chain.landed[buy.trade_id].fee
        assert buy.qty == 1  # the trade alone: the unwrapped 0.5 was the wallet's SOL already
        assert buy.fee == Decimal(fee - TOKEN_ACCOUNT_RENT) / LAMPORTS
        after = chain.lamports(me)
        assert chain.token_amount(me, NATIVE_MINT) == 0
        assert after == before + LAMPORTS - fee + TOKEN_ACCOUNT_RENT
        assert Decimal(after - before) / LAMPORTS == buy.qty - buy.fee  # the ledger's view of the same

    run(go, sol="2", wrapped="0.5")
