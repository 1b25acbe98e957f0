"""`SimOpenBook`: OpenBook v2 native units, the program's fee rounding (taker ceil once per order, maker
rebate floor per match), DecrementTake self-trades, and numbers from upstream ``test_fees.rs`` /
``test_self_trade.rs`` (openbook-dex/openbook-v2, ``programs/openbook-v2/tests/cases``).

The upstream fee tests run on ``TestNewMarketInitialize``: base_lot_size 100, quote_lot_size 10 and an order
of one base lot at ``price_lots = 10_000`` (100_000 quote native). Here the counterparty of those tests is the
simulated market: when we take, a participant is the maker; when we rest, the bar path is the taker.
"""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botnft.data.bars import BarBatch
from botnft.domain.errors import UserError
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderFilled, OrderRejected
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.venues.sim.book_replay import PARTICIPANTS
from botnft.venues.sim.clob import SelfTradeMode
from botnft.venues.sim.openbook import MAX_OPEN_ORDERS, SimOpenBook
from botnft.venues.sim.openbook_math import taker_fee

HOUR = 3_600_000_000_000


def upstream_market(maker: int, taker: int, **kw) -> SimOpenBook:
    """The upstream test market with 6/6 decimals: one price lot is 0.1 USDC, one base lot 0.0001 SOL."""
    kw.setdefault("balances", {"SOL": D(1), "USDC": D(10_000)})
    return SimOpenBook(
        base_lot_size=100, quote_lot_size=10, base_decimals=6, quote_decimals=6,
        taker_fee=taker, maker_fee=maker, **kw,
    )  # fmt: skip


def lots(v: SimOpenBook, n: int) -> D:
    return n * v.instrument.lot_size


def ui(v: SimOpenBook, price_lots: int) -> D:
    return price_lots * v.instrument.tick_size


def order(v, side, n_lots, price_lots=None, cid="C", tif=TimeInForce.GTC, ts=0) -> Order:
    if price_lots is None:
        return Order(cid, v.instrument.id, side, lots(v, n_lots), ts, tif=tif)
    return Order(
        cid, v.instrument.id, side, lots(v, n_lots), ts,
        order_type=OrderType.LIMIT, price=ui(v, price_lots), tif=tif,
    )  # fmt: skip


def bar(low: float, high: float, ts: int = HOUR) -> BarBatch:
    one = np.ones(1)
    return BarBatch(np.array([ts]), one * low, one * high, one * low, one * low, one, HOUR)


def fills(events):
    return [e for e in events if isinstance(e, OrderFilled)]


def native(v: SimOpenBook) -> dict[str, int]:
    assert v.ledger.residual() == {"SOL": 0, "USDC": 0}
    v.book.check()
    return v.native_balances()


# --------------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------------


def test_the_default_market_is_sol_usdc_on_openbook_with_lamport_and_micro_usdc_units():
    v = SimOpenBook()
    assert str(v.instrument.id) == "SOL/USDC.OPENBOOK" and v.name == "OPENBOOK"
    assert v.instrument.lot_size == D("0.001") and v.instrument.tick_size == D("0.001")
    assert (v.base_lot_size, v.quote_lot_size) == (1_000_000, 1)
    assert v.self_trade is SelfTradeMode.DECREMENT_TAKE and v.max_open_orders == MAX_OPEN_ORDERS == 24


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200_000), st.sampled_from([Side.BUY, Side.SELL]), st.floats(20, 300))
def test_every_fill_is_native_integers_over_ten_to_the_decimals_exactly(n_lots, side, close):
    v = SimOpenBook(taker_fee=400, maker_fee=-200, balances={"SOL": D(1_000), "USDC": D(1_000_000)}, seed=1)
    v.set_reference(close, 0)
    before = native(v)
    events = v.create_order(order(v, side, n_lots))
    fs = fills(events)
    assert fs or isinstance(events[0], OrderRejected)
    base = quote = fee = 0
    for f in fs:
        q9, p_lots, f6 = f.qty.scaleb(9), f.price / v.instrument.tick_size, f.fee.scaleb(6)
        assert q9 == int(q9) and p_lots == int(p_lots) and f6 == int(f6)
        assert (f.qty * f.price).scaleb(6) == int(q9) // v.base_lot_size * int(p_lots) * v.quote_lot_size
        base += int(q9)
        quote += int((f.qty * f.price).scaleb(6))
        fee += int(f6)
    if fs:
        assert fee == taker_fee(quote, 400)  # one ceil on the order's whole quote
        after = native(v)
        sign = 1 if side is Side.BUY else -1
        assert after["SOL"] - before["SOL"] == sign * base
        assert after["USDC"] - before["USDC"] == -sign * quote - fee


