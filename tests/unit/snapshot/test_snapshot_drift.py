"""Drift accounts into a snapshot and the snapshot into SimDrift: the fixture's documented numbers (see
tests/fixtures/snapshots/make_drift_fixture.py) come out of the IDL-encoded bytes, SimDrift is built with
them, and its vAMM prices as the constant-product formula says."""

from __future__ import annotations

import base64
import json
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from botnft.backtest.spec import BacktestSpec
from botnft.data.bars import BarBatch, MarketData
from botnft.domain.errors import DataError
from botnft.snapshot.apply import drift_market
from botnft.snapshot.drift import decode_perp_market, decode_spot_market
from botnft.snapshot.model import Snapshot
from botnft.snapshot.reader import snapshot_from_document
from botnft.venue_builders import VENUE_BUILDERS, BuildContext
from botnft.venues.sim.drift_curve import amm_levels

FIXTURES = Path(__file__).parents[2] / "fixtures" / "snapshots"
sys.path.insert(0, str(FIXTURES))
import make_drift_fixture as mk  # noqa: E402

B = 10**9
DOC = json.loads((FIXTURES / "drift_sol_perp.json").read_text())


def _bytes(i: int) -> bytes:
    return base64.b64decode(DOC["accounts"][i]["data"][0])


def test_fixture_file_is_what_the_generator_writes():
    c = mk.coder()
    assert _bytes(0) == mk.perp_market(c) and _bytes(1) == mk.spot_market(c)


def test_perp_market_decodes_to_the_documented_numbers():
    m = decode_perp_market(_bytes(0), "pk", mk.DRIFT_PROGRAM)
    # the fixture's documented values, written out (not read from the generator)
    assert (m.symbol, m.market_index, m.contract_tier, m.status) == ("SOL-PERP", 0, "B", "Active")
    assert (m.margin_ratio_initial, m.margin_ratio_maintenance, m.imf_factor) == (1_000, 500, 1_000)
    assert (m.liquidator_fee, m.if_liquidation_fee) == (10_000, 10_000)
    assert (m.high_leverage_margin_ratio_initial, m.high_leverage_margin_ratio_maintenance) == (100, 50)
    assert (m.order_step_size, m.order_tick_size, m.min_order_size) == (B // 100, 100, B // 100)
    assert (m.base_asset_reserve, m.sqrt_k) == (960_000 * B, 1_000_000 * B)
    assert m.quote_asset_reserve == 1_041_666_666_666_667
    assert (m.peg_multiplier, m.last_oracle_price) == (138_378_240, 150_000_000)
    assert (m.long_spread, m.short_spread, m.base_spread, m.max_spread) == (1_000, 500, 500, 20_000)
    assert m.reserve_price == 150_150_000  # $150.15: 10 bps above the $150 oracle


def test_spot_market_decodes():
    s = decode_spot_market(_bytes(1), "pk")
    assert (s.symbol, s.market_index, s.decimals) == ("USDC", 0, 6)
    assert (s.initial_asset_weight, s.maintenance_liability_weight) == (10_000, 10_000)


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda b: b[:-1], "is 1215 bytes; a Drift PerpMarket is 1216"),
        (lambda b: b + b"\0", "is 1217 bytes"),
        (lambda b: bytes(8) + b[8:], "not a Drift PerpMarket"),
    ],
)
def test_wrong_length_or_type_is_a_data_error(mutate, needle):
    with pytest.raises(DataError, match=needle):
        decode_perp_market(mutate(_bytes(0)), "pk")


def test_spot_market_bytes_are_not_a_perp_market():
    with pytest.raises(DataError, match="a Drift PerpMarket is 1216"):
        decode_perp_market(_bytes(1), "pk")


def test_foreign_owner_is_refused():
    with pytest.raises(DataError, match="not the Drift program"):
        decode_perp_market(_bytes(0), "pk", "11111111111111111111111111111111")


def test_unknown_market_index_and_wrong_name_are_refused():
    c = mk.coder()
    with pytest.raises(DataError, match=r"index 7 .*not one the simulator lists"):
        decode_perp_market(mk.perp_market(c, market_index=7, name="WIF-PERP"), "pk")
    with pytest.raises(DataError, match="named 'BTC-PERP', expected 'SOL-PERP'"):
        decode_perp_market(mk.perp_market(c, name="BTC-PERP"), "pk")


