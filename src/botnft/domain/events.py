"""Events, in the past tense, each with `ts_ns` (DESIGN C2). Frozen: an event is a fact."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    ts_ns: int
    client_order_id: str
    instrument: InstrumentId
    side: Side
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    ts_ns: int
    client_order_id: str
    venue_order_id: str


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """A refusal. `fee` (in `fee_asset`) is what the refusal still cost: a Solana transaction that landed and
    failed pays its network fee; zero for a refusal before anything was sent."""

    ts_ns: int
    client_order_id: str
    instrument: InstrumentId
    reason: str
    message: str
    fee: Decimal = Decimal(0)
    fee_asset: str = ""


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """One fill. `fee` is in `fee_asset` (negative for a maker rebate); `price` is in the quote asset;
    `liquidity` is taker or maker. `quote_qty` is the exact quote amount exchanged when it is not
    `qty × price` (an AMM swap, whose average price does not sit on a tick grid); the ledger uses it."""

    ts_ns: int
    client_order_id: str
    instrument: InstrumentId
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str = "taker"
    reference_price: Decimal | None = None
    quote_qty: Decimal | None = None
    #: the venue's id of this trade, when it gives one: a fill delivered twice is applied once
    trade_id: str | None = None

    @property
    def notional(self) -> Decimal:
        return self.quote_qty if self.quote_qty is not None else self.qty * self.price


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    ts_ns: int
    client_order_id: str
    reason: str = "canceled"


@dataclass(frozen=True, slots=True)
class OrderSubmitRefused:
    """The venue refused the request for now (a rate limit, 429/503-like): the order is not at the venue
    and is sent again, with the same client order id, at `retry_ns`."""

    ts_ns: int
    client_order_id: str
    message: str
    retry_ns: int


@dataclass(frozen=True, slots=True)
class OrderStatusUnknown:
    """The request went out and no answer came back (a timeout): the order may or may not be at the venue
    until the venue is asked (by client order id, or by transaction signature)."""

    ts_ns: int
    client_order_id: str
    message: str


@dataclass(frozen=True, slots=True)
class OrderPendingCancel:
    """A cancel was requested; until the venue confirms it, the order may still fill."""

    ts_ns: int
    client_order_id: str
    reason: str = "canceled"


@dataclass(frozen=True, slots=True)
class OrderCancelRejected:
    """The venue refused the cancel: the order is still working (or already closed)."""

    ts_ns: int
    client_order_id: str
    message: str


@dataclass(frozen=True, slots=True)
class TimeEvent:
    """A timer or time alert of the clock fired."""

    ts_ns: int
    name: str
    scheduled_ns: int


@dataclass(frozen=True, slots=True)
class OrderExpired:
    ts_ns: int
    client_order_id: str


@dataclass(frozen=True, slots=True)
class FundingApplied:
    """Funding settled on a perp position: `payment` > 0 means the account paid it."""

    ts_ns: int
    instrument: InstrumentId
    position_qty: Decimal
    rate: Decimal
    mark_price: Decimal
    payment: Decimal


@dataclass(frozen=True, slots=True)
class PositionLiquidated:
    """A perp position (or part of it) closed by the venue's liquidation engine."""

    ts_ns: int
    instrument: InstrumentId
    qty: Decimal
    price: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class BankruptcyResolved:
    """After a liquidation left a loss the account's collateral could not cover, the venue's insurance
    fund paid `amount` (quote) of it: the account is credited that much."""

    ts_ns: int
    instrument: InstrumentId
    amount: Decimal


OrderEvent = (
    OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCanceled
    | OrderExpired
    | OrderSubmitRefused
    | OrderStatusUnknown
    | OrderPendingCancel
    | OrderCancelRejected
)
