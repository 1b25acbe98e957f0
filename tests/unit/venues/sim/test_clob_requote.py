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
    tops = [(b.depth(True, n), b.depth(False, n)) for n in (0, 1, 3)]
    return b.depth(True), b.depth(False), tops, orders, b.version, len(b)


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


def test_the_depth_a_requote_leaves_follows_the_book_when_it_changes():
    """The depth a whole-book re-quote built is the book's until the book changes: after a fill and an
    added order, depth is read from the levels again."""
    b = OrderBook()
    b.requote(MM, [(99, 5), (98, 7)], [(101, 4), (102, 6)])
    assert b.depth(True) == [(99, 5), (98, 7)] and b.depth(False) == [(101, 4), (102, 6)]
    sub = b.submit("taker", True, 6, limit=102)  # takes the 101 level and 2 lots at 102
    assert sub.ok
    assert b.depth(False) == [(102, 4)]
    b.add("other", True, 99, 3)
    assert b.depth(True) == [(99, 8), (98, 7)]
    assert b.depth(True, 1) == [(99, 8)]


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[object, ...]]:
    """Re-quotes (often several in a row, with nothing read between them) mixed with another owner's
    orders resting and taking, and cancels."""
    ops: list[tuple[object, ...]] = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["requote", "requote", "requote", "add", "take", "cancel"]))
        if kind == "requote":
            mid = draw(st.integers(60, 140))
            bids = [(p, q) for p, q in _ladder(draw, mid + draw(st.integers(0, 3)), -1) if p > 0]
            ops.append(("requote", bids, _ladder(draw, mid - 1, 1)))
        elif kind == "add":
            ops.append(("add", draw(st.booleans()), draw(st.integers(40, 160)), draw(st.integers(1, 9))))
        elif kind == "take":
            ops.append(("take", draw(st.booleans()), draw(st.integers(1, 40))))
        else:
            ops.append(("cancel", draw(st.integers(1, 60))))
    return ops


def _run(b: OrderBook, op: tuple[object, ...]) -> object:
    try:
        if op[0] == "requote":
            return b.requote(MM, op[1], op[2])
        if op[0] == "add":
            o = b.add("you", op[1], op[2], op[3])
            return o.order_id
        if op[0] == "take":
            sub = b.submit("taker", op[1], op[2], limit=None)
            return sub.ok, None if sub.plan is None else [(m.price, m.qty) for m in sub.plan.matches]
        o = b.cancel(op[1])
        return None if o is None else o.order_id
    except BookError as exc:
        return str(exc)


@settings(max_examples=200, deadline=None)
@given(sessions())
def test_a_deferred_whole_book_requote_is_the_book_the_general_path_builds(ops):
    """Whole-book re-quotes build their orders only when something needs them: ids, versions, the touch,
    the size, matching and depth are those of the general path at every step."""
    fast, slow = OrderBook(), OrderBook()
    with pytest.MonkeyPatch.context() as mp:
        for op in ops:
            got = _run(fast, op)
            mp.setattr(clob, "_strictly", lambda levels, *, descending: False)  # the general path
            want = _run(slow, op)
            mp.undo()
            assert got == want
            # reads that need no orders
            assert (fast.version, len(fast), fast.best_bid(), fast.best_ask()) == (
                slow.version,
                len(slow),
                slow.best_bid(),
                slow.best_ask(),
            )
            assert [o.order_id for o in fast.orders_of("you")] == [o.order_id for o in slow.orders_of("you")]
    assert _state(fast) == _state(slow)
    fast.check()
