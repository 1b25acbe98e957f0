"""ccxt's unified structures <-> the domain: markets to instruments, orders to status reports, trades to
fills.

ccxt hands numbers as floats; each is converted through its shortest repr (`to_decimal`), exactly as written
by the exchange. Perp sizes are in base units in the domain and in contracts at ccxt (`contractSize` apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from botnft.domain.errors import UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Perp, Spot
from botnft.domain.money import to_decimal
from botnft.domain.orders import OrderStatus, Side

#: ccxt precisionMode values (ccxt.base.decimal_to_precision)
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4

#: ccxt unified order status -> ours (a filled 'closed' order is FILLED, an unfilled one CANCELED)
STATUS = {
    "open": OrderStatus.ACCEPTED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def dec(value: Any) -> Decimal:
    return to_decimal(value if isinstance(value, (int, float, str, Decimal)) else str(value))


def step_of(precision: Any, mode: int) -> Decimal:
    """A ccxt precision as a grid step: a tick size as is, or a number of decimal places."""
    if precision is None:
        raise ValueError("market without precision")
    if mode == TICK_SIZE:
        return dec(precision)
    return Decimal(1).scaleb(-int(precision))


def instrument_id(market: Mapping[str, Any], venue: str) -> InstrumentId:
    """`SOL/USDT` -> SOL/USDT.VENUE; a linear perp `SOL/USDT:USDT` -> SOL-PERP.VENUE."""
    if market.get("swap"):
        return InstrumentId(f"{market['base']}-PERP", venue)
    return InstrumentId(f"{market['base']}/{market['quote']}", venue)


def instrument_of(market: Mapping[str, Any], venue: str, mode: int) -> Instrument:
    """Map a loaded ccxt market; lot and min size in base units (contracts x contractSize on perps)."""
    inst_id = instrument_id(market, venue)
    prec = market.get("precision") or {}
    tick = step_of(prec.get("price"), mode)
    size = Decimal(1) if not market.get("contract") else dec(market.get("contractSize") or 1)
    lot = step_of(prec.get("amount"), mode) * size
    min_amount = ((market.get("limits") or {}).get("amount") or {}).get("min")
    min_size = max(lot, dec(min_amount) * size) if min_amount else lot
    if market.get("swap"):
        if not market.get("linear"):
            raise UserError(f"{market['symbol']}: only linear (USDⓈ-M) perps are supported")
        return Perp(inst_id, market["base"], market["quote"], tick, lot, min_size)
    return Spot(inst_id, market["base"], market["quote"], tick, lot, min_size)


def order_status(order: Mapping[str, Any], filled: Decimal, amount: Decimal) -> OrderStatus:
    raw = order.get("status")
    if raw == "closed":
        return OrderStatus.FILLED if filled == amount else OrderStatus.CANCELED
    status = STATUS.get(str(raw), OrderStatus.ACCEPTED)
    if status is OrderStatus.ACCEPTED and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def status_report(order: Mapping[str, Any], inst: InstrumentId, contract_size: Decimal, ts_ns: int) -> Any:
    from botnft.domain.reports import OrderStatusReport

    amount = dec(order.get("amount") or 0) * contract_size
    filled = dec(order.get("filled") or 0) * contract_size
    avg = order.get("average")
    cid = order.get("clientOrderId") or ""
    return OrderStatusReport(
        ts_ns=ts_ns,
        client_order_id=str(cid),
        venue_order_id=str(order["id"]) if order.get("id") is not None else None,
        instrument=inst,
        side=Side.BUY if order.get("side") == "buy" else Side.SELL,
        amount=amount,
        filled=filled,
        status=order_status(order, filled, amount),
        average=dec(avg) if avg else None,
    )


def fee_of(trade: Mapping[str, Any]) -> tuple[Decimal, str]:
    fee = trade.get("fee") or {}
    cost = fee.get("cost")
    return (dec(cost) if cost is not None else Decimal(0)), str(fee.get("currency") or "")


def ms_to_ns(ms: Any) -> int:
    return int(ms) * 1_000_000 if ms is not None else 0
