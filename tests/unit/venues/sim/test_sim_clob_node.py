"""`SimClob` driven by the real trading node on bundled SOL data with `ema_cross`: fills pay the book's
slippage against the reference price, and the portfolio mirrors the venue's balances to the unit."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from botnft.backtest.driver import SimulationDriver
from botnft.data import bundle
from botnft.data.bars import BarBatch
from botnft.data.loader import load_candles
from botnft.domain.events import OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.domain.orders import Order, OrderStatus, OrderType, Side
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.node import TradingNode
from botnft.risk.gate import RiskGate, RiskLimits
from botnft.risk.sizing import CashFraction
from botnft.strategy.library import build as build_strategy
from botnft.venues.sim.book_replay import SimClob

INST = Spot(InstrumentId("SOL/USDT", "CEX"), "SOL", "USDT", D("0.01"), D("0.001"), D("0.001"))
CASH = D(1_000_000)
TAKER_BPS = D(10)


@pytest.fixture(scope="module")
def bars() -> BarBatch:
    return load_candles(bundle.get("sol-spot-1h").path).slice(40_000, 43_000)


def run(bars: BarBatch, batch: int, resting: Order | None = None) -> tuple[TradingNode, SimClob, Portfolio]:
    venue = SimClob(INST, taker_fee_bps=TAKER_BPS, balances={"USDT": CASH})
    portfolio = Portfolio({INST.id: INST})
    portfolio.deposit(INST.id.venue, INST.quote, CASH)
    clock = SimClock(int(bars.ts_ns[0]))
    node = TradingNode(
        clock=clock,
        strategy=build_strategy("ema_cross"),
        instrument=INST,
        venues={"CEX": venue},
        portfolio=portfolio,
        sizer=CashFraction(D("0.95")),
        risk=RiskGate(RiskLimits()),
        fee_rate=TAKER_BPS / 10_000,
    )
    if resting is not None:
        venue.set_cursor(bars, 0)
        node.oms.submit(resting, venue)
        node.bus.drain()
    driver = SimulationDriver(node, clock, {"CEX": venue})
    for chunk in bars.chunks(batch):
        driver.on_batch(chunk)
    return node, venue, portfolio


def test_market_orders_from_the_node_pay_slippage_away_from_the_reference_close(bars):
    node, _, _ = run(bars, 3_000)
    fills = node.record.fills
    assert len(fills) > 40 and not node.record.rejections
    assert all(f.liquidity == "taker" and f.reference_price is not None for f in fills)
    for f in fills:
        assert f.price % INST.tick_size == 0
        assert (f.price > f.reference_price) if f.side is Side.BUY else (f.price < f.reference_price)
    notional = sum(f.qty * f.price for f in fills)
    slip = sum(abs(f.price - f.reference_price) * f.qty for f in fills) / notional * 10_000
    # ~5,700 SOL a trade (95 % of $1 M at $100-190) walks about 10 bps into the book
    assert D(5) < slip < D(20)
    assert all(
        f.fee == (f.qty * f.price * TAKER_BPS / 10_000).quantize(D("1e-8"), "ROUND_CEILING") for f in fills
    )


def test_the_portfolio_mirrors_the_venue_balances_and_no_unit_is_created_or_lost(bars):
    _node, venue, portfolio = run(bars, 3_000)
    assert portfolio.balance("CEX", "USDT") == venue.fetch_balance()["USDT"]
    assert portfolio.balance("CEX", "SOL") == venue.fetch_balance()["SOL"]
    assert venue.ledger.residual() == {"SOL": 0, "USDT": 0}
    assert venue.fetch_open_orders() == []
    venue.book.check()


def test_a_batch_of_one_bar_and_a_batch_of_all_bars_give_the_same_fills_on_the_book(bars):
    def key(node: TradingNode) -> list[tuple[int, Side, D, D, D]]:
        return [
            (f.ts_ns, f.side, f.qty, f.price, f.fee) for f in node.record.fills if isinstance(f, OrderFilled)
        ]

    small = bars.slice(0, 800)
    one, _, _ = run(small, 1)
    everything, _, _ = run(small, 800)
    assert key(one) == key(everything) and key(one)


def test_a_resting_bid_sent_through_the_order_manager_is_filled_by_the_node_when_the_price_falls(bars):
    first = D(repr(float(bars.close[0])))
    price = (first * D("0.97")).quantize(D("0.01"))
    bid = Order("rest", INST.id, Side.BUY, D(10), int(bars.ts_ns[0]) + bars.interval_ns,
                order_type=OrderType.LIMIT, price=price)  # fmt: skip
    node, venue, portfolio = run(bars.slice(0, 600), 600, resting=bid)
    [fill] = [f for f in node.record.fills if f.client_order_id == "rest"]
    j = int((fill.ts_ns - bars.ts_ns[0]) // bars.interval_ns)
    assert float(bars.low[j]) < float(price) and min(bars.low[1:j]) >= float(price)
    assert (fill.price, fill.qty, fill.liquidity) == (price, D(10), "maker")
    assert fill.fee == (price * 10 * TAKER_BPS / 10_000).quantize(D("1e-8"), "ROUND_FLOOR")
    assert bid.status is OrderStatus.FILLED
    assert portfolio.balance("CEX", "SOL") == venue.fetch_balance()["SOL"]
    assert portfolio.balance("CEX", "USDT") == venue.fetch_balance()["USDT"]