def _snapshot() -> Snapshot:
    return snapshot_from_document(DOC, name="t", source="fixture")


def test_snapshot_json_round_trips():
    snap = _snapshot()
    assert Snapshot.from_json(json.loads(json.dumps(snap.to_json()))) == snap
    assert snap.slot == 301_234_567 and snap.taken_at == "2026-11-20T12:00:00Z"


def _md(price: float = 150.0, n: int = 3) -> MarketData:
    ts = np.arange(n, dtype=np.int64) * 3_600_000_000_000 + 1_700_000_000_000_000_000
    p = np.full(n, price)
    bars = BarBatch(ts, p, p, p, p, np.full(n, 1e6), 3_600_000_000_000)
    return MarketData("t", "perp", "SOL", bars, None)


def test_sim_drift_built_from_the_snapshot_has_its_margin_terms_and_vamm():
    default = VENUE_BUILDERS["drift"](BuildContext(_md(), BacktestSpec()))
    spec = BacktestSpec(liquidity={"snapshot": _snapshot().to_json()})
    built = VENUE_BUILDERS["drift"](BuildContext(_md(), spec))
    p = built.venue.core.markets[0].params
    assert (p.margin_ratio_initial, p.margin_ratio_maintenance, p.imf_factor) == (1_000, 500, 1_000)
    liq = p.taker_liquidity
    assert (liq.amm_base_reserve, liq.amm_quote_reserve) == (960_000 * B, 1_041_666_666_666_667)
    assert liq.amm_peg == (138_378_240, 150_000_000) and liq.amm_spreads == (1_000, 500)
    assert built.instrument.initial_margin == Decimal(
        "0.1"
    ) and built.instrument.maintenance_margin == Decimal("0.05")
    dp = default.venue.core.markets[0].params
    assert (dp.margin_ratio_initial, dp.margin_ratio_maintenance) == (500, 300)  # the table's, unchanged


def _constant_product_cost(m, oracle: int, x: int, spread: int) -> Fraction:
    """Quote (1e6) paid for buying `x` base (1e9) from x·y = k: peg·(k/(B-x) - k/B) / 1e9, with the peg the
    oracle scaled by the snapshot's peg over its oracle and the long spread on top."""
    peg = Fraction(oracle * m.peg_multiplier, m.last_oracle_price) * Fraction(10**6 + spread, 10**6)
    k = Fraction(m.base_asset_reserve * m.quote_asset_reserve)
    b = m.base_asset_reserve
    return peg * (k / (b - x) - k / b) / B


def test_vamm_levels_price_as_the_constant_product_formula():
    m = _snapshot().drift_perp_markets[0]
    liq = drift_market(m).taker_liquidity
    oracle, limit = 150_000_000, 150_750_000  # the auction's end: oracle + 0.5 %
    levels = amm_levels(1, oracle, limit, liq, 100, B // 100)
    assert levels
    x = sum(size for _, size, _ in levels)
    paid = sum(Fraction(price * size, B) for price, size, _ in levels)
    want = _constant_product_cost(m, oracle, x, m.long_spread)
    # each band's average is snapped up by less than one tick ($0.0001 on a $150 price)
    assert want <= paid <= want * (1 + Fraction(1, 10**6))
    # the first band starts at the reserve price with the long spread: 150.15 · 1.001
    first = levels[0][0]
    assert 150_300_150 <= first <= 150_300_150 * 1.0005
    # the default vAMM (balanced, peg at the oracle, 5 bps) starts lower
    default = amm_levels(1, oracle, limit, drift_market_default(), 100, B // 100)
    assert default[0][0] < first


def drift_market_default():
    from botnft.venues.sim.drift_params import SOL_PERP

    return SOL_PERP.taker_liquidity


def test_sell_side_vamm_uses_the_short_spread():
    m = _snapshot().drift_perp_markets[0]
    liq = drift_market(m).taker_liquidity
    oracle = 150_000_000
    levels = amm_levels(-1, oracle, 149_250_000, liq, 100, B // 100)
    # bid starts at the reserve price less the short spread: 150.15 · (1 - 0.0005), above the oracle
    assert 150_074_925 * 0.9995 <= levels[0][0] <= 150_074_925
    assert levels[0][0] > oracle
