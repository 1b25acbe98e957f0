"""`bot snapshot fetch`: the accounts of a snapshot read from an RPC node (``getMultipleAccounts``, base64),
with what each Raydium pool is priced with (its vaults, its config, the CLMM tick arrays around its current
tick), as the same accounts document `bot snapshot import` reads (the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botnft.domain.errors import DataError
from botnft.venues.raydium.api import CLMM_PROGRAM
from botnft.venues.raydium.chain import array_start_index, tick_array_address
from botnft.venues.raydium.layouts import TICK_ARRAY_SIZE, decode_amm_v4, decode_clmm_pool, decode_cpmm_pool
from botnft.venues.solana.rpc import SolanaRpc

MAX_KEYS = 100  # getMultipleAccounts' limit


async def _read(rpc: SolanaRpc, keys: Sequence[str]) -> tuple[int | None, list[dict[str, Any] | None]]:
    if len(keys) > MAX_KEYS:
        raise DataError(f"at most {MAX_KEYS} accounts in one snapshot fetch, got {len(keys)}")
    result = await rpc.raw("getMultipleAccounts", [list(keys), {"encoding": "base64"}])
    if not isinstance(result, dict) or not isinstance(result.get("value"), list):
        raise DataError("getMultipleAccounts: the RPC node's answer has no value list")
    slot = (result.get("context") or {}).get("slot")
    return slot if isinstance(slot, int) else None, result["value"]


def _entry(pubkey: str, kind: str, acc: dict[str, Any]) -> dict[str, Any]:
    return {"pubkey": pubkey, "kind": kind, **acc}


def _aux(kind: str, pubkey: str, data: bytes, each_side: int) -> list[tuple[str, str]]:
    """``(kind, pubkey)`` of what the pool `pubkey` is priced with."""
    if kind == "raydium_amm_v4":
        s = decode_amm_v4(data)
        return [("spl_token", s.base_vault), ("spl_token", s.quote_vault)]
    if kind == "raydium_cpmm":
        c = decode_cpmm_pool(data)
        return [
            ("spl_token", c.token_0_vault),
            ("spl_token", c.token_1_vault),
            ("raydium_cpmm_config", c.amm_config),
        ]
    if kind == "raydium_clmm":
        p = decode_clmm_pool(data)
        span = TICK_ARRAY_SIZE * p.tick_spacing
        here = array_start_index(p.tick_current, p.tick_spacing)
        arrays = [
            tick_array_address(pubkey, here + i * span, CLMM_PROGRAM)
            for i in range(-each_side, each_side + 1)
        ]
        return [("raydium_clmm_config", p.amm_config)] + [("raydium_clmm_tick_array", a) for a in arrays]
    if kind == "openbook_market":
        from botnft.venues.openbook.layouts import decode_market

        m = decode_market(data)
        return [("openbook_book_side", str(m.bids)), ("openbook_book_side", str(m.asks))]
    return []


async def fetch_document(
    rpc: SolanaRpc, wanted: Sequence[tuple[str, str]], *, tick_arrays_each_side: int = 2
) -> dict[str, Any]:
    """The accounts document for `wanted` (``(kind, pubkey)``) as the node holds them now."""
    import base64

    slot, values = await _read(rpc, [k for _, k in wanted])
    entries: list[dict[str, Any]] = []
    aux: list[tuple[str, str]] = []
    for (kind, key), acc in zip(wanted, values, strict=True):
        if acc is None:
            raise DataError(f"account {key} ({kind}) does not exist on the RPC node's chain")
        entries.append(_entry(key, kind, acc))
        data = acc.get("data")
        if isinstance(data, list) and data:
            aux += _aux(kind, key, base64.b64decode(data[0]), tick_arrays_each_side)
    aux = [a for a in dict.fromkeys(aux) if a[1] not in {k for _, k in wanted}]
    if aux:
        _, more = await _read(rpc, [k for _, k in aux])
        for (kind, key), acc in zip(aux, more, strict=True):
            if acc is None:
                if kind == "raydium_clmm_tick_array":
                    continue  # an array not initialized on chain: no liquidity there
                raise DataError(f"account {key} ({kind}) does not exist on the RPC node's chain")
            entries.append(_entry(key, kind, acc))
    return {"context": {"slot": slot}, "accounts": entries}
