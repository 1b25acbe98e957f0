"""The Raydium account decoders read every field from its published offset, and a decoded pool quotes what
the simulated pool built from the same reserves / sqrt price quotes (both priced by the program math)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from raydium_account_bytes import (
    amm_v4,
    clmm_config,
    clmm_pool,
    cpmm_config,
    cpmm_pool,
    key,
    tick_array,
    token_account,
)

from botnft.venues.raydium.layouts import (
    RaydiumDecodeError,
    b58encode,
    decode_amm_v4,
    decode_clmm_config,
    decode_clmm_pool,
    decode_cpmm_config,
    decode_cpmm_pool,
    decode_tick_array,
    decode_token_account,
)
from botnft.venues.raydium.pools import AmmV4Pool, ClmmLivePool, CpmmPool, LivePool
from botnft.venues.sim.raydium_config import AmmV4Terms, ClmmTerms, CpmmTerms, PoolConfig
from botnft.venues.sim.raydium_math import RaydiumMathError
from botnft.venues.sim.raydium_pools import ClmmEngine, PoolEngine, make_engine

FIXTURES = Path(__file__).parents[3] / "fixtures" / "raydium"
SOL_MINT = "So11111111111111111111111111111111111111112"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


def test_base58_of_known_public_keys() -> None:
    assert b58encode(bytes(32)) == "1" * 32
    # the wrapped-SOL mint's 32 bytes (spl-token native_mint.rs: 0x06 0x9b 0x88 ...)
    raw = bytes.fromhex("069b8857feab8184fb687f634618c035dac439dc1aeb3b5598a0f00000000001")
    assert b58encode(raw) == SOL_MINT


def test_amm_v4_fields_come_from_their_offsets() -> None:
    data = amm_v4(
        base_vault=key(1),
        quote_vault=key(2),
        base_mint=key(3),
        quote_mint=key(4),
        swap_fee=(30, 10_000),
        need_take_pnl=(123, 456),
        decimals=(9, 6),
        open_time=1_700_000_000,
        lp_reserve=42,
    )
    s = decode_amm_v4(data)
    assert (s.base_vault, s.quote_vault) == (b58encode(key(1)), b58encode(key(2)))
    assert (s.base_mint, s.quote_mint, s.lp_mint) == (
        b58encode(key(3)),
        b58encode(key(4)),
        b58encode(key(50)),
    )
    assert (s.swap_fee_numerator, s.swap_fee_denominator) == (30, 10_000)
    assert (s.trade_fee_numerator, s.trade_fee_denominator) == (25, 10_000)
    assert (s.base_need_take_pnl, s.quote_need_take_pnl) == (123, 456)
    assert (s.base_decimal, s.quote_decimal, s.status, s.nonce) == (9, 6, 6, 254)
    assert s.pool_open_time == 1_700_000_000 and s.lp_reserve == 42
    assert (s.open_orders, s.market_id, s.target_orders) == tuple(b58encode(key(n)) for n in (51, 52, 54))


def test_cpmm_pool_and_config_fields_come_from_their_offsets() -> None:
    data = cpmm_pool(
        amm_config=key(9),
        vault_0=key(1),
        vault_1=key(2),
        mint_0=key(3),
        mint_1=key(4),
        protocol_fees=(5, 6),
        fund_fees=(7, 8),
        creator_fees=(9, 10),
        creator_fee_on=2,
        enable_creator_fee=True,
        status=4,
        open_time=77,
    )
    s = decode_cpmm_pool(data)
    assert s.amm_config == b58encode(key(9))
    assert (s.token_0_vault, s.token_1_vault) == (b58encode(key(1)), b58encode(key(2)))
    assert (s.token_0_mint, s.token_1_mint, s.observation_key) == tuple(b58encode(key(n)) for n in (3, 4, 64))
    assert (s.protocol_fees_token_0, s.protocol_fees_token_1, s.fund_fees_token_0, s.fund_fees_token_1) == (
        5,
        6,
        7,
        8,
    )
    assert (s.creator_fees_token_0, s.creator_fees_token_1) == (9, 10)
    assert (s.creator_fee_on, s.enable_creator_fee, s.open_time, s.recent_epoch) == (2, True, 77, 800)
    assert (s.mint_0_decimals, s.mint_1_decimals, s.lp_mint_decimals, s.lp_supply) == (9, 6, 9, 10**12)
    assert not s.swap_enabled  # status bit 2
    c = decode_cpmm_config(cpmm_config(trade=2500, protocol=120_000, fund=40_000, creator=1000, index=3))
    assert (c.index, c.trade_fee_rate, c.protocol_fee_rate, c.fund_fee_rate, c.creator_fee_rate) == (
        3,
        2500,
        120_000,
        40_000,
        1000,
    )
    assert c.create_pool_fee == 150_000_000 and c.fund_owner == b58encode(key(71))


def test_clmm_pool_config_and_tick_array_fields_come_from_their_offsets() -> None:
    sqrt = 3651942632306380802
    data = clmm_pool(
        amm_config=key(9),
        mint_0=key(3),
        mint_1=key(4),
        vault_0=key(1),
        vault_1=key(2),
        tick_spacing=60,
        liquidity=5124165121219,
        sqrt_price_x64=sqrt,
        tick_current=-32395,
        fee_growth=(1 << 70, 3),
        fee_on=1,
        bitmap=(1 << 511) | (1 << 1023),
    )
    s = decode_clmm_pool(data)
    assert (s.liquidity, s.sqrt_price_x64, s.tick_current, s.tick_spacing) == (
        5124165121219,
        sqrt,
        -32395,
        60,
    )
    assert (s.token_mint_0, s.token_mint_1, s.token_vault_0, s.token_vault_1) == tuple(
        b58encode(key(n)) for n in (3, 4, 1, 2)
    )
    assert (s.fee_growth_global_0_x64, s.fee_growth_global_1_x64) == (1 << 70, 3)
    assert (s.protocol_fees_token_0, s.protocol_fees_token_1, s.fund_fees_token_0, s.fund_fees_token_1) == (
        11,
        12,
        13,
        14,
    )
    assert (s.fee_on, s.recent_epoch, s.tick_array_bitmap) == (1, 900, (1 << 511) | (1 << 1023))
    assert s.swap_enabled and not s.dynamic_fee_on
    assert decode_clmm_pool(clmm_pool(**_clmm_kw(status=1 << 4))).swap_enabled is False
    assert decode_clmm_pool(clmm_pool(**_clmm_kw(dynamic_fee_control=5000))).dynamic_fee_on
    c = decode_clmm_config(clmm_config(trade=500, protocol=120_000, fund=40_000, tick_spacing=10, index=4))
    assert (c.index, c.trade_fee_rate, c.protocol_fee_rate, c.fund_fee_rate, c.tick_spacing) == (
        4,
        500,
        120_000,
        40_000,
        10,
    )
    assert (c.owner, c.fund_owner) == (b58encode(key(90)), b58encode(key(91)))
    arr = decode_tick_array(
        tick_array(
            pool_id=key(7),
            start_tick_index=-3600,
            tick_spacing=60,
            liquidity_net={-3600: -(1 << 100), -60: 17},
            limit_orders={-120: 5},
        )
    )
    assert arr.pool_id == b58encode(key(7)) and arr.start_tick_index == -3600
    assert arr.ticks[0].tick == -3600 and arr.ticks[59].tick == -60
    assert arr.ticks[0].liquidity_net == -(1 << 100) and arr.ticks[0].liquidity_gross == 1 << 100
    assert arr.ticks[59].liquidity_net == 17
    assert [t.tick for t in arr.initialized()] == [-3600, -120, -60]
    assert arr.ticks[58].has_limit_orders and arr.initialized_tick_count == 2


def _clmm_kw(**over: int) -> dict[str, object]:
    kw: dict[str, object] = dict(
        amm_config=key(9),
        mint_0=key(3),
        mint_1=key(4),
        vault_0=key(1),
        vault_1=key(2),
        tick_spacing=10,
        liquidity=10**12,
        sqrt_price_x64=1 << 64,
        tick_current=0,
    )
    kw.update(over)
    return kw


def test_token_account_amount() -> None:
    t = decode_token_account(token_account(mint=key(3), owner=key(8), amount=123_456_789) + bytes(17))
    assert (t.mint, t.owner, t.amount) == (b58encode(key(3)), b58encode(key(8)), 123_456_789)


@pytest.mark.parametrize(
    ("decode", "data", "message"),
    [
        (decode_amm_v4, bytes(751), "752"),
        (decode_cpmm_pool, bytes(637), "discriminator"),
        (decode_cpmm_pool, cpmm_config(trade=1, protocol=0, fund=0), "637"),
        (decode_cpmm_config, clmm_config(trade=1, protocol=0, fund=0, tick_spacing=1), "236"),
        (decode_clmm_pool, bytes(8) + clmm_pool(**_clmm_kw())[8:], "discriminator"),
        (decode_tick_array, bytes(10_000), "10240"),
        (decode_token_account, bytes(100), "165"),
    ],
)
def test_wrong_size_or_discriminator_is_corrupt_data(decode: object, data: bytes, message: str) -> None:
    with pytest.raises(RaydiumDecodeError, match=message):
        decode(data)  # type: ignore[operator]


# --------------------------------------------------------------------------------------------------
# decoded pools quote as the simulated pools do
# --------------------------------------------------------------------------------------------------

AMOUNTS = (1, 1_000, 10**6, 10**9, 37 * 10**9)


def _outcome(quote: Callable[[], int]) -> int | str:
    """The amount, or the program error's code where the program would fail."""
    try:
        return quote()
    except RaydiumMathError as exc:
        return exc.code


