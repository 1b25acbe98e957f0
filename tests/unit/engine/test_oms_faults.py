"""The order manager against a venue that refuses, times out, acks late, repeats and reorders events:
retries back off with seeded jitter, an unanswered order is resolved by asking, nothing is applied twice."""

import random
from decimal import Decimal as D

import pytest
from scripted_venue import LANDS, ScriptedVenue, perp

from botnft.domain.errors import RateLimited, RequestTimeout
from botnft.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from botnft.domain.orders import Order, OrderStatus, Side
from botnft.engine.bus import EventBus
from botnft.engine.clock import SimClock
from botnft.engine.oms import OrderManager

S = OrderStatus
SEC = 1_000_000_000


def make(seed=1, clock=True):
    bus = EventBus()
    journal: list = []

    class J:
        def append(self, e):
            journal.append(e)

    clk = SimClock(0) if clock else None
    oms = OrderManager(bus.publish, J(), clock=clk, rng=random.Random(seed), backoff_ns=SEC)
    applied: list = []

    def apply(e):
        if oms.apply(e):
            applied.append(e)

    for kind in (OrderAccepted, OrderRejected, OrderCanceled, OrderExpired, OrderFilled, OrderCancelRejected):
        bus.subscribe(kind, apply)
    return bus, oms, clk, journal, applied


def new_order(coid="C-1", qty="10"):
    return Order(coid, perp().id, Side.BUY, D(qty), 0)


def run_until(clk, bus, ts):
    clk.advance_to(ts)
    bus.drain()


def test_a_rate_limited_order_waits_with_jitter_then_goes_again_with_the_same_id():
    bus, oms, clk, _, _ = make(seed=1)
    venue = ScriptedVenue(perp(), script=[RateLimited("429"), RateLimited("429")])
    o = new_order()
    oms.submit(o, venue)
    bus.drain()
    assert o.status is S.PENDING_SUBMIT and venue.requests == ["C-1"]
    first = clk.next_time_ns()
    assert SEC // 2 <= first <= SEC  # attempt 1: a delay in [d/2, d], d = 1 s
    run_until(clk, bus, first)
    assert venue.requests == ["C-1", "C-1"] and o.status is S.PENDING_SUBMIT
    second = clk.next_time_ns() - first
    assert SEC <= second <= 2 * SEC  # attempt 2: d doubles
    run_until(clk, bus, first + second)
    assert venue.requests == ["C-1"] * 3 and o.status is S.SUBMITTED and oms.retries == 2


def test_the_jitter_comes_from_the_seeded_generator():
    def first_delay(seed):
        _, oms, clk, _, _ = make(seed=seed)
        oms.submit(new_order(), ScriptedVenue(perp(), script=[RateLimited("429")]))
        return clk.next_time_ns()

    assert first_delay(5) == first_delay(5)
    assert len({first_delay(s) for s in range(6)}) > 1


def test_after_its_retries_a_refused_order_is_rejected():
    bus, oms, clk, _, applied = make()
    oms.max_retries = 1
    venue = ScriptedVenue(perp(), script=[RateLimited("429")] * 5)
    o = new_order()
    oms.submit(o, venue)
    run_until(clk, bus, clk.next_time_ns())
    assert venue.requests == ["C-1", "C-1"] and o.status is S.REJECTED
    assert [type(e) for e in applied] == [OrderRejected] and applied[0].reason == "retries"


def test_an_order_that_landed_without_an_answer_is_found_by_asking_and_never_sent_twice():
    bus, oms, clk, _, _ = make()
    venue = ScriptedVenue(perp(), script=[LANDS])
    o = new_order()
    oms.submit(o, venue)
    bus.drain()
    assert venue.requests == ["C-1"] and venue.fetches == ["C-1"]
    assert o.status is S.ACCEPTED and o.venue_order_id == "V-C-1"
    run_until(clk, bus, 60 * SEC)
    assert venue.requests == ["C-1"]


def test_an_order_the_venue_never_got_is_sent_again_with_the_same_id():
    bus, oms, _, _, _ = make()
    venue = ScriptedVenue(perp(), script=[RequestTimeout("lost on the way")])
    o = new_order()
    oms.submit(o, venue)
    bus.drain()
    assert venue.fetches == ["C-1"] and venue.requests == ["C-1", "C-1"]
    assert o.status is S.SUBMITTED


def test_while_the_venue_cannot_tell_the_order_stays_unknown_and_is_asked_again_later():
    bus, oms, clk, _, _ = make()
    venue = ScriptedVenue(
        perp(), script=[LANDS], fetch_script=[RequestTimeout("rpc busy")], by_signature=True
    )
    o = new_order()
    oms.submit(o, venue)
    bus.drain()
    assert o.status is S.UNKNOWN and venue.requests == ["C-1"]
    run_until(clk, bus, clk.next_time_ns())
    # the signature was found: the swap landed, so it is not signed and sent a second time
    assert o.status is S.ACCEPTED and venue.fetches == ["C-1", "C-1"] and venue.requests == ["C-1"]


