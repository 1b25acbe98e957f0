"""ccxt markets, orders and statuses mapped to the domain (tick sizes, decimal places, contracts)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from botnft.domain.errors import UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp, Spot
from botnft.domain.orders import OrderStatus, Side
from botnft.venues.ccxt.mapping import DECIMAL_PLACES, TICK_SIZE, instrument_of, order_status, status_report


def market(**kw: object) -> dict[str, object]:
    m: dict[str, object] = {
        "symbol": "SOL/USDT",
        "base": "SOL",
        "quote": "USDT",
        "spot": True,
        "swap": False,
        "contract": False,
        "linear": None,
        "contractSize": None,
        "precision": {"price": 0.01, "amount": 0.001},
        "limits": {"amount": {"min": 0.001}},
    }
    m.update(kw)
    return m


def test_a_binance_spot_market_with_tick_sizes() -> None:
    inst = instrument_of(market(), "BINANCE", TICK_SIZE)
    assert inst == Spot(
        InstrumentId("SOL/USDT", "BINANCE"),
        "SOL",
        "USDT",
        Decimal("0.01"),
        Decimal("0.001"),
        Decimal("0.001"),
    )


def test_decimal_places_precision_becomes_a_step() -> None:
    inst = instrument_of(
        market(precision={"price": 2, "amount": 3}, limits={"amount": {"min": 0.05}}), "X", DECIMAL_PLACES
    )
    assert (inst.tick_size, inst.lot_size, inst.min_size) == (
        Decimal("0.01"),
        Decimal("0.001"),
        Decimal("0.05"),
    )


def test_an_okx_style_perp_counts_contracts_of_a_tenth_of_a_coin() -> None:
    m = market(
        symbol="SOL/USDT:USDT",
        spot=False,
        swap=True,
        contract=True,
        linear=True,
        contractSize=0.1,
        precision={"price": 0.01, "amount": 0.01},
        limits={"amount": {"min": 0.01}},
    )
    inst = instrument_of(m, "OKX", TICK_SIZE)
    assert isinstance(inst, Perp)
    assert inst.id == InstrumentId("SOL-PERP", "OKX")
    assert (inst.lot_size, inst.min_size) == (Decimal("0.001"), Decimal("0.001"))  # 0.01 contract x 0.1 SOL


def test_an_inverse_perp_is_refused_in_one_line() -> None:
    m = market(symbol="SOL/USD:SOL", spot=False, swap=True, contract=True, linear=False, inverse=True)
    with pytest.raises(UserError, match="only linear"):
        instrument_of(m, "BINANCE", TICK_SIZE)


@pytest.mark.parametrize(
    ("status", "filled", "want"),
    [
        ("open", "0", OrderStatus.ACCEPTED),
        ("open", "0.5", OrderStatus.PARTIALLY_FILLED),
        ("closed", "1", OrderStatus.FILLED),
        ("closed", "0.5", OrderStatus.CANCELED),
        ("canceled", "0", OrderStatus.CANCELED),
        ("expired", "0.2", OrderStatus.EXPIRED),
        ("rejected", "0", OrderStatus.REJECTED),
    ],
)
def test_ccxt_statuses(status: str, filled: str, want: OrderStatus) -> None:
    assert order_status({"status": status}, Decimal(filled), Decimal(1)) is want


def test_a_status_report_converts_contracts_to_base_units() -> None:
    raw = {
        "id": 77,
        "clientOrderId": "c-1",
        "side": "sell",
        "amount": 3.0,
        "filled": 1.0,
        "average": 151.25,
        "status": "open",
    }
    rep = status_report(raw, InstrumentId("SOL-PERP", "OKX"), Decimal("0.1"), 5)
    assert (rep.amount, rep.filled, rep.side, rep.status) == (
        Decimal("0.3"),
        Decimal("0.1"),
        Side.SELL,
        OrderStatus.PARTIALLY_FILLED,
    )
    assert rep.venue_order_id == "77" and rep.average == Decimal("151.25")
