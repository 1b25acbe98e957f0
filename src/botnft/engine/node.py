"""The trading node: feed → strategy → risk gate → venue selection → order manager → venues.

The same node runs backtests, paper and live; they differ only in clock, feed and venues, which it knows
through ports alone (DESIGN §3b). Whoever feeds it (a backtest's simulation driver, a paper or live loop)
asks it for a batch's signals, publishes the venues' events on its bus and calls `on_signal` at each one.
Every signal goes through an executor: the routed one a composition root attaches, or the node's own in
direct mode (one venue, one order per change of exposure), so both wait for the venue's events alike.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from botnft.domain.events import (
    BankruptcyResolved,
    FundingApplied,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    PositionLiquidated,
)
from botnft.domain.ids import ClientOrderIdFactory
from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO, to_decimal
from botnft.domain.portfolio import Portfolio
from botnft.engine.bus import EventBus
from botnft.engine.executor import Executor, RouteConfig
from botnft.engine.oms import OrderManager
from botnft.ports import BarArrays, Clock, Journal, VenueClient
from botnft.risk.gate import RiskGate
from botnft.risk.guard import LiquidationGuard
from botnft.risk.sizing import Sizer
from botnft.risk.state import GuardDelever, RiskState, RiskStateChanged
from botnft.strategy.base import Strategy


@dataclass(slots=True)
class NodeRecord:
    """What a run produced, for metrics, reports and storage."""

    ts_ns: list[NDArray[np.int64]] = field(default_factory=list)
    equity: list[NDArray[np.float64]] = field(default_factory=list)
    fills: list[OrderFilled] = field(default_factory=list)
    funding: list[FundingApplied] = field(default_factory=list)
    rejections: list[OrderRejected] = field(default_factory=list)
    cancels: list[OrderCanceled] = field(default_factory=list)
    liquidations: list[PositionLiquidated] = field(default_factory=list)
    signals: int = 0
    bars: int = 0
    exposure_round_trips: int = 0
    arrivals: dict[str, Decimal] = field(default_factory=dict)  # client order id -> decision mid


class TradingNode:
    def __init__(
        self,
        *,
        clock: Clock,
        strategy: Strategy,
        instrument: Instrument,
        venues: Mapping[str, VenueClient],
        portfolio: Portfolio,
        sizer: Sizer,
        risk: RiskGate,
        fee_rate: Decimal,
        journal: Journal | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.strategy = strategy
        self.instrument = instrument
        self.venues = dict(venues)
        self.portfolio = portfolio
        self.sizer = sizer
        self.risk = risk
        self.fee_rate = fee_rate
        self.bus = EventBus()
        risk.publish = self.bus.publish  # each denial is an event on the bus, with its reason
        self.oms = OrderManager(self.bus.publish, journal, clock=clock, rng=rng)
        self.ids = ClientOrderIdFactory("O")
        self.record = NodeRecord()
        #: the routed executor a composition root attached (several venues, splits, a chosen vehicle)
        self.executor: Executor | None = None
        #: the liquidation guard and drawdown breaker a composition root attached (margined venues)
        self.guard: LiquidationGuard | None = None
        #: a funding carry's runner (routed runs): every signal is one of its bars
        self.carry: Any = None
        self._exposure_sign = 0
        rec = self.record
        sub = self.bus.subscribe
        #: an order event reaches these only once the order manager has applied it (not a duplicate)
        self._after: dict[type, list[Callable[[Any], None]]] = {
            OrderAccepted: [],
            OrderRejected: [portfolio.apply_rejection, rec.rejections.append],
            OrderCanceled: [rec.cancels.append],
            OrderExpired: [],
            OrderCancelRejected: [],
            OrderFilled: [portfolio.apply_fill, rec.fills.append],
        }
        for kind in self._after:
            sub(kind, self._on_order_event)
        #: account events a venue may deliver twice: each distinct event is applied once
        self._account: dict[type, list[Callable[[Any], None]]] = {
            FundingApplied: [portfolio.apply_funding, rec.funding.append],
            PositionLiquidated: [portfolio.apply_liquidation, rec.liquidations.append],
            BankruptcyResolved: [portfolio.apply_bankruptcy],
        }
        #: the account events applied, by time: an event is new unless an equal one has its time
        self._account_seen: dict[int, list[object]] = {}
        for kind in self._account:
            sub(kind, self._on_account_event)
        #: without a routed executor, signals go through this one: one venue, one order per change
        self._direct = self._direct_executor(fee_rate)
        self._running = self._direct
        self._wire(self._direct)

    def _direct_executor(self, fee_rate: Decimal) -> Executor:
        inst = self.instrument
        return Executor(
            base=inst.base,
            venues=self.venues,
            instruments={inst.id: inst},
            portfolio=self.portfolio,
            oms=self.oms,
            risk=self.risk,
            drain=self.bus.drain,
            ids=self.ids,
            to_source=_no_planner,
            config=RouteConfig(mode="single", single_venue=inst.id.venue, direct=True),
            clock=self.clock,
            fee_rates={inst.id: fee_rate},
            arrivals=self.record.arrivals,
        )

    def _wire(self, executor: Executor) -> None:
        self._after[OrderFilled].append(executor.on_fill)
        for handlers in self._after.values():
            handlers.append(executor.on_order_event)

    def _unwire(self, executor: Executor) -> None:
        self._after[OrderFilled].remove(executor.on_fill)
        for handlers in self._after.values():
            handlers.remove(executor.on_order_event)

    def attach_executor(self, executor: Executor) -> None:
        """Route every signal through `executor` (several venues, splits, perp or spot)."""
        self._unwire(self._running)
        self.executor = self._running = executor
        self._after[OrderFilled].append(self._count_exposure_round_trip)
        self._account[PositionLiquidated].append(self._count_exposure_round_trip)
        self._wire(executor)

    def _on_order_event(self, event: Any) -> None:
        if self.oms.apply(event):
            for handler in self._after[type(event)]:
                handler(event)

    def _on_account_event(self, event: Any) -> None:
        """Funding, a liquidation, an insurance payout: a venue settles each once, so an identical event
        delivered again (a repeating stream) is the same settlement and changes nothing."""
        seen = self._account_seen
        at = seen.get(event.ts_ns)  # an int's hash; the event itself is compared only with its time's
        if at is None:
            seen[event.ts_ns] = [event]
        elif event in at:
            return
        else:
            at.append(event)
        for handler in self._account[type(event)]:
            handler(event)

    def _count_exposure_round_trip(self, _event: object) -> None:
        """A round trip ends whenever the net exposure returns to zero or flips sign (across venues)."""
        now = self.portfolio.exposure_in(self.instrument.base)
        sign = (now > ZERO) - (now < ZERO)
        if self._exposure_sign and sign != self._exposure_sign:
            self.record.exposure_round_trips += 1
        self._exposure_sign = sign

    def signals(self, bars: BarArrays) -> list[tuple[int, float]]:
        """The strategy's signals over a batch: (bar index, target exposure), in bar order."""
        return self.strategy.on_bars(bars)

    def on_signal(self, bars: BarArrays, j: int, exposure: float) -> None:
        """Act on a signal at bar `j`'s close (the clock reads that time; venues have seen the bar): size
        against the whole book, then let the executor move the exposure there."""
        self._running.data_ts_ns = int(bars.ts_ns[j]) + bars.interval_ns  # the bar's close
        if self.carry is not None:
            self.carry.step(bars, j, self.clock.now_ns())
            return
        pf = self.portfolio
        price = to_decimal(float(bars.close[j]))
        equity = pf.equity({i: price for i in pf.positions})
        desired = self.sizer.target(exposure, price, equity, self.fee_rate, self.instrument)
        guard = self.guard
        if guard is not None:
            desired = guard.cap(desired, bars, j)
        if guard is not None and guard.state is not RiskState.ACTIVE:
            held = pf.exposure_in(self.instrument.base)
            if abs(desired) > abs(held) or desired * held < ZERO:
                self.risk.count_denial("risk_state", self.clock.now_ns(), self.bus.publish)
                return
        self._running.execute(bars, j, self.clock.now_ns(), desired, price)

    def on_guard(self, bars: BarArrays, j: int) -> None:
        """The guard's buffer was breached at bar `j`: de-lever at its close with a reduce-only order."""
        guard = self.guard
        assert guard is not None
        self._running.data_ts_ns = int(bars.ts_ns[j]) + bars.interval_ns
        before = guard.state
        desired = guard.target(bars, j)
        now = self.clock.now_ns()
        if guard.state is not before:
            self.bus.publish(RiskStateChanged(now, guard.state.name, "drawdown"))
        if desired is None:
            return
        price = to_decimal(float(bars.close[j]))
        held = self.portfolio.exposure_in(self.instrument.base)
        self.bus.publish(GuardDelever(now, str(held), str(desired), str(price)))
        self._running.execute(bars, j, now, desired, price)

    def final_prices(self, bars: BarArrays) -> dict[object, Decimal]:
        return {self.instrument.id: to_decimal(float(bars.close[len(bars) - 1]))}


def _no_planner(snapshot: Any, side: str) -> Any:
    raise AssertionError("direct execution never plans a route")
