"""Paper venues behave as a real venue towards a restarted node: one order per client order id, a bar
processed once, their own state persisted after a bar's fill (`settle`, once the node has had the bar) and
restored with the reports reconciliation reads."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np

from botnft.backtest.paper.venues import PaperVenues
from botnft.data.bars import BarBatch
from botnft.domain.events import OrderAccepted, OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.domain.orders import Order, OrderStatus, Side
from botnft.venues.sim.fill_models import CloseFill, NextOpenFill
from botnft.venues.sim.spot import SimSpot

INST = Spot(InstrumentId("SOL/USDT", "SIM"), "SOL", "USDT", D("0.0001"), D("0.001"), D("0.001"))
HOUR = 3_600_000_000_000
# open, high, low, close
BARS = BarBatch(
    np.arange(3, dtype=np.int64) * HOUR,
    np.array([99.0, 101.0, 103.0]),
    np.array([101.0, 103.0, 105.0]),
    np.array([98.0, 100.0, 102.0]),
    np.array([100.0, 102.0, 104.0]),
    np.ones(3),
    HOUR,
)


def paper(fill: object) -> tuple[PaperVenues, list[bytes]]:
    saved: list[bytes] = []
    venue = SimSpot(INST, fee_bps=D(10), fill_model=fill, balances={"USDT": D(10_000)})  # type: ignore[arg-type]
    return PaperVenues({"SIM": venue}, lambda bar, version, blob: saved.append(blob)), saved


def buy(coid: str, qty: str = "2") -> Order:
    return Order(coid, INST.id, Side.BUY, D(qty), 0)


def test_a_second_create_order_with_a_known_client_id_returns_the_order_already_made_and_trades_once() -> (
    None
):
    side, saved = paper(CloseFill())
    venue = side.adapters["SIM"]
    venue.set_cursor(BARS, 0)

    first = venue.create_order(buy("O-1"))
    again = venue.create_order(buy("O-1"))

    assert again == first and isinstance(first[-1], OrderFilled)
    assert side.sends("O-1") == 1
    # 2 SOL at the close 100: 200 USDT plus 10 bps, once
    assert venue.fetch_balance() == {"USDT": D("9799.8"), "SOL": D("2")}
    assert len(saved) == 1


def test_a_bar_the_venue_has_processed_is_never_processed_again_and_gives_back_its_events() -> None:
    side, _ = paper(NextOpenFill())
    venue = side.adapters["SIM"]
    venue.set_cursor(BARS, 0)
    assert isinstance(venue.create_order(buy("O-1"))[0], OrderAccepted)

    filled = venue.process(BARS, 1)
    replayed = venue.process(BARS, 1)

    assert replayed == filled and filled[0].price == D("101")  # next bar's open
    assert venue.fetch_balance() == {"USDT": D("9797.798"), "SOL": D("2")}
    assert venue.next_event_index(BARS, 1, 2) == 1  # a processed bar with events: they come back
    assert venue.next_event_index(BARS, 0, 1) == 1  # a processed bar without events: nothing to do


def test_the_venues_come_back_from_their_persisted_state_with_their_order_and_trade_reports() -> None:
    side, saved = paper(NextOpenFill())
    venue = side.adapters["SIM"]
    venue.set_cursor(BARS, 0)
    venue.create_order(buy("O-1"))
    venue.process(BARS, 1)
    assert len(saved) == 1  # the fill waits for the node's turn on the bar
    side.settle()
    assert len(saved) == 2

    fresh, _ = paper(NextOpenFill())
    fresh.restore(saved[-1], version=len(saved))
    back = fresh.adapters["SIM"]

    report = back.fetch_order("O-1")
    assert report is not None and report.status is OrderStatus.FILLED and report.filled == D("2")
    trades = back.fetch_my_trades()
    assert [(t.client_order_id, t.qty, t.price) for t in trades] == [("O-1", D("2"), D("101"))]
    assert back.process(BARS, 1)[0].qty == D("2")  # bar 1 is not processed a second time
    back.create_order(buy("O-1"))
    assert back.fetch_balance() == {"USDT": D("9797.798"), "SOL": D("2")}
    assert back.fetch_order("O-2") is None


def test_the_venue_does_not_go_back_to_a_bar_it_has_seen() -> None:
    side, _ = paper(CloseFill())
    venue = side.adapters["SIM"]
    venue.set_cursor(BARS, 2)
    venue.set_cursor(BARS, 0)  # a node replaying an older bar

    fill = venue.create_order(buy("O-1", "1"))[-1]

    assert isinstance(fill, OrderFilled) and fill.price == D("104")  # bar 2's close, not bar 0's
