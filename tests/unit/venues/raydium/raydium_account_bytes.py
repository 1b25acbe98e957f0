"""Builders of Raydium account bytes at the absolute offsets of the published layouts, written independently
of the decoders (which read field after field): a field the decoder reads from the wrong place decodes wrong.

Offsets were counted by hand from the sources named in `botnft.venues.raydium.layouts` (AMM v4:
``liquidityStateV4Layout``; CPMM: ``PoolState``/``AmmConfig`` of raydium-cp-swap; CLMM: ``PoolState``,
``AmmConfig``, ``TickArrayState`` of raydium-clmm @ 03b44b7f). Well-known cross-checks: AMM v4 base vault at
336, base mint at 400; CLMM liquidity at 237, sqrt price at 253, tick at 269; sizes 752 / 637 / 1544 / 10240.
Public keys are given as 32 raw bytes.
"""

from __future__ import annotations

import hashlib


def disc(name: str) -> bytes:
    return hashlib.sha256(f"account:{name}".encode()).digest()[:8]


def key(n: int) -> bytes:
    """A recognisable 32-byte public key."""
    return bytes([n]) * 32


def _put(buf: bytearray, offset: int, value: int, size: int, signed: bool = False) -> None:
    buf[offset : offset + size] = value.to_bytes(size, "little", signed=signed)


def amm_v4(
    *,
    base_vault: bytes,
    quote_vault: bytes,
    base_mint: bytes,
    quote_mint: bytes,
    swap_fee: tuple[int, int] = (25, 10_000),
    need_take_pnl: tuple[int, int] = (0, 0),
    decimals: tuple[int, int] = (9, 6),
    status: int = 6,
    open_time: int = 0,
    lp_reserve: int = 0,
) -> bytes:
    b = bytearray(752)
    _put(b, 0, status, 8)
    _put(b, 8, 254, 8)  # nonce
    _put(b, 32, decimals[0], 8)
    _put(b, 40, decimals[1], 8)
    _put(b, 48, 1, 8)  # state
    _put(b, 144, 25, 8)  # trade fee
    _put(b, 152, 10_000, 8)
    _put(b, 160, 12, 8)  # pnl 12/100
    _put(b, 168, 100, 8)
    _put(b, 176, swap_fee[0], 8)
    _put(b, 184, swap_fee[1], 8)
    _put(b, 192, need_take_pnl[0], 8)
    _put(b, 200, need_take_pnl[1], 8)
    _put(b, 208, 777, 8)  # quoteTotalPnl: decoy
    _put(b, 224, open_time, 8)
    _put(b, 256, (1 << 100) + 5, 16)  # swapBaseInAmount: decoy
    b[336:368] = base_vault
    b[368:400] = quote_vault
    b[400:432] = base_mint
    b[432:464] = quote_mint
    b[464:496] = key(50)  # lp mint
    b[496:528] = key(51)  # open orders
    b[528:560] = key(52)  # market
    b[560:592] = key(53)  # market program
    b[592:624] = key(54)  # target orders
    _put(b, 720, lp_reserve, 8)
    return bytes(b)


def cpmm_pool(
    *,
    amm_config: bytes,
    vault_0: bytes,
    vault_1: bytes,
    mint_0: bytes,
    mint_1: bytes,
    decimals: tuple[int, int] = (9, 6),
    protocol_fees: tuple[int, int] = (0, 0),
    fund_fees: tuple[int, int] = (0, 0),
    creator_fees: tuple[int, int] = (0, 0),
    creator_fee_on: int = 0,
    enable_creator_fee: bool = False,
    status: int = 0,
    open_time: int = 0,
) -> bytes:
    b = bytearray(637)
    b[0:8] = disc("PoolState")
    b[8:40] = amm_config
    b[40:72] = key(60)  # creator
    b[72:104] = vault_0
    b[104:136] = vault_1
    b[136:168] = key(61)  # lp mint
    b[168:200] = mint_0
    b[200:232] = mint_1
    b[232:264] = key(62)  # token 0 program
    b[264:296] = key(63)  # token 1 program
    b[296:328] = key(64)  # observation
    b[328] = 253  # auth bump
    b[329] = status
    b[330] = 9  # lp decimals
    b[331], b[332] = decimals
    _put(b, 333, 10**12, 8)  # lp supply
    _put(b, 341, protocol_fees[0], 8)
    _put(b, 349, protocol_fees[1], 8)
    _put(b, 357, fund_fees[0], 8)
    _put(b, 365, fund_fees[1], 8)
    _put(b, 373, open_time, 8)
    _put(b, 381, 800, 8)  # recent epoch
    b[389] = creator_fee_on
    b[390] = int(enable_creator_fee)
    _put(b, 397, creator_fees[0], 8)
    _put(b, 405, creator_fees[1], 8)
    return bytes(b)


