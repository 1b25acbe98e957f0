"""Routed runs hold their gate to `[risk]`, as single-venue runs do."""

from datetime import UTC, datetime

import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import RiskSettings
from botnft.domain.errors import UserError


def _spec() -> BacktestSpec:
    return BacktestSpec(
        data="sol-perp-1h",
        strategy="hold",
        params={"leverage": "1"},
        venues=("drift", "raydium_clmm"),
        start=datetime(2025, 10, 1, tzinfo=UTC),
        end=datetime(2025, 10, 3, tzinfo=UTC),
    )


def test_a_routed_run_refuses_orders_above_the_risk_tables_order_notional() -> None:
    session = build_backtest(_spec(), risk=RiskSettings(max_order_notional=50.0))
    run_backtest(session)
    assert session.node.risk.reasons["order_notional"] > 0
    assert session.node.risk.limits.max_order_notional == 50


def test_a_routed_run_without_a_risk_table_keeps_the_default_limits() -> None:
    session = build_backtest(_spec())
    run_backtest(session)
    assert session.node.risk.reasons["order_notional"] == 0


def test_a_routed_leverage_limit_above_the_perp_venues_maximum_is_refused() -> None:
    with pytest.raises(UserError, match=r"risk\.max_leverage"):
        build_backtest(_spec(), risk=RiskSettings(max_leverage=25))
