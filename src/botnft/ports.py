"""The protocols the core needs from the outside world (DESIGN §3: ports import only the domain).

`VenueClient` speaks ccxt's vocabulary (DESIGN C3). A simulated venue additionally implements
`SimulatedVenue`, through which the backtest drives it with market data and asks when it next has
something to do (a pending order, a funding time, a trigger), so the node only wakes when state changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from botnft.domain.events import (
    BankruptcyResolved,
    FundingApplied,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    PositionLiquidated,
)
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.orders import Order

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
)


class Clock(Protocol):
    """Where time comes from (DESIGN C4): a SimClock in backtests, the wall clock live."""

    def now_ns(self) -> int: ...


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


@runtime_checkable
class VenueClient(Protocol):
    """One venue, ccxt-style. Calls return the events they caused at once; later events come from
    `SimulatedVenue.process` (simulation) or the adapter's stream (live)."""

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
    """A venue the backtest drives bar by bar. `next_event_index` returns the first bar index in
    [lo, hi) at which the venue has work (else `hi`); `process` does that work at bar `j`."""

    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int: ...

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]: ...

    def set_cursor(self, bars: BarArrays, j: int) -> None: ...


class Journal(Protocol):
    """Append-only record of order state changes, written before they take effect."""

    def append(self, event: object) -> None: ...
