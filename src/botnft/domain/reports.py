"""What a venue says about itself, for acknowledgements and reconciliation (DESIGN §3b).

A call to a venue returns an acknowledgement at most; the reports are its answers to queries (open orders,
one order, trades, positions), gathered into a `MassStatus` as NautilusTrader's `generate_mass_status` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import OrderStatus, Side


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The venue received `client_order_id` (nothing more: acceptance and fills arrive as events).
    `signature` is the transaction signature of venues without client-id idempotency (a Solana swap)."""

    ts_ns: int
    client_order_id: str
    venue_order_id: str | None = None
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class CancelAck:
    """The venue received the cancel request; the order's `OrderCanceled` (or a last fill) follows."""

    ts_ns: int
    client_order_id: str


@dataclass(frozen=True, slots=True)
class OrderStatusReport:
    """One order as the venue sees it now."""

    ts_ns: int
    client_order_id: str
    venue_order_id: str | None
    instrument: InstrumentId
    side: Side
    amount: Decimal
    filled: Decimal
    status: OrderStatus
    average: Decimal | None = None
    signature: str | None = None

    def __post_init__(self) -> None:
        if not (Decimal(0) <= self.filled <= self.amount):
            raise ValueError(f"report of {self.client_order_id}: filled {self.filled} of {self.amount}")

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled


@dataclass(frozen=True, slots=True)
class FillReport:
    """One trade of ours at the venue; `trade_id` is unique per venue and lets a fill be applied once."""

    ts_ns: int
    trade_id: str
    client_order_id: str
    venue_order_id: str | None
    instrument: InstrumentId
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str = "taker"


@dataclass(frozen=True, slots=True)
class PositionReport:
    """The venue's net position in an instrument (signed base units; spot: the wallet's holding)."""

    ts_ns: int
    instrument: InstrumentId
    qty: Decimal
    entry_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MassStatus:
    """Everything one venue reports at once, for reconciliation after a restart."""

    venue: str
    ts_ns: int
    orders: tuple[OrderStatusReport, ...] = ()
    fills: tuple[FillReport, ...] = ()
    positions: tuple[PositionReport, ...] = ()
    balances: tuple[tuple[str, Decimal], ...] = field(default=())

    def order(self, client_order_id: str) -> OrderStatusReport | None:
        for r in self.orders:
            if r.client_order_id == client_order_id:
                return r
        return None
