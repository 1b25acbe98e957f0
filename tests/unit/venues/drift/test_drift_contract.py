"""The Drift contract through the IDL: every instruction the adapter builds (driftpy's ``get_*_ix`` builders)
decodes back field by field with the IDL's instruction coder, with the accounts the program expects; every
account the adapter reads decodes from fixture bytes (tests/fixtures/drift, documented mainnet parameters) to
the expected values; wrong account types and lengths are one-line errors."""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

from botnft.domain.errors import DataError
from botnft.venues.drift.chain import ACCOUNT_SIZES, decode_account
from fakes.drift_accounts import USDC_MINT, coder
from fakes.drift_world import drift_world, funded_venue

FIXTURES = Path(__file__).parents[3] / "fixtures" / "drift"
DRIFT = Pubkey.from_string("dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def pda(*seeds: bytes) -> Pubkey:
    return Pubkey.find_program_address(list(seeds), DRIFT)[0]


def disc(kind: str, name: str) -> bytes:
    return hashlib.sha256(f"{kind}:{name}".encode()).digest()[:8]


def test_sol_perp_market_decodes_to_its_documented_parameters() -> None:
    raw = fixture("perp_market_sol.bin")
    assert len(raw) == 1216 == ACCOUNT_SIZES["PerpMarket"] and raw[:8] == disc("account", "PerpMarket")
    m = decode_account(coder(), "PerpMarket", raw)
    assert bytes(m.name).rstrip(b" \x00") == b"SOL-PERP" and m.market_index == 0
    assert m.pubkey == pda(b"perp_market", b"\x00\x00")
    assert (m.margin_ratio_initial, m.margin_ratio_maintenance, m.imf_factor) == (500, 300, 1_000)
    assert (m.liquidator_fee, m.if_liquidation_fee) == (10_000, 10_000)
    assert (m.high_leverage_margin_ratio_initial, m.high_leverage_margin_ratio_maintenance) == (100, 50)
    assert (m.amm.order_step_size, m.amm.order_tick_size, m.amm.min_order_size) == (10**7, 100, 10**7)
    assert m.amm.oracle == Pubkey.from_string("3m6i4RFWEDw2Ft4tFHPJtYgmpPe21k56M3FHeWYrgGBz")
    assert type(m.amm.oracle_source).__name__ == "PythLazer" and m.amm.funding_period == 3600
    assert type(m.contract_tier).__name__ == "B"


def test_usdc_spot_market_decodes() -> None:
    raw = fixture("spot_market_usdc.bin")
    assert len(raw) == 776 and raw[:8] == disc("account", "SpotMarket")
    m = decode_account(coder(), "SpotMarket", raw)
    assert (m.market_index, m.decimals, m.mint) == (0, 6, USDC_MINT)
    assert m.vault == pda(b"spot_market_vault", b"\x00\x00")
    assert (m.initial_asset_weight, m.maintenance_liability_weight, m.cumulative_deposit_interest) == (
        10_000,
        10_000,
        10**10,
    )
    assert type(m.oracle_source).__name__ == "QuoteAsset"


def test_user_decodes_the_same_through_the_idl_and_driftpys_own_decoder() -> None:
    from driftpy.decode.user import decode_user

    raw = fixture("user_long_sol.bin")
    assert len(raw) == 4376 and raw[:8] == disc("account", "User")
    for u in (decode_account(coder(), "User", raw), decode_user(raw)):
        assert u.authority == Pubkey.from_string("9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM")
        p = u.perp_positions[0]
        assert (p.market_index, p.base_asset_amount, p.quote_asset_amount, p.quote_entry_amount) == (
            0,
            2_500_000_000,
            -375_187_500,
            -375_000_000,
        )
        assert (p.open_orders, p.open_asks) == (1, -1_000_000_000)
        o = u.orders[0]
        assert (o.order_id, o.user_order_id, o.price, o.base_asset_amount) == (12, 7, 160_000_000, 10**9)
        assert type(o.order_type).__name__ == "Limit" and type(o.direction).__name__ == "Short"
        assert u.spot_positions[0].scaled_balance == 1_000 * 10**9 and u.next_order_id == 13


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("PerpMarket", "spot_market_usdc.bin", "a Drift PerpMarket account is 1216 bytes, this one 776"),
        ("PerpMarket", None, "the Drift PerpMarket account does not exist"),
        ("User", "user_long_sol.bin[:-1]", "a Drift User account is 4376 bytes, this one 4375"),
        ("SpotMarket", "perp-as-spot", "expected a Drift SpotMarket account, got PerpMarket"),
        ("SpotMarket", "garbage", "expected a Drift SpotMarket account, got not a Drift account"),
    ],
)
def test_wrong_account_bytes_are_one_line(name: str, raw: str | None, message: str) -> None:
    data: bytes | None
    if raw is None:
        data = None
    elif raw == "user_long_sol.bin[:-1]":
        data = fixture("user_long_sol.bin")[:-1]
    elif raw == "perp-as-spot":
        data = fixture("perp_market_sol.bin")[:776]
    elif raw == "garbage":
        data = bytes(776)
    else:
        data = fixture(raw)
    with pytest.raises(DataError) as e:
        decode_account(coder(), name, data)
    assert str(e.value) == message