def _same(sim: PoolEngine, live: LivePool, amount: int, sell_base: bool, exact_in: bool) -> None:
    def from_sim() -> int:
        q = sim.quote_swap(amount, sell_base=sell_base, exact_in=exact_in)
        return q.amount_out if exact_in else q.amount_in

    want = _outcome(from_sim)
    got = _outcome(lambda: live.quote(amount, sell_base=sell_base, exact_in=exact_in))
    assert got == want, (amount, sell_base, exact_in)


def test_amm_v4_quotes_match_the_closed_form_and_the_sim_pool() -> None:
    base, quote = 40_000 * 10**9, 6_000_000 * 10**6
    pnl = (5 * 10**6, 700 * 10**6)
    state = decode_amm_v4(
        amm_v4(base_vault=key(1), quote_vault=key(2), base_mint=key(3), quote_mint=key(4), need_take_pnl=pnl)
    )
    live = AmmV4Pool(state, base + pnl[0], quote + pnl[1])
    sim = make_engine(PoolConfig(AmmV4Terms(), base_reserve=base, quote_reserve=quote))
    for amount in AMOUNTS[1:]:
        # Calculator::swap_token_amount_base_in, written out: fee ceil(in * 25 / 10000)
        in_after_fee = amount - -(-amount * 25 // 10_000)
        assert live.quote(amount, sell_base=True, exact_in=True) == quote * in_after_fee // (
            base + in_after_fee
        )
    for amount in AMOUNTS:
        for sell_base in (True, False):
            for exact_in in (True, False):
                _same(sim, live, amount, sell_base, exact_in)


