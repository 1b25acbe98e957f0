"""The order lifecycle table with the live-venue states: pending submit, unknown, pending cancel."""

from decimal import Decimal as D

import pytest

from botnft.domain.errors import IllegalTransition
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import TRANSITIONS, Order, OrderStatus, Side

S = OrderStatus
PERP = InstrumentId("SOL-PERP", "FAKE")


def order(amount: str = "10") -> Order:
    return Order("C-1", PERP, Side.BUY, D(amount), 0)


def test_a_refused_request_waits_in_pending_submit_and_is_sent_again():
    o = order()
    for to in (S.SUBMITTED, S.PENDING_SUBMIT, S.SUBMITTED, S.ACCEPTED):
        o.transition(to)
    assert o.status is S.ACCEPTED and o.status.is_open


def test_an_order_without_an_answer_is_unknown_until_the_venue_is_asked():
    o = order()
    o.transition(S.SUBMITTED)
    o.transition(S.UNKNOWN)
    assert o.status.is_open and not o.status.is_terminal
    o.transition(S.UNKNOWN)  # asked again, still cannot tell
    o.apply_fill(D(4), D(100), D(0))  # the stream reports a fill: the order was there after all
    assert o.status is S.PARTIALLY_FILLED and o.filled == D(4)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), S.PENDING_CANCEL),  # nothing to cancel before it was sent
        ((S.PENDING_SUBMIT,), S.ACCEPTED),  # not at the venue: it cannot be accepted
        ((S.PENDING_SUBMIT,), S.UNKNOWN),
        ((S.SUBMITTED, S.UNKNOWN), S.PENDING_CANCEL),  # resolve first, then cancel
        ((S.SUBMITTED, S.ACCEPTED), S.SUBMITTED),
        ((S.SUBMITTED, S.ACCEPTED, S.PENDING_CANCEL), S.REJECTED),
        ((S.SUBMITTED, S.CANCELED), S.PENDING_CANCEL),
    ],
)
def test_transitions_the_table_does_not_allow_raise(path, bad):
    o = order()
    for to in path:
        o.transition(to)
    with pytest.raises(IllegalTransition):
        o.transition(bad)
    assert o.status is (path[-1] if path else S.INITIALIZED)


def test_terminal_states_have_no_way_out():
    for st in (S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED):
        assert st.is_terminal and TRANSITIONS[st] == frozenset()


def test_a_partial_fill_while_a_cancel_is_pending_keeps_the_cancel_pending():
    o = order()
    o.transition(S.SUBMITTED)
    o.transition(S.ACCEPTED)
    o.transition(S.PENDING_CANCEL)
    o.apply_fill(D(3), D(100), D(0))
    assert o.status is S.PENDING_CANCEL and o.remaining == D(7)
    o.transition(S.CANCELED)
    assert o.status is S.CANCELED and o.filled == D(3)


def test_a_fill_of_everything_while_a_cancel_is_pending_fills_the_order():
    o = order()
    o.transition(S.SUBMITTED)
    o.transition(S.PENDING_CANCEL)
    o.apply_fill(D(10), D(100), D(0))
    assert o.status is S.FILLED


def test_a_rejected_cancel_returns_the_order_to_where_it_was():
    o = order()
    o.transition(S.SUBMITTED)
    o.transition(S.ACCEPTED)
    o.transition(S.PENDING_CANCEL)
    o.cancel_rejected()
    assert o.status is S.ACCEPTED
    o.transition(S.PENDING_CANCEL)
    o.apply_fill(D(2), D(100), D(0))  # traded while the cancel was pending
    o.cancel_rejected()
    assert o.status is S.PARTIALLY_FILLED
    with pytest.raises(IllegalTransition):
        o.cancel_rejected()  # no cancel pending


def test_a_fill_reported_after_the_cancel_is_recorded_and_the_order_stays_canceled():
    o = order()
    o.transition(S.SUBMITTED)
    o.transition(S.ACCEPTED)
    o.transition(S.CANCELED)
    o.apply_fill(D(6), D(100), D("0.1"))
    assert o.status is S.CANCELED and o.filled == D(6) and o.fee == D("0.1")
    with pytest.raises(IllegalTransition):
        o.apply_fill(D(5), D(100), D(0))  # 4 remain: more would be an overfill


def test_a_fill_on_a_rejected_order_raises():
    o = order()
    o.transition(S.REJECTED)
    with pytest.raises(IllegalTransition):
        o.apply_fill(D(1), D(100), D(0))