# --------------------------------------------------------------------------------------------------
# Fees: upstream test_fees.rs
# --------------------------------------------------------------------------------------------------


def test_fees_accrued_an_ask_taker_gets_99_980_and_the_market_keeps_10():
    """test_fees.rs::test_fees_accrued (maker -100, taker 200)."""
    v = upstream_market(-100, 200)
    v.book.requote(PARTICIPANTS, [(10_000, 1)], [])
    before = native(v)
    [_, fill] = v.create_order(order(v, Side.SELL, 1))
    after = native(v)
    assert after["USDC"] - before["USDC"] == 99_980 and before["SOL"] - after["SOL"] == 100
    assert fill.fee == D("0.000020") and v.fees_accrued == 10
    assert v.ledger.counterparty["USDC"] == -100_000 + 10  # the maker's rebate


def test_fees_accrued_a_bid_maker_is_paid_the_rebate_when_the_path_fills_it():
    """test_fees.rs::test_fees_accrued seen from the maker: quote_free_native 10 after consume_events."""
    v = upstream_market(-100, 200)
    v.create_order(order(v, Side.BUY, 1, 10_000, ts=HOUR))
    assert v.free_balance()["USDC"] == D(10_000) - D("0.1")
    [fill] = v.process(bar(999.9, 1000.5), 0)
    assert fill.liquidity == "maker" and fill.fee == D("-0.000010")
    assert native(v)["USDC"] == 10_000_000_000 - 100_000 + 10 and v.fees_accrued == 10


def test_maker_fees_a_resting_bid_locks_100_020_and_the_market_keeps_60():
    """test_fees.rs::test_maker_fees (maker 200, taker 400): locked quote 100_020, fees_accrued 60."""
    v = upstream_market(200, 400)
    v.create_order(order(v, Side.BUY, 1, 10_000, ts=HOUR))
    assert 10_000_000_000 - v.ledger.free("USDC") == 100_020
    [fill] = v.process(bar(999.9, 1000.5), 0)
    assert fill.fee == D("0.000020")
    assert native(v)["USDC"] == 10_000_000_000 - 100_020 and v.fees_accrued == 40 + 20


def test_maker_fees_an_ask_taker_receives_99_960():
    """test_fees.rs::test_maker_fees: the ask taker's quote after the fill."""
    v = upstream_market(200, 400)
    v.book.requote(PARTICIPANTS, [(10_000, 1)], [])
    v.create_order(order(v, Side.SELL, 1))
    assert native(v)["USDC"] == 10_000_000_000 + 99_960 and v.fees_accrued == 60


def test_no_maker_fees_ask_the_bid_taker_pays_100_040_and_the_ask_maker_receives_100_020():
    """test_fees.rs::test_no_maker_fees_ask (maker -200, taker 400)."""
    taker = upstream_market(-200, 400)
    taker.book.requote(PARTICIPANTS, [], [(10_000, 1)])
    taker.create_order(order(taker, Side.BUY, 1))
    assert native(taker)["USDC"] == 10_000_000_000 - 100_040 and taker.fees_accrued == 20
    maker = upstream_market(-200, 400)
    maker.create_order(order(maker, Side.SELL, 1, 10_000, ts=HOUR))
    [fill] = maker.process(bar(999.5, 1000.1), 0)
    assert fill.side is Side.SELL and native(maker)["USDC"] == 10_000_000_000 + 100_020


@pytest.mark.parametrize(("maker", "taker", "maker_gets", "taker_gets"), [(-3700, 7400, 370, 99_260)])
def test_fees_half_split_the_taker_fee_between_maker_and_market(maker, taker, maker_gets, taker_gets):
    """test_fees.rs::test_fees_half."""
    t = upstream_market(maker, taker)
    t.book.requote(PARTICIPANTS, [(10_000, 1)], [])
    t.create_order(order(t, Side.SELL, 1))
    assert native(t)["USDC"] - 10_000_000_000 == taker_gets
    m = upstream_market(maker, taker)
    m.create_order(order(m, Side.BUY, 1, 10_000, ts=HOUR))
    m.process(bar(999.9, 1000.5), 0)
    assert native(m)["USDC"] - 10_000_000_000 == -100_000 + maker_gets


