"""Raydium pools for a snapshot: from account bytes (decoded by ``venues.raydium.layouts`` and priced as
``venues.raydium.pools`` does: vaults less what is owed) or from Raydium API v3 pool infos.

The simulated pools are SOL/USDC (base 9 decimals, quote 6): a pool of other decimals is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from botnft.domain.errors import DataError
from botnft.snapshot.model import RaydiumPoolState
from botnft.venues.raydium.layouts import (
    decode_amm_v4,
    decode_clmm_config,
    decode_clmm_pool,
    decode_cpmm_config,
    decode_cpmm_pool,
    decode_tick_array,
    decode_token_account,
)
from botnft.venues.raydium.pools import AmmV4Pool, CpmmPool
from botnft.venues.sim.raydium_math import RaydiumMathError

POOL_KINDS = {"raydium_amm_v4": "amm_v4", "raydium_cpmm": "cpmm", "raydium_clmm": "clmm"}
AUX_KINDS = ("spl_token", "raydium_cpmm_config", "raydium_clmm_config", "raydium_clmm_tick_array")


def _sol_usdc(pubkey: str, base: int, quote: int) -> None:
    if (base, quote) != (9, 6):
        raise DataError(
            f"Raydium pool {pubkey} has {base}/{quote}-decimal tokens; the simulated pools are SOL/USDC (9/6)"
        )


class _Accounts:
    """The file's accounts by address, each decoded on demand by the kind it is needed as."""

    def __init__(self, accounts: Mapping[str, tuple[str, bytes]]) -> None:
        self.accounts = accounts

    def get(self, pubkey: str, kind: str, pool: str) -> bytes:
        found = self.accounts.get(pubkey)
        if found is None:
            raise DataError(f"Raydium pool {pool} needs account {pubkey} ({kind}); the file does not list it")
        if found[0] != kind:
            raise DataError(f"account {pubkey} is listed as {found[0]}; pool {pool} reads it as {kind}")
        return found[1]

    def amount(self, pubkey: str, pool: str) -> int:
        return decode_token_account(self.get(pubkey, "spl_token", pool)).amount


def pool_from_account(
    kind: str, pubkey: str, data: bytes, accounts: Mapping[str, tuple[str, bytes]]
) -> RaydiumPoolState:
    """A pool account of `kind` (``raydium_amm_v4`` ...) priced with the accounts beside it."""
    acc = _Accounts(accounts)
    try:
        if kind == "raydium_amm_v4":
            s = decode_amm_v4(data)
            _sol_usdc(pubkey, s.base_decimal, s.quote_decimal)
            amm = AmmV4Pool(s, acc.amount(s.base_vault, pubkey), acc.amount(s.quote_vault, pubkey))
            base, quote = amm.reserves()
            return RaydiumPoolState(
                "amm_v4",
                pubkey,
                "account",
                9,
                6,
                base,
                quote,
                fee_numerator=s.swap_fee_numerator,
                fee_denominator=s.swap_fee_denominator,
            )
        if kind == "raydium_cpmm":
            c = decode_cpmm_pool(data)
            _sol_usdc(pubkey, c.mint_0_decimals, c.mint_1_decimals)
            cfg = decode_cpmm_config(acc.get(c.amm_config, "raydium_cpmm_config", pubkey))
            v0, v1 = acc.amount(c.token_0_vault, pubkey), acc.amount(c.token_1_vault, pubkey)
            base, quote = CpmmPool(c, cfg, v0, v1).reserves()
            return RaydiumPoolState(
                "cpmm",
                pubkey,
                "account",
                9,
                6,
                base,
                quote,
                trade_fee_rate=cfg.trade_fee_rate,
                protocol_fee_rate=cfg.protocol_fee_rate,
                fund_fee_rate=cfg.fund_fee_rate,
                creator_fee_rate=cfg.creator_fee_rate if c.enable_creator_fee else 0,
            )
        if kind == "raydium_clmm":
            return _clmm(pubkey, data, acc, accounts)
    except RaydiumMathError as exc:
        raise DataError(f"Raydium pool {pubkey}: {exc}") from None
    raise DataError(f"unknown Raydium pool kind {kind!r}")


