"""Clock, event bus ordering, and the order manager's idempotence, retries and journal."""

from decimal import Decimal as D

import pytest

from botnft.domain.errors import InsufficientFunds, NetworkError
from botnft.domain.events import OrderAccepted, OrderFilled, OrderRejected, OrderSubmitted
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, Side
from botnft.engine.bus import EventBus
from botnft.engine.clock import SimClock
from botnft.engine.oms import OrderManager

SOL = InstrumentId("SOL/USDT", "SIM")


def test_sim_clock_never_goes_backwards():
    c = SimClock(10)
    c.set(20)
    assert c.now_ns() == 20
    with pytest.raises(ValueError):
        c.set(19)


def test_the_bus_delivers_by_timestamp_then_publication_order():
    bus = EventBus()
    seen = []
    bus.subscribe(OrderAccepted, lambda e: seen.append(e.venue_order_id))
    for ts, vid in [(5, "c"), (1, "a"), (5, "d"), (3, "b")]:
        bus.publish(OrderAccepted(ts, "x", vid))
    bus.drain()
    assert seen == ["a", "b", "c", "d"]


def test_handlers_may_publish_while_the_bus_drains():
    bus = EventBus()
    seen = []

    def first(e):
        seen.append(e.venue_order_id)
        if e.venue_order_id == "a":
            bus.publish(OrderAccepted(e.ts_ns, "x", "a2"))

    bus.subscribe(OrderAccepted, first)
    bus.publish(OrderAccepted(1, "x", "a"))
    bus.publish(OrderAccepted(2, "x", "b"))
    bus.drain()
    assert seen == ["a", "a2", "b"]


class FlakyVenue:
    """Fails with a network error `failures` times, then fills; remembers every request it saw."""

    name = "SIM"
    has = {}

    def __init__(self, failures=0, reject=False):
        self.failures = failures
        self.reject = reject
        self.requests = []

    def create_order(self, order):
        self.requests.append(order.client_order_id)
        if self.reject:
            raise InsufficientFunds("no money")
        if self.failures:
            self.failures -= 1
            raise NetworkError("timeout")
        return [
            OrderAccepted(order.ts_ns, order.client_order_id, "v1"),
            OrderFilled(
                order.ts_ns,
                order.client_order_id,
                order.instrument,
                order.side,
                order.amount,
                D(10),
                D(0),
                "USDT",
            ),
        ]


class Journal:
    def __init__(self):
        self.events = []

    def append(self, event):
        self.events.append(event)


def make_oms():
    bus = EventBus()
    journal = Journal()
    oms = OrderManager(bus.publish, journal, max_retries=3)
    for kind in (OrderAccepted, OrderFilled, OrderRejected):
        bus.subscribe(kind, oms.apply)
    return bus, oms, journal


def test_submitting_the_same_client_order_id_twice_sends_it_once():
    bus, oms, _ = make_oms()
    venue = FlakyVenue()
    o = Order("O-1", SOL, Side.BUY, D(1), 0)
    assert oms.submit(o, venue) is True
    assert oms.submit(o, venue) is False
    bus.drain()
    assert venue.requests == ["O-1"]
    assert o.status is OrderStatus.FILLED


def test_retryable_errors_are_retried_with_the_same_client_order_id():
    bus, oms, _ = make_oms()
    venue = FlakyVenue(failures=2)
    o = Order("O-7", SOL, Side.SELL, D(1), 0)
    oms.submit(o, venue)
    bus.drain()
    assert venue.requests == ["O-7", "O-7", "O-7"]
    assert o.status is OrderStatus.FILLED and oms.retries == 2


def test_rejections_are_not_retried_and_become_events():
    bus, oms, journal = make_oms()
    venue = FlakyVenue(reject=True)
    o = Order("O-8", SOL, Side.BUY, D(1), 0)
    oms.submit(o, venue)
    bus.drain()
    assert venue.requests == ["O-8"]
    assert o.status is OrderStatus.REJECTED
    assert isinstance(journal.events[-1], OrderRejected) and journal.events[-1].reason == "insufficient_funds"


def test_every_state_change_is_journaled_before_it_takes_effect():
    bus = EventBus()
    seen_status = []

    class Peeking(Journal):
        def append(self, event):
            super().append(event)
            seen_status.append(o.status)

    journal = Peeking()
    oms = OrderManager(bus.publish, journal)
    for kind in (OrderAccepted, OrderFilled):
        bus.subscribe(kind, oms.apply)
    o = Order("O-9", SOL, Side.BUY, D(1), 0)
    oms.submit(o, FlakyVenue())
    bus.drain()
    assert [type(e) for e in journal.events] == [OrderSubmitted, OrderAccepted, OrderFilled]
    # when each event was journaled, the order still had the status from before it
    assert seen_status == [OrderStatus.INITIALIZED, OrderStatus.SUBMITTED, OrderStatus.ACCEPTED]
