"""Raydium pools into a snapshot (account bytes or API v3 JSON) and into the Raydium sims: reserves are the
vaults less what is owed, CLMM liquidity between ticks is rebuilt from liquidity_net, the sims built from the
snapshot quote what x·y = k (less the fee) says."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from botnft.backtest.spec import BacktestSpec
from botnft.data.bars import BarBatch, MarketData
from botnft.domain.errors import DataError
from botnft.snapshot.model import RaydiumPoolState, Snapshot
from botnft.snapshot.raydium import clmm_segments
from botnft.snapshot.reader import snapshot_from_document
from botnft.venue_builders import VENUE_BUILDERS, BuildContext

FIXTURES = Path(__file__).parents[2] / "fixtures"
DOC = json.loads((FIXTURES / "snapshots" / "raydium_pools.json").read_text())
API = json.loads((FIXTURES / "raydium" / "pools_by_ids.json").read_text(), parse_float=Decimal)
SOL, USDC = 10**9, 10**6


def _snap(doc=DOC) -> Snapshot:
    return snapshot_from_document(doc, name="r", source="fixture")


def test_amm_v4_and_cpmm_reserves_are_the_vaults_less_what_is_owed():
    s = _snap()
    amm, cpmm = s.pool("amm_v4"), s.pool("cpmm")
    assert (amm.base_reserve, amm.quote_reserve) == (50_000 * SOL, 7_600_000 * USDC)  # less need_take_pnl
    assert (amm.fee_numerator, amm.fee_denominator) == (25, 10_000)
    assert (cpmm.base_reserve, cpmm.quote_reserve) == (10_000 * SOL, 1_500_000 * USDC)  # less 1,305 / 2,406
    assert (cpmm.trade_fee_rate, cpmm.protocol_fee_rate, cpmm.fund_fee_rate) == (2_500, 120_000, 40_000)
    assert s.slot == 301_234_600


def test_clmm_liquidity_between_ticks_is_rebuilt_from_liquidity_net():
    clmm = _snap().pool("clmm")
    assert (clmm.tick_current, clmm.liquidity, clmm.tick_spacing, clmm.trade_fee_rate) == (
        -18_971,
        10**13,
        10,
        500,
    )
    # positions [-19500, -18500) L1 = 4e12 and [-19000, -18900) L2 = 6e12, written out
    assert clmm_segments(clmm) == [
        (-19_500, -19_000, 4 * 10**12),
        (-19_000, -18_900, 10**13),
        (-18_900, -18_500, 4 * 10**12),
    ]


def test_clmm_segments_below_and_above_the_current_tick():
    s = RaydiumPoolState("clmm", "p", "account", 9, 6, tick_current=5, liquidity=8, tick_spacing=1,
                         ticks={-100: 5, -50: 3, 50: -3, 100: -5})  # fmt: skip
    assert clmm_segments(s) == [(-100, -50, 5), (-50, 50, 8), (50, 100, 5)]


def _md(price: float) -> MarketData:
    ts = np.arange(3, dtype=np.int64) * 3_600_000_000_000 + 1_700_000_000_000_000_000
    p = np.full(3, price)
    return MarketData("t", "spot", "SOL", BarBatch(ts, p, p, p, p, np.ones(3), 3_600_000_000_000), None)


@pytest.mark.parametrize(("name", "kind"), [("raydium", "amm_v4"), ("raydium_cpmm", "cpmm")])
def test_constant_product_sims_take_the_snapshot_reserves_and_quote_x_y_k(name, kind):
    snap = _snap()
    ctx = BuildContext(_md(100.0), BacktestSpec(liquidity={"snapshot": snap.to_json()}))
    venue = VENUE_BUILDERS[name](ctx).venue
    p = snap.pool(kind)
    assert venue.reserves() == {"SOL": p.base_reserve, "USDC": p.quote_reserve}
    assert venue.marginal_price() == Fraction(p.quote_reserve * 1_000, p.base_reserve)  # 152 and 150
    # exact-in sell of 100 SOL: out = y·Δ'/(x + Δ') with Δ' the input less the fee
    amount = 100 * SOL
    fee = Fraction(25, 10_000) if kind == "amm_v4" else Fraction(2_500, 10**6)
    net = amount - int(-(-amount * fee // 1)) if kind == "cpmm" else amount - amount * 25 // 10_000
    want = p.quote_reserve * net // (p.base_reserve + net)
    assert venue.engine.quote_swap(amount, sell_base=True, exact_in=True).amount_out == want
    default = VENUE_BUILDERS[name](BuildContext(_md(100.0), BacktestSpec())).venue
    assert default.marginal_price() != venue.marginal_price()


def test_clmm_sim_starts_at_the_snapshot_sqrt_price():
    snap = _snap()
    ctx = BuildContext(_md(100.0), BacktestSpec(liquidity={"snapshot": snap.to_json()}))
    venue = VENUE_BUILDERS["raydium_clmm"](ctx).venue
    sqrt = snap.pool("clmm").sqrt_price_x64
    assert venue.marginal_price() == Fraction(sqrt * sqrt, 1 << 128) * 1_000


def test_api_json_pools():
    s = _snap(API)
    amm, cpmm, clmm = s.pool("amm_v4"), s.pool("cpmm"), s.pool("clmm")
    assert (amm.base_reserve, amm.quote_reserve) == (33_333_333_333_333, 5_000_000 * USDC)
    assert (amm.fee_numerator, amm.fee_denominator) == (25, 10_000)
    assert (cpmm.base_reserve, cpmm.trade_fee_rate) == (6_666_666_666_666, 2_500)
    assert (clmm.origin, clmm.price, clmm.tvl_usd, clmm.trade_fee_rate) == ("api", "150.0", "5000000", 500)


def _without(kind: str) -> dict:
    doc = copy.deepcopy(DOC)
    doc["accounts"] = [a for a in doc["accounts"] if a["kind"] != kind]
    return doc


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        (_without("spl_token"), "needs account .* \\(spl_token\\); the file does not list it"),
        (_without("raydium_clmm_tick_array"), "lists none of its tick arrays"),
        ({"accounts": []}, "lists no accounts"),
        ({"accounts": [{"pubkey": "x", "kind": "nope", "data": ""}]}, "kind 'nope' is not one of"),
        ({"accounts": [{"pubkey": "x", "kind": "spl_token", "data": "!!"}]}, "not valid base64"),
        ({"nothing": 1}, "a snapshot file is"),
    ],
)
def test_bad_documents_are_data_errors(doc, needle):
    with pytest.raises(DataError, match=needle):
        _snap(doc)


def test_a_pool_account_of_the_wrong_layout_is_refused():
    doc = copy.deepcopy(DOC)
    amm = next(a for a in doc["accounts"] if a["kind"] == "raydium_amm_v4")
    cpmm = next(a for a in doc["accounts"] if a["kind"] == "raydium_cpmm")
    amm["data"] = cpmm["data"]
    with pytest.raises(DataError):
        _snap(doc)


def test_non_sol_usdc_decimals_are_refused():
    api = copy.deepcopy(API)
    api["data"][0]["mintB"]["decimals"] = 9
    with pytest.raises(DataError, match="the simulated pools are SOL/USDC"):
        _snap(api)


def test_api_fee_off_grid_is_refused():
    api = copy.deepcopy(API)
    api["data"][1]["feeRate"] = Decimal("0.00251234567")
    with pytest.raises(DataError, match="off the 1e-6 grid"):
        _snap(api)


def test_decimal_amounts_are_exact():
    assert Decimal("33333.333333333").scaleb(9) == 33_333_333_333_333
