"""`OrderBook.requote` when the owner's orders are the whole book builds the levels directly: the book it
leaves (levels, ids, version, dropped quotes) is the one the general, queue-keeping path leaves."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botnft.venues.sim import clob
from botnft.venues.sim.clob import BookError, OrderBook

MM = "mm"


def _state(b: OrderBook) -> tuple[object, ...]:
    orders = [(o.order_id, o.is_bid, o.price, o.qty, o.tag) for o in b.orders_of(MM)]
    return b.depth(True), b.depth(False), orders, b.version, len(b)


def _ladder(draw: st.DrawFn, start: int, step: int) -> list[tuple[int, int]]:
    n = draw(st.integers(0, 12))
    gaps = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    sizes = draw(st.lists(st.integers(-2, 30), min_size=n, max_size=n))
    out, price = [], start
    for g, q in zip(gaps, sizes, strict=True):
        price += step * g
        out.append((price, q))
    return out


@st.composite
def requotes(draw: st.DrawFn) -> list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]:
    rounds = []
    for _ in range(draw(st.integers(1, 4))):
        mid = draw(st.integers(60, 140))
        bids = _ladder(draw, mid + draw(st.integers(0, 3)), -1)  # may reach above the asks: dropped asks
        asks = _ladder(draw, mid - 1, 1)
        rounds.append(([(p, q) for p, q in bids if p > 0], asks))
    return rounds


@settings(max_examples=200, deadline=None)
@given(requotes())
def test_a_requote_of_the_whole_book_leaves_what_the_general_path_leaves(rounds):
    fast, slow = OrderBook(), OrderBook()
    with pytest.MonkeyPatch.context() as mp:
        for bids, asks in rounds:
            dropped_fast = fast.requote(MM, bids, asks)
            mp.setattr(clob, "_strictly", lambda levels, *, descending: False)  # the general path
            dropped_slow = slow.requote(MM, bids, asks)
            mp.undo()
            assert dropped_fast == dropped_slow
            assert _state(fast) == _state(slow)
            fast.check()


def test_another_owners_order_takes_the_queue_keeping_path():
    b = OrderBook()
    b.requote(MM, [(99, 5)], [(101, 5)])
    other = b.add("you", True, 99, 3)
    b.requote(MM, [(99, 2), (98, 4)], [(101, 1)])
    assert b.level(True, 99)[0].owner == MM and b.level(True, 99)[1] is other  # 2 lots stay ahead
    b.check()


def test_an_unordered_ladder_takes_the_general_path():
    b = OrderBook()
    assert b.requote(MM, [(98, 1), (99, 1)], [(101, 1)]) == 0
    assert b.depth(True) == [(99, 1), (98, 1)]


def test_a_non_positive_price_with_size_is_refused():
    with pytest.raises(BookError):
        OrderBook().requote(MM, [(1, 1), (0, 1)], [])
