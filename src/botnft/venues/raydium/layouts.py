"""Decoders of Raydium's on-chain accounts (AMM v4, CPMM and CLMM pool state, their configs, CLMM tick
arrays) and of an SPL token account's amount, from the raw account bytes.

Layouts, field by field in order (every struct is ``#[repr(C, packed)]`` or a marshmallow ``struct``, so
fields follow each other with no padding; integers are little-endian):

* AMM v4 ``LIQUIDITY_STATE_LAYOUT_V4`` (752 bytes, no discriminator): ``raydium-io/raydium-sdk-V2`` @ 124c625e
  ``src/raydium/liquidity/layout.ts`` (``liquidityStateV4Layout``), the program's ``AmmInfo`` in
  ``raydium-io/raydium-amm`` ``program/src/state.rs``.
* CPMM ``PoolState`` (637 bytes) and ``AmmConfig`` (236 bytes): ``raydium-io/raydium-cp-swap`` @ 609780f1
  ``programs/cp-swap/src/states/{pool.rs,config.rs}`` (``PoolState::LEN``, ``AmmConfig::LEN``).
* CLMM ``PoolState`` (1544 bytes), ``AmmConfig`` (117 bytes), ``TickArrayState`` (10240 bytes):
  ``raydium-io/raydium-clmm`` @ 03b44b7f ``programs/amm/src/states/{pool.rs,config.rs,tick_array.rs,
  pool_fee.rs}``, the commit whose swap math ``botnft.venues.sim.raydium_math`` mirrors.
* Anchor accounts (CPMM, CLMM) start with the 8-byte discriminator ``sha256("account:<Name>")[:8]``.
* SPL token account: ``mint`` (32), ``owner`` (32), ``amount`` (u64) first (spl-token ``state.rs``
  ``Account``, 165 bytes; Token-2022 accounts carry extensions after the same 165 bytes).

A wrong size or discriminator is corrupt data and raises :class:`RaydiumDecodeError` (a ``DataError``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from botnft.domain.errors import DataError

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

AMM_V4_LEN = 752
CPMM_POOL_LEN = 637
CPMM_CONFIG_LEN = 236
CLMM_POOL_LEN = 1544
CLMM_CONFIG_LEN = 117
TICK_ARRAY_LEN = 10240
TICK_STATE_LEN = 168
TICK_ARRAY_SIZE = 60
SPL_TOKEN_ACCOUNT_LEN = 165
REWARD_INFO_LEN = 169
REWARD_NUM = 3
DYNAMIC_FEE_INFO_LEN = 80


class RaydiumDecodeError(DataError):
    """Account bytes that do not match the layout they were decoded as."""


def b58encode(raw: bytes) -> str:
    """Base58 (Bitcoin alphabet), the text form of a Solana public key."""
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def anchor_discriminator(account_name: str) -> bytes:
    """First 8 bytes of ``sha256("account:<Name>")``: what Anchor writes at the start of an account."""
    return hashlib.sha256(f"account:{account_name}".encode()).digest()[:8]


class _Reader:
    """Sequential little-endian reader over one account's bytes."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.pos = offset

    def _take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise RaydiumDecodeError(f"account data ends at {len(self.data)} bytes, needs {self.pos + n}")
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self._take(n), "little")

    def sint(self, n: int) -> int:
        return int.from_bytes(self._take(n), "little", signed=True)

    def u8(self) -> int:
        return self.uint(1)

    def u16(self) -> int:
        return self.uint(2)

    def u32(self) -> int:
        return self.uint(4)

    def u64(self) -> int:
        return self.uint(8)

    def u128(self) -> int:
        return self.uint(16)

    def pubkey(self) -> str:
        return b58encode(self._take(32))

    def raw(self, n: int) -> bytes:
        return self._take(n)

    def skip(self, n: int) -> None:
        self._take(n)


def _check(data: bytes, size: int, what: str, discriminator: str | None = None) -> _Reader:
    if len(data) != size:
        raise RaydiumDecodeError(f"{what} account is {len(data)} bytes, the layout has {size}")
    if discriminator is None:
        return _Reader(data)
    if data[:8] != anchor_discriminator(discriminator):
        raise RaydiumDecodeError(f"{what} account does not start with the {discriminator} discriminator")
    return _Reader(data, 8)


