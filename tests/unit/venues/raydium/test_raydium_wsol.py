"""Raydium trade-API swaps with ``wrapSol``/``unwrapSol`` leave no wrapped SOL behind: SOL bought arrives as
native SOL (the wrapped-SOL account is closed at the end of the transaction) and SOL sold is wrapped from the
native balance inside it, so a wallet can sell SOL it bought; the fill's fee is everything else the swap cost
the wallet in SOL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address

from botnft.domain.events import OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, Side
from botnft.venues.raydium.api import RaydiumApi
from botnft.venues.raydium.client import RaydiumClient
from botnft.venues.raydium.settings import RaydiumSettings
from botnft.venues.solana import SendJournal, SolanaRpc, TransactionSender, WalletKey
from fakes.raydium_api import USDC, WSOL, ChainSwaps, FakeRaydiumApi
from fakes.solana_rpc import LocalSolana

SOL_USDC = InstrumentId("SOL/USDC", "RAYDIUM")
LAMPORTS = 10**9


def run(fn: Callable[[LocalSolana, WalletKey, RaydiumClient], Awaitable[None]]) -> None:
    async def main() -> None:
        chain = LocalSolana(slow_s=0.6)
        api = FakeRaydiumApi(delay_s=0.8)
        swaps = ChainSwaps(chain, api)
        key = WalletKey(Keypair(), "test")
        swaps.fund_user(key.pubkey, sol=2 * LAMPORTS, tokens={USDC: 1_000 * 10**6})  # no wrapped-SOL account
        await api.start()
        async with chain.serve() as rpc_url:
            cfg = {"base_url": api.url, "trade_url": api.url, "timeout_s": 0.4, "poll_interval_s": 0.05}
            s = RaydiumSettings.from_mapping(cfg)
            rpc = SolanaRpc(rpc_url, timeout_s=0.3)
            sender = TransactionSender(rpc, SendJournal(":memory:"), poll_interval_s=0.02,
                                       rebroadcast_interval_s=0.05)  # fmt: skip
            client = RaydiumClient(RaydiumApi(s.api), rpc, sender, key, s)
            try:
                await client.start()
                await asyncio.wait_for(fn(chain, key, client), 30)
            finally:
                await client.close()
                await api.stop()

    asyncio.run(main())


async def fill(client: RaydiumClient, cid: str, side: Side, qty: str) -> OrderFilled:
    await client.create_order(Order(cid, SOL_USDC, side, Decimal(qty), 0))
    ev = await asyncio.wait_for(anext(aiter(client.stream())), 5)
    assert isinstance(ev, OrderFilled), ev
    return ev


def test_sol_bought_arrives_native_and_can_be_sold_beyond_the_native_balance_before() -> None:
    async def go(chain: LocalSolana, key: WalletKey, client: RaydiumClient) -> None:
        me, wsol_mint = key.pubkey, Pubkey.from_string(WSOL)
        wsol = get_associated_token_address(me, wsol_mint)
        buy = await fill(client, "b1", Side.BUY, "1")
        fee1 = chain.landed[buy.trade_id].fee
        assert buy.qty == 1 and buy.fee == Decimal(fee1) / LAMPORTS and buy.fee_asset == "SOL"
        assert chain.lamports(me) == 3 * LAMPORTS - fee1  # 2 + 1 SOL, native, less the network fee
        assert chain.lamports(wsol) == 0 and chain.token_amount(me, wsol_mint) == 0
        assert (await client.fetch_balance())["SOL"] == Decimal(3 * LAMPORTS - fee1) / LAMPORTS
        sell = await fill(client, "s1", Side.SELL, "2.9")  # more than the 2 native SOL held before the buy
        fee2 = chain.landed[sell.trade_id].fee
        assert sell.qty == Decimal("2.9") and sell.fee == Decimal(fee2) / LAMPORTS
        assert chain.lamports(me) == 3 * LAMPORTS - fee1 - 29 * LAMPORTS // 10 - fee2
        assert chain.lamports(wsol) == 0
        usdc = Decimal(chain.token_amount(me, Pubkey.from_string(USDC))) / 10**6
        assert buy.quote_qty is not None and sell.quote_qty is not None
        assert usdc == 1_000 - buy.quote_qty + sell.quote_qty

    run(go)
