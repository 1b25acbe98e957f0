"""Stale market data or an invalid oracle blocks new risk at the gate; reducing risk still passes."""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from botnft.domain.errors import RiskDenied
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp
from botnft.domain.orders import Order, Side
from botnft.risk.gate import RiskContext, RiskGate, RiskLimits

PERP = Perp(InstrumentId("SOL-PERP", "DRIFT"), "SOL", "USDC", D("0.0001"), D("0.01"), D("0.01"))
SECOND = 10**9
FRESH = RiskContext(D(100), D(1), D(1000), D(1000), D("0.001"))


def order(side: Side) -> Order:
    return Order("O-1", PERP.id, side, D("0.5"), 0)


def test_an_order_adding_risk_on_data_older_than_the_limit_is_denied_and_counted() -> None:
    gate = RiskGate(RiskLimits(max_data_age_ns=5 * SECOND))
    with pytest.raises(RiskDenied, match="stale market data"):
        gate.check(order(Side.BUY), PERP, replace(FRESH, data_age_ns=6 * SECOND))
    assert gate.reasons == {"stale_data": 1}


def test_data_at_the_age_limit_passes() -> None:
    RiskGate(RiskLimits(max_data_age_ns=5 * SECOND)).check(
        order(Side.BUY), PERP, replace(FRESH, data_age_ns=5 * SECOND)
    )


def test_an_order_reducing_risk_passes_on_stale_data_and_an_invalid_oracle() -> None:
    gate = RiskGate(RiskLimits(max_data_age_ns=SECOND))
    gate.check(order(Side.SELL), PERP, replace(FRESH, data_age_ns=60 * SECOND, oracle_valid=False))
    assert gate.denied == 0


def test_an_invalid_oracle_blocks_new_risk_with_its_own_reason() -> None:
    gate = RiskGate()
    with pytest.raises(RiskDenied, match="invalid oracle"):
        gate.check(order(Side.BUY), PERP, replace(FRESH, oracle_valid=False))
    assert gate.reasons == {"invalid_oracle": 1}