@pytest.mark.parametrize(("creator_fee_on", "enable"), [(0, True), (1, True), (2, True), (0, False)])
def test_cpmm_quotes_match_the_sim_pool_built_from_the_same_reserves(
    creator_fee_on: int, enable: bool
) -> None:
    r0, r1 = 9_000 * 10**9, 1_350_000 * 10**6
    owed = {"protocol_fees": (11, 22), "fund_fees": (33, 44), "creator_fees": (55, 66)}
    state = decode_cpmm_pool(
        cpmm_pool(
            amm_config=key(9),
            vault_0=key(1),
            vault_1=key(2),
            mint_0=key(3),
            mint_1=key(4),
            creator_fee_on=creator_fee_on,
            enable_creator_fee=enable,
            **owed,
        )
    )
    config = decode_cpmm_config(cpmm_config(trade=2500, protocol=120_000, fund=40_000, creator=1500))
    live = CpmmPool(state, config, r0 + 11 + 33 + 55, r1 + 22 + 44 + 66)
    assert live.reserves() == (r0, r1)
    for sell_base in (True, False):
        on_input = creator_fee_on == 0 or (creator_fee_on == 1) == sell_base
        terms = CpmmTerms(2500, 120_000, 40_000, 1500 if enable else 0, on_input)
        sim = make_engine(PoolConfig(terms, base_reserve=r0, quote_reserve=r1))
        for amount in AMOUNTS:
            for exact_in in (True, False):
                _same(sim, live, amount, sell_base, exact_in)


