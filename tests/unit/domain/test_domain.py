"""The pure core: ids, money grids, the order lifecycle table, positions and the portfolio."""

from decimal import Decimal as D

import pytest

from botnft.domain.errors import IllegalTransition, InvalidOrder, Rejected, Retryable, UserError
from botnft.domain.events import FundingApplied, OrderFilled
from botnft.domain.ids import ClientOrderIdFactory, InstrumentId
from botnft.domain.instruments import Perp, Spot
from botnft.domain.money import floor_to, require_on_grid, round_to, to_decimal
from botnft.domain.orders import Order, OrderStatus, OrderType, Side
from botnft.domain.portfolio import Portfolio
from botnft.domain.positions import Position

SOL = InstrumentId("SOL/USDC", "RAYDIUM")
PERP = InstrumentId("SOL-PERP", "DRIFT")


def spot() -> Spot:
    return Spot(SOL, "SOL", "USDC", D("0.01"), D("0.001"), D("0.01"))


def perp() -> Perp:
    return Perp(PERP, "SOL", "USDC", D("0.0001"), D("0.01"), D("0.01"))


def test_instrument_ids_parse_both_spot_and_perp_forms():
    assert InstrumentId.parse("sol-perp.drift") == PERP
    assert InstrumentId.parse("SOL/USDC.RAYDIUM") == SOL
    assert PERP.is_perp and not SOL.is_perp
    assert PERP.base == "SOL" and SOL.base == "SOL"
    assert str(PERP) == "SOL-PERP.DRIFT"


@pytest.mark.parametrize("text", ["SOLUSDC", "SOL/USDC.", ".DRIFT", "SOL-PERP.dr ift"])
def test_malformed_instrument_ids_are_user_errors(text):
    with pytest.raises(UserError):
        InstrumentId.parse(text)


def test_client_order_ids_are_deterministic():
    a, b = ClientOrderIdFactory("O"), ClientOrderIdFactory("O")
    assert [a.next() for _ in range(3)] == [b.next() for _ in range(3)] == ["O-1", "O-2", "O-3"]


def test_floats_convert_to_the_decimal_they_print_as():
    assert to_decimal(0.1) == D("0.1")
    assert to_decimal(24.551) == D("24.551")


def test_values_off_the_grid_are_errors_never_rounded_silently():
    assert require_on_grid(D("1.25"), D("0.05"), "size") == D("1.25")
    with pytest.raises(InvalidOrder):
        require_on_grid(D("1.26"), D("0.05"), "size")
    assert floor_to(D("1.269"), D("0.01")) == D("1.26")
    assert round_to(D("1.265"), D("0.01")) == D("1.26")  # half-even


def test_instrument_checks_size_minimum_and_lot():
    s = spot()
    assert s.check_qty(D("0.015")) == D("0.015")
    with pytest.raises(InvalidOrder, match="below the minimum"):
        s.check_qty(D("0.005"))
    with pytest.raises(InvalidOrder, match="not a multiple"):
        s.check_qty(D("0.0155"))
    with pytest.raises(InvalidOrder, match="positive"):
        s.check_qty(D("0"))
    with pytest.raises(InvalidOrder, match="not a multiple"):
        s.check_price(D("150.005"))
    assert s.size_down(D("0.0099")) == D(0)


def test_errors_split_into_retryable_and_rejected():
    assert issubclass(InvalidOrder, Rejected)
    assert not issubclass(InvalidOrder, Retryable)


def order(amount="1", side=Side.BUY) -> Order:
    return Order("O-1", SOL, side, D(amount), 0)


def test_an_order_moves_through_its_lifecycle_and_fills():
    o = order("2")
    o.transition(OrderStatus.SUBMITTED)
    o.transition(OrderStatus.ACCEPTED)
    o.apply_fill(D("0.5"), D("100"), D("0.05"))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.remaining == D("1.5")
    o.apply_fill(D("1.5"), D("102"), D("0.15"))
    assert o.status is OrderStatus.FILLED
    assert o.average == D("101.5") and o.cost == D("203") and o.fee == D("0.20")


