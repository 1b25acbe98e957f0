"""The trading node end to end on bundled data: batch-size invariance, fill models, funding, risk."""

from decimal import Decimal as D

import numpy as np
import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest, load_market_data
from botnft.data.bars import BarBatch, FundingSeries, MarketData


@pytest.fixture(scope="module")
def spot_data():
    md = load_market_data("sol-spot-1h")
    return MarketData(md.name, md.market, md.base, md.bars.slice(20_000, 23_000), None)


@pytest.fixture(scope="module")
def perp_data():
    md = load_market_data("sol-perp-1h")
    return MarketData(md.name, md.market, md.base, md.bars.slice(0, 3_000), md.funding)


def fills_of(session):
    return [(f.ts_ns, f.side, f.qty, f.price, f.fee) for f in session.node.record.fills]


@pytest.mark.parametrize("fill", ["close", "next-open"])
def test_a_batch_of_one_bar_and_a_batch_of_all_bars_give_the_same_fills(spot_data, fill):
    runs = []
    for batch in (1, 7, 3_000):
        s = build_backtest(BacktestSpec(strategy="sma_cross", fill=fill, batch_bars=batch), spot_data)
        r = run_backtest(s)
        runs.append((fills_of(s), r.stats.to_json()["final_equity"], r.equity.tobytes()))
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0][0]) > 20


def test_close_fills_trade_at_the_signal_bar_close_and_next_open_at_the_next_open(spot_data):
    bars = spot_data.bars
    for fill, column, back in (("close", bars.close, 1), ("next-open", bars.open, 0)):
        s = build_backtest(BacktestSpec(strategy="sma_cross", fill=fill, size=D(1)), spot_data)
        run_backtest(s)
        for f in s.node.record.fills[:5]:
            # a close fill is stamped at its bar end (the next open time); a next-open fill at that open
            j = int(np.searchsorted(bars.ts_ns, f.ts_ns, "left")) - back
            assert f.price == D(repr(float(column[j])))


def test_fees_are_charged_in_bps_of_notional(spot_data):
    s = build_backtest(BacktestSpec(strategy="sma_cross", fee_bps=D(25), size=D(2), fill="close"), spot_data)
    run_backtest(s)
    for f in s.node.record.fills:
        assert f.fee == (f.qty * f.price * D("0.0025")).quantize(D("1e-8"))


def test_the_portfolio_mirrors_the_venue_ledger_exactly(spot_data):
    s = build_backtest(BacktestSpec(strategy="ema_cross"), spot_data)
    run_backtest(s)
    venue = s.node.venues["SIM"]
    assert s.portfolio.balance("SIM", "USDT") == venue.balances["USDT"]
    assert s.portfolio.balance("SIM", "SOL") == venue.balances["SOL"]
    # no money created or destroyed: account + fees + counterparty == deposit
    assert venue.balances["USDT"] + venue.fees_collected + venue.counterparty["USDT"] == D(100_000)
    assert venue.balances["SOL"] + venue.counterparty["SOL"] == 0


def test_funding_is_charged_at_each_funding_time_to_the_open_position(perp_data):
    s = build_backtest(BacktestSpec(strategy="ema_cross", params={"short": "true"}, venue="perp"), perp_data)
    r = run_backtest(s)
    events = s.node.record.funding
    assert events, "a long/short strategy over 3,000 hours must pay or receive funding"
    times = set(perp_data.funding.ts_ns.tolist())
    for e in events:
        assert e.ts_ns in times
        assert e.payment == (e.position_qty * e.mark_price * e.rate).quantize(D("1e-8"))
    assert D(r.stats.to_json()["funding_paid"]) == sum(e.payment for e in events)
    venue = s.node.venues["PERP"]
    assert venue.collateral + venue.fees_collected + venue.counterparty == D(100_000)


def test_funding_is_not_charged_while_flat():
    n = 200
    ts = np.arange(n, dtype=np.int64) * 3_600_000_000_000
    flat = np.full(n, 100.0)
    bars = BarBatch(ts, flat, flat, flat, flat, np.ones(n), 3_600_000_000_000)
    funding = FundingSeries(ts[::8], np.full(len(ts[::8]), 0.001))
    s = build_backtest(
        BacktestSpec(strategy="sma_cross", venue="perp"), MarketData("flat", "perp", "SOL", bars, funding)
    )
    r = run_backtest(s)
    assert r.stats.to_json()["fills"] == 0 and r.stats.to_json()["funding_paid"] == "0"


def test_an_order_beyond_the_cash_is_refused_by_the_risk_gate(spot_data):
    s = build_backtest(BacktestSpec(strategy="sma_cross", size=D(1_000_000), fill="close"), spot_data)
    r = run_backtest(s)
    assert r.stats.to_json()["fills"] == 0 and r.stats.to_json()["rejections"] > 0
    assert all(e.reason == "risk_denied" for e in s.node.record.rejections)
    assert s.node.risk.denied == r.stats.to_json()["rejections"]


def test_perp_orders_above_the_leverage_limit_are_refused(perp_data):
    s = build_backtest(BacktestSpec(strategy="sma_cross", size=D(100_000), cash=D(1_000)), perp_data)
    r = run_backtest(s)
    assert r.stats.to_json()["fills"] == 0
    assert {e.reason for e in s.node.record.rejections} == {"risk_denied"}
    assert "leverage" in s.node.record.rejections[0].message
