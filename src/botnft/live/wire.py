"""Client order ids on the wire: each life of a run sends its node's ids under its own prefix, so a
restarted node (whose ids start again at O-1) never reuses an id the venue has seen; the prefix names the
run and the life, so reconciliation tells the run's own orders from anyone else's."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.orders import Order
from botnft.domain.reports import OrderStatusReport
from botnft.ports import BarArrays, VenueEvent


def run_tag(run_id: str) -> str:
    """Six hex digits naming the run on the wire (ids stay within a CEX's 36 characters)."""
    return hashlib.sha256(run_id.encode()).hexdigest()[:6]


def life_prefix(run_id: str, life: int) -> str:
    return f"{run_tag(run_id)}.{life}."


class WireIds:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def out(self, client_order_id: str) -> str:
        return self.prefix + client_order_id

    def back(self, wire_id: str) -> str | None:
        """The node's id of a wire id of this life; None for anyone else's."""
        return wire_id[len(self.prefix) :] if wire_id.startswith(self.prefix) else None

    def order(self, order: Order) -> Order:
        return Order(
            self.out(order.client_order_id), order.instrument, order.side, order.amount, order.ts_ns,
            order_type=order.order_type, price=order.price, trigger_price=order.trigger_price,
            tif=order.tif, reduce_only=order.reduce_only,
        )  # fmt: skip

    def event(self, event: Any) -> Any | None:
        """`event` with the node's client order id; None when it is about an order of someone else."""
        coid = getattr(event, "client_order_id", None)
        if coid is None:
            return event
        mine = self.back(coid)
        return None if mine is None else dataclasses.replace(event, client_order_id=mine)


class WireVenue:
    """A venue (a `LiveVenue` or a paper venue) seen through `ids`: the node's ids go out prefixed and
    come back plain; events and reports about other orders are not the node's and are dropped."""

    def __init__(self, inner: Any, ids: WireIds) -> None:
        self.inner = inner
        self.ids = ids
        self.name: str = inner.name

    @property
    def has(self) -> Mapping[str, bool]:
        return self.inner.has  # type: ignore[no-any-return]

    @property
    def fee_rate(self) -> Decimal:
        return Decimal(getattr(self.inner, "fee_rate", 0))

    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return self.inner.instruments()  # type: ignore[no-any-return]

    def liquidity(self, instrument: InstrumentId) -> Any:
        return self.inner.liquidity(instrument)

    def _events(self, events: Sequence[Any]) -> list[VenueEvent]:
        return [e for e in (self.ids.event(ev) for ev in events) if e is not None]

    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        return self._events(self.inner.create_order(self.ids.order(order)))

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        return self._events(self.inner.cancel_order(self.ids.out(client_order_id)))

    def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        report: OrderStatusReport | None = self.inner.fetch_order(self.ids.out(client_order_id))
        return None if report is None else dataclasses.replace(report, client_order_id=client_order_id)

    def fetch_open_orders(self) -> Sequence[Order]:
        out = []
        for o in self.inner.fetch_open_orders():
            mine = self.ids.back(o.client_order_id)
            if mine is not None:
                out.append(o)
        return out

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return self.inner.fetch_positions()  # type: ignore[no-any-return]

    def fetch_balance(self) -> Mapping[str, Decimal]:
        return self.inner.fetch_balance()  # type: ignore[no-any-return]

    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        return self.inner.next_event_index(bars, lo, hi)  # type: ignore[no-any-return]

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        return self._events(self.inner.process(bars, j))

    def set_cursor(self, bars: BarArrays, j: int) -> None:
        self.inner.set_cursor(bars, j)