def cpmm_config(*, trade: int, protocol: int, fund: int, creator: int = 0, index: int = 0) -> bytes:
    b = bytearray(236)
    b[0:8] = disc("AmmConfig")
    b[8] = 255  # bump
    _put(b, 10, index, 2)
    _put(b, 12, trade, 8)
    _put(b, 20, protocol, 8)
    _put(b, 28, fund, 8)
    _put(b, 36, 150_000_000, 8)  # create pool fee
    b[44:76] = key(70)
    b[76:108] = key(71)
    _put(b, 108, creator, 8)
    return bytes(b)


def clmm_pool(
    *,
    amm_config: bytes,
    mint_0: bytes,
    mint_1: bytes,
    vault_0: bytes,
    vault_1: bytes,
    tick_spacing: int,
    liquidity: int,
    sqrt_price_x64: int,
    tick_current: int,
    decimals: tuple[int, int] = (9, 6),
    fee_growth: tuple[int, int] = (0, 0),
    fee_on: int = 0,
    status: int = 0,
    dynamic_fee_control: int = 0,
    bitmap: int = 0,
) -> bytes:
    b = bytearray(1544)
    b[0:8] = disc("PoolState")
    b[8] = 252  # bump
    b[9:41] = amm_config
    b[41:73] = key(80)  # owner
    b[73:105] = mint_0
    b[105:137] = mint_1
    b[137:169] = vault_0
    b[169:201] = vault_1
    b[201:233] = key(81)  # observation
    b[233], b[234] = decimals
    _put(b, 235, tick_spacing, 2)
    _put(b, 237, liquidity, 16)
    _put(b, 253, sqrt_price_x64, 16)
    _put(b, 269, tick_current, 4, signed=True)
    _put(b, 277, fee_growth[0], 16)
    _put(b, 293, fee_growth[1], 16)
    _put(b, 309, 11, 8)  # protocol fees
    _put(b, 317, 12, 8)
    b[389] = status
    b[390] = fee_on
    b[397] = 1  # reward 0 state: decoy inside the reward infos
    _put(b, 904, bitmap, 128)
    _put(b, 1064, 13, 8)  # fund fees
    _put(b, 1072, 14, 8)
    _put(b, 1088, 900, 8)  # recent epoch
    _put(b, 1102, dynamic_fee_control, 4)  # DynamicFeeInfo.dynamic_fee_control (after three u16)
    return bytes(b)


def clmm_config(*, trade: int, protocol: int, fund: int, tick_spacing: int, index: int = 1) -> bytes:
    b = bytearray(117)
    b[0:8] = disc("AmmConfig")
    b[8] = 251
    _put(b, 9, index, 2)
    b[11:43] = key(90)
    _put(b, 43, protocol, 4)
    _put(b, 47, trade, 4)
    _put(b, 51, tick_spacing, 2)
    _put(b, 53, fund, 4)
    b[61:93] = key(91)
    return bytes(b)


def tick_array(
    *,
    pool_id: bytes,
    start_tick_index: int,
    tick_spacing: int,
    liquidity_net: dict[int, int],
    limit_orders: dict[int, int] | None = None,
) -> bytes:
    """A tick array holding `liquidity_net` (tick -> net; gross = |net|, or 1 where net is 0)."""
    b = bytearray(10240)
    b[0:8] = disc("TickArrayState")
    b[8:40] = pool_id
    _put(b, 40, start_tick_index, 4, signed=True)
    count = 0
    for i in range(60):
        tick = start_tick_index + i * tick_spacing
        off = 44 + i * 168
        _put(b, off, tick, 4, signed=True)
        if tick in liquidity_net:
            net = liquidity_net[tick]
            _put(b, off + 4, net, 16, signed=True)
            _put(b, off + 20, abs(net) or 1, 16)
            _put(b, off + 36, 99, 16)  # fee growth outside: decoy
            count += 1
        if limit_orders and tick in limit_orders:
            _put(b, off + 124, limit_orders[tick], 8)
    b[10124] = count
    _put(b, 10125, 900, 8)
    return bytes(b)


def token_account(*, mint: bytes, owner: bytes, amount: int) -> bytes:
    b = bytearray(165)
    b[0:32] = mint
    b[32:64] = owner
    _put(b, 64, amount, 8)
    b[108] = 1  # state: initialized
    return bytes(b)