# --------------------------------------------------------------------------------------------------
# AMM v4
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmmV4State:
    """The fields of ``LIQUIDITY_STATE_LAYOUT_V4`` a quote and a swap need (coin = base, pc = quote)."""

    status: int
    nonce: int
    base_decimal: int
    quote_decimal: int
    state: int
    trade_fee_numerator: int
    trade_fee_denominator: int
    swap_fee_numerator: int
    swap_fee_denominator: int
    base_need_take_pnl: int
    quote_need_take_pnl: int
    pool_open_time: int
    base_vault: str
    quote_vault: str
    base_mint: str
    quote_mint: str
    lp_mint: str
    open_orders: str
    market_id: str
    market_program_id: str
    target_orders: str
    lp_reserve: int


def decode_amm_v4(data: bytes) -> AmmV4State:
    r = _check(data, AMM_V4_LEN, "AMM v4 pool")
    status, nonce, _max_order, _depth, base_decimal, quote_decimal, state = (r.u64() for _ in range(7))
    r.skip(8 * 11)  # resetFlag .. minSeparateDenominator
    trade_num, trade_den, _pnl_num, _pnl_den, swap_num, swap_den = (r.u64() for _ in range(6))
    base_pnl, quote_pnl = r.u64(), r.u64()
    r.skip(8 * 2)  # quoteTotalPnl, baseTotalPnl
    open_time = r.u64()
    r.skip(8 * 3 + 16 * 2 + 8 + 16 * 2 + 8)  # punish*, orderbookToInitTime, swap volume counters
    keys = [r.pubkey() for _ in range(12)]
    lp_reserve = r.u64()
    return AmmV4State(
        status=status,
        nonce=nonce,
        base_decimal=base_decimal,
        quote_decimal=quote_decimal,
        state=state,
        trade_fee_numerator=trade_num,
        trade_fee_denominator=trade_den,
        swap_fee_numerator=swap_num,
        swap_fee_denominator=swap_den,
        base_need_take_pnl=base_pnl,
        quote_need_take_pnl=quote_pnl,
        pool_open_time=open_time,
        base_vault=keys[0],
        quote_vault=keys[1],
        base_mint=keys[2],
        quote_mint=keys[3],
        lp_mint=keys[4],
        open_orders=keys[5],
        market_id=keys[6],
        market_program_id=keys[7],
        target_orders=keys[8],
        lp_reserve=lp_reserve,
    )


# --------------------------------------------------------------------------------------------------
# CPMM
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CpmmPoolState:
    """CPMM ``PoolState``. Bit 2 of ``status`` set means swaps are disabled."""

    amm_config: str
    pool_creator: str
    token_0_vault: str
    token_1_vault: str
    lp_mint: str
    token_0_mint: str
    token_1_mint: str
    token_0_program: str
    token_1_program: str
    observation_key: str
    auth_bump: int
    status: int
    lp_mint_decimals: int
    mint_0_decimals: int
    mint_1_decimals: int
    lp_supply: int
    protocol_fees_token_0: int
    protocol_fees_token_1: int
    fund_fees_token_0: int
    fund_fees_token_1: int
    open_time: int
    recent_epoch: int
    creator_fee_on: int
    enable_creator_fee: bool
    creator_fees_token_0: int
    creator_fees_token_1: int

    @property
    def swap_enabled(self) -> bool:
        return not self.status & 0b100


