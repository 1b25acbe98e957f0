"""Perp vs spot per trade: the cheaper all-in vehicle wins, within the leverage and liquidation limits."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import BookLiquidity, CpmmLiquidity, PerpLiquidity
from botnft.routing.costs import CostConfig, venue_costs
from botnft.routing.vehicle import choose_vehicle, vehicle_chooser, whitepaper_rule

D = Decimal
NOW = 1_700_000_000_000_000_000
DAY = 86_400.0
REF = 150.0


def raydium(base: float = 20_000, fee: int = 1) -> CpmmLiquidity:
    """A shallow pool: buying 1 % of its base reserve costs ~100 bps of impact."""
    return CpmmLiquidity(
        instrument=InstrumentId("SOL/USDC", "RAYDIUM"),
        ts_ns=NOW,
        fee_bps=D(fee),
        lot=D(0),
        min_size=D(0),
        base_reserve=D(repr(base)),
        quote_reserve=D(repr(base * REF)),
    )


def jupiter(fee: int = 2, size: int = 5_000) -> BookLiquidity:
    """A tight venue (an aggregator's quote as a book): 0.01 wide, 20 levels of ``size`` SOL a side."""
    return BookLiquidity(
        instrument=InstrumentId("SOL/USDC", "JUPITER"),
        ts_ns=NOW,
        fee_bps=D(fee),
        lot=D(0),
        min_size=D(0),
        asks=tuple((D("150.005") + D("0.01") * i, D(size)) for i in range(20)),
        bids=tuple((D("149.995") - D("0.01") * i, D(size)) for i in range(20)),
    )


def drift(rate: str = "0.00001", im: str = "0.05", fee: str = "3.5") -> PerpLiquidity:
    """A deep vAMM perp at the reference price: 1,000 SOL moves it ~1 bp. SOL-PERP's margin ratios come
    from Drift's market table (size premium included), not from the snapshot."""
    return PerpLiquidity(
        instrument=InstrumentId("SOL-PERP", "DRIFT"),
        ts_ns=NOW,
        fee_bps=D(fee),
        lot=D(0),
        min_size=D(0),
        oracle_price=D(150),
        funding_rate_hourly=D(rate),
        initial_margin=D(im),
        base_reserve=D(10_000_000),
        quote_reserve=D(10_000_000),
        peg=D(150),
    )


RICH = {"max_leverage": 5.0, "equity": 10_000_000.0}
HOLD = CostConfig(
    funding_fits={}
)  # funding held at its print: these tests are about the choice, not the projection


def test_a_small_trade_goes_to_spot_and_a_large_one_flips_to_the_perp_when_spot_impact_is_large() -> None:
    market = [raydium(), drift(rate="0.00001")]  # funding small: 2.4 bps a day for a long
    small = choose_vehicle(market, "buy", 1, DAY, REF, **RICH)
    large = choose_vehicle(market, "buy", 1_000, DAY, REF, **RICH)
    assert small.vehicle == "spot"
    assert large.vehicle == "perp"
    assert large.spot is not None and large.spot.breakdown.impact > 400  # 1,000 of 20,000 SOL: ~526 bps
    assert large.costs["perp"] < large.costs["spot"]
    assert "perp SOL-PERP.DRIFT" in large.reason and "< spot" in large.reason


def test_expensive_funding_flips_the_choice_back_to_spot() -> None:
    cheap = choose_vehicle([raydium(), drift(rate="0.00001")], "buy", 200, DAY, REF, HOLD, **RICH)
    dear = choose_vehicle(
        [raydium(), drift(rate="0.0005")], "buy", 200, DAY, REF, HOLD, **RICH
    )  # 120 bps/day
    assert cheap.vehicle == "perp"
    assert dear.vehicle == "spot"
    assert dear.perp is not None and dear.perp.cost.breakdown is not None
    assert dear.perp.cost.breakdown.funding == pytest.approx(120.0)


def test_a_short_is_paid_the_same_expensive_funding_and_keeps_the_perp() -> None:
    short = choose_vehicle([raydium(), drift(rate="0.0005")], "sell", 200, DAY, REF, HOLD, **RICH)
    assert short.vehicle == "perp"
    assert short.breakdown is not None and short.breakdown.funding == pytest.approx(-120.0)


def test_a_perp_beyond_the_leverage_cap_is_refused_and_spot_is_chosen() -> None:
    market = [raydium(), drift()]
    choice = choose_vehicle(market, "buy", 1_000, DAY, REF, max_leverage=5.0, equity=20_000.0)  # 7.5x
    assert choice.vehicle == "spot"
    (option,) = choice.perps
    assert not option.eligible and option.leverage == pytest.approx(7.5, rel=1e-6)
    assert "leverage 7.50x exceeds the cap 5x" in option.reason
    assert choice.costs["perp"] == math.inf
    assert "no eligible perp" in choice.reason


def test_a_perp_beyond_the_venues_own_leverage_at_its_size_is_refused() -> None:
    # SOL-PERP's initial ratio at 1,000 SOL is Drift's size premium, not the snapshot's 5 %:
    # 500 − 500/5 + isqrt(1e12·10 + 1)·1000 // 1e7 = 400 + 316 = 716 (7.16 %, at most 13.9665x);
    # 150,000 of notional on 10,000 of equity is 15x
    choice = choose_vehicle([raydium(), drift()], "buy", 1_000, DAY, REF, max_leverage=20.0, equity=10_000.0)
    assert choice.vehicle == "spot"
    assert "exceeds the venue's 13.9665x (initial margin 7.16%)" in choice.perps[0].reason


def test_a_perp_too_close_to_liquidation_is_refused() -> None:
    # equity 50k on 150k notional: (E'/N − mmr)/(1 − mmr), E' = E − entry costs. SOL-PERP's maintenance
    # ratio at 1,000 SOL is Drift's size premium: 300 − 300/5 + isqrt(1e12·10 + 1)·1000 / 1e7
    # = 240 + 3,162,277·1000 // 10,000,000 = 240 + 316 = 556 (5.56 %), so the distance is ≈ 29.4 %
    kw = {"max_leverage": 10.0, "equity": 50_000.0}
    ok = choose_vehicle([raydium(), drift()], "buy", 1_000, DAY, REF, min_liquidation_distance=0.28, **kw)
    assert ok.vehicle == "perp"
    assert ok.perp is not None
    vc = ok.perp.cost
    entry_loss = vc.quote - vc.filled_base * 150
    n = vc.filled_base * 150
    assert ok.perp.liquidation_distance == pytest.approx(((50_000 - entry_loss) / n - 0.0556) / 0.9444)
    refused = choose_vehicle(
        [raydium(), drift()], "buy", 1_000, DAY, REF, min_liquidation_distance=0.30, **kw
    )
    assert refused.vehicle == "spot"
    assert "maintenance margin 5.56%" in refused.perps[0].reason
    assert "below the minimum 30.00%" in refused.perps[0].reason


def test_a_shorts_liquidation_distance_uses_one_plus_the_maintenance_margin() -> None:
    choice = choose_vehicle(
        [drift(fee="0")], "sell", 1_000, DAY, REF, max_leverage=10.0, equity=50_000.0, maintenance_margin=0.03
    )
    assert choice.perp is not None
    vc = choice.perp.cost
    n = vc.filled_base * 150
    e = 50_000 - (n - vc.quote)
    assert choice.perp.liquidation_distance == pytest.approx((e / n - 0.03) / 1.03)


def test_when_neither_vehicle_can_trade_the_choice_is_none_with_both_reasons() -> None:
    choice = choose_vehicle(
        [raydium(base=500), drift()], "buy", 1_000, DAY, REF, max_leverage=1.0, equity=1_000.0
    )
    assert choice.vehicle is None and choice.total == math.inf and choice.breakdown is None
    assert "spot cannot fill" in choice.reason and "exceeds the cap" in choice.reason


def test_only_the_vehicles_given_are_considered() -> None:
    assert choose_vehicle([drift()], "buy", 10, DAY, REF, **RICH).vehicle == "perp"
    spot_only = choose_vehicle([jupiter()], "buy", 10, DAY, REF, **RICH)
    assert spot_only.vehicle == "spot" and "no perp venue given" in spot_only.reason


def test_the_cheapest_eligible_perp_is_compared() -> None:
    dear = drift(fee="10")
    cheap = PerpLiquidity(
        instrument=InstrumentId("SOL-PERP", "HYPER"),
        ts_ns=NOW,
        fee_bps=D(1),
        lot=D(0),
        min_size=D(0),
        oracle_price=D(150),
        funding_rate_hourly=D("0.00001"),
        initial_margin=D("0.05"),
        base_reserve=D(10_000_000),
        quote_reserve=D(10_000_000),
        peg=D(150),
    )
    choice = choose_vehicle([dear, cheap], "buy", 10, DAY, REF, **RICH)
    assert choice.perp is not None and str(choice.perp.cost.instrument) == "SOL-PERP.HYPER"
    assert len(choice.perps) == 2


def test_the_executor_shaped_chooser_takes_spot_and_perp_snapshots_apart() -> None:
    choose = vehicle_chooser(horizon_s=DAY)
    assert choose([raydium()], [drift()], "buy", D(1)) == "spot"
    assert choose([raydium()], [drift()], "buy", D(1_000)) == "perp"
    assert choose([raydium()], [], "buy", D(1_000)) == "spot"
    assert choose([], [drift()], "buy", D(1)) == "perp"


def test_the_executor_shaped_chooser_reads_equity_at_each_call() -> None:
    equity = [1e7]
    choose = vehicle_chooser(horizon_s=DAY, max_leverage=5.0, equity=lambda: equity[0])
    assert choose([raydium()], [drift()], "buy", D(1_000)) == "perp"
    equity[0] = 20_000.0  # 7.5x now: the perp is refused
    assert choose([raydium()], [drift()], "buy", D(1_000)) == "spot"


# --- the whitepaper's crude rule -------------------------------------------------------------------


def test_the_whitepaper_rule_follows_its_three_branches() -> None:
    assert whitepaper_rule(-0.00001, jupiter_cost=3.0, raydium_cost=5.0) == "JUPITER"
    assert whitepaper_rule(0.00001, jupiter_cost=3.0, raydium_cost=5.0) == "DRIFT"
    assert whitepaper_rule(-0.00001, jupiter_cost=6.0, raydium_cost=5.0) == "RAYDIUM"
    assert whitepaper_rule(0.0, jupiter_cost=3.0, raydium_cost=5.0) == "RAYDIUM"


def _spot_costs(market: list[object], side: str, qty: float) -> dict[str, float]:
    spots = [s for s in market if not isinstance(s, PerpLiquidity)]
    return {vc.instrument.venue: vc.total for vc in venue_costs(spots, side, qty, DAY, REF, CostConfig())}  # type: ignore[arg-type]


def test_the_full_model_disagrees_with_the_whitepaper_when_a_long_would_pay_positive_funding() -> None:
    # Funding +0.01 %/h: the rule says Drift because funding is positive, whatever the direction. A long
    # pays it (24 bps over a day) while Jupiter fills for ~4 bps, so the full model buys spot. A short
    # receives the same funding, and there the two agree on the perp.
    market: list[object] = [jupiter(), raydium(), drift(rate="0.0001")]
    costs = _spot_costs(market, "buy", 100)
    assert whitepaper_rule(0.0001, costs["JUPITER"], costs["RAYDIUM"]) == "DRIFT"
    long = choose_vehicle(market, "buy", 100, DAY, REF, HOLD, **RICH)  # type: ignore[arg-type]
    assert long.vehicle == "spot"
    assert long.spot is not None and long.spot.legs[0].instrument.venue == "JUPITER"
    assert long.spot.legs[0].base > 90  # the split takes a sliver of the 1 bp pool too
    assert long.perp is not None and long.perp.cost.breakdown is not None
    assert long.perp.cost.breakdown.funding == pytest.approx(24.0)
    short = choose_vehicle(market, "sell", 100, DAY, REF, HOLD, **RICH)  # type: ignore[arg-type]
    assert short.vehicle == "perp"


def test_the_full_model_disagrees_with_the_whitepaper_when_the_size_swamps_the_spot_venues() -> None:
    # Slightly negative funding and Jupiter cheaper than Raydium: the rule says Jupiter at any size. At
    # 40,000 SOL Jupiter's 10,000 SOL book runs out and Raydium's pool costs hundreds of bps for the
    # rest; the perp (~40 bps of vAMM impact) wins.
    market: list[object] = [jupiter(size=500), raydium(base=200_000, fee=25), drift(rate="-0.000001")]
    small = _spot_costs(market, "buy", 10)
    assert whitepaper_rule(-0.000001, small["JUPITER"], small["RAYDIUM"]) == "JUPITER"
    big = choose_vehicle(market, "buy", 40_000, DAY, REF, max_leverage=5.0, equity=1e8)  # type: ignore[arg-type]
    assert big.vehicle == "perp"


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"qty_base": 0.0}, "qty_base must be positive"),
        ({"qty_base": -5.0}, "qty_base must be positive"),
        ({"side": "long"}, "side must be 'buy' or 'sell'"),
        ({"snapshots": []}, "snapshots is empty"),
        ({"max_leverage": 0.0}, "max_leverage must be positive"),
        ({"equity": -1.0}, "equity must be positive"),
        ({"min_liquidation_distance": -0.1}, "min_liquidation_distance"),
        ({"maintenance_margin": 1.5}, "maintenance_margin"),
    ],
)
def test_bad_input_raises_a_clear_value_error(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "snapshots": [raydium(), drift()],
        "side": "buy",
        "qty_base": 1.0,
        "horizon_s": DAY,
        "reference_mid": REF,
        "max_leverage": 5.0,
        "equity": 1e6,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        choose_vehicle(**args)  # type: ignore[arg-type]