def _clmm_live(sim: ClmmEngine, spacing: int, **over: int) -> ClmmLivePool:
    pool = sim.pool
    state = decode_clmm_pool(
        clmm_pool(
            **_clmm_kw(
                tick_spacing=spacing,
                liquidity=pool.liquidity,
                sqrt_price_x64=pool.sqrt_price_x64,
                tick_current=pool.tick_current,
                **over,
            )
        )
    )
    config = decode_clmm_config(clmm_config(trade=500, protocol=120_000, fund=40_000, tick_spacing=spacing))
    span = spacing * 60
    starts = sorted({t // span * span for t in pool.ticks})
    arrays = [
        decode_tick_array(
            tick_array(
                pool_id=key(7),
                start_tick_index=s,
                tick_spacing=spacing,
                liquidity_net={t: n for t, n in pool.ticks.items() if s <= t < s + span},
            )
        )
        for s in starts
    ]
    return ClmmLivePool.build(state, config, arrays)


def test_clmm_quotes_match_the_sim_pool_built_from_the_same_sqrt_price_and_ticks() -> None:
    config = PoolConfig.from_price("150", kind="clmm", terms=ClmmTerms(500, 10, 120_000, 40_000))
    sim = make_engine(config)
    assert isinstance(sim, ClmmEngine)
    live = _clmm_live(sim, 10)
    assert dict(live.pool.ticks) == dict(sim.pool.ticks)
    for amount in (10**3, 10**6, 10**9, 500 * 10**9, 20_000 * 10**9):
        for sell_base in (True, False):
            for exact_in in (True, False):
                _same(sim, live, amount, sell_base, exact_in)


def test_clmm_pricing_refuses_what_the_math_does_not_model() -> None:
    sim = make_engine(PoolConfig.from_price("150", kind="clmm", terms=ClmmTerms(500, 10, 120_000, 40_000)))
    assert isinstance(sim, ClmmEngine)
    with pytest.raises(RaydiumDecodeError, match="dynamic fee"):
        _clmm_live(sim, 10, dynamic_fee_control=5000)
    state = decode_clmm_pool(clmm_pool(**_clmm_kw()))
    config = decode_clmm_config(clmm_config(trade=500, protocol=0, fund=0, tick_spacing=10))
    orders = decode_tick_array(
        tick_array(
            pool_id=key(7), start_tick_index=0, tick_spacing=10, liquidity_net={}, limit_orders={20: 9}
        )
    )
    with pytest.raises(RaydiumDecodeError, match="limit orders"):
        ClmmLivePool.build(state, config, [orders])


def test_recorded_account_fixtures_decode_to_their_listed_values() -> None:
    """tests/fixtures/raydium/accounts.json: account bytes (base64) built with the documented layouts from
    known values, with the values the decoder must read back."""
    recorded = json.loads((FIXTURES / "accounts.json").read_text())
    decoders = {
        "amm_v4": decode_amm_v4,
        "cpmm_pool": decode_cpmm_pool,
        "cpmm_config": decode_cpmm_config,
        "clmm_pool": decode_clmm_pool,
        "clmm_config": decode_clmm_config,
        "token_account": decode_token_account,
    }
    assert set(recorded["accounts"]) >= set(decoders)
    for name, entry in recorded["accounts"].items():
        decoded = decoders[name](base64.b64decode(entry["data"]))
        for field, want in entry["expect"].items():
            assert getattr(decoded, field) == want, (name, field)