def test_locked_maker_fees_a_bid_locks_the_ceiled_fee_and_a_fill_pays_the_floored_one():
    """test_fees.rs::test_locked_maker_fees (maker 350, taker 0; 5 lots at price 1_000): 18 locked, and
    a fill pays maker_fees_floor (17 for all 5 lots); the unit left over is freed when the order closes."""
    v = upstream_market(350, 0)
    v.create_order(order(v, Side.BUY, 5, 1_000, ts=HOUR))
    assert 10_000_000_000 - v.ledger.free("USDC") == 50_000 + 18
    [fill] = v.process(bar(99.9, 100.5), 0)
    assert fill.fee == D("0.000017") and v.ledger.locked["USDC"] == 0
    assert native(v)["USDC"] == 10_000_000_000 - 50_017


def test_a_sweep_over_three_levels_pays_one_ceiled_taker_fee_not_three():
    """book.rs::new_order: taker_fees_ceil of the total quote, once (121 native, not 3 x 41)."""
    v = upstream_market(0, 400)
    v.book.requote(PARTICIPANTS, [], [(10_001, 1), (10_003, 1), (10_007, 1)])
    fs = fills(v.create_order(order(v, Side.BUY, 3)))
    assert [f.fee.scaleb(6) for f in fs] == [41, 40, 40]
    assert native(v)["USDC"] == 10_000_000_000 - 300_110 - 121


def test_fee_levels_the_program_refuses_are_a_clear_error():
    with pytest.raises(UserError):
        SimOpenBook(taker_fee=400, maker_fee=-500)
    with pytest.raises(UserError):
        SimOpenBook(base_lot_size=300)


# --------------------------------------------------------------------------------------------------
# Order types and self-trades: upstream test_self_trade.rs, test_order_types.rs
# --------------------------------------------------------------------------------------------------


def test_decrement_take_fills_our_ioc_bid_from_our_own_ask_without_fees():
    """test_self_trade.rs::test_self_trade_decrement_take: an IOC bid of 1 lot at 1000 against our own
    2-lot ask; no fee, the ask keeps 1 lot, and the account's totals do not move."""
    v = upstream_market(-200, 400)
    v.create_order(order(v, Side.SELL, 2, 1_000, cid="ask"))
    before = native(v)
    events = v.create_order(order(v, Side.BUY, 1, 1_000, cid="bid", tif=TimeInForce.IOC))
    assert [(f.client_order_id, f.liquidity, f.fee) for f in fills(events)] == [
        ("bid", "taker", D(0)),
        ("ask", "maker", D(0)),
    ]
    assert native(v) == before and v.fees_accrued == 0
    [snap] = v.fetch_open_orders()
    assert snap.client_order_id == "ask" and snap.remaining == lots(v, 1)


def test_cancel_provide_cancels_our_ask_and_matches_the_next_maker():
    """test_self_trade.rs::test_self_trade_cancel_provide."""
    v = upstream_market(0, 0, self_trade=SelfTradeMode.CANCEL_MAKER)
    v.book.requote(PARTICIPANTS, [], [(1_000, 2)])
    v.create_order(order(v, Side.SELL, 1, 999, cid="ask"))
    events = v.create_order(order(v, Side.BUY, 1, 1_000, cid="bid", tif=TimeInForce.IOC))
    assert [type(e) for e in events] == [OrderAccepted, OrderCanceled, OrderFilled]
    assert events[1].client_order_id == "ask" and events[2].price == ui(v, 1_000)


def test_abort_transaction_rejects_an_order_that_would_self_trade():
    """test_self_trade.rs::test_self_abort_transaction."""
    v = upstream_market(0, 0, self_trade=SelfTradeMode.ABORT)
    v.create_order(order(v, Side.SELL, 1, 1_000, cid="ask"))
    [ev] = v.create_order(order(v, Side.BUY, 1, 1_000, cid="bid"))
    assert isinstance(ev, OrderRejected) and ev.reason == "would_self_trade"


