"""The routed executor against scripted venues that ack late, fill in parts, time out, refuse (429-like),
repeat and reorder events, and fill after a cancel request: it accounts what fill events say, once."""

from decimal import Decimal as D

import numpy as np
from scripted_venue import LANDS, ScriptedVenue, perp

from botnft.data.bars import BarBatch
from botnft.domain.errors import RateLimited, RequestTimeout
from botnft.domain.orders import OrderStatus, Side
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.executor import Executor, RouteConfig
from botnft.engine.node import TradingNode
from botnft.risk.gate import RiskGate, RiskLimits
from botnft.risk.sizing import FixedSize
from botnft.routing.adapt import to_source

SEC = 1_000_000_000
S = OrderStatus
BARS = BarBatch(*(np.array([x]) for x in (0, 100.0, 100.0, 100.0, 100.0, 1.0)), 60 * SEC)


class Harness:
    def __init__(self, *venues: ScriptedVenue, timeout_s: int | None = None):
        self.clock = SimClock(0)
        self.venues = {v.name: v for v in venues}
        instruments = {v.instrument.id: v.instrument for v in venues}
        self.portfolio = Portfolio(instruments)
        for v in venues:
            self.portfolio.deposit(v.name, "USDC", D(1_000_000))
        first = venues[0].instrument
        self.node = TradingNode(
            clock=self.clock,
            strategy=None,  # type: ignore[arg-type]  (signals come from the test)
            instrument=first,
            venues=self.venues,
            portfolio=self.portfolio,
            sizer=FixedSize(D(1)),
            risk=RiskGate(RiskLimits()),
            fee_rate=D(0),
        )
        self.executor = Executor(
            base="SOL",
            venues=self.venues,
            instruments=instruments,
            portfolio=self.portfolio,
            oms=self.node.oms,
            risk=self.node.risk,
            drain=self.node.bus.drain,
            ids=self.node.ids,
            to_source=lambda snap, side: to_source(snap, "buy" if side == "buy" else "sell"),
            config=RouteConfig(child_timeout_ns=None if timeout_s is None else timeout_s * SEC),
            clock=self.clock,
        )
        self.node.attach_executor(self.executor)

    def target(self, qty: str) -> None:
        self.executor.execute(BARS, 0, self.clock.now_ns(), D(qty))

    def stream(self, *events) -> None:
        for e in events:
            self.node.bus.publish(e)
        self.node.bus.drain()

    def at(self, seconds: float) -> None:
        self.clock.advance_to(int(seconds * SEC))
        self.node.bus.drain()

    def position(self) -> D:
        return self.portfolio.exposure_in("SOL")

    def order(self, venue: ScriptedVenue, k: int = 0):
        return self.node.oms.get(venue.requests[k])


def test_a_child_acknowledged_late_and_filled_in_parts_counts_each_fill_once():
    a = ScriptedVenue(perp("A"))
    h = Harness(a)
    h.target("10")
    child = h.order(a)
    assert child.status is S.SUBMITTED and h.position() == 0  # sent is not filled
    assert h.executor.busy
    f1, f2 = a.filled(child, "4", "t1"), a.filled(child, "6", "t2")
    h.stream(f1, f1, a.accepted(child.client_order_id), f2, f2)  # a fill before the ack; repeats
    assert child.status is S.FILLED and h.position() == D(10)
    assert h.node.record.fills == [f1, f2]
    row = h.executor.stats.per_venue["A"]
    assert row.fills == 2 and row.qty == D(10)
    assert not h.executor.busy


def test_a_child_past_its_deadline_is_canceled_and_its_rest_rerouted_once_the_cancel_is_confirmed():
    a, b = ScriptedVenue(perp("A")), ScriptedVenue(perp("B"), price=D("100.02"))
    h = Harness(a, b, timeout_s=5)
    h.target("10")
    assert len(a.requests) == 1 and b.requests == []  # A is cheaper: all of it goes there
    child = h.order(a)
    h.stream(a.accepted(child.client_order_id), a.filled(child, "3", "t1"))
    h.at(4.9)
    assert a.cancels == []
    h.at(5)
    assert a.cancels == [child.client_order_id] and child.status is S.PENDING_CANCEL
    h.stream(a.filled(child, "2", "t2"))  # it traded while the cancel was on its way
    assert b.requests == [] and h.position() == D(5)  # no re-route before the venue confirms
    h.stream(a.canceled(child.client_order_id))
    assert len(b.requests) == 1
    rest = h.order(b)
    assert rest.amount == D(5) and rest.side is Side.BUY
    h.stream(b.accepted(rest.client_order_id), b.filled(rest, "5", "u1"))
    assert h.position() == D(10) and not h.executor.busy
    assert h.executor.stats.reroutes == 1 and h.executor.stats.children == 2


def test_a_rate_limited_child_is_sent_again_after_a_backoff_with_the_same_id():
    a = ScriptedVenue(perp("A"), script=[RateLimited("429 too many requests")])
    h = Harness(a)
    h.target("2")
    child = h.order(a)
    assert child.status is S.PENDING_SUBMIT and a.requests == [child.client_order_id]
    h.at(h.clock.next_time_ns() / SEC)
    assert a.requests == [child.client_order_id] * 2 and child.status is S.SUBMITTED
    h.stream(a.filled(child, "2", "t1"))
    assert h.position() == D(2) and h.executor.stats.children == 1


