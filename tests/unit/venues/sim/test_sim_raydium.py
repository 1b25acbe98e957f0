"""SimRaydium: swaps against AMM v4, CPMM and CLMM pools with the program math, rejections as events,
arbitrage replay to the reference price, and a run of the real trading node against each pool."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import numpy as np
import pytest

from botnft.backtest.driver import SimulationDriver
from botnft.bootstrap import load_market_data
from botnft.data.bars import BarBatch
from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.node import TradingNode
from botnft.ports import SimulatedVenue
from botnft.risk.gate import RiskGate, RiskLimits
from botnft.risk.sizing import CashFraction
from botnft.strategy.library import build as build_strategy
from botnft.venues.sim.raydium import SimRaydium, to_units
from botnft.venues.sim.raydium_config import CpmmTerms, PoolConfig, from_price
from botnft.venues.sim.raydium_math import (
    amm_v4_swap_base_in,
    amm_v4_swap_base_out,
    cpmm_swap_base_input,
    cpmm_swap_base_output,
)

HOUR = 3_600_000_000_000
KINDS = ("amm_v4", "cpmm", "clmm")
NAMES = {"amm_v4": "RAYDIUM", "cpmm": "RAYDIUM_CPMM", "clmm": "RAYDIUM_CLMM"}


def bars_of(*closes: float) -> BarBatch:
    c = np.array(closes, dtype=np.float64)
    return BarBatch(np.arange(len(c), dtype=np.int64) * HOUR, c, c, c, c, np.ones(len(c)), HOUR)


def venue(kind: str, *, usdc: int = 10_000_000, sol: int = 100_000, price: float = 150.0) -> SimRaydium:
    v = SimRaydium(from_price(price, kind=kind), name=NAMES[kind], balances={"USDC": D(usdc), "SOL": D(sol)})
    v.set_cursor(bars_of(price), 0)
    return v


def order(v: SimRaydium, side: Side, qty: str, **kw: object) -> Order:
    return Order(f"o-{side.value}-{qty}", v.instrument.id, side, D(qty), 7, **kw)  # type: ignore[arg-type]


def fill(v: SimRaydium, side: Side, qty: str, **kw: object) -> OrderFilled:
    (ev,) = v.create_order(order(v, side, qty, **kw))
    assert isinstance(ev, OrderFilled), ev
    return ev


def reject(v: SimRaydium, o: Order) -> OrderRejected:
    before = v.ledger()
    (ev,) = v.create_order(o)
    assert isinstance(ev, OrderRejected), ev
    assert v.ledger() == before, "a rejected order must leave every ledger untouched"
    return ev


def all_in(f: OrderFilled) -> D:
    """The average price the account really got: fee included."""
    assert f.quote_qty is not None
    total = f.quote_qty + f.fee if f.side is Side.BUY else f.quote_qty - f.fee
    return total / f.qty


# ---------------------------------------------------------------------------------------------- swaps


@pytest.mark.parametrize("kind", KINDS)
def test_a_pool_kind_is_a_venue_named_after_it_listing_sol_usdc(kind: str) -> None:
    v = venue(kind)
    assert isinstance(v, SimulatedVenue)
    assert list(v.instruments()) == [InstrumentId("SOL/USDC", NAMES[kind])]
    assert v.fetch_positions() == {} and v.fetch_open_orders() == [] and v.cancel_order("x") == []
    b = bars_of(150.0, 151.0, 152.0)
    assert v.next_event_index(b, 0, 3) == 3 and v.process(b, 1) == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_buy_fills_exactly_the_requested_base_and_pays_the_program_maths_input(kind: str) -> None:
    v = venue(kind)
    rb, rq = v.engine.reserves()
    clmm = getattr(v.engine, "pool", None)
    usdc_before = v.account[1]
    f = fill(v, Side.BUY, "250")
    out = 250 * 10**9
    if kind == "amm_v4":
        expected = amm_v4_swap_base_out(out, rq, rb)
    elif kind == "cpmm":
        t = v.config.terms
        expected = cpmm_swap_base_output(
            out,
            rq,
            rb,
            trade_fee_rate=t.trade_fee_rate,
            protocol_fee_rate=t.protocol_fee_rate,  # type: ignore[union-attr]
            fund_fee_rate=t.fund_fee_rate,  # type: ignore[union-attr]
        ).input_amount
    else:
        assert clmm is not None
        expected = clmm.swap(out, False, False, require_full_fill=True).amount_in
    assert f.qty == D(250) and v.fetch_balance()["SOL"] == D(100_250)
    assert usdc_before - v.account[1] == expected
    assert f.quote_qty is not None and f.quote_qty + f.fee == to_units(expected, v.tokens[1])
    assert f.fee_asset == "USDC" and f.fee > 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_buys_average_price_is_above_the_reference_and_grows_with_size(kind: str) -> None:
    prices = [all_in(fill(venue(kind), Side.BUY, qty)) for qty in ("1", "10", "100", "1000")]
    assert D(150) < prices[0] < prices[1] < prices[2] < prices[3]


@pytest.mark.parametrize("kind", KINDS)
def test_a_sell_spends_exactly_the_requested_base_and_receives_the_program_maths_output(kind: str) -> None:
    v = venue(kind)
    rb, rq = v.engine.reserves()
    clmm = getattr(v.engine, "pool", None)
    f = fill(v, Side.SELL, "250")
    got = v.swaps[-1].quote_delta
    if kind == "amm_v4":
        assert got == amm_v4_swap_base_in(250 * 10**9, rb, rq)
    elif kind == "cpmm":
        t = v.config.terms
        assert isinstance(t, CpmmTerms)
        r = cpmm_swap_base_input(
            250 * 10**9,
            rb,
            rq,
            trade_fee_rate=t.trade_fee_rate,
            protocol_fee_rate=t.protocol_fee_rate,
            fund_fee_rate=t.fund_fee_rate,
        )
        assert got == r.output
    else:
        assert clmm is not None and got == clmm.swap(250 * 10**9, True, True).amount_out
    assert f.qty == D(250) and v.fetch_balance()["SOL"] == D(100_000 - 250)
    assert f.quote_qty is not None and f.quote_qty - f.fee == to_units(got, v.tokens[1])
    prices = [all_in(fill(venue(kind), Side.SELL, qty)) for qty in ("1", "10", "100", "1000")]
    assert D(150) > prices[0] > prices[1] > prices[2] > prices[3]


def test_a_sells_base_fee_is_reported_in_quote_at_the_swaps_curve_price() -> None:
    v = venue("amm_v4")
    f = fill(v, Side.SELL, "100")
    rec = v.swaps[-1]
    assert rec.fee_base == -(-100 * 10**9 * 25 // 10_000) and rec.fee_quote == 0  # ceil(in * 25 / 10000)
    curve_base = 100 * 10**9 - rec.fee_base
    assert rec.fee_reported == -(-rec.fee_base * rec.quote_delta // curve_base)  # rounded up to 1e-6
    assert f.fee == to_units(rec.fee_reported, v.tokens[1])
    assert f.price == (f.quote_qty / f.qty).quantize(D("1e-8"))  # type: ignore[operator]
    assert v.ledger()["account_fees"] == {"SOL": rec.fee_base, "USDC": 0}


def test_the_three_pool_kinds_trade_side_by_side_as_three_venues() -> None:
    venues = {k: venue(k) for k in KINDS}
    for k, v in venues.items():
        f = fill(v, Side.BUY, "10")
        assert f.instrument.venue == NAMES[k]
    cheapest = min(venues, key=lambda k: venues[k].swaps[-1].quote_delta * -1)
    assert cheapest == "clmm"  # concentrated liquidity and a 0.05 % fee beat 0.25 % full-range pools


# ------------------------------------------------------------------------------------------ rejections


@pytest.mark.parametrize("kind", KINDS)
def test_rejections_are_events_with_specific_reasons_and_change_nothing(kind: str) -> None:
    v = venue(kind, usdc=1_000, sol=1)
    assert reject(v, order(v, Side.BUY, "0.0001")).reason == "below_min_size"
    assert reject(v, order(v, Side.BUY, "1.0000000001")).reason == "off_lot"
    assert reject(v, order(v, Side.BUY, "1000000")).reason == "exceeds_reserves"
    assert reject(v, order(v, Side.BUY, "100")).reason == "insufficient_funds"
    assert reject(v, order(v, Side.SELL, "2")).reason == "insufficient_funds"
    other = Order("x", InstrumentId("SOL/USDC", "ORCA"), Side.BUY, D(1), 7)
    assert reject(v, other).reason == "unknown_instrument"
    limit = order(v, Side.BUY, "1", order_type=OrderType.LIMIT, price=D(200))
    assert reject(v, limit).reason == "unsupported_order_type"
    stop = order(v, Side.SELL, "1", order_type=OrderType.STOP_MARKET, trigger_price=D(100))
    assert reject(v, stop).reason == "unsupported_order_type"


@pytest.mark.parametrize("kind", KINDS)
def test_a_price_guard_rejects_a_swap_whose_average_price_is_worse(kind: str) -> None:
    v = venue(kind)
    ev = reject(v, order(v, Side.BUY, "10", price=D(150)))
    assert ev.reason == "slippage" and "buy would pay" in ev.message
    assert reject(v, order(v, Side.SELL, "10", price=D(150))).reason == "slippage"
    ioc = order(v, Side.BUY, "10", order_type=OrderType.LIMIT, price=D(152), tif=TimeInForce.IOC)
    (ok,) = v.create_order(ioc)
    assert isinstance(ok, OrderFilled) and all_in(ok) <= D(152)
    assert isinstance(fill(v, Side.SELL, "10", price=D(148)), OrderFilled)


def test_an_infinite_size_or_a_non_positive_guard_price_is_rejected_not_raised() -> None:
    v = venue("amm_v4")
    assert reject(v, order(v, Side.BUY, "Infinity")).reason == "off_lot"
    assert reject(v, order(v, Side.BUY, "1", price=D(0))).reason == "invalid_price"


def test_a_pool_without_a_market_reference_trades_at_its_own_price_and_reports_it() -> None:
    v = SimRaydium(from_price(150), balances={"USDC": D(1_000)})
    f = fill(v, Side.BUY, "1")
    assert f.reference_price == D("150.00000000") and all_in(f) > 150 and v.arbitrages == 0


def test_a_bar_without_a_usable_close_is_corrupt_data_and_fails_fast() -> None:
    from botnft.domain.errors import DataError

    with pytest.raises(DataError):
        venue("cpmm").set_cursor(bars_of(150.0, float("nan")), 1)


def test_a_buy_beyond_a_constant_product_pools_base_reserve_is_rejected() -> None:
    v = venue("amm_v4", usdc=10**9)
    reserve = D(v.reserves()["SOL"]) / 10**9
    assert reject(v, order(v, Side.BUY, str(reserve.to_integral_value() + 1))).reason == "exceeds_reserves"


def test_a_bad_pool_config_or_balance_is_a_user_error() -> None:
    from botnft.domain.errors import UserError

    with pytest.raises(UserError):
        SimRaydium(from_price(150), balances={"USDC": D("0.0000001")})
    with pytest.raises(UserError):
        SimRaydium(from_price(150), balances={"BONK": D(1)})
    with pytest.raises(UserError):
        from_price(150, kind="whirlpool")  # type: ignore[arg-type]
    with pytest.raises(UserError):
        PoolConfig(from_price(150).terms, base_reserve=0, quote_reserve=1)


# ---------------------------------------------------------------------------------------------- replay


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("new_price", [165.0, 131.5, 400.0, 40.0])
def test_after_set_cursor_the_pool_is_within_the_fee_band_of_the_reference(
    kind: str, new_price: float
) -> None:
    v = venue(kind)
    v.set_cursor(bars_of(150.0, new_price), 1)
    ref = Fraction(new_price)
    gamma = v.engine.fee_factor
    assert ref * gamma <= v.marginal_price() <= ref / gamma
    arb = v.ledger()["arbitrageur"]
    if new_price > 150:  # arbitrageurs bought SOL from the pool with USDC
        assert arb["SOL"] > 0 and arb["USDC"] < 0
    else:
        assert arb["SOL"] < 0 and arb["USDC"] > 0
    assert v.totals() == v.initial_totals
    assert v.fetch_balance() == {"SOL": D(100_000), "USDC": D(10_000_000)}


@pytest.mark.parametrize("kind", KINDS)
def test_no_arbitrage_happens_while_the_price_is_within_the_fee_band(kind: str) -> None:
    v = venue(kind)
    before = v.ledger()
    inside = 150 * (1 + float(1 - v.engine.fee_factor) / 3)
    v.set_cursor(bars_of(150.0, inside), 1)
    assert v.arbitrages == 0 and v.ledger() == before


@pytest.mark.parametrize("kind", KINDS)
def test_the_accounts_own_impact_is_arbitraged_away_before_its_next_swap(kind: str) -> None:
    v = venue(kind)
    fill(v, Side.BUY, {"amm_v4": "2000", "cpmm": "500", "clmm": "8000"}[kind])
    assert v.marginal_price() > 151
    n = v.arbitrages
    f = fill(v, Side.BUY, "1")
    assert v.arbitrages == n + 1 and all_in(f) < 151


def test_a_clmm_recenters_its_lp_bands_when_the_price_leaves_them() -> None:
    v = venue("clmm")
    v.set_cursor(bars_of(150.0, 450.0), 1)
    assert v.marginal_price() == pytest.approx(450, rel=1e-9)
    lp = v.ledger()["liquidity_providers"]
    assert lp != {"SOL": 0, "USDC": 0}
    f = fill(v, Side.BUY, "10")
    assert D(450) < all_in(f) < D("451")  # deep again around the new price
    assert v.totals() == v.initial_totals


def test_a_clmm_without_recentering_runs_out_of_liquidity_above_its_ranges() -> None:
    from dataclasses import replace

    v = SimRaydium(replace(from_price(150, kind="clmm"), recenter=False), balances={"USDC": D(10**7)})
    v.set_cursor(bars_of(150.0, 450.0), 1)
    assert v.marginal_price() < 300  # stuck at its highest initialized tick
    assert reject(v, order(v, Side.BUY, "1")).reason == "exceeds_reserves"
    assert v.totals() == v.initial_totals


def test_lp_fees_accrue_in_the_pool_and_protocol_fees_are_kept_apart() -> None:
    v = venue("cpmm")
    fill(v, Side.BUY, "100")
    led = v.ledger()
    rec = v.swaps[-1]
    assert (
        led["lp_fees_earned"]["USDC"] + led["protocol_fees"]["USDC"] + led["fund_fees"]["USDC"]
        == rec.fee_quote
    )
    assert led["protocol_fees"]["USDC"] == rec.fee_quote * 120_000 // 10**6
    assert led["fund_fees"]["USDC"] == rec.fee_quote * 40_000 // 10**6


# ------------------------------------------------------------------------------------------------ node


@pytest.fixture(scope="module")
def sol_bars() -> BarBatch:
    return load_market_data("sol-spot-1h").bars.slice(20_000, 23_000)


@pytest.mark.parametrize("kind", KINDS)
def test_the_node_trades_ema_cross_against_a_pool_and_the_portfolio_mirrors_the_venue(
    kind: str, sol_bars: BarBatch
) -> None:
    name = NAMES[kind]
    cash = D(10_000)  # SOL is near $13 here: $10k is 1 % of the $2M CPMM pool's quote side
    v = SimRaydium(from_price(float(sol_bars.close[0]), kind=kind), name=name, balances={"USDC": cash})
    inst = v.instrument
    portfolio = Portfolio({inst.id: inst})
    portfolio.deposit(name, "USDC", cash)
    clock = SimClock(int(sol_bars.ts_ns[0]))
    node = TradingNode(
        clock=clock,
        strategy=build_strategy("ema_cross"),
        instrument=inst,
        venues={name: v},
        portfolio=portfolio,
        sizer=CashFraction(D("0.95")),
        risk=RiskGate(RiskLimits()),
        fee_rate=D("0.0025"),
    )
    record = SimulationDriver(node, clock, {name: v}).run(sol_bars.chunks(700))
    fills = record.fills
    assert len(fills) > 20 and not record.rejections
    for f in fills:
        j = int(np.searchsorted(sol_bars.ts_ns, f.ts_ns - HOUR))
        assert f.reference_price == D(repr(float(sol_bars.close[j])))
        if f.side is Side.BUY:
            assert all_in(f) > f.reference_price
        else:
            assert all_in(f) < f.reference_price
    for rec in v.swaps:  # fees aside, the average price moves against the account from the pool's price
        if rec.side is Side.BUY:
            curve = Fraction(-rec.quote_delta - rec.fee_quote, rec.base_delta + rec.fee_base) * 1000
            assert curve > rec.marginal_before
        else:
            curve = Fraction(rec.quote_delta + rec.fee_quote, -rec.base_delta - rec.fee_base) * 1000
            assert curve < rec.marginal_before
    assert portfolio.balance(name, "USDC") == v.fetch_balance()["USDC"]
    assert portfolio.balance(name, "SOL") == v.fetch_balance()["SOL"]
    assert v.totals() == v.initial_totals
    assert v.arbitrages > 0


def _fresh(v: SimRaydium) -> tuple[object, ...]:
    """The router's snapshot built from nothing, with the fields equality leaves out."""
    s = v._snapshot()
    return (s, getattr(s, "float_reserves", None))