def decode_cpmm_pool(data: bytes) -> CpmmPoolState:
    r = _check(data, CPMM_POOL_LEN, "CPMM pool", "PoolState")
    keys = [r.pubkey() for _ in range(10)]
    auth_bump, status, lp_dec, dec0, dec1 = (r.u8() for _ in range(5))
    lp_supply, pf0, pf1, ff0, ff1, open_time, epoch = (r.u64() for _ in range(7))
    creator_fee_on, enable_creator_fee = r.u8(), r.u8()
    r.skip(6)
    cf0, cf1 = r.u64(), r.u64()
    return CpmmPoolState(
        amm_config=keys[0],
        pool_creator=keys[1],
        token_0_vault=keys[2],
        token_1_vault=keys[3],
        lp_mint=keys[4],
        token_0_mint=keys[5],
        token_1_mint=keys[6],
        token_0_program=keys[7],
        token_1_program=keys[8],
        observation_key=keys[9],
        auth_bump=auth_bump,
        status=status,
        lp_mint_decimals=lp_dec,
        mint_0_decimals=dec0,
        mint_1_decimals=dec1,
        lp_supply=lp_supply,
        protocol_fees_token_0=pf0,
        protocol_fees_token_1=pf1,
        fund_fees_token_0=ff0,
        fund_fees_token_1=ff1,
        open_time=open_time,
        recent_epoch=epoch,
        creator_fee_on=creator_fee_on,
        enable_creator_fee=bool(enable_creator_fee),
        creator_fees_token_0=cf0,
        creator_fees_token_1=cf1,
    )


@dataclass(frozen=True, slots=True)
class CpmmConfig:
    """CPMM ``AmmConfig``: rates in millionths (protocol and fund rates are fractions of the trade fee)."""

    bump: int
    disable_create_pool: bool
    index: int
    trade_fee_rate: int
    protocol_fee_rate: int
    fund_fee_rate: int
    create_pool_fee: int
    protocol_owner: str
    fund_owner: str
    creator_fee_rate: int


def decode_cpmm_config(data: bytes) -> CpmmConfig:
    r = _check(data, CPMM_CONFIG_LEN, "CPMM config", "AmmConfig")
    bump, disable, index = r.u8(), r.u8(), r.u16()
    trade, protocol, fund, create = (r.u64() for _ in range(4))
    protocol_owner, fund_owner = r.pubkey(), r.pubkey()
    return CpmmConfig(
        bump, bool(disable), index, trade, protocol, fund, create, protocol_owner, fund_owner, r.u64()
    )


# --------------------------------------------------------------------------------------------------
# CLMM
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClmmPoolState:
    """CLMM ``PoolState``: what pricing reads. ``dynamic_fee_on`` is ``get_dynamic_fee_info().is_some()``
    (the pool's ``DynamicFeeInfo`` differs from its all-zero default); ``tick_array_bitmap`` is the
    pool's 1024-bit map of initialized tick arrays around tick 0 as one int (bit i = array i - 512)."""

    amm_config: str
    owner: str
    token_mint_0: str
    token_mint_1: str
    token_vault_0: str
    token_vault_1: str
    observation_key: str
    mint_decimals_0: int
    mint_decimals_1: int
    tick_spacing: int
    liquidity: int
    sqrt_price_x64: int
    tick_current: int
    fee_growth_global_0_x64: int
    fee_growth_global_1_x64: int
    protocol_fees_token_0: int
    protocol_fees_token_1: int
    status: int
    fee_on: int
    tick_array_bitmap: int
    fund_fees_token_0: int
    fund_fees_token_1: int
    open_time: int
    recent_epoch: int
    dynamic_fee_on: bool

    @property
    def swap_enabled(self) -> bool:
        return not self.status & (1 << 4)


def decode_clmm_pool(data: bytes) -> ClmmPoolState:
    r = _check(data, CLMM_POOL_LEN, "CLMM pool", "PoolState")
    r.skip(1)  # bump
    keys = [r.pubkey() for _ in range(7)]
    dec0, dec1, spacing = r.u8(), r.u8(), r.u16()
    liquidity, sqrt_price, tick = r.u128(), r.u128(), r.sint(4)
    r.skip(4)  # padding3, padding4
    fg0, fg1, pf0, pf1 = r.u128(), r.u128(), r.u64(), r.u64()
    r.skip(16 * 4)  # padding5
    status, fee_on = r.u8(), r.u8()
    r.skip(6 + REWARD_INFO_LEN * REWARD_NUM)
    bitmap = r.uint(8 * 16)
    r.skip(8 * 4)  # padding6
    ff0, ff1, open_time, epoch = (r.u64() for _ in range(4))
    dynamic = r.raw(DYNAMIC_FEE_INFO_LEN)
    return ClmmPoolState(
        amm_config=keys[0],
        owner=keys[1],
        token_mint_0=keys[2],
        token_mint_1=keys[3],
        token_vault_0=keys[4],
        token_vault_1=keys[5],
        observation_key=keys[6],
        mint_decimals_0=dec0,
        mint_decimals_1=dec1,
        tick_spacing=spacing,
        liquidity=liquidity,
        sqrt_price_x64=sqrt_price,
        tick_current=tick,
        fee_growth_global_0_x64=fg0,
        fee_growth_global_1_x64=fg1,
        protocol_fees_token_0=pf0,
        protocol_fees_token_1=pf1,
        status=status,
        fee_on=fee_on,
        tick_array_bitmap=bitmap,
        fund_fees_token_0=ff0,
        fund_fees_token_1=ff1,
        open_time=open_time,
        recent_epoch=epoch,
        dynamic_fee_on=any(dynamic),
    )


