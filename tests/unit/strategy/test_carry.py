"""Funding carry: leg targets by the funding's sign, and the net-delta monitor's band and venue choice."""

from decimal import Decimal as D

import pytest

from botnft.domain.errors import UserError
from botnft.strategy.carry import CarryParams, FundingCarry, LegTargets, NetDeltaMonitor

DAY = 86_400 * 10**9


def carry(inventory: str = "0") -> FundingCarry:
    return FundingCarry(
        CarryParams(notional=D(1000), entry_rate=D("0.0001"), band=D("0.05")), D("0.01"), D(inventory)
    )


def test_funding_paid_by_longs_buys_spot_and_shorts_the_same_perp_quantity() -> None:
    # 1000 / 30 = 33.333.. -> 33.33 on the 0.01 lot
    assert carry().on_funding(D("0.0002"), D(30)) == LegTargets(D("33.33"), D("-33.33"))


def test_funding_paid_to_longs_sells_inventory_and_goes_long_the_perp() -> None:
    c = carry(inventory="10")
    # leg 33.33 capped at the 10 held
    assert c.on_funding(D("-0.0002"), D(30)) == LegTargets(D(0), D(10))


def test_funding_paid_to_longs_without_inventory_stays_flat() -> None:
    assert carry().on_funding(D("-0.0002"), D(30)) is None


def test_a_rate_below_the_entry_threshold_does_not_open_a_carry() -> None:
    assert carry().on_funding(D("0.00005"), D(30)) is None


def test_an_open_carry_is_kept_while_funding_is_weak_and_closed_when_it_turns_against_it() -> None:
    c = carry()
    c.on_funding(D("0.0002"), D(30))
    assert c.on_funding(D("0.00005"), D(30)) is None
    assert c.on_funding(D("0"), D(30)) is None
    assert c.on_funding(D("-0.00005"), D(30)) == LegTargets(D(0), D(0))


def test_the_same_direction_at_a_new_price_keeps_the_legs() -> None:
    c = carry()
    c.on_funding(D("0.0002"), D(30))
    assert c.on_funding(D("0.0003"), D(40)) is None
    assert c.legs == LegTargets(D("33.33"), D("-33.33"))


def test_band_is_a_share_of_one_leg() -> None:
    assert carry().band_units(D(30)) == D("0.05") * D("33.33")


def test_parameters_given_as_text_become_decimals() -> None:
    assert CarryParams(notional="250", band="0.1").notional == D(250)  # type: ignore[arg-type]


def test_bad_parameters_are_user_errors() -> None:
    with pytest.raises(UserError, match="band"):
        CarryParams(band=D("1.5")).check()
    with pytest.raises(UserError, match="notional"):
        CarryParams(notional=D(0)).check()


def test_monitor_inside_the_band_proposes_nothing_and_counts_the_bar_inside() -> None:
    m = NetDeltaMonitor(["drift"], lambda v, s, q: D(1), D("0.01"))
    assert m.observe(0, D(10), D("-9.9"), band=D("0.5")) is None
    assert (m.inside, m.observed, m.max_abs) == (1, 1, D("0.1"))


def test_monitor_outside_the_band_rehedges_the_whole_net_on_the_cheapest_venue() -> None:
    costs = {("drift", "sell"): D("0.40"), ("raydium", "sell"): D("0.25"), ("orca", "sell"): None}
    m = NetDeltaMonitor(["drift", "raydium", "orca"], lambda v, s, q: costs[(v, s)], D("0.01"))
    hedge = m.observe(0, D(12), D(-10), band=D("0.5"))
    assert hedge is not None
    assert (hedge.venue, hedge.side, hedge.qty, hedge.cost) == ("raydium", "sell", D(2), D("0.25"))
    assert m.inside == 0 and m.rehedges == 1


def test_monitor_buys_back_a_short_net_and_subtracts_the_inventory() -> None:
    m = NetDeltaMonitor(["drift"], lambda v, s, q: D(0), D("0.01"), inventory=D(5))
    hedge = m.observe(0, D(5), D("-1.234"), band=D("0.5"))
    assert hedge is not None and (hedge.side, hedge.qty) == ("buy", D("1.23"))


def test_monitor_summary_reports_the_share_inside_and_the_daily_maximum() -> None:
    m = NetDeltaMonitor(["drift"], lambda v, s, q: D(0), D("0.01"))
    m.observe(0, D(1), D("-0.9"), band=D("0.5"))
    m.observe(DAY - 1, D(1), D(0), band=D("0.5"))
    m.observe(DAY, D(1), D("-0.8"), band=D("0.5"))
    m.observe(DAY + 5, D(1), D("-1"), band=D("0.5"))
    s = m.summary()
    assert s["share_inside_band"] == 0.75
    assert s["max_abs_net_delta"] == "1"
    assert s["daily_max_abs_net_delta"] == {"0": "1", "1": "0.2"}
