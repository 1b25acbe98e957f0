"""Account events from a venue's stream (funding, liquidation, insurance payout) change the portfolio once,
however often a repeating stream delivers them."""

from decimal import Decimal as D

from scripted_venue import ScriptedVenue, perp

from botnft.domain.events import BankruptcyResolved, FundingApplied, OrderFilled, PositionLiquidated
from botnft.domain.orders import Side
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.node import TradingNode
from botnft.risk.gate import RiskGate
from botnft.risk.sizing import FixedSize


def node() -> tuple[TradingNode, Portfolio]:
    inst = perp()
    pf = Portfolio({inst.id: inst})
    pf.deposit("FAKE", "USDC", D(1000))
    n = TradingNode(
        clock=SimClock(0),
        strategy=None,  # type: ignore[arg-type]
        instrument=inst,
        venues={"FAKE": ScriptedVenue(inst)},
        portfolio=pf,
        sizer=FixedSize(D(1)),
        risk=RiskGate(),
        fee_rate=D(0),
    )
    return n, pf


def test_a_funding_payment_delivered_twice_is_paid_once():
    n, pf = node()
    pay = FundingApplied(5, perp().id, D(0), D("0.0001"), D(100), D("1.25"))
    for e in (pay, pay):
        n.bus.publish(e)
    n.bus.drain()
    assert pf.balance("FAKE", "USDC") == D("998.75")
    assert n.record.funding == [pay]


def test_two_payments_at_different_times_are_both_paid():
    n, pf = node()
    for ts in (5, 6):
        n.bus.publish(FundingApplied(ts, perp().id, D(0), D("0.0001"), D(100), D("1.25")))
    n.bus.drain()
    assert pf.balance("FAKE", "USDC") == D("997.50")


def test_an_insurance_payout_and_a_liquidation_delivered_twice_count_once():
    n, pf = node()
    inst = perp().id
    pf.apply_fill(OrderFilled(1, "O-1", inst, Side.BUY, D(2), D(100), D(0), "USDC"))
    payout = BankruptcyResolved(7, inst, D(3))
    liq = PositionLiquidated(7, inst, D(1), D(100), D(0))
    for e in (payout, liq, payout, liq):
        n.bus.publish(e)
    n.bus.drain()
    assert pf.positions[inst].qty == D(1)  # 2 held, 1 liquidated once
    assert pf.balance("FAKE", "USDC") == D(1003)
    assert n.record.liquidations == [liq]


def test_distinct_payments_at_one_time_are_each_paid_and_an_equal_copy_is_not() -> None:
    n, pf = node()
    first = FundingApplied(5, perp().id, D(0), D("0.0001"), D(100), D("1.25"))
    second = FundingApplied(5, perp().id, D(0), D("0.0001"), D(100), D("0.5"))  # same time, other payment
    copy = FundingApplied(5, perp().id, D("0.0"), D("0.00010"), D(100), D("1.250"))  # equal to `first`
    for e in (first, second, copy, second):
        n.bus.publish(e)
    n.bus.drain()
    assert pf.balance("FAKE", "USDC") == D(1000) - D("1.25") - D("0.5") == D("998.25")
    assert n.record.funding == [first, second]