@dataclass(frozen=True, slots=True)
class ClmmConfig:
    """CLMM ``AmmConfig``: trade fee rate in millionths, protocol and fund rates as fractions of the fee."""

    bump: int
    index: int
    owner: str
    protocol_fee_rate: int
    trade_fee_rate: int
    tick_spacing: int
    fund_fee_rate: int
    fund_owner: str


def decode_clmm_config(data: bytes) -> ClmmConfig:
    r = _check(data, CLMM_CONFIG_LEN, "CLMM config", "AmmConfig")
    bump, index, owner = r.u8(), r.u16(), r.pubkey()
    protocol, trade, spacing, fund = r.u32(), r.u32(), r.u16(), r.u32()
    r.skip(4)  # padding_u32
    return ClmmConfig(bump, index, owner, protocol, trade, spacing, fund, r.pubkey())


@dataclass(frozen=True, slots=True)
class TickState:
    """One tick of a ``TickArrayState``; ``has_limit_orders`` as ``TickState::has_limit_orders``."""

    tick: int
    liquidity_net: int
    liquidity_gross: int
    orders_amount: int
    part_filled_orders_remaining: int

    @property
    def has_limit_orders(self) -> bool:
        return self.orders_amount > 0 or self.part_filled_orders_remaining > 0


@dataclass(frozen=True, slots=True)
class TickArray:
    """A ``TickArrayState``: 60 ticks from ``start_tick_index`` in steps of the pool's tick spacing."""

    pool_id: str
    start_tick_index: int
    ticks: tuple[TickState, ...]
    initialized_tick_count: int

    def initialized(self) -> tuple[TickState, ...]:
        """Ticks with liquidity (``liquidity_gross > 0``) or resting limit orders."""
        return tuple(t for t in self.ticks if t.liquidity_gross > 0 or t.has_limit_orders)


def decode_tick_array(data: bytes) -> TickArray:
    r = _check(data, TICK_ARRAY_LEN, "CLMM tick array", "TickArrayState")
    pool_id, start = r.pubkey(), r.sint(4)
    ticks = []
    for _ in range(TICK_ARRAY_SIZE):
        tick, net, gross = r.sint(4), r.sint(16), r.u128()
        r.skip(16 * 2 + 16 * REWARD_NUM + 8)  # fee growth outside, reward growths, order_phase
        orders, part = r.u64(), r.u64()
        r.skip(16 + 4 * 3)  # unfilled_ratio_x64, padding
        ticks.append(TickState(tick, net, gross, orders, part))
    return TickArray(pool_id, start, tuple(ticks), r.u8())


# --------------------------------------------------------------------------------------------------
# SPL token account
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenAccount:
    mint: str
    owner: str
    amount: int


def decode_token_account(data: bytes) -> TokenAccount:
    """An SPL token (or Token-2022) account: mint, owner, amount."""
    if len(data) < SPL_TOKEN_ACCOUNT_LEN:
        raise RaydiumDecodeError(
            f"token account is {len(data)} bytes, needs at least {SPL_TOKEN_ACCOUNT_LEN}"
        )
    r = _Reader(data)
    return TokenAccount(r.pubkey(), r.pubkey(), r.u64())