@pytest.mark.parametrize("kind", KINDS)
def test_a_pool_snapshot_lent_by_the_last_one_is_the_snapshot_built_from_nothing(kind: str) -> None:
    """A later bar with the pool unmoved reuses the last snapshot's price or reserves; a moved pool does
    not: at every step the router's snapshot equals one built from nothing (ts, network fee included)."""
    v = venue(kind)
    b = bars_of(150.0, 150.0, 150.0, 163.0)
    for j, trade in ((0, None), (1, None), (2, Side.BUY), (3, None)):
        if trade is not None:
            fill(v, trade, "3")
        v.set_cursor(b, j)
        s = v.liquidity(v.instrument.id)
        assert s is not None and (s, getattr(s, "float_reserves", None)) == _fresh(v)
        assert s.ts_ns == j * HOUR + HOUR
        assert s.fee_bps == (1 - D(v.engine.fee_factor.numerator) / v.engine.fee_factor.denominator) * 10_000
        assert v.marginal_price() == v.engine.price() * Fraction(10**9, 10**6)  # SOL 9, USDC 6 decimals
        if kind == "clmm":  # the marginal price as the Fraction gives it, to the digit
            mp = v.marginal_price()
            assert str(s.price) == str(D(mp.numerator) / D(mp.denominator))  # type: ignore[union-attr]