def test_duplicate_and_reordered_events_change_the_order_once():
    bus, oms, _, journal, applied = make()
    venue = ScriptedVenue(perp())
    o = new_order()
    oms.submit(o, venue)
    f1, f2 = venue.filled(o, "4", "t1"), venue.filled(o, "6", "t2")
    for e in (f1, f1, venue.accepted("C-1"), f2, venue.accepted("C-1"), f2, venue.canceled("C-1")):
        bus.publish(e)
    bus.drain()
    assert o.status is S.FILLED and o.filled == D(10)
    assert applied == [f1, f2]  # the fill before the ack wins; the late ack, repeats and cancel are stale
    assert journal[1:] == [f1, f2]


def test_a_fill_after_the_cancel_request_counts_once_and_the_rest_is_canceled():
    bus, oms, _, _, applied = make()
    venue = ScriptedVenue(perp())
    o = new_order()
    oms.submit(o, venue)
    bus.publish(venue.accepted("C-1"))
    bus.drain()
    oms.cancel(o)
    assert o.status is S.PENDING_CANCEL and venue.cancels == ["C-1"]
    oms.cancel(o)  # asking twice sends one request
    assert venue.cancels == ["C-1"]
    fill = venue.filled(o, "3", "t1")
    for e in (fill, venue.canceled("C-1"), fill, venue.canceled("C-1")):
        bus.publish(e)
    bus.drain()
    assert o.status is S.CANCELED and o.filled == D(3)
    assert [type(e) for e in applied] == [OrderAccepted, OrderFilled, OrderCanceled]


def test_a_late_rejection_that_crosses_our_cancel_request_rejects_the_order():
    bus, oms, _, journal, applied = make()
    venue = ScriptedVenue(perp())
    o = new_order()
    oms.submit(o, venue)  # acknowledged with nothing: the venue's answer comes on the stream
    oms.cancel(o)
    assert o.status is S.PENDING_CANCEL
    reject = OrderRejected(0, "C-1", o.instrument, "insufficient_funds", "no margin")
    for e in (reject, reject, venue.canceled("C-1")):
        bus.publish(e)
    bus.drain()
    assert o.status is S.REJECTED and o.filled == 0
    assert applied == [reject] and journal.count(reject) == 1


def test_a_rejection_after_the_venue_accepted_the_order_is_stale_and_the_cancel_stays_pending():
    bus, oms, _, _, applied = make()
    venue = ScriptedVenue(perp())
    o = new_order()
    oms.submit(o, venue)
    bus.publish(venue.accepted("C-1"))
    bus.drain()
    oms.cancel(o)
    bus.publish(OrderRejected(0, "C-1", o.instrument, "rejected", "out of order"))
    bus.drain()
    assert o.status is S.PENDING_CANCEL and [type(e) for e in applied] == [OrderAccepted]
    bus.publish(venue.canceled("C-1"))
    bus.drain()
    assert o.status is S.CANCELED


def test_a_refused_cancel_leaves_the_order_working():
    bus, oms, _, _, _ = make()
    venue = ScriptedVenue(perp())
    o = new_order()
    oms.submit(o, venue)
    bus.publish(venue.accepted("C-1"))
    bus.drain()
    oms.cancel(o)
    bus.publish(OrderCancelRejected(0, "C-1", "too late"))
    bus.drain()
    assert o.status is S.ACCEPTED


def test_an_order_waiting_for_its_retry_is_canceled_without_asking_the_venue():
    bus, oms, clk, _, _ = make()
    venue = ScriptedVenue(perp(), script=[RateLimited("429")])
    o = new_order()
    oms.submit(o, venue)
    oms.cancel(o)
    bus.drain()
    assert o.status is S.CANCELED and venue.cancels == []
    run_until(clk, bus, 60 * SEC)
    assert venue.requests == ["C-1"]  # the retry does not send a canceled order


@pytest.mark.parametrize("clock", [True, False])
def test_unknown_client_order_ids_still_raise(clock):
    _, oms, _, _, _ = make(clock=clock)
    with pytest.raises(KeyError):
        oms.apply(OrderAccepted(0, "nobody", "v"))


class SignedSwapVenue:
    """Executes every signed copy it receives and cannot be asked about an order."""

    name = "SWAP"
    has = {"idempotentClientOrderId": False}

    def __init__(self):
        self.requests = []

    def create_order(self, order):
        self.requests.append(order.client_order_id)
        raise RequestTimeout("no answer")


def test_a_venue_that_would_execute_a_second_copy_is_never_sent_one_blindly():
    bus, oms, clk, _, _ = make()
    venue = SignedSwapVenue()
    o = new_order()
    oms.submit(o, venue)
    run_until(clk, bus, 600 * SEC)
    assert venue.requests == ["C-1"] and o.status is S.UNKNOWN
