"""The matching engine (`clob.OrderBook`): price-time priority, partial fills, time in force, self-trade
prevention, cancel, re-quotes that keep queue places, and an uncrossed book after any sequence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botnft.domain.orders import TimeInForce as TIF
from botnft.venues.sim.clob import BookError, OrderBook, SelfTradeMode

MM, ME, YOU = "mm", "me", "you"


def ladder() -> OrderBook:
    """Asks 101 x 5 (two orders, older first) and 102 x 10; bids 99 x 5 and 98 x 10."""
    b = OrderBook()
    b.add(MM, False, 101, 2, "a1")
    b.add(MM, False, 101, 3, "a2")
    b.add(MM, False, 102, 10, "a3")
    b.add(MM, True, 99, 5, "b1")
    b.add(MM, True, 98, 10, "b2")
    b.check()
    return b


def test_the_best_bid_and_ask_are_the_highest_bid_and_the_lowest_ask():
    b = ladder()
    assert (b.best_bid(), b.best_ask()) == (99, 101)
    assert b.depth(False) == [(101, 5), (102, 10)]
    assert b.depth(True, 1) == [(99, 5)]


def test_orders_at_one_price_fill_oldest_first_and_better_prices_before_worse():
    b = ladder()
    sub = b.submit(YOU, True, 4, limit=None, tif=TIF.IOC)
    assert [(m.maker.tag, m.price, m.qty) for m in sub.plan.matches] == [("a1", 101, 2), ("a2", 101, 2)]
    assert [o.qty for o in b.level(False, 101)] == [1]
    b.check()


def test_a_market_order_fills_partially_across_levels_at_each_makers_price():
    b = ladder()
    sub = b.submit(YOU, True, 12, limit=None, tif=TIF.IOC)
    assert [(m.price, m.qty) for m in sub.plan.matches] == [(101, 2), (101, 3), (102, 7)]
    assert sub.plan.filled == 12 and sub.rested is None
    assert b.best_ask() == 102 and b.depth(False) == [(102, 3)]


def test_a_limit_order_matches_what_crosses_and_rests_the_rest_at_its_price():
    b = ladder()
    sub = b.submit(YOU, True, 8, limit=101, tif=TIF.GTC, tag="mine")
    assert sub.plan.filled == 5
    assert sub.rested is not None and (sub.rested.price, sub.rested.qty) == (101, 3)
    assert (b.best_bid(), b.best_ask()) == (101, 102)
    b.check()


def test_an_ioc_order_cancels_its_remainder_instead_of_resting():
    b = ladder()
    sub = b.submit(YOU, False, 9, limit=99, tif=TIF.IOC)
    assert sub.ok and sub.plan.filled == 5 and sub.plan.remaining == 4 and sub.rested is None
    assert b.best_bid() == 98 and len(b) == 4


def test_a_fill_or_kill_order_fills_entirely_or_leaves_the_book_untouched():
    b = ladder()
    killed = b.submit(YOU, True, 16, limit=102, tif=TIF.FOK)
    assert killed.reason == "fok_unfillable" and b.depth(False) == [(101, 5), (102, 10)]
    done = b.submit(YOU, True, 15, limit=102, tif=TIF.FOK)
    assert done.ok and done.plan.filled == 15 and b.best_ask() is None


def test_a_post_only_order_is_refused_when_it_would_cross_and_rests_when_it_would_not():
    b = ladder()
    assert b.submit(YOU, True, 1, limit=101, tif=TIF.POST_ONLY).reason == "post_only_would_cross"
    sub = b.submit(YOU, True, 1, limit=100, tif=TIF.POST_ONLY)
    assert sub.ok and sub.plan.filled == 0 and b.best_bid() == 100


def test_a_market_order_against_an_empty_side_is_refused_for_no_liquidity():
    b = OrderBook()
    b.add(MM, True, 99, 5)
    assert b.submit(YOU, True, 1, limit=None, tif=TIF.IOC).reason == "no_liquidity"


def test_self_trade_prevention_cancel_maker_removes_our_resting_order_and_matches_past_it():
    b = ladder()
    mine = b.add(ME, False, 100, 4, "my-ask")
    sub = b.submit(ME, True, 3, limit=101, tif=TIF.IOC, stp=SelfTradeMode.CANCEL_MAKER)
    assert sub.plan.cancels == (mine,)
    assert [(m.maker.tag, m.qty) for m in sub.plan.matches] == [("a1", 2), ("a2", 1)]
    assert b.get(mine.order_id) is None


def test_decrement_take_trades_with_our_own_resting_order_and_marks_it_a_self_trade():
    b = ladder()
    mine = b.add(ME, False, 100, 4, "my-ask")
    sub = b.submit(ME, True, 6, limit=101, tif=TIF.IOC, stp=SelfTradeMode.DECREMENT_TAKE)
    assert [(m.maker.tag, m.qty, m.self_trade) for m in sub.plan.matches] == [
        ("my-ask", 4, True),
        ("a1", 2, False),
    ]
    assert b.get(mine.order_id) is None and not sub.plan.cancels


def test_abort_mode_refuses_an_order_that_would_self_trade_and_changes_nothing():
    b = ladder()
    b.add(ME, False, 100, 4)
    sub = b.submit(ME, True, 6, limit=101, tif=TIF.IOC, stp=SelfTradeMode.ABORT)
    assert sub.reason == "would_self_trade" and b.best_ask() == 100 and len(b) == 6


def test_another_owners_order_is_not_a_self_trade():
    b = ladder()
    sub = b.submit(YOU, True, 2, limit=101, tif=TIF.IOC, stp=SelfTradeMode.ABORT)
    assert sub.ok and not any(m.self_trade for m in sub.plan.matches)


def test_cancel_removes_an_order_and_an_unknown_id_is_harmless():
    b = ladder()
    o = b.level(True, 99)[0]
    assert b.cancel(o.order_id) is o and b.best_bid() == 98
    assert b.cancel(o.order_id) is None and b.cancel(12345) is None
    b.check()


def test_a_plan_made_before_the_book_changed_cannot_be_executed():
    b = ladder()
    plan = b.plan(True, 1, None)
    b.add(MM, True, 97, 1)
    with pytest.raises(BookError):
        b.execute(plan)


def test_a_resting_order_that_would_cross_is_a_bug_not_a_silent_cross():
    b = ladder()
    with pytest.raises(BookError):
        b.add(MM, True, 101, 1)


def test_a_requote_keeps_the_lots_that_were_ahead_of_our_order_ahead_and_puts_new_lots_behind():
    b = OrderBook()
    b.add(MM, True, 99, 7)
    mine = b.add(ME, True, 99, 2, "mine")
    b.add(MM, True, 99, 5)
    dropped = b.requote(MM, bids=[(99, 20), (98, 4)], asks=[(101, 3)])
    assert dropped == 0
    assert [(o.owner, o.qty) for o in b.level(True, 99)] == [(MM, 7), (ME, 2), (MM, 13)]
    assert b.get(mine.order_id) is mine and b.depth(False) == [(101, 3)]
    b.check()


def test_a_requote_with_less_size_at_our_price_moves_us_forward_in_the_queue():
    b = OrderBook()
    b.add(MM, True, 99, 7)
    b.add(ME, True, 99, 2)
    b.requote(MM, bids=[(99, 3)], asks=[])
    assert [(o.owner, o.qty) for o in b.level(True, 99)] == [(MM, 3), (ME, 2)]
    b.requote(MM, bids=[(98, 3)], asks=[])
    assert [(o.owner, o.qty) for o in b.level(True, 99)] == [(ME, 2)]


def test_a_requote_drops_levels_that_would_cross_the_orders_that_stay():
    b = OrderBook()
    b.add(ME, True, 100, 1)
    dropped = b.requote(MM, bids=[(99, 5)], asks=[(100, 5), (101, 5)])
    assert dropped == 1 and b.best_ask() == 101
    b.check()


ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            st.sampled_from([MM, ME, YOU]),
            st.booleans(),
            st.integers(1, 30),
            st.one_of(st.none(), st.integers(90, 110)),
            st.sampled_from(list(TIF)),
            st.sampled_from(list(SelfTradeMode)),
        ),
        st.tuples(st.just("cancel"), st.integers(1, 200)),
        st.tuples(
            st.just("requote"),
            st.integers(92, 108),
            st.integers(1, 4),
            st.lists(st.integers(0, 20), min_size=1, max_size=5),
        ),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ops)
def test_the_book_never_crosses_and_no_order_fills_more_than_its_size(sequence):
    b = OrderBook()
    for op in sequence:
        if op[0] == "order":
            _, owner, is_bid, qty, limit, tif, stp = op
            sub = b.submit(owner, is_bid, qty, limit=limit, tif=tif, stp=stp)
            if sub.plan is not None:
                assert sub.plan.filled <= qty
                assert all(m.qty > 0 for m in sub.plan.matches)
                if sub.rested is not None:
                    assert sub.plan.filled + sub.rested.qty == qty
        elif op[0] == "cancel":
            b.cancel(op[1])
        else:
            _, mid, half, sizes = op
            bids = [(mid - half - k, q) for k, q in enumerate(sizes)]
            asks = [(mid + half + k, q) for k, q in enumerate(sizes)]
            b.requote(MM, bids, asks)
        b.check()
