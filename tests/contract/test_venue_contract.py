"""One suite every VenueClient passes (DESIGN C3): ccxt vocabulary, rejections as events, no exceptions
for a user's mistake, balances that move exactly by what the fills say."""

from __future__ import annotations

from decimal import Decimal

import pytest
from contract_venues import FACTORIES, Subject

from botnft.domain.events import OrderAccepted, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, Side
from botnft.ports import SimulatedVenue, VenueClient


@pytest.fixture(params=sorted(FACTORIES))
def subject(request) -> Subject:
    return FACTORIES[request.param]()


def order(s: Subject, side: Side, qty: Decimal, coid: str = "C-1") -> Order:
    return Order(coid, s.instrument, side, qty, int(s.bars.ts_ns[s.j]))


def fills(events):
    return [e for e in events if isinstance(e, OrderFilled)]


def test_every_venue_speaks_the_venue_protocol(subject):
    v = subject.venue
    assert isinstance(v, VenueClient) and isinstance(v, SimulatedVenue)
    assert subject.instrument in v.instruments()
    assert isinstance(v.has, dict) or hasattr(v.has, "get")
    assert all(isinstance(x, Decimal) for x in v.fetch_balance().values())
    assert list(v.fetch_open_orders()) == []


def test_an_order_for_an_unlisted_instrument_is_a_rejection_event(subject):
    o = Order("C-9", InstrumentId("DOGE/USDC", "NOWHERE"), Side.BUY, Decimal(1), 0)
    events = subject.venue.create_order(o)
    assert len(events) == 1 and isinstance(events[0], OrderRejected)
    assert events[0].client_order_id == "C-9" and events[0].reason


def test_an_off_lot_size_is_a_rejection_event_not_an_exception(subject):
    o = Order("C-8", subject.instrument, Side.BUY, subject.lot * Decimal("1.5"), 0)
    events = subject.venue.create_order(o)
    assert [type(e) for e in events] == [OrderRejected]


def test_a_market_buy_fills_at_most_its_amount_and_moves_the_quote_balance_by_notional_and_fee(subject):
    v = subject.venue
    before = v.fetch_balance()
    o = order(subject, Side.BUY, Decimal("0.1"))
    events = list(v.create_order(o))
    if not fills(events):  # venues that fill on the next bar
        assert any(isinstance(e, OrderAccepted) for e in events)
        events += list(v.process(subject.bars, subject.j + 1))
    fs = fills(events)
    assert fs and sum(f.qty for f in fs) <= o.amount
    after = v.fetch_balance()
    spent = before[subject.quote] - after[subject.quote]
    if subject.instrument.is_perp:
        # a perp moves fees (and, on venues that settle every action, the PnL since the fill) into collateral
        assert spent >= sum(f.fee for f in fs) - sum(f.notional for f in fs) / 100
        assert v.fetch_positions()[subject.instrument] == sum(f.qty for f in fs)
    else:
        assert spent == sum(f.notional + f.fee for f in fs)
        assert after[subject.base] - before[subject.base] == sum(f.qty for f in fs)


def test_next_event_index_stays_inside_the_window(subject):
    v = subject.venue
    n = len(subject.bars)
    for lo, hi in ((0, n), (10, 20), (n - 1, n)):
        k = v.next_event_index(subject.bars, lo, hi)
        assert lo <= k <= hi


def test_canceling_an_unknown_order_is_harmless(subject):
    assert list(subject.venue.cancel_order("never-sent")) == []