def test_illegal_transitions_raise_instead_of_being_ignored():
    o = order()
    with pytest.raises(IllegalTransition):
        o.transition(OrderStatus.FILLED)  # never submitted
    o.transition(OrderStatus.SUBMITTED)
    o.transition(OrderStatus.CANCELED)
    with pytest.raises(IllegalTransition):
        o.transition(OrderStatus.ACCEPTED)  # terminal


def test_an_overfill_is_an_illegal_transition():
    o = order("1")
    o.transition(OrderStatus.SUBMITTED)
    with pytest.raises(IllegalTransition):
        o.apply_fill(D("1.5"), D("1"), D("0"))


def test_orders_refuse_non_positive_amounts_and_limit_orders_without_price():
    with pytest.raises(InvalidOrder):
        order("0")
    with pytest.raises(InvalidOrder):
        Order("O-2", SOL, Side.BUY, D(1), 0, order_type=OrderType.LIMIT)


def test_a_position_averages_entries_and_realizes_pnl_on_reduce():
    p = Position(PERP)
    p.apply_fill(Side.BUY, D(2), D(100), D(0))
    p.apply_fill(Side.BUY, D(2), D(110), D(0))
    assert p.qty == D(4) and p.avg_entry == D(105)
    realized = p.apply_fill(Side.SELL, D(1), D(120), D("0.1"))
    assert realized == D(15) and p.qty == D(3) and p.avg_entry == D(105)
    assert p.unrealized_pnl(D(100)) == D(-15)
    assert p.fees == D("0.1")


def test_a_fill_that_crosses_zero_flips_the_position_at_the_fill_price():
    p = Position(PERP)
    p.apply_fill(Side.BUY, D(1), D(100), D(0))
    realized = p.apply_fill(Side.SELL, D(3), D(90), D(0))
    assert realized == D(-10)
    assert p.qty == D(-2) and p.avg_entry == D(90) and p.round_trips == 1
    p.apply_fill(Side.BUY, D(2), D(80), D(0))
    assert p.qty == 0 and p.avg_entry == 0 and p.realized_pnl == D(10) and p.round_trips == 2


def test_portfolio_equity_counts_cash_spot_holdings_and_perp_pnl():
    s, pp = spot(), perp()
    pf = Portfolio({s.id: s, pp.id: pp})
    pf.deposit("RAYDIUM", "USDC", D(1000))
    pf.deposit("DRIFT", "USDC", D(500))
    pf.apply_fill(OrderFilled(1, "a", SOL, Side.BUY, D(2), D(100), D("0.2"), "USDC"))
    pf.apply_fill(OrderFilled(2, "b", PERP, Side.SELL, D(1), D(100), D("0.05"), "USDC"))
    pf.apply_funding(FundingApplied(3, PERP, D(-1), D("0.001"), D(100), D("-0.1")))
    prices = {SOL: D(110), PERP: D(90)}
    # cash 1000-200.2 + 500-0.05+0.1 ; SOL 2*110 ; perp short from 100 to 90 = +10
    assert pf.equity(prices) == D("799.8") + D("500.05") + D(220) + D(10)
    assert pf.exposure(prices) == D(220) + D(90)
    assert pf.fees_paid == D("0.25") and pf.funding_paid == D("-0.1")


def test_linear_equity_matches_decimal_equity_for_a_single_instrument():
    pp = perp()
    pf = Portfolio({pp.id: pp})
    pf.deposit("DRIFT", "USDC", D(1000))
    pf.apply_fill(OrderFilled(1, "a", PERP, Side.BUY, D(3), D(100), D("0.3"), "USDC"))
    c, q = pf.linear_equity("SOL")
    for price in (D(80), D(100), D("123.45")):
        assert c + q * float(price) == pytest.approx(float(pf.equity({PERP: price})), abs=1e-9)
