"""A node without a routed executor trades one venue through the same executor in direct mode: each change
of exposure is one market order (a flip too), and it waits for the venue's events like any routed parent."""

from decimal import Decimal as D

import numpy as np
from scripted_venue import ScriptedVenue, perp

from botnft.data.bars import BarBatch
from botnft.domain.orders import OrderStatus, Side
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.node import TradingNode
from botnft.risk.gate import RiskGate
from botnft.risk.sizing import FixedSize

S = OrderStatus
BARS = BarBatch(*(np.array([x]) for x in (0, 100.0, 100.0, 100.0, 100.0, 1.0)), 60_000_000_000)


def make() -> tuple[TradingNode, ScriptedVenue]:
    venue = ScriptedVenue(perp())
    pf = Portfolio({venue.instrument.id: venue.instrument})
    pf.deposit("FAKE", "USDC", D(1_000_000))
    node = TradingNode(
        clock=SimClock(0),
        strategy=None,  # type: ignore[arg-type]  (signals come from the test)
        instrument=venue.instrument,
        venues={"FAKE": venue},
        portfolio=pf,
        sizer=FixedSize(D(10)),
        risk=RiskGate(),
        fee_rate=D(0),
    )
    return node, venue


def fill(node: TradingNode, venue: ScriptedVenue, k: int, qty: str, trade: str) -> None:
    order = node.oms.get(venue.requests[k])
    node.bus.publish(venue.filled(order, qty, trade))
    node.bus.drain()


def test_a_flip_is_one_market_order_and_a_reduction_is_reduce_only():
    node, venue = make()
    node.on_signal(BARS, 0, 1.0)
    fill(node, venue, 0, "10", "t1")
    node.on_signal(BARS, 0, -1.0)  # long 10 -> short 10: one sell of 20
    fill(node, venue, 1, "20", "t2")
    node.on_signal(BARS, 0, -0.5)  # short 10 -> short 5: a reduce-only buy of 5
    orders = [node.oms.get(c) for c in venue.requests]
    assert [(o.side, o.amount, o.price, o.reduce_only) for o in orders] == [
        (Side.BUY, D(10), None, False),
        (Side.SELL, D(20), None, False),
        (Side.BUY, D(5), None, True),
    ]
    assert node.record.arrivals == {c: D(100) for c in venue.requests}


def test_a_new_target_waits_for_the_open_order_and_sends_only_the_difference():
    node, venue = make()
    node.on_signal(BARS, 0, 1.0)  # buy 10: acknowledged only, the fill comes later
    node.on_signal(BARS, 0, 0.5)  # the target changes while the order is on its way
    assert len(venue.requests) == 1
    fill(node, venue, 0, "10", "t1")
    assert len(venue.requests) == 2
    second = node.oms.get(venue.requests[1])
    assert (second.side, second.amount) == (Side.SELL, D(5))
    fill(node, venue, 1, "5", "t2")
    assert node.portfolio.positions[venue.instrument.id].qty == D(5)
