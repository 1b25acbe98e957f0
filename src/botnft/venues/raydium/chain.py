"""Read a Raydium pool from the chain and price it with the project's program math: the pool account, then
what the program reads beside it (``getMultipleAccounts``), decoded by `layouts` into a `pools` live pool.

AMM v4: the pool and its two vaults. CPMM: the pool, its two vaults and its ``AmmConfig``. CLMM: the pool, its
``AmmConfig`` and the tick arrays around the current tick (``tick_arrays_each_side`` arrays on each side of
the current one, at their program addresses ``["tick_array", pool, start_tick_index (i32 big-endian)]``,
``states/tick_array.rs::TickArrayState::key``); arrays not initialized on chain are absent, and a quote that
runs past the arrays read fails with ``LiquidityInsufficient`` (read more arrays for bigger trades).
A missing account is `RaydiumDecodeError`; RPC failures are the `SolanaRpc` errors (`Retryable`/`Rejected`).
"""

from __future__ import annotations

from collections.abc import Sequence

from solders.pubkey import Pubkey

from botnft.venues.raydium.api import CLMM_PROGRAM
from botnft.venues.raydium.layouts import (
    TICK_ARRAY_SIZE,
    RaydiumDecodeError,
    decode_amm_v4,
    decode_clmm_config,
    decode_clmm_pool,
    decode_cpmm_config,
    decode_cpmm_pool,
    decode_tick_array,
    decode_token_account,
)
from botnft.venues.raydium.pools import AmmV4Pool, ClmmLivePool, CpmmPool, LivePool
from botnft.venues.solana.rpc import SolanaRpc, rpc_call

__all__ = ["array_start_index", "load_pool", "tick_array_address"]


def array_start_index(tick: int, tick_spacing: int) -> int:
    """``TickArrayState::get_array_start_index``: the start of the array holding `tick` (floor division)."""
    span = TICK_ARRAY_SIZE * tick_spacing
    return tick // span * span


def tick_array_address(pool_id: str, start_tick_index: int, program_id: str = CLMM_PROGRAM) -> str:
    seeds = [
        b"tick_array",
        bytes(Pubkey.from_string(pool_id)),
        start_tick_index.to_bytes(4, "big", signed=True),
    ]
    return str(Pubkey.find_program_address(seeds, Pubkey.from_string(program_id))[0])


async def _accounts(rpc: SolanaRpc, keys: Sequence[str]) -> list[bytes | None]:
    r = await rpc_call(
        "getMultipleAccounts", rpc.client.get_multiple_accounts([Pubkey.from_string(k) for k in keys])
    )
    return [bytes(a.data) if a is not None else None for a in r.value]


def _need(data: bytes | None, what: str) -> bytes:
    if data is None:
        raise RaydiumDecodeError(f"{what} does not exist on chain")
    return data


async def load_pool(
    rpc: SolanaRpc, pool_id: str, kind: str, *, tick_arrays_each_side: int = 2, program_id: str = CLMM_PROGRAM
) -> LivePool:
    """The pool `pool_id` of `kind` (``amm_v4``, ``cpmm`` or ``clmm``) as the chain holds it now."""
    (raw,) = await _accounts(rpc, [pool_id])
    data = _need(raw, f"pool {pool_id}")
    if kind == "amm_v4":
        s = decode_amm_v4(data)
        base, quote = await _accounts(rpc, [s.base_vault, s.quote_vault])
        return AmmV4Pool(
            s,
            decode_token_account(_need(base, f"vault {s.base_vault}")).amount,
            decode_token_account(_need(quote, f"vault {s.quote_vault}")).amount,
        )
    if kind == "cpmm":
        c = decode_cpmm_pool(data)
        v0, v1, cfg = await _accounts(rpc, [c.token_0_vault, c.token_1_vault, c.amm_config])
        return CpmmPool(
            c,
            decode_cpmm_config(_need(cfg, f"config {c.amm_config}")),
            decode_token_account(_need(v0, f"vault {c.token_0_vault}")).amount,
            decode_token_account(_need(v1, f"vault {c.token_1_vault}")).amount,
        )
    if kind == "clmm":
        p = decode_clmm_pool(data)
        span = TICK_ARRAY_SIZE * p.tick_spacing
        here = array_start_index(p.tick_current, p.tick_spacing)
        starts = [here + i * span for i in range(-tick_arrays_each_side, tick_arrays_each_side + 1)]
        keys = [p.amm_config] + [tick_array_address(pool_id, s, program_id) for s in starts]
        cfg, *arrays = await _accounts(rpc, keys)
        decoded = [decode_tick_array(a) for a in arrays if a is not None]
        strays = [a.start_tick_index for a in decoded if a.pool_id != pool_id]
        if strays:
            raise RaydiumDecodeError(
                f"tick arrays {strays} at pool {pool_id}'s addresses belong to another pool"
            )
        return ClmmLivePool.build(p, decode_clmm_config(_need(cfg, f"config {p.amm_config}")), decoded)
    raise RaydiumDecodeError(f"unknown Raydium pool kind {kind!r}; expected amm_v4, cpmm or clmm")
