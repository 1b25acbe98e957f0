"""The funding carry in a routed run on the bundled SOL perp data: both legs, the net delta, the figures."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings
from botnft.domain.errors import UserError


def _spec(**kw: object) -> BacktestSpec:
    base: dict[str, object] = {
        "data": "sol-perp-1h",
        "strategy": "funding_carry",
        "venues": ("drift", "raydium_clmm"),
        "fill": "next-open",
        "start": datetime(2025, 10, 1, tzinfo=UTC),
        "end": datetime(2025, 10, 15, tzinfo=UTC),
        "liquidity": LiquiditySettings().model_dump(),  # the venues as `bot backtest` builds them
    }
    base.update(kw)
    return BacktestSpec(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def carried():
    session = build_backtest(_spec())
    result = run_backtest(session)
    return session, result


def test_the_carry_holds_spot_long_and_perp_short_in_equal_size(carried) -> None:
    session, _ = carried
    s = session.node.carry.summary()
    assert D(s["final_spot"]) > 0
    assert D(s["final_spot"]) == -D(s["final_perp"])


def test_the_committed_net_delta_stays_inside_its_band_on_every_bar(carried) -> None:
    session, _ = carried
    s = session.node.carry.summary()
    assert s["observed"] == len(session.data.bars)
    assert s["share_inside_band"] == 1.0
    assert D(s["max_abs_net_delta"]) <= D("0.02") * session.node.carry.carry.leg_qty(D(250))


def test_funding_earned_is_what_the_venue_settled_on_the_short_perp(carried) -> None:
    session, _ = carried
    settled = sum((f.payment for f in session.node.record.funding), D(0))
    assert settled != 0
    assert D(session.node.carry.summary()["funding_earned"]) == -settled


def test_fees_are_the_fills_fees(carried) -> None:
    session, _ = carried
    fees = sum((f.fee for f in session.node.record.fills), D(0))
    assert fees > 0
    assert D(session.node.carry.summary()["fees"]) == fees


def test_a_carry_on_one_venue_is_a_user_error() -> None:
    with pytest.raises(UserError, match="--venues"):
        build_backtest(_spec(venues=()))
    with pytest.raises(UserError, match="spot venue"):
        build_backtest(_spec(venues=("drift",)))
