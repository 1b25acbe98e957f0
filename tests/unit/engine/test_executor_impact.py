"""The executor tells the learned impact model one observation per child order (its filled size at its
size-weighted average price against the venue mid it was routed on), once the venue has closed it, not
one per fill: the fills of one order walking a book are not independent samples of impact."""

from decimal import Decimal as D

import pytest
from scripted_venue import ScriptedVenue, perp
from test_executor_events import Harness

from botnft.domain.orders import OrderStatus
from botnft.routing.impact import ImpactModel

S = OrderStatus
MID = 99.995  # the scripted book: bid 99.99, ask 100 (each 1e9 deep), so every size costs half the spread
ARRIVAL = 100.0  # the bar's close


def harness() -> tuple[Harness, ScriptedVenue]:
    a = ScriptedVenue(perp("A"))
    h = Harness(a)
    h.executor.impact_model = ImpactModel()
    return h, a


def test_a_child_filled_in_parts_is_one_observation_at_its_average_price():
    h, a = harness()
    h.target("10")
    child = h.order(a)
    h.stream(a.accepted(child.client_order_id), a.filled(child, "4", "t1"))
    assert h.executor.impact_model.n_fills("SOL-PERP.A") == 0  # still open: nothing learned yet
    h.stream(a.filled(child, "6", "t2", price=D("100.1")))
    assert child.status is S.FILLED
    (row,) = h.executor.stats.impact_log
    venue, static, predicted, realised = row
    # static: half the spread on 10 SOL, in bps of 10 x 100 = 0.5 bps; below min_fills the prediction is it
    assert venue == "SOL-PERP.A" and static == pytest.approx(0.5) and predicted == static
    # (4 x 100 + 6 x 100.1) / 10 = 100.06 against the mid 99.995, in bps of the arrival
    assert realised == pytest.approx((100.06 - MID) / ARRIVAL * 1e4)
    assert h.executor.impact_model.n_fills("SOL-PERP.A") == 1


def test_a_child_cancelled_after_a_part_is_seen_at_the_size_it_filled_and_an_unfilled_one_not_at_all():
    h, a = harness()
    h.target("10")
    child = h.order(a)
    h.stream(a.accepted(child.client_order_id), a.filled(child, "4", "t1", price=D("100.2")))
    h.executor.oms.cancel(child, "test")
    h.stream(a.canceled(child.client_order_id))
    assert child.status is S.CANCELED
    (row,) = h.executor.stats.impact_log
    assert row[1] == pytest.approx(0.5)  # 4 SOL on the same flat book: still half the spread
    assert row[3] == pytest.approx((100.2 - MID) / ARRIVAL * 1e4)
    # a second child closed with nothing filled teaches nothing
    h.target("20")
    second = h.node.oms.get(a.requests[-1])
    assert second is not child
    h.stream(a.accepted(second.client_order_id))
    h.executor.oms.cancel(second, "test")
    h.stream(a.canceled(second.client_order_id))
    assert len(h.executor.stats.impact_log) == 1
    assert h.executor.impact_model.n_fills("SOL-PERP.A") == 1
