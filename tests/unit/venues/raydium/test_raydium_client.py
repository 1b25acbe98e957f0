"""RaydiumClient end to end on loopback: compute (the fake trade API priced by the sim pools) -> transaction
(built for the local LiteSVM chain) -> signed by the wallet -> journaled and sent by the Solana sender ->
fills read from the landed transaction. Every test starts its own chain and API and stops them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address
from solders.transaction import VersionedTransaction

from botnft.domain.errors import InsufficientFunds, InvalidOrder, OrderNotFound, Rejected, Retryable
from botnft.domain.events import OrderExpired, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, OrderType, Side
from botnft.venues.raydium.api import RaydiumApi
from botnft.venues.raydium.client import RaydiumClient
from botnft.venues.raydium.settings import RaydiumSettings
from botnft.venues.solana import SendJournal, SolanaRpc, TransactionSender, WalletKey
from fakes.raydium_api import USDC, WSOL, ChainSwaps, FakeRaydiumApi
from fakes.solana_rpc import LocalSolana

SOL_USDC = InstrumentId("SOL/USDC", "RAYDIUM")
LAMPORTS = 10**9
TOKEN_ACCOUNT_RENT = 2_039_280  # rent-exempt minimum of a 165-byte SPL token account


@dataclass
class Rig:
    chain: LocalSolana
    api: FakeRaydiumApi
    swaps: ChainSwaps
    client: RaydiumClient
    key: WalletKey


def run(
    fn: Callable[[Rig], Awaitable[None]],
    *,
    co_sign: bool = False,
    skip_preflight: bool = False,
    **settings: Any,
) -> None:
    async def main() -> None:
        chain = LocalSolana(slow_s=0.6)
        api = FakeRaydiumApi(delay_s=0.8)
        swaps = ChainSwaps(chain, api, co_sign=co_sign)
        key = WalletKey(Keypair(), "test")
        swaps.fund_user(key.pubkey, sol=20 * LAMPORTS, tokens={USDC: 10_000 * 10**6, WSOL: 0})
        await api.start()
        async with chain.serve() as rpc_url:
            cfg = {"base_url": api.url, "trade_url": api.url, "timeout_s": 0.4, "poll_interval_s": 0.05}
            s = RaydiumSettings.from_mapping(cfg | settings)
            rpc = SolanaRpc(rpc_url, timeout_s=0.3)
            journal = SendJournal(":memory:")
            sender = TransactionSender(
                rpc, journal, poll_interval_s=0.02, rebroadcast_interval_s=0.05, skip_preflight=skip_preflight
            )
            client = RaydiumClient(RaydiumApi(s.api), rpc, sender, key, s)
            try:
                await client.start()
                await asyncio.wait_for(fn(Rig(chain, api, swaps, client, key)), 30)
            finally:
                await client.close()
                await api.stop()

    asyncio.run(main())


def market(side: Side, cid: str, qty: str = "0.5") -> Order:
    return Order(cid, SOL_USDC, side, Decimal(qty), 0)


async def next_event(client: RaydiumClient, timeout: float = 5.0) -> Any:
    async def first() -> Any:
        async for ev in client.stream():
            return ev

    return await asyncio.wait_for(first(), timeout)


def test_buy_fills_with_the_amounts_the_chain_moved_and_the_pool_moves_with_it() -> None:
    async def go(r: Rig) -> None:
        usdc_before = r.chain.token_amount(r.key.pubkey, Pubkey.from_string(USDC))
        sol_before = r.chain.lamports(r.key.pubkey) + r.chain.token_amount(
            r.key.pubkey, Pubkey.from_string(WSOL)
        )
        expected_in = {p.kind: p.engine.quote_swap(5 * 10**8, sell_base=False, exact_in=False).amount_in
                       for p in r.api.pools.values()}  # fmt: skip
        best = min(expected_in, key=lambda k: expected_in[k])
        price_before = r.api.pool(best).engine.price()
        ack = await r.client.create_order(market(Side.BUY, "b1"))
        assert ack.signature is not None and ack.venue_order_id == ack.signature
        ev = await next_event(r.client)
        assert isinstance(ev, OrderFilled) and ev.client_order_id == "b1" and ev.trade_id == ack.signature
        landed = r.chain.landed[ack.signature]
        usdc_paid = usdc_before - r.chain.token_amount(r.key.pubkey, Pubkey.from_string(USDC))
        assert usdc_paid == expected_in[best]  # what the sim pool's program math charges, read from the chain
        assert ev.qty == Decimal("0.5") and ev.quote_qty == Decimal(usdc_paid) / 10**6
        # the unwrap closes the wallet's (empty) wrapped-SOL account: its rent, 2,039,280 lamports for a
        # 165-byte token account, comes back, a negative cost beside the network fee
        assert ev.fee == Decimal(landed.fee - TOKEN_ACCOUNT_RENT) / LAMPORTS and ev.fee_asset == "SOL"
        assert ev.price == (ev.quote_qty / ev.qty).quantize(Decimal("0.00000001"))
        assert r.chain.lamports(get_associated_token_address(r.key.pubkey, Pubkey.from_string(WSOL))) == 0
        sol_after = r.chain.lamports(r.key.pubkey)  # all of it native: nothing left wrapped
        assert sol_after - sol_before == 5 * 10**8 - landed.fee + TOKEN_ACCOUNT_RENT
        assert Decimal(sol_after - sol_before) / LAMPORTS == ev.qty - ev.fee
        assert r.swaps.applied == [ack.signature] and r.api.pool(best).engine.price() > price_before
        rep = await r.client.fetch_order("b1")
        assert rep is not None and rep.status is OrderStatus.FILLED and rep.filled == Decimal("0.5")
        trades = await r.client.fetch_my_trades()
        assert [(t.client_order_id, t.qty, t.trade_id) for t in trades] == [
            ("b1", Decimal("0.5"), ack.signature)
        ]
        bal = await r.client.fetch_balance()
        assert bal["USDC"] == Decimal(usdc_before - usdc_paid) / 10**6
        body = r.api.tx_requests[0]
        assert body["wrapSol"] is False and body["unwrapSol"] is True and "inputAccount" in body
        assert body["computeUnitPriceMicroLamports"] == "20000"  # the API's auto fee, level h

    run(go)


def test_sell_of_sol_wraps_it_and_receives_usdc() -> None:
    async def go(r: Rig) -> None:
        usdc_before = r.chain.token_amount(r.key.pubkey, Pubkey.from_string(USDC))
        outs = [
            p.engine.quote_swap(10**9, sell_base=True, exact_in=True).amount_out for p in r.api.pools.values()
        ]
        await r.client.create_order(market(Side.SELL, "s1", "1"))
        ev = await next_event(r.client)
        assert isinstance(ev, OrderFilled) and ev.side is Side.SELL and ev.qty == Decimal(1)
        got = r.chain.token_amount(r.key.pubkey, Pubkey.from_string(USDC)) - usdc_before
        assert got == max(outs) and ev.quote_qty == Decimal(got) / 10**6
        body = r.api.tx_requests[0]
        assert body["wrapSol"] is True and body["unwrapSol"] is False and "outputAccount" in body

    run(go)


def _record_builds(r: Rig, advance: int) -> list[tuple[str, int]]:
    """Wrap the fake's builder: note each built transaction's (blockhash, last valid height), then let
    `advance` blocks pass before the client sees it."""
    built: list[tuple[str, int]] = []

    def build(body: Any, data: Any) -> bytes:
        raw = r.swaps(body, data)
        blockhash, lvbh = r.chain.latest_blockhash()  # the same height: the hash the builder used
        assert str(VersionedTransaction.from_bytes(raw).message.recent_blockhash) == str(blockhash)
        built.append((str(blockhash), lvbh))
        r.chain.advance(advance)
        return raw

    r.api.build_transaction = build
    return built


def test_the_api_blockhash_is_replaced_when_the_wallet_signs_alone_and_the_journal_height_is_exact() -> None:
    async def go(r: Rig) -> None:
        built = _record_builds(r, advance=3)
        ack = await r.client.create_order(market(Side.BUY, "bh"))
        assert ack.signature is not None
        row = r.client.sender.journal.get(ack.signature)
        assert row is not None
        tx = VersionedTransaction.from_bytes(row.tx)
        assert str(tx.message.recent_blockhash) != built[0][0]  # ours, issued 3 blocks later
        assert row.last_valid_block_height == built[0][1] + 3
        assert isinstance(await next_event(r.client), OrderFilled)

    run(go)


def test_a_cosigned_transaction_keeps_its_blockhash_and_journals_an_upper_bound() -> None:
    async def go(r: Rig) -> None:
        built = _record_builds(r, advance=2)
        ack = await r.client.create_order(market(Side.BUY, "co"))
        assert ack.signature is not None
        assert isinstance(await next_event(r.client), OrderFilled)
        row = r.client.sender.journal.get(ack.signature)
        assert row is not None
        tx = VersionedTransaction.from_bytes(row.tx)
        assert len(tx.signatures) == 2 and str(tx.message.recent_blockhash) == built[0][0]
        assert row.last_valid_block_height == built[0][1] + 2 + 150  # our latest height + the margin

    run(go, co_sign=True)


def test_same_client_id_is_never_sent_twice() -> None:
    async def go(r: Rig) -> None:
        first = await r.client.create_order(market(Side.BUY, "idem"))
        await next_event(r.client)
        second = await r.client.create_order(market(Side.BUY, "idem"))
        assert second.signature == first.signature
        assert len(r.api.tx_requests) == 1 and len(r.chain.landed) == 1

    run(go)


@pytest.mark.parametrize("skip_preflight", [False, True])
def test_slippage_failure_moves_nothing_and_pays_a_fee_only_if_it_landed(skip_preflight: bool) -> None:
    async def go(r: Rig) -> None:
        r.swaps.fail_next_slippage()
        usdc_before = r.chain.token_amount(r.key.pubkey, Pubkey.from_string(USDC))
        prices = {p.id: p.engine.price() for p in r.api.pools.values()}
        ack = await r.client.create_order(market(Side.BUY, "slip"))
        ev = await next_event(r.client)
        assert isinstance(ev, OrderRejected) and ev.reason == "transaction_failed"
        assert ack.signature is not None
        if skip_preflight:  # it landed failed: the fee is paid
            assert ev.fee == Decimal(r.chain.landed[ack.signature].fee) / LAMPORTS > 0
        else:  # the node's simulation refused it: never in a block
            assert ack.signature not in r.chain.landed and ev.fee == 0
        assert r.chain.token_amount(r.key.pubkey, Pubkey.from_string(USDC)) == usdc_before
        assert {p.id: p.engine.price() for p in r.api.pools.values()} == prices and r.swaps.applied == []
        rep = await r.client.fetch_order("slip")
        assert rep is not None and rep.status is OrderStatus.REJECTED

    run(go, skip_preflight=skip_preflight, slippage_bps=10)


def test_a_dropped_transaction_expires_by_block_height_and_is_never_resent_as_a_new_one() -> None:
    async def go(r: Rig) -> None:
        r.chain.drop_next(1_000)  # accepted, never lands, rebroadcasts too
        ack = await r.client.create_order(market(Side.BUY, "drop"))
        assert ack.signature is not None
        row = r.client.sender.journal.get(ack.signature)
        assert row is not None
        r.chain.advance(row.last_valid_block_height - r.chain.height + 1)
        ev = await next_event(r.client)
        assert isinstance(ev, OrderExpired) and ev.client_order_id == "drop"
        assert len(r.api.tx_requests) == 1 and r.swaps.applied == []

    run(go)


def test_orders_the_venue_cannot_take_are_refused_before_anything_is_sent() -> None:
    async def go(r: Rig) -> None:
        with pytest.raises(InvalidOrder):
            await r.client.create_order(market(Side.BUY, "grid", "0.0000000001"))
        with pytest.raises(InvalidOrder):
            await r.client.create_order(
                Order(
                    "lim", SOL_USDC, Side.BUY, Decimal(1), 0, order_type=OrderType.LIMIT, price=Decimal(150)
                )
            )
        with pytest.raises(InsufficientFunds):
            await r.client.create_order(market(Side.SELL, "poor", "50"))  # holds 20 SOL
        with pytest.raises(Rejected):
            await r.client.create_order(market(Side.BUY, "huge", "10000000"))  # no pool can pay it out
        with pytest.raises(OrderNotFound):
            await r.client.cancel_order("never")
        assert r.api.tx_requests == [] and r.chain.sends == {}
        assert await r.client.fetch_order("grid") is None

    run(go)


def test_a_rate_limited_send_is_retryable_and_the_retry_sends_the_same_transaction_once() -> None:
    async def go(r: Rig) -> None:
        r.chain.inject("rate_limit")
        with pytest.raises(Retryable):
            await r.client.create_order(market(Side.BUY, "rl"))
        ack = await r.client.create_order(market(Side.BUY, "rl"))
        ev = await next_event(r.client)
        assert isinstance(ev, OrderFilled) and ev.trade_id == ack.signature
        assert len(r.api.tx_requests) == 1 and list(r.chain.landed) == [ack.signature]

    run(go)


def test_mass_status_after_a_restart_finds_the_landed_swap() -> None:
    async def go(r: Rig) -> None:
        ack = await r.client.create_order(market(Side.BUY, "ms"))
        await next_event(r.client)
        again = RaydiumClient(r.client.api, r.client.rpc, r.client.sender, r.key, r.client.settings)
        ms = await again.mass_status()
        assert [(o.client_order_id, o.status, o.signature) for o in ms.orders] == [
            ("ms", OrderStatus.FILLED, ack.signature)
        ]
        assert [f.client_order_id for f in ms.fills] == ["ms"] and dict(ms.balances)["SOL"] > 0

    run(go)
