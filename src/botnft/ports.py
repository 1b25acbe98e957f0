"""The protocols the core needs from the outside world (DESIGN §3: ports import only the domain).

`ExecutionClient` is a live venue in ccxt's vocabulary (DESIGN C3, §3b): its calls return acknowledgements
only; accepts, fills, cancels, expiries, funding and liquidations arrive on the bus from its stream.
`VenueClient` is the in-process form a simulated or paper venue takes (calls return the events they caused at
once). `SimulatedVenue` adds the stepping API that only the backtest's simulation driver calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from botnft.domain.events import (
    BankruptcyResolved,
    FundingApplied,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    PositionLiquidated,
    TimeEvent,
)
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.market import Bar, BookSnapshot, FundingRate, Quote
from botnft.domain.oracle import OraclePrice
from botnft.domain.orders import Order
from botnft.domain.reports import (
    CancelAck,
    FillReport,
    MassStatus,
    OrderAck,
    OrderStatusReport,
    PositionReport,
)

VenueEvent = (
    OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCanceled
    | OrderExpired
    | FundingApplied
    | PositionLiquidated
    | OrderSubmitted
    | BankruptcyResolved
    | OrderCancelRejected
)


TimeHandler = Callable[[TimeEvent], None]


class Clock(Protocol):
    """Where time comes from (DESIGN C4): a SimClock in backtests, the wall clock live. Timers fire
    `TimeEvent`s to their handler in (time, order of setting) order; a name is unique while it is set."""

    def now_ns(self) -> int: ...

    def set_time_alert(self, name: str, alert_ns: int, handler: TimeHandler) -> None: ...

    def set_timer(
        self,
        name: str,
        interval_ns: int,
        handler: TimeHandler,
        *,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None: ...

    def cancel_timer(self, name: str) -> None: ...

    def next_time_ns(self) -> int | None: ...


class BarArrays(Protocol):
    """Columnar candles (numpy arrays in practice): what strategies and simulated venues read.
    `ts_ns` is each bar's open time; `interval_ns` the bar length."""

    @property
    def ts_ns(self) -> Any: ...
    @property
    def open(self) -> Any: ...
    @property
    def high(self) -> Any: ...
    @property
    def low(self) -> Any: ...
    @property
    def close(self) -> Any: ...
    @property
    def volume(self) -> Any: ...
    @property
    def interval_ns(self) -> int: ...

    def __len__(self) -> int: ...


class ExecutionClient(Protocol):
    """A live venue, ccxt-style and async. Every call returns an acknowledgement at most; what happens to
    an order afterwards arrives as events on the bus from the adapter's stream.

    `create_order` is idempotent on the client order id unless `has["idempotentClientOrderId"]` is False;
    a venue without that (a signed Solana swap) reports the transaction signature in the ack, and its
    `fetch_order` looks the order up by that signature, so an order whose request got no answer is resolved
    by asking, never by sending it again blindly. `fetch_order` returns None only when the venue knows the
    order does not exist (and can no longer arrive); while it cannot tell, it raises `Retryable`.
    """

    name: str
    has: Mapping[str, bool]

    def instruments(self) -> Mapping[InstrumentId, Instrument]: ...

    async def create_order(self, order: Order) -> OrderAck: ...

    async def cancel_order(self, client_order_id: str) -> CancelAck: ...

    async def cancel_all_orders(self, instrument: InstrumentId | None = None) -> Sequence[CancelAck]: ...

    async def fetch_open_orders(
        self, instrument: InstrumentId | None = None
    ) -> Sequence[OrderStatusReport]: ...

    async def fetch_order(self, client_order_id: str) -> OrderStatusReport | None: ...

    async def fetch_my_trades(self, since_ns: int | None = None) -> Sequence[FillReport]: ...

    async def fetch_positions(self) -> Sequence[PositionReport]: ...

    async def fetch_balance(self) -> Mapping[str, Decimal]: ...

    async def mass_status(self, since_ns: int | None = None) -> MassStatus: ...


MarketEvent = Bar | Quote | BookSnapshot | FundingRate | OraclePrice


class MarketDataFeed(Protocol):
    """Market data for the node: bars, quotes and books, funding rates and oracle prices, each carrying its
    own timestamp (the venue's, not the time it arrived). `stream()` yields them in arrival order."""

    async def subscribe_bars(self, instrument: InstrumentId, interval_ns: int) -> None: ...

    async def subscribe_quotes(self, instrument: InstrumentId) -> None: ...

    async def subscribe_book(self, instrument: InstrumentId, depth: int = 10) -> None: ...

    async def subscribe_funding(self, instrument: InstrumentId) -> None: ...

    async def subscribe_oracle(self, instrument: InstrumentId) -> None: ...

    def stream(self) -> AsyncIterator[MarketEvent]: ...


@runtime_checkable
class VenueClient(Protocol):
    """One venue in process (simulated or paper), ccxt-style. Calls return the events they caused at once;
    later events come from the simulation driver (backtest) or the paper venue's own stream."""

    name: str
    has: Mapping[str, bool]

    def instruments(self) -> Mapping[InstrumentId, Instrument]: ...

    def create_order(self, order: Order) -> Sequence[VenueEvent]: ...

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]: ...

    def fetch_open_orders(self) -> Sequence[Order]: ...

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]: ...

    def fetch_balance(self) -> Mapping[str, Decimal]: ...


@runtime_checkable
class SimulatedVenue(VenueClient, Protocol):
    """A venue the backtest's simulation driver steps bar by bar (the node never does).
    `next_event_index` returns the first bar index in [lo, hi) at which the venue has work (else `hi`);
    `process` does that work at bar `j`; `set_cursor` shows it bar `j`'s close before orders at `j`."""

    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int: ...

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]: ...

    def set_cursor(self, bars: BarArrays, j: int) -> None: ...


class Journal(Protocol):
    """Append-only record of order state changes, written before they take effect."""

    def append(self, event: object) -> None: ...