def _clmm(
    pubkey: str, data: bytes, acc: _Accounts, accounts: Mapping[str, tuple[str, bytes]]
) -> RaydiumPoolState:
    p = decode_clmm_pool(data)
    _sol_usdc(pubkey, p.mint_decimals_0, p.mint_decimals_1)
    if p.dynamic_fee_on:
        raise DataError(f"CLMM pool {pubkey} has the dynamic fee on: not priced by the simulator")
    cfg = decode_clmm_config(acc.get(p.amm_config, "raydium_clmm_config", pubkey))
    if cfg.tick_spacing != p.tick_spacing:
        raise DataError(f"CLMM pool {pubkey}: config tick spacing {cfg.tick_spacing} != {p.tick_spacing}")
    ticks: dict[int, int] = {}
    for k, (kind, raw) in accounts.items():
        if kind != "raydium_clmm_tick_array":
            continue
        arr = decode_tick_array(raw)
        if arr.pool_id != pubkey:
            continue
        for t in arr.initialized():
            if t.has_limit_orders:
                raise DataError(f"tick {t.tick} of CLMM pool {pubkey} holds limit orders (array {k})")
            ticks[t.tick] = t.liquidity_net
    if not ticks:
        raise DataError(f"CLMM pool {pubkey}: the file lists none of its tick arrays")
    return RaydiumPoolState(
        "clmm",
        pubkey,
        "account",
        9,
        6,
        trade_fee_rate=cfg.trade_fee_rate,
        protocol_fee_rate=cfg.protocol_fee_rate,
        fund_fee_rate=cfg.fund_fee_rate,
        sqrt_price_x64=p.sqrt_price_x64,
        tick_current=p.tick_current,
        liquidity=p.liquidity,
        tick_spacing=p.tick_spacing,
        fee_on=p.fee_on,
        ticks=dict(sorted(ticks.items())),
    )


def clmm_segments(state: RaydiumPoolState) -> list[tuple[int, int, int]]:
    """``(tick_lower, tick_upper, liquidity)`` between consecutive initialized ticks, anchored at the pool's
    liquidity around its current tick (crossing a tick up adds its liquidity_net, down subtracts it).
    Beyond the outermost ticks read nothing is known: no liquidity is assumed there."""
    ticks = sorted(state.ticks)
    below = [t for t in ticks if t <= state.tick_current]
    out: list[tuple[int, int, int]] = []
    # up from the current tick
    liq = state.liquidity
    lower = below[-1] if below else None
    for t in (t for t in ticks if t > state.tick_current):
        if lower is not None and liq != 0:
            out.append((lower, t, liq))
        liq += state.ticks[t]
        lower = t
    # down from the current tick
    liq = state.liquidity
    upper = below[-1] if below else None
    for t in reversed(below[:-1]):
        liq -= state.ticks[upper] if upper is not None else 0
        if upper is not None and liq != 0:
            out.append((t, upper, liq))
        upper = t
    if any(x[2] < 0 for x in out):
        raise DataError(f"CLMM pool {state.pubkey}: its ticks give a negative liquidity")
    return sorted(out)


def _api_pools(raw: Any) -> list[Mapping[str, Any]]:
    data = raw.get("data") if isinstance(raw, Mapping) else None
    if isinstance(data, Mapping):
        data = data.get("data")
    if not isinstance(data, list):
        raise DataError("a Raydium API answer holds its pools in data (a list) or data.data")
    return [p for p in data if p is not None]


def pools_from_api(raw: Any, parse: Callable[[Mapping[str, Any]], Any]) -> list[RaydiumPoolState]:
    """Raydium API v3 pool infos (parsed by ``venues.raydium.api.PoolInfo.parse``) as snapshot pools."""
    out = []
    for item in _api_pools(raw):
        if not isinstance(item, Mapping):
            raise DataError("a Raydium API pool is a JSON object")
        info = parse(item)
        if info.kind is None:
            raise DataError(
                f"Raydium API pool {info.id}: program {info.program_id} is not a pool kind priced"
            )
        _sol_usdc(info.id, info.mint_a.decimals, info.mint_b.decimals)
        fee = info.fee_rate * 1_000_000
        if fee != fee.to_integral_value():
            raise DataError(f"Raydium API pool {info.id}: fee rate {info.fee_rate} is off the 1e-6 grid")
        if info.kind == "clmm":
            out.append(
                RaydiumPoolState(
                    "clmm",
                    info.id,
                    "api",
                    9,
                    6,
                    trade_fee_rate=int(fee),
                    price=str(info.price),
                    tvl_usd=str(info.tvl),
                )
            )
            continue
        base = info.mint_amount_a.scaleb(9)
        quote = info.mint_amount_b.scaleb(6)
        if base != base.to_integral_value() or quote != quote.to_integral_value() or min(base, quote) <= 0:
            raise DataError(
                f"Raydium API pool {info.id}: amounts {info.mint_amount_a}/{info.mint_amount_b} "
                "are not positive whole native units"
            )
        if info.kind == "amm_v4":
            num, den = _ratio(info.fee_rate)
            out.append(RaydiumPoolState("amm_v4", info.id, "api", 9, 6, int(base), int(quote), num, den))
        else:
            out.append(
                RaydiumPoolState("cpmm", info.id, "api", 9, 6, int(base), int(quote), trade_fee_rate=int(fee))
            )
    return out


def _ratio(rate: Decimal) -> tuple[int, int]:
    """A fee fraction as AMM v4's numerator/denominator (denominator 10_000 where exact, else 1e6)."""
    for den in (10_000, 1_000_000):
        n = rate * den
        if n == n.to_integral_value():
            return int(n), den
    raise DataError(f"fee rate {rate} is off the 1e-6 grid")
