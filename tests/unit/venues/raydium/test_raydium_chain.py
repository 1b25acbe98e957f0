"""`load_pool` reads a pool's accounts from the chain (the local LiteSVM RPC) and prices it as the sim pool
built from the same reserves / sqrt price and ticks does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from raydium_account_bytes import (
    amm_v4,
    clmm_config,
    clmm_pool,
    cpmm_config,
    cpmm_pool,
    tick_array,
    token_account,
)
from solders.account import Account
from solders.pubkey import Pubkey

from botnft.venues.raydium.api import AMM_V4_PROGRAM, CLMM_PROGRAM, CPMM_PROGRAM
from botnft.venues.raydium.chain import array_start_index, load_pool
from botnft.venues.raydium.layouts import RaydiumDecodeError
from botnft.venues.raydium.pools import LivePool
from botnft.venues.sim.raydium_config import AmmV4Terms, ClmmTerms, CpmmTerms, PoolConfig
from botnft.venues.sim.raydium_math import RaydiumMathError
from botnft.venues.sim.raydium_pools import ClmmEngine, PoolEngine, make_engine
from botnft.venues.solana import SolanaRpc
from fakes.solana_rpc import LocalSolana

TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")


def put(chain: LocalSolana, key: Pubkey, data: bytes, owner: str) -> None:
    chain.svm.set_account(key, Account(10**9, data, Pubkey.from_string(owner), False, 0))


def run(fn: Callable[[LocalSolana, SolanaRpc], Awaitable[None]]) -> None:
    async def main() -> None:
        chain = LocalSolana()
        async with chain.serve() as url:
            rpc = SolanaRpc(url, timeout_s=1.0)
            try:
                await asyncio.wait_for(fn(chain, rpc), 30)
            finally:
                await rpc.close()

    asyncio.run(main())


def same_quotes(sim: PoolEngine, live: LivePool, amounts: tuple[int, ...]) -> None:
    for amount in amounts:
        for sell_base in (True, False):
            for exact_in in (True, False):
                q = sim.quote_swap(amount, sell_base=sell_base, exact_in=exact_in)
                want = q.amount_out if exact_in else q.amount_in
                assert live.quote(amount, sell_base=sell_base, exact_in=exact_in) == want


def test_amm_v4_and_cpmm_pools_are_read_with_their_vaults_and_config() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc) -> None:
        b, q = 40_000 * 10**9, 6_000_000 * 10**6
        keys = [Pubkey.new_unique() for _ in range(8)]
        mint_b, mint_q = bytes(keys[6]), bytes(keys[7])
        amm = amm_v4(
            base_vault=bytes(keys[1]), quote_vault=bytes(keys[2]), base_mint=mint_b, quote_mint=mint_q,
            need_take_pnl=(700, 800),
        )  # fmt: skip
        put(chain, keys[0], amm, AMM_V4_PROGRAM)
        put(chain, keys[1], token_account(mint=mint_b, owner=bytes(keys[0]), amount=b + 700), str(TOKEN))
        put(chain, keys[2], token_account(mint=mint_q, owner=bytes(keys[0]), amount=q + 800), str(TOKEN))
        live = await load_pool(rpc, str(keys[0]), "amm_v4")
        same_quotes(
            make_engine(PoolConfig(AmmV4Terms(), base_reserve=b, quote_reserve=q)), live, (10**6, 10**9)
        )

        cp = cpmm_pool(
            amm_config=bytes(keys[5]), vault_0=bytes(keys[4]), vault_1=bytes(keys[2]), mint_0=mint_b,
            mint_1=mint_q, protocol_fees=(5, 6),
        )  # fmt: skip
        put(chain, keys[3], cp, CPMM_PROGRAM)
        put(chain, keys[4], token_account(mint=mint_b, owner=bytes(keys[3]), amount=b + 5), str(TOKEN))
        put(chain, keys[2], token_account(mint=mint_q, owner=bytes(keys[3]), amount=q + 6), str(TOKEN))
        put(chain, keys[5], cpmm_config(trade=2500, protocol=120_000, fund=40_000), CPMM_PROGRAM)
        live = await load_pool(rpc, str(keys[3]), "cpmm")
        sim = make_engine(PoolConfig(CpmmTerms(2500, 120_000, 40_000, 0), base_reserve=b, quote_reserve=q))
        same_quotes(sim, live, (10**6, 10**9))
        with pytest.raises(RaydiumDecodeError, match="does not exist"):
            await load_pool(rpc, str(Pubkey.new_unique()), "cpmm")

    run(go)


def test_clmm_is_read_with_the_tick_arrays_around_its_price() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc) -> None:
        sim = make_engine(
            PoolConfig.from_price("150", kind="clmm", terms=ClmmTerms(500, 10, 120_000, 40_000))
        )
        assert isinstance(sim, ClmmEngine)
        pool_key, config_key, program = (
            Pubkey.new_unique(),
            Pubkey.new_unique(),
            Pubkey.from_string(CLMM_PROGRAM),
        )
        p = sim.pool
        state = clmm_pool(
            amm_config=bytes(config_key), mint_0=bytes(32), mint_1=bytes(32), vault_0=bytes(32),
            vault_1=bytes(32), tick_spacing=10, liquidity=p.liquidity, sqrt_price_x64=p.sqrt_price_x64,
            tick_current=p.tick_current,
        )  # fmt: skip
        put(chain, pool_key, state, CLMM_PROGRAM)
        put(
            chain,
            config_key,
            clmm_config(trade=500, protocol=120_000, fund=40_000, tick_spacing=10),
            CLMM_PROGRAM,
        )
        here = array_start_index(p.tick_current, 10)
        near = {t: n for t, n in p.ticks.items() if here - 1200 <= t < here + 1800}
        assert near and len(near) < len(p.ticks)  # the far bands stay unread
        for start in range(here - 1200, here + 1800, 600):
            seeds = [b"tick_array", bytes(pool_key), start.to_bytes(4, "big", signed=True)]
            address = Pubkey.find_program_address(seeds, program)[0]
            inside = {t: n for t, n in near.items() if start <= t < start + 600}
            arr = tick_array(
                pool_id=bytes(pool_key), start_tick_index=start, tick_spacing=10, liquidity_net=inside
            )
            put(chain, address, arr, CLMM_PROGRAM)
        live = await load_pool(rpc, str(pool_key), "clmm")
        assert dict(live.pool.ticks) == near  # type: ignore[union-attr]
        same_quotes(sim, live, (10**6, 10**9))  # small trades stay inside the arrays read
        big = 16_000 * 10**9  # the price runs to tick -21572, below the arrays read (from -20400)
        with pytest.raises(RaydiumMathError, match="LiquidityInsufficient"):
            live.quote(big, sell_base=True, exact_in=True)  # runs past them: more arrays are needed
        sim.quote_swap(big, sell_base=True, exact_in=True)  # the whole pool can

    run(go)
