"""`SimClob`, the CEX order-book venue: events in ccxt's vocabulary, rejections as events, bps fees, locked
funds, self-trade prevention, resting orders filled later by the bar path as maker, and conservation."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botnft.data.bars import BarBatch
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.domain.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from botnft.engine.oms import OrderManager
from botnft.ports import SimulatedVenue, VenueClient
from botnft.venues.sim.book_market import DepthProfile
from botnft.venues.sim.book_replay import PARTICIPANTS, SimClob
from botnft.venues.sim.clob import SelfTradeMode

INST = Spot(InstrumentId("SOL/USDT", "CEX"), "SOL", "USDT", D("0.01"), D("0.001"), D("0.01"))
HOUR = 3_600_000_000_000


def venue(**kw) -> SimClob:
    kw.setdefault("balances", {"USDT": D(100_000), "SOL": D(100)})
    return SimClob(INST, **kw)


def seeded(v: SimClob, bids=((9_999, 5_000), (9_998, 10_000)), asks=((10_001, 5_000), (10_002, 10_000))):
    """Participants at fixed levels (ticks of 0.01, lots of 0.001): bids 99.99 x 5 and 99.98 x 10 SOL,
    asks 100.01 x 5 and 100.02 x 10 SOL. No reference price is set, so nothing re-quotes them."""
    v.book.requote(PARTICIPANTS, list(bids), list(asks))
    return v


def bars(*rows: tuple[float, float, float, float], start: int = 0) -> BarBatch:
    a = np.array(rows, dtype=np.float64)
    ts = start + np.arange(len(rows), dtype=np.int64) * HOUR
    return BarBatch(ts, a[:, 0], a[:, 1], a[:, 2], a[:, 3], np.ones(len(rows)), HOUR)


def market(side: Side, qty: str, cid: str = "C-1", ts: int = 0) -> Order:
    return Order(cid, INST.id, side, D(qty), ts)


def limit(side: Side, qty: str, price: str, cid: str = "L-1", tif=TimeInForce.GTC, ts: int = 0) -> Order:
    return Order(cid, INST.id, side, D(qty), ts, order_type=OrderType.LIMIT, price=D(price), tif=tif)


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def conserved(v: SimClob) -> None:
    assert v.ledger.residual() == {"SOL": 0, "USDT": 0}
    assert all(v.ledger.free(a) >= 0 for a in ("SOL", "USDT"))
    v.book.check()


# --------------------------------------------------------------------------------------------------
# Surface and rejections
# --------------------------------------------------------------------------------------------------


def test_the_venue_speaks_the_simulated_venue_protocol_with_ccxt_capability_flags():
    v = venue()
    assert isinstance(v, VenueClient) and isinstance(v, SimulatedVenue)
    assert v.name == "CEX" and INST.id in v.instruments()
    assert v.has["createPostOnlyOrder"] and v.has["fetchOrderBook"] and not v.has["fetchPositions"]
    assert v.fetch_positions() == {} and v.fetch_open_orders() == []
    assert v.fetch_balance() == {"SOL": D(100), "USDT": D(100_000)}


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (Order("X", InstrumentId("DOGE/USDT", "CEX"), Side.BUY, D(1), 0), "unknown_instrument"),
        (market(Side.BUY, "0.005"), "below_min_size"),
        (market(Side.BUY, "0.0105"), "off_lot"),
        (limit(Side.BUY, "1", "99.995"), "off_tick"),
        (limit(Side.BUY, "1100", "100.02"), "insufficient_funds"),
        (limit(Side.SELL, "101", "120"), "insufficient_funds"),
        (limit(Side.BUY, "1", "100.01", tif=TimeInForce.POST_ONLY), "post_only_would_cross"),
        (
            Order("S", INST.id, Side.BUY, D(1), 0, order_type=OrderType.STOP_MARKET, trigger_price=D(90)),
            "unsupported_order_type",
        ),
    ],
)
def test_a_users_mistake_is_a_rejection_event_with_a_specific_reason(order, reason):
    v = seeded(venue())
    events = v.create_order(order)
    assert [type(e) for e in events] == [OrderRejected]
    assert events[0].reason == reason and events[0].client_order_id == order.client_order_id
    assert v.fetch_balance() == {"SOL": D(100), "USDT": D(100_000)}


def test_a_market_order_with_nothing_on_the_other_side_is_rejected_for_no_liquidity():
    v = venue()
    [ev] = v.create_order(market(Side.SELL, "1"))
    assert isinstance(ev, OrderRejected) and ev.reason == "no_liquidity"


def test_a_second_open_order_with_the_same_client_id_is_rejected():
    v = seeded(venue())
    v.create_order(limit(Side.BUY, "1", "99.00", cid="dup"))
    [ev] = v.create_order(limit(Side.BUY, "1", "98.00", cid="dup"))
    assert ev.reason == "duplicate_client_order_id"


# --------------------------------------------------------------------------------------------------
# Taking liquidity
# --------------------------------------------------------------------------------------------------


def test_a_market_buy_sweeps_the_asks_with_one_fill_per_level_on_the_tick_grid():
    v = seeded(venue(taker_fee_bps=D(10)))
    events = v.create_order(market(Side.BUY, "7"))
    assert [type(e) for e in events] == [OrderAccepted, OrderFilled, OrderFilled]
    fills = of(events, OrderFilled)
    assert [(f.qty, f.price, f.liquidity) for f in fills] == [
        (D(5), D("100.01"), "taker"),
        (D(2), D("100.02"), "taker"),
    ]
    assert all(f.price % INST.tick_size == 0 for f in fills)
    # 10 bps of each fill's notional, rounded up to 1e-8 USDT
    assert [f.fee for f in fills] == [D("0.50005"), D("0.20004")]
    spent = sum(f.qty * f.price + f.fee for f in fills)
    assert v.fetch_balance() == {"SOL": D(107), "USDT": D(100_000) - spent}
    conserved(v)


def test_a_sell_receives_the_notional_less_the_taker_fee():
    v = seeded(venue(taker_fee_bps=D("7.5")))
    [_, fill] = v.create_order(market(Side.SELL, "0.333"))
    assert fill.price == D("99.99") and fill.fee == D("0.02497251")  # 33.29667 x 7.5 bps, rounded up
    assert v.fetch_balance()["USDT"] == D(100_000) + D("0.333") * D("99.99") - fill.fee
    conserved(v)


def test_an_ioc_order_fills_what_crosses_and_cancels_the_remainder():
    v = seeded(venue())
    events = v.create_order(limit(Side.BUY, "8", "100.01", tif=TimeInForce.IOC))
    assert [type(e) for e in events] == [OrderAccepted, OrderFilled, OrderCanceled]
    assert events[1].qty == D(5) and events[2].reason == "ioc_remainder"
    assert v.fetch_open_orders() == []


def test_a_market_order_larger_than_the_book_fills_it_all_and_cancels_the_rest_for_no_liquidity():
    v = seeded(venue(balances={"USDT": D(10_000_000)}))
    events = v.create_order(market(Side.BUY, "20"))
    assert sum(f.qty for f in of(events, OrderFilled)) == D(15)
    assert events[-1] == OrderCanceled(0, "C-1", "no_liquidity")


def test_a_fill_or_kill_order_that_cannot_fill_entirely_is_canceled_and_changes_nothing():
    v = seeded(venue())
    book_before = v.fetch_order_book()
    events = v.create_order(limit(Side.BUY, "16", "100.02", tif=TimeInForce.FOK))
    assert [type(e) for e in events] == [OrderAccepted, OrderCanceled]
    assert events[1].reason == "fok_unfillable"
    assert v.fetch_order_book() == book_before and v.fetch_balance()["SOL"] == D(100)
    events = v.create_order(limit(Side.BUY, "15", "100.02", tif=TimeInForce.FOK, cid="L-2"))
    assert sum(f.qty for f in of(events, OrderFilled)) == D(15)


def test_the_events_drive_the_order_manager_through_legal_transitions():
    v = seeded(venue())
    published: list[object] = []
    oms = OrderManager(published.append)
    orders = [
        market(Side.BUY, "6", "M"),
        limit(Side.SELL, "20", "99.99", "G"),
        limit(Side.BUY, "1", "99.50", "F", tif=TimeInForce.FOK),
        limit(Side.BUY, "1", "101", "P", tif=TimeInForce.POST_ONLY),
    ]
    for o in orders:
        oms.submit(o, v)
        for ev in published:
            oms.apply(ev)
        published.clear()
    assert orders[0].status is OrderStatus.FILLED and orders[0].filled == D(6)
    assert orders[1].status is OrderStatus.PARTIALLY_FILLED and orders[1].filled == D(5)
    assert orders[2].status is OrderStatus.CANCELED
    assert orders[3].status is OrderStatus.REJECTED


# --------------------------------------------------------------------------------------------------
# Resting orders
# --------------------------------------------------------------------------------------------------


def test_a_resting_bid_locks_its_quote_and_a_cancel_unlocks_it():
    v = seeded(venue(maker_fee_bps=D(2)))
    events = v.create_order(limit(Side.BUY, "10", "99.00"))
    assert [type(e) for e in events] == [OrderAccepted]
    assert v.free_balance()["USDT"] == D(100_000) - D(990) - D("0.198")  # notional + 2 bps maker fee
    assert v.fetch_balance()["USDT"] == D(100_000)
    [snap] = v.fetch_open_orders()
    assert snap.client_order_id == "L-1" and snap.status is OrderStatus.ACCEPTED and snap.remaining == D(10)
    assert v.cancel_order("L-1") == [OrderCanceled(0, "L-1", "canceled")]
    assert v.free_balance()["USDT"] == D(100_000) and v.cancel_order("L-1") == []


def test_a_resting_order_is_filled_by_a_later_bar_that_trades_through_it_as_maker_with_a_rebate():
    v = seeded(venue(maker_fee_bps=D(-1), taker_fee_bps=D(5)))
    v.create_order(limit(Side.BUY, "2", "99.50", ts=HOUR))
    b = bars((100, 100.2, 99.8, 100), (100, 100.1, 99.6, 99.7), (99.7, 99.8, 99.4, 99.6), start=HOUR)
    assert v.next_event_index(b, 0, 3) == 2
    assert v.process(b, 1) == []
    [fill] = v.process(b, 2)
    assert (fill.side, fill.qty, fill.price, fill.liquidity) == (Side.BUY, D(2), D("99.50"), "maker")
    assert fill.fee == D("-0.0199")  # 1 bps of 199 USDT, paid to us
    assert v.fetch_balance() == {"SOL": D(102), "USDT": D(100_000) - D(199) + D("0.0199")}
    assert v.fetch_open_orders() == [] and v.next_event_index(b, 0, 3) == 3
    # the tape paid 5 bps taker on 199 USDT: the venue keeps 0.0995 - 0.0199
    assert v.ledger.fee_pool["USDT"] == 7_960_000
    conserved(v)


def test_a_resting_ask_is_filled_when_the_bar_high_trades_through_it():
    v = seeded(venue())
    v.create_order(limit(Side.SELL, "3", "100.50", ts=HOUR))
    b = bars((100, 100.4, 99.9, 100.2), (100.2, 100.51, 100, 100.3), start=HOUR)
    assert v.next_event_index(b, 0, 2) == 1
    [fill] = v.process(b, 1)
    assert (fill.side, fill.qty, fill.price, fill.liquidity) == (Side.SELL, D(3), D("100.50"), "maker")
    conserved(v)


def test_an_order_is_not_filled_by_the_bar_it_was_placed_at():
    v = seeded(venue())
    b = bars((100, 100.1, 99.0, 99.2), (99.2, 99.3, 98.0, 98.5))
    v.set_cursor(b, 0)
    v.create_order(limit(Side.BUY, "1", "99.10", ts=HOUR))
    assert v.next_event_index(b, 0, 2) == 1
    assert v.process(b, 0) == []
    assert len(v.process(b, 1)) == 1


def touch_fill_rate(price: str, seeds: int = 200) -> float:
    """Share of seeds in which a 1 SOL bid is (at least partly) filled by a bar that only touches it."""
    filled = 0
    for seed in range(seeds):
        v = seeded(venue(seed=seed), bids=[(9_950, 10_000)], asks=[(10_001, 5_000)])
        v.create_order(limit(Side.BUY, "1", price, ts=HOUR))
        lo = float(D(price))
        b = bars((100, 100.1, lo, 100), start=HOUR)
        if v.next_event_index(b, 0, 1) == 0 and v.process(b, 0):
            filled += 1
    return filled / seeds


def test_at_a_touched_price_an_order_behind_a_queue_fills_less_often_than_one_at_the_front():
    behind = touch_fill_rate("99.50")  # 10 SOL of participants ahead of our 1 SOL
    front = touch_fill_rate("99.60")  # alone at its price
    assert front == 1.0 or front > 0.9
    assert 0.02 < behind < 0.2  # about 1 - 10/11 of the uniform traded volume reaches us
    assert touch_fill_rate("99.50") == behind  # the same seeds give the same fills


def test_a_partly_filled_resting_order_reports_its_fills_and_keeps_the_rest_open():
    v = seeded(venue())
    v.create_order(limit(Side.BUY, "8", "100.01", cid="G"))
    [snap] = v.fetch_open_orders()
    assert snap.filled == D(5) and snap.remaining == D(3) and snap.status is OrderStatus.PARTIALLY_FILLED
    assert snap.average == D("100.01") and snap.venue_order_id == "CEX-1"
    assert v.fetch_order_book(1) == {"bids": [(D("100.01"), D(3))], "asks": [(D("100.02"), D(10))]}


def test_cancel_maker_self_trade_prevention_cancels_our_resting_order_and_trades_past_it():
    v = seeded(venue())
    v.create_order(limit(Side.SELL, "1", "100.00", cid="my-ask"))
    events = v.create_order(market(Side.BUY, "2", "taker"))
    assert [type(e) for e in events] == [OrderAccepted, OrderCanceled, OrderFilled]
    assert events[1] == OrderCanceled(0, "my-ask", "self_trade_prevention")
    assert events[2].price == D("100.01") and v.fetch_open_orders() == []
    conserved(v)


def test_decrement_take_on_a_cex_venue_trades_with_ourselves_without_fees_or_balance_change():
    v = seeded(venue(self_trade=SelfTradeMode.DECREMENT_TAKE))
    v.create_order(limit(Side.SELL, "1", "100.00", cid="my-ask"))
    before = v.fetch_balance()
    events = v.create_order(market(Side.BUY, "1", "taker"))
    fills = of(events, OrderFilled)
    assert [(f.client_order_id, f.side, f.liquidity, f.fee) for f in fills] == [
        ("taker", Side.BUY, "taker", D(0)),
        ("my-ask", Side.SELL, "maker", D(0)),
    ]
    assert v.fetch_balance() == before and v.free_balance() == before
    conserved(v)


# --------------------------------------------------------------------------------------------------
# Re-quoting around the reference price
# --------------------------------------------------------------------------------------------------


def test_each_new_cursor_requotes_the_participants_around_the_close_but_our_orders_stay():
    b = bars((100, 101, 99, 100.0), (100, 103, 99, 102.0))
    v = venue()
    v.set_cursor(b, 0)
    v.create_order(limit(Side.BUY, "1", "99.90", ts=HOUR))
    first = v.fetch_order_book(1)
    assert first["bids"][0][0] == D("99.99") and first["asks"][0][0] == D("100.01")
    v.set_cursor(b, 1)
    second = v.fetch_order_book(1)
    assert second["bids"][0][0] == D("101.99") and second["asks"][0][0] == D("102.01")
    assert [o.client_order_id for o in v.fetch_open_orders()] == ["L-1"]
    v.book.check()


def test_liquidity_taken_at_one_cursor_stays_taken_until_the_next_bar():
    b = bars((100, 101, 99, 100.0), (100, 101, 99, 100.0))
    v = venue(balances={"USDT": D(1_000_000)})
    v.set_cursor(b, 0)
    first = of(v.create_order(market(Side.BUY, "100", "a")), OrderFilled)
    v.set_cursor(b, 0)
    second = of(v.create_order(market(Side.BUY, "100", "b")), OrderFilled)
    assert second[0].price > first[0].price
    v.set_cursor(b, 1)
    third = of(v.create_order(market(Side.BUY, "100", "c")), OrderFilled)
    assert third[0].price == first[0].price


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(1, 40_000),  # lots of 0.001 SOL
            st.one_of(
                st.none(), st.integers(-3, 3), st.integers(-30, 30)
            ),  # limit offset from the close, ticks
            st.sampled_from(list(TimeInForce)),
        ),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
        st.tuples(st.just("bar"), st.floats(95, 105), st.floats(0, 0.02), st.floats(0, 0.02)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(actions, st.sampled_from(list(SelfTradeMode)), st.integers(-5, 10), st.integers(0, 3))
def test_any_sequence_keeps_the_book_uncrossed_conserves_both_assets_and_never_overfills(
    sequence, stp, maker_bps, seed
):
    v = SimClob(
        INST,
        balances={"USDT": D(20_000), "SOL": D(200)},
        maker_fee_bps=D(maker_bps),
        taker_fee_bps=D(10),
        self_trade=stp,
        seed=seed,
        profile=DepthProfile(spread_bps=20.0, depth_1pct=500.0, levels=40, level_spacing_bps=2.0),
    )
    closes = [100.0]
    b = bars((100, 100, 100, 100))
    v.set_cursor(b, 0)
    filled: dict[str, D] = {}
    amounts: dict[str, D] = {}
    n = 0
    for act in sequence:
        if act[0] == "order":
            _, side, lots, offset, tif = act
            n += 1
            qty = D(lots) * INST.lot_size
            if offset is None:
                if tif is TimeInForce.POST_ONLY:
                    continue
                order = Order(f"o{n}", INST.id, side, qty, 0, tif=tif)
            else:
                price = (D(round(closes[-1] * 100) + offset) / 100).quantize(D("0.01"))
                order = Order(
                    f"o{n}", INST.id, side, qty, 0, order_type=OrderType.LIMIT, price=price, tif=tif
                )
            amounts[order.client_order_id] = qty
            events = v.create_order(order)
        elif act[0] == "cancel":
            events = v.cancel_order(f"o{act[1]}")
        else:
            _, close, up, down = act
            closes.append(close)
            row = (closes[-2], close * (1 + up), min(closes[-2], close) * (1 - down), close)
            row = (row[0], max(row[0], row[1], row[3]), row[2], row[3])
            b = bars(*[(c, c, c, c) for c in closes[:-1]], row)
            j = len(closes) - 1
            events = list(v.process(b, j))
            v.set_cursor(b, j)
        for e in events:
            if isinstance(e, OrderFilled):
                assert e.price % INST.tick_size == 0 and e.qty % INST.lot_size == 0
                filled[e.client_order_id] = filled.get(e.client_order_id, D(0)) + e.qty
                assert filled[e.client_order_id] <= amounts[e.client_order_id]
        conserved(v)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(1, 3_000),
            st.one_of(st.none(), st.integers(-3, 3)),
            st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
        ),
        max_size=25,
    ),
    st.sampled_from(list(SelfTradeMode)),
    st.sampled_from([D(-2), D(0), D(3)]),
)
def test_our_orders_trading_into_our_own_resting_orders_keep_every_invariant(orders, stp, maker_bps):
    v = venue(
        self_trade=stp, maker_fee_bps=maker_bps, profile=DepthProfile(spread_bps=20.0, depth_1pct=500.0)
    )
    v.set_cursor(bars((100, 100, 100, 100)), 0)
    amounts, filled = {}, {}
    for n, (side, lots, offset, tif) in enumerate(orders):
        qty = D(lots) * INST.lot_size
        if offset is None:
            order = Order(f"o{n}", INST.id, side, qty, 0, tif=tif)
        else:
            price = D(100) + D(offset) / 100
            order = Order(f"o{n}", INST.id, side, qty, 0, order_type=OrderType.LIMIT, price=price, tif=tif)
        amounts[order.client_order_id] = qty
        for e in v.create_order(order):
            if isinstance(e, OrderFilled):
                filled[e.client_order_id] = filled.get(e.client_order_id, D(0)) + e.qty
                assert filled[e.client_order_id] <= amounts[e.client_order_id]
                assert e.fee == 0 or e.liquidity != "maker"  # a maker fill here is a self-trade
        conserved(v)
        mine = v.fetch_open_orders()
        bids = [o.price for o in mine if o.side is Side.BUY]
        asks = [o.price for o in mine if o.side is Side.SELL]
        assert not bids or not asks or max(bids) < min(asks)