def test_every_instruction_the_adapter_builds_decodes_field_by_field() -> None:
    async def go() -> None:
        async with drift_world() as (_chain, _drift, kp, journal, url):
            venue = await funded_venue(kp, journal, url, deposit=1_000)
            try:
                await check_instructions(venue, kp.pubkey())
            finally:
                await venue.close()

    asyncio.run(asyncio.wait_for(go(), 60))


def parsed(ix: Any, name: str) -> Any:
    assert ix.program_id == DRIFT
    assert bytes(ix.data[:8]) == hashlib.sha256(f"global:{name}".encode()).digest()[:8]
    got = coder().instruction.parse(bytes(ix.data))
    assert got.name == name
    return got.data


async def check_instructions(venue: Any, wallet: Pubkey) -> None:
    from driftpy import types as T
    from solders.token.associated import get_associated_token_address

    from botnft.domain.ids import InstrumentId
    from botnft.domain.orders import Order, OrderType, Side, TimeInForce

    sol = InstrumentId("SOL-PERP", "DRIFT")
    inst = venue.instruments()[sol]
    user = pda(b"user", bytes(wallet), b"\x00\x00")
    state = pda(b"drift_state")
    await venue.refresh()
    order = Order(
        "c",
        sol,
        Side.SELL,
        Decimal("1.25"),
        0,
        order_type=OrderType.LIMIT,
        price=Decimal("151.2345"),
        tif=TimeInForce.POST_ONLY,
        reduce_only=True,
    )
    ix = venue.drift.get_place_perp_order_ix(venue.order_params(order, 0, inst, 42))
    p = parsed(ix, "place_perp_order").params
    assert (p.base_asset_amount, p.price, p.market_index, p.user_order_id, p.reduce_only) == (
        1_250_000_000,
        151_234_500,
        0,
        42,
        True,
    )
    assert type(p.order_type).__name__ == "Limit" and type(p.direction).__name__ == "Short"
    assert type(p.post_only).__name__ == "MustPostOnly" and type(p.market_type).__name__ == "Perp"
    assert [a.pubkey for a in ix.accounts[:3]] == [
        state,
        user,
        wallet,
    ]  # the IDL's accounts: state, user, authority
    assert ix.accounts[2].is_signer and ix.accounts[1].is_writable
    assert pda(b"perp_market", b"\x00\x00") in [a.pubkey for a in ix.accounts[3:]]  # the market it reads
    stop = Order(
        "s", sol, Side.SELL, Decimal("2"), 0, order_type=OrderType.STOP_MARKET, trigger_price=Decimal("140")
    )
    p = parsed(
        venue.drift.get_place_perp_order_ix(venue.order_params(stop, 0, inst, 3)), "place_perp_order"
    ).params
    assert type(p.order_type).__name__ == "TriggerMarket" and p.trigger_price == 140_000_000
    assert type(p.trigger_condition).__name__ == "Below" and p.price == 0
    mkt = Order("m", sol, Side.BUY, Decimal("0.5"), 0)
    p = parsed(
        venue.drift.get_place_and_take_perp_order_ix(venue.order_params(mkt, 0, inst, 9)),
        "place_and_take_perp_order",
    ).params
    assert (
        type(p.order_type).__name__ == "Market"
        and p.base_asset_amount == 500_000_000
        and p.user_order_id == 9
    )
    d = parsed(venue.drift.get_cancel_order_by_user_id_ix(42), "cancel_order_by_user_id")
    assert d.user_order_id == 42
    mp = T.ModifyOrderParams(price=152_000_000, base_asset_amount=None, trigger_price=None)
    d = parsed(venue.drift.get_modify_order_by_user_id_ix(42, mp), "modify_order_by_user_id")
    assert d.user_order_id == 42 and d.modify_order_params.price == 152_000_000
    assert d.modify_order_params.base_asset_amount is None
    d = parsed(venue.drift.get_settle_pnl_ix(user, venue._account(), 0), "settle_pnl")
    assert d.market_index == 0
    ata = get_associated_token_address(wallet, USDC_MINT)
    ixs = await venue.drift.get_deposit_collateral_ix(123_456_789, 0, ata)
    ixs = ixs if isinstance(ixs, list) else [ixs]
    d = parsed(ixs[-1], "deposit")
    assert (d.market_index, d.amount, d.reduce_only) == (0, 123_456_789, False)
    assert ata in [a.pubkey for a in ixs[-1].accounts]
    ixs = await venue.drift.get_withdraw_collateral_ix(5_000_000, 0, ata)
    ixs = ixs if isinstance(ixs, list) else [ixs]
    d = parsed(ixs[-1], "withdraw")
    assert (d.market_index, d.amount) == (0, 5_000_000)
    parsed(venue.drift.get_initialize_user_stats(), "initialize_user_stats")
    d = parsed(venue.drift.get_initialize_user_instructions(0), "initialize_user")
    assert d.sub_account_id == 0
