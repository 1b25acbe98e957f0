"""A routed backtest across the Solana venues and Drift: the portfolio, rebuilt from events alone, equals
the venues' own ledgers to the unit, and every token in the shared wallet is accounted for."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest

VENUES = ("raydium", "raydium_cpmm", "raydium_clmm", "openbook", "drift")


@pytest.fixture(scope="module")
def session():
    spec = BacktestSpec(
        data="sol-perp-1h",
        strategy="ema_cross",
        params={"short": "true"},
        venues=VENUES,
        cash_fraction=Decimal("0.5"),
        start=datetime(2025, 9, 1, tzinfo=UTC),
        end=datetime(2026, 1, 1, tzinfo=UTC),
    )
    s = build_backtest(spec)
    return s, run_backtest(s)


def test_the_run_trades_both_vehicles_and_reports_every_venue(session):
    session, result = session
    ex = result.stats.to_json()["execution"]
    assert "DRIFT" in ex["per_venue"]  # shorts can only be perps
    assert any(v.startswith("RAYDIUM") or v == "OPENBOOK" for v in ex["per_venue"])
    assert result.stats.to_json()["funding_paid"] != "0"


def test_the_portfolio_equals_the_shared_solana_wallet(session):
    session, _ = session
    pf = session.portfolio
    venues = session.node.venues
    wallet = venues["RAYDIUM"].account  # every Solana venue's view of the one wallet
    assert pf.balance("RAYDIUM", "SOL") == Decimal(wallet[0]).scaleb(-9)
    assert pf.balance("OPENBOOK", "USDC") == Decimal(wallet[1]).scaleb(-6)
    assert venues["OPENBOOK"].fetch_balance()["USDC"] == Decimal(wallet[1]).scaleb(-6)


def test_the_portfolio_equals_drift_collateral_and_position(session):
    session, _ = session
    pf = session.portfolio
    drift = session.node.venues["DRIFT"]
    inst = next(i for i in pf.instruments if i.venue == "DRIFT")
    assert pf.positions[inst].qty == drift.fetch_positions().get(inst, Decimal(0))
    # Drift truncates the cost basis to 1e-6 on each partial close; nothing else may differ
    closes = sum(1 for f in session.node.record.fills if f.instrument == inst)
    assert abs(pf.balance("DRIFT", "USDC") - drift.fetch_balance()["USDC"]) <= Decimal(closes).scaleb(-6)
