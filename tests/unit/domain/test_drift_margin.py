"""Drift's one margin model: the market table, its checks, and the size-premium ratio every caller shares."""

from __future__ import annotations

from decimal import Decimal

import pytest

from botnft.domain.drift_margin import (
    FIELDS,
    PERP_FEE_TIERS,
    PERP_MARKET_TABLE,
    PERP_MARKETS,
    SPOT_COLLATERAL,
    parse_perp_markets,
    perp_market,
)
from botnft.domain.errors import UserError
from botnft.venue_builders import make_instrument
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_account import position_margin_ratio
from botnft.venues.sim.drift_params import DEFAULT_MARKETS, SOL_PERP
from botnft.venues.sim.perp import SimPerp


def test_every_value_in_the_market_table_names_its_source() -> None:
    for symbol, row in PERP_MARKET_TABLE.items():
        for name in (*FIELDS, "contract_tier"):
            _value, source = row[name]
            assert isinstance(source, str) and len(source) > 10, (symbol, name)


def test_the_table_holds_sol_btc_and_eth_perp_and_the_spot_collateral_weights() -> None:
    assert set(PERP_MARKETS) == {"SOL-PERP", "BTC-PERP", "ETH-PERP"}
    assert SPOT_COLLATERAL["USDC"][:2] == (10_000, 10_000)
    assert SPOT_COLLATERAL["SOL"][:2] == (8_000, 9_000)


def test_the_fee_table_matches_the_simulators_fee_tiers() -> None:
    taker = [Decimal(t) for _, t, _ in PERP_FEE_TIERS]
    assert [Decimal(str(t.taker_bps)) for t in dm.MAINNET_PERP_FEE_TIERS] == taker
    assert all(Decimal(str(t.maker_rebate_bps)) == Decimal("0.25") for t in dm.MAINNET_PERP_FEE_TIERS)


def test_simdrift_markets_and_the_candle_perp_take_their_parameters_from_the_table() -> None:
    for symbol, params in DEFAULT_MARKETS.items():
        spec = PERP_MARKETS[symbol]
        assert all(getattr(params, f) == getattr(spec, f) for f in FIELDS)
        inst = make_instrument("perp", params.base)
        assert inst.initial_margin == Decimal(spec.margin_ratio_initial) / 10_000
        assert inst.lot_size == Decimal(spec.order_step_size) / 10**9


def test_the_size_premium_is_the_same_number_for_simdrift_the_router_and_the_candle_perp() -> None:
    # 1,000 SOL: initial 500 − 100 + isqrt(1e13 + 1)·1000 // 1e7 = 400 + 316 = 716
    size = 1_000 * 10**9
    spec = perp_market("SOL-PERP")
    assert position_margin_ratio(SOL_PERP, size, "initial", False) == 716
    assert spec.margin_ratio(size, "initial") == 716
    assert spec.margin_fraction(1_000.0, "initial") == pytest.approx(0.0716)
    perp = SimPerp(make_instrument("perp", "SOL"), fill_model=None)  # type: ignore[arg-type]
    assert perp.initial_margin_at(Decimal(1_000)) == Decimal("0.0716")
    # a small position pays the flat ratio: the premium 400 + isqrt(1e10·10 + 1)·1000 // 1e7 = 431 < 500
    assert spec.margin_ratio(10**10, "initial") == 500


def _row(**changes: object) -> dict[str, dict[str, object]]:
    row: dict[str, object] = {k: v for k, (v, _) in PERP_MARKET_TABLE["SOL-PERP"].items()}
    row.update(changes)
    return {"SOL-PERP": row}


def test_a_missing_field_is_one_user_error_naming_it() -> None:
    row = _row()
    del row["SOL-PERP"]["imf_factor"]
    with pytest.raises(UserError, match="field imf_factor is missing"):
        parse_perp_markets(row)


def test_a_negative_field_is_one_user_error_naming_it() -> None:
    with pytest.raises(UserError, match="field liquidator_fee must be >= 0, got -1"):
        parse_perp_markets(_row(liquidator_fee=-1))


def test_a_zero_tick_or_a_non_integer_field_is_refused_by_name() -> None:
    with pytest.raises(UserError, match="field order_tick_size must be > 0"):
        parse_perp_markets(_row(order_tick_size=0))
    with pytest.raises(UserError, match="field margin_ratio_initial must be an integer"):
        parse_perp_markets(_row(margin_ratio_initial=0.05))


def test_an_unknown_market_is_one_user_error_listing_the_known_ones() -> None:
    with pytest.raises(
        UserError, match="unknown Drift market 'DOGE-PERP'; known: SOL-PERP, BTC-PERP, ETH-PERP"
    ):
        perp_market("DOGE-PERP")
    with pytest.raises(UserError, match="unknown Drift market"):
        make_instrument("perp", "DOGE")
