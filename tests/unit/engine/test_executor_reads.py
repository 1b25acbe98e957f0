"""What the executor asks the venues for: the leg that follows the vehicle choice routes on the snapshots
the choice read (the venues are not asked again with no order sent in between); once an order went out,
every later routing reads the venues anew."""

from decimal import Decimal as D

from scripted_venue import ScriptedVenue, perp
from test_executor_events import Harness

from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot


def _counted(venue: ScriptedVenue) -> list:
    reads: list = []
    ask = venue.liquidity

    def liquidity(instrument):
        snap = ask(instrument)
        reads.append(snap)
        return snap

    venue.liquidity = liquidity  # type: ignore[method-assign]
    return reads


def test_the_leg_after_the_vehicle_choice_routes_on_its_snapshots_and_later_legs_read_anew():
    spot = ScriptedVenue(Spot(InstrumentId("SOL/USDC", "S"), "SOL", "USDC", D("0.01"), D("0.01"), D("0.01")))
    fut = ScriptedVenue(perp("P"))
    h = Harness(spot, fut, timeout_s=5)
    spot_reads, perp_reads = _counted(spot), _counted(fut)
    chosen = []

    def chooser(spots, perps, side, qty):
        chosen.append((list(spots), list(perps)))
        return "spot"

    h.executor.chooser = chooser
    h.target("10")
    # one read of each venue: the choice's; the spot leg routed on that same snapshot
    assert len(spot_reads) == 1 and len(perp_reads) == 1
    assert chosen == [([spot_reads[0]], [perp_reads[0]])]
    child = h.order(spot)
    assert child.amount == D(10) and fut.requests == []
    h.stream(spot.accepted(child.client_order_id), spot.filled(child, "4", "t1"))
    h.at(5)  # past its deadline: cancelled; once confirmed its rest is routed again
    h.stream(spot.canceled(child.client_order_id))
    assert len(spot_reads) == 2  # the re-route reads the spot venue anew
    # the rest goes to the perp (auto mode), routed on a new read, not on the choice's
    assert len(perp_reads) == 2 and perp_reads[1] is not perp_reads[0]
    rest = h.order(fut)
    assert rest.amount == D(6)