def test_a_fill_reported_after_the_cancel_is_applied_once_and_not_rerouted_twice():
    a, b = ScriptedVenue(perp("A")), ScriptedVenue(perp("B"), price=D("100.02"))
    h = Harness(a, b, timeout_s=5)
    h.target("10")
    child = h.order(a)
    h.stream(a.accepted(child.client_order_id))
    h.at(5)
    h.stream(a.canceled(child.client_order_id))  # confirmed: all 10 go to B
    rest = h.order(b)
    assert rest.amount == D(10)
    late = a.filled(child, "4", "t1")  # A's fill from before the cancel arrives after it
    h.stream(late, b.filled(rest, "10", "u1"), late)
    assert child.status is S.CANCELED and child.filled == D(4)
    assert h.position() == D(14)  # every fill counted exactly once: the next target corrects it
    assert sum(f.qty for f in h.node.record.fills) == D(14) and len(h.node.record.fills) == 2


def test_a_new_target_while_children_are_in_flight_waits_and_counts_them():
    a = ScriptedVenue(perp("A"))
    h = Harness(a)
    h.target("10")
    h.target("4")  # the first parent still waits for its child's events
    assert len(a.requests) == 1
    first = h.order(a)
    h.stream(a.accepted(first.client_order_id), a.filled(first, "10", "t1"))
    second = h.order(a, 1)
    assert second.side is Side.SELL and second.amount == D(6)


def test_a_resting_child_counts_as_on_its_way_for_the_next_target():
    a = ScriptedVenue(perp("A"))
    h = Harness(a)  # no deadline: a resting child is left to work
    h.target("10")
    first = h.order(a)
    h.stream(a.accepted(first.client_order_id))
    assert not h.executor.busy  # the leg went on: the child rests at the venue
    h.target("10")
    assert len(a.requests) == 1  # nothing more to send: 10 are on their way
    h.stream(a.canceled(first.client_order_id))  # the venue drops it unfilled
    assert h.executor.stats.unfilled == D(10)


def test_a_child_still_refused_at_its_deadline_is_dropped_here_and_its_size_rerouted():
    a = ScriptedVenue(perp("A"), script=[RateLimited("429")] * 10)
    b = ScriptedVenue(perp("B"), price=D("100.02"))
    h = Harness(a, b, timeout_s=1)
    h.node.oms.backoff_ns = 10 * SEC  # the retry would come after the deadline
    h.target("3")
    child = h.order(a)
    h.at(1)
    assert child.status is S.CANCELED and a.cancels == []  # never at the venue: nothing to ask it
    assert h.order(b).amount == D(3)
    h.at(60)
    assert a.requests == [child.client_order_id]  # the dropped order is not sent again


def test_a_child_whose_request_got_no_answer_is_not_rerouted_while_it_may_still_trade():
    a = ScriptedVenue(perp("A"), script=[LANDS], fetch_script=[RequestTimeout("rpc busy")] * 3)
    b = ScriptedVenue(perp("B"), price=D("100.02"))
    h = Harness(a, b, timeout_s=1)
    h.target("3")
    child = h.order(a)
    assert child.status is S.UNKNOWN
    h.at(1)
    assert b.requests == [] and a.cancels == []  # unknown: neither cancelled blindly nor re-routed
    h.stream(a.filled(child, "3", "t1"))  # the stream shows it traded after all
    assert h.position() == D(3) and b.requests == [] and not h.executor.busy


def test_the_risk_gate_counts_what_rests_at_the_venue_so_two_parents_cannot_pass_the_position_limit():
    a = ScriptedVenue(perp("A"))
    h = Harness(a)
    h.node.risk.limits = RiskLimits(max_position_notional=D(250))  # 2.5 SOL at 100
    h.target("2")
    first = h.order(a)
    h.stream(a.accepted(first.client_order_id))  # resting, not filled: the parent goes on
    assert not h.executor.busy
    h.target("3")  # 1 more on top of the 2 resting would make 3 SOL = 300 > 250
    assert len(a.requests) == 1 and h.node.risk.denied == 1
    h.stream(a.filled(first, "2", "t1"))
    assert h.position() == D(2)


def test_a_resting_sell_is_not_credited_to_a_buy_as_if_it_had_already_filled():
    a = ScriptedVenue(perp("A"))
    h = Harness(a)
    h.node.risk.limits = RiskLimits(max_position_notional=D(250))  # 2.5 SOL at 100
    h.target("2")
    h.stream(a.filled(h.order(a), "2", "t1"))
    h.target("1")
    sell = h.order(a, 1)
    h.stream(a.accepted(sell.client_order_id))  # resting: the position is still 2
    h.target("2")  # a buy of 1 now could make 3 SOL if it fills before the sell
    assert len(a.requests) == 2 and h.node.risk.denied == 1
