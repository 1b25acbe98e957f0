"""Clock timers and time alerts: they fire in (time, order of setting) order, each at its own time."""

import pytest

from botnft.engine.clock import LiveClock, SimClock


def recorder(clock, log):
    return lambda e: log.append((e.name, e.scheduled_ns, clock.now_ns()))


def test_alerts_and_timers_fire_in_time_order_each_at_its_own_time():
    c = SimClock(0)
    log: list = []
    c.set_timer("tick", 10, recorder(c, log), stop_ns=30)
    c.set_time_alert("b", 15, recorder(c, log))
    c.set_time_alert("a", 10, recorder(c, log))  # same time as the first tick, set later
    assert c.next_time_ns() == 10
    assert c.advance_to(100) == 5
    assert log == [("tick", 10, 10), ("a", 10, 10), ("b", 15, 15), ("tick", 20, 20), ("tick", 30, 30)]
    assert c.now_ns() == 100 and c.next_time_ns() is None


def test_nothing_fires_before_its_time_and_a_cancelled_timer_never_fires():
    c = SimClock(0)
    log: list = []
    c.set_time_alert("x", 50, recorder(c, log))
    c.set_time_alert("y", 60, recorder(c, log))
    assert c.advance_to(49) == 0 and log == []
    c.cancel_timer("x")
    assert c.next_time_ns() == 60
    c.advance_to(60)
    assert log == [("y", 60, 60)]


def test_a_handler_may_set_a_timer_that_is_already_due():
    c = SimClock(0)
    log: list = []

    def chain(e):
        log.append(e.name)
        if e.name == "first":
            c.set_time_alert("second", e.ts_ns + 5, chain)

    c.set_time_alert("first", 10, chain)
    c.advance_to(20)
    assert log == ["first", "second"]


def test_names_are_unique_while_set_and_intervals_positive():
    c = SimClock(0)
    c.set_time_alert("x", 5, lambda e: None)
    with pytest.raises(ValueError):
        c.set_time_alert("x", 9, lambda e: None)
    with pytest.raises(ValueError):
        c.set_timer("t", 0, lambda e: None)
    c.advance_to(5)
    c.set_time_alert("x", 9, lambda e: None)  # fired alerts free their name


def test_the_live_clock_fires_what_is_due_by_the_wall_clock():
    c = LiveClock()
    log: list = []
    now = c.now_ns()
    c.set_time_alert("past", now - 1, lambda e: log.append(e.name))
    c.set_time_alert("future", now + 3_600 * 10**9, lambda e: log.append(e.name))
    assert c.fire_due() == 1 and log == ["past"]
    assert c.next_time_ns() == now + 3_600 * 10**9