def test_a_post_only_order_that_would_cross_is_rejected_and_a_fok_that_cannot_fill_is_canceled():
    v = upstream_market(0, 0)
    v.book.requote(PARTICIPANTS, [(999, 5)], [(1_001, 5)])
    [rej] = v.create_order(order(v, Side.BUY, 1, 1_001, tif=TimeInForce.POST_ONLY))
    assert rej.reason == "post_only_would_cross"
    events = v.create_order(order(v, Side.BUY, 6, 1_001, cid="F", tif=TimeInForce.FOK))
    assert [type(e) for e in events] == [OrderAccepted, OrderCanceled] and events[
        1
    ].reason == "fok_unfillable"
    assert v.book.depth(False) == [(1_001, 5)]


def test_an_open_orders_account_holds_at_most_24_resting_orders():
    v = upstream_market(0, 0)
    for k in range(24):
        assert isinstance(v.create_order(order(v, Side.BUY, 1, 500 + k, cid=f"b{k}"))[0], OrderAccepted)
    [ev] = v.create_order(order(v, Side.BUY, 1, 400, cid="b24"))
    assert ev.reason == "too_many_open_orders"
    v.book.requote(PARTICIPANTS, [], [(1_000, 5)])
    assert fills(v.create_order(order(v, Side.BUY, 1, cid="take", tif=TimeInForce.IOC)))
    assert fills(v.create_order(order(v, Side.BUY, 1, 1_000, cid="fills-entirely")))  # never needs a slot


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(1, 5_000),
            st.one_of(st.none(), st.integers(-40, 40)),
            st.sampled_from(list(TimeInForce)),
            st.floats(-0.01, 0.01),
        ),
        max_size=30,
    ),
    st.sampled_from(list(SelfTradeMode)),
)
def test_any_sequence_conserves_lamports_and_micro_usdc_to_the_unit(steps, stp):
    v = SimOpenBook(
        taker_fee=400, maker_fee=-200, self_trade=stp, seed=3,
        balances={"SOL": D(50), "USDC": D(20_000)},
    )  # fmt: skip
    close = 150.0
    ts = 0
    for n, (side, n_lots, offset, tif, move) in enumerate(steps):
        prev, close = close, close * (1 + move)
        b = BarBatch(
            np.array([ts]), np.array([prev]), np.array([max(prev, close) * 1.001]),
            np.array([min(prev, close) * 0.999]), np.array([close]), np.ones(1), HOUR,
        )  # fmt: skip
        v.process(b, 0)
        v.set_cursor(b, 0)
        ts += HOUR
        if offset is None and tif is TimeInForce.POST_ONLY:
            continue
        p = None if offset is None else int(close / 0.001) + offset
        v.create_order(order(v, side, n_lots, p, cid=f"o{n}", tif=tif, ts=ts))
        native(v)
        assert v.ledger.free("SOL") >= 0 and v.ledger.free("USDC") >= 0


# --- latency on chain ----------------------------------------------------------------------------------


class _Draw:
    """The venue's seeded normal draws, pinned to `z`."""

    def __init__(self, z: float) -> None:
        self.z = z

    def gauss(self, mu: float, sigma: float) -> float:
        return mu + sigma * self.z


def test_an_order_lands_late_on_the_book_requoted_where_the_price_has_gone():
    from botnft.venues.sim.solana import MevModel, SolanaExecution, latency_price

    second = 1_000_000_000
    volatile = BarBatch(
        np.array([0], dtype=np.int64), *(np.array([x]) for x in (100.0, 110.0, 100.0, 100.0)),
        np.ones(1), second,
    )  # fmt: skip
    fills = {}
    for slots in (0, 2):
        exe = SolanaExecution(latency_slots=slots, jitter_slots=0, mev=MevModel(enabled=False))
        v = SimOpenBook(execution=exe, balances={"USDC": D(10_000)})
        v.set_cursor(volatile, 0)
        v._move_rng = _Draw(2.0)  # type: ignore[assignment]
        ev = v.create_order(Order("C", v.instrument.id, Side.BUY, D("1"), 0))
        fills[slots] = next(e for e in ev if isinstance(e, OrderFilled)).price
    moved = latency_price(volatile, 0, 2 * 400_000_000, 2.0)  # 2 slots of a 1 s bar, a 2-sigma rise
    assert fills[0] < D("100.1") < moved  # no latency: the touch around the close
    assert float(fills[2]) >= moved  # late: the asks were re-quoted around the moved price
