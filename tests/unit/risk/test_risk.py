"""The pre-trade risk gate and position sizing."""

from decimal import Decimal as D

import pytest

from botnft.domain.errors import InvalidOrder, RiskDenied
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp, Spot
from botnft.domain.orders import Order, Side
from botnft.risk.gate import RiskContext, RiskGate, RiskLimits
from botnft.risk.sizing import CashFraction, FixedSize

SPOT = Spot(InstrumentId("SOL/USDT", "SIM"), "SOL", "USDT", D("0.0001"), D("0.001"), D("0.001"))
PERP = Perp(InstrumentId("SOL-PERP", "DRIFT"), "SOL", "USDC", D("0.0001"), D("0.01"), D("0.01"))


def ctx(position="0", cash="1000", equity="1000", price="100"):
    return RiskContext(D(price), D(position), D(cash), D(equity), D("0.001"))


def o(side, qty, inst=SPOT, reduce_only=False):
    return Order("O-1", inst.id, side, D(qty), 0, reduce_only=reduce_only)


def test_a_spot_buy_within_the_cash_passes():
    RiskGate().check(o(Side.BUY, "9.9"), SPOT, ctx())


def test_a_spot_buy_beyond_the_cash_after_fees_is_denied():
    with pytest.raises(RiskDenied, match="free cash"):
        RiskGate().check(o(Side.BUY, "10"), SPOT, ctx())


def test_a_spot_book_cannot_go_short():
    with pytest.raises(RiskDenied, match="cannot go short"):
        RiskGate().check(o(Side.SELL, "2"), SPOT, ctx(position="1"))


def test_reduce_only_order_is_denied_when_it_would_flip_the_position():
    with pytest.raises(RiskDenied, match="reduce-only"):
        RiskGate().check(o(Side.SELL, "3", PERP, reduce_only=True), PERP, ctx(position="2"))
    RiskGate().check(o(Side.SELL, "2", PERP, reduce_only=True), PERP, ctx(position="2"))


def test_perp_leverage_above_the_limit_is_denied_but_reducing_is_always_allowed():
    gate = RiskGate(RiskLimits(max_leverage=D(5)))
    gate.check(o(Side.BUY, "50", PERP), PERP, ctx())
    with pytest.raises(RiskDenied, match="leverage"):
        gate.check(o(Side.BUY, "51", PERP), PERP, ctx())
    gate.check(o(Side.SELL, "10", PERP), PERP, ctx(position="100"))
    assert gate.checked == 3 and gate.denied == 1


def test_size_off_the_lot_is_an_invalid_order():
    with pytest.raises(InvalidOrder):
        RiskGate().check(o(Side.BUY, "0.0015"), SPOT, ctx())


def test_notional_limits_apply_to_orders_and_positions():
    gate = RiskGate(RiskLimits(max_order_notional=D(500), max_position_notional=D(800)))
    with pytest.raises(RiskDenied, match="order notional"):
        gate.check(o(Side.BUY, "6", PERP), PERP, ctx())
    with pytest.raises(RiskDenied, match="position notional"):
        gate.check(o(Side.BUY, "4", PERP), PERP, ctx(position="5"))


def test_sizers_land_on_the_lot_grid():
    assert FixedSize(D(100)).target(1.0, D(3), D(1), D(0), SPOT) == D(100)
    assert FixedSize(D(100)).target(-1.0, D(3), D(1), D(0), PERP) == D(-100)
    q = CashFraction(D("0.5")).target(1.0, D("101.37"), D(10_000), D("0.001"), SPOT)
    assert q == D("49.274") and q * D("101.37") * D("1.001") <= D(5_000)
    assert CashFraction(D(1)).target(0.0, D(1), D(1), D(0), SPOT) == 0
