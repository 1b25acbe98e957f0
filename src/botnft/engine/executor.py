"""Routed execution: turn a change of exposure into child orders across venues, send them, re-route what
did not fill, and measure what execution cost (implementation shortfall vs the arrival mid, per venue).

A change of exposure becomes *legs*: first close what is held the other way (perp positions on their
venue, spot holdings on the spot venues: a spot book cannot go short), then open the rest in the vehicle
the chooser picks (perp or spot). Each leg is split across its venues by the router from their liquidity
snapshots; every child order passes the risk gate and the order manager like any other order.

Execution is event-driven (DESIGN §3b): a child counts only what its fill events report. A leg waits for
its children to settle (close, or rest at the venue), re-routes what did not fill, and cancels a child
past its deadline (`child_timeout_ns`), re-routing its remainder only once the venue confirms the cancel.
With a simulated venue all of this resolves at once; with a live one the parent resumes on each event.
A single-venue node runs this same executor in direct mode (`RouteConfig.direct`): one instrument, each
change of exposure one market order, no planner (DESIGN §3b: one code path).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.errors import Rejected
from botnft.domain.events import OrderFilled, TimeEvent
from botnft.domain.ids import ClientOrderIdFactory, InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.liquidity import AnyLiquidity
from botnft.domain.money import ZERO, to_decimal
from botnft.domain.orders import Order, OrderStatus, Side
from botnft.domain.portfolio import Portfolio
from botnft.engine.child_orders import ChildBook, ChildOrder, ExecutionStats, VenueExecution
from botnft.engine.oms import OrderManager
from botnft.ports import BarArrays, Clock
from botnft.risk.gate import RiskContext, RiskGate
from botnft.routing.impact import ImpactFeatures, ImpactModel, static_impact
from botnft.routing.planner import RoutePlan, ToSource, plan_route
from botnft.routing.select import venue_for

#: (spot snapshots, perp snapshots, side, qty) -> "spot" | "perp"
VehicleChooser = Callable[[Sequence[AnyLiquidity], Sequence[AnyLiquidity], str, Decimal], str]


class _Expectation:
    """What the impact model is told about one child: the snapshot it was routed on, the static model's
    view of its planned size there, and its fills so far (base and quote, summed over its fills)."""

    __slots__ = ("arrival", "features", "notional", "planned", "qty", "snapshot", "venue", "venue_mid")

    def __init__(
        self,
        venue: str,
        snapshot: AnyLiquidity,
        planned: float,
        features: ImpactFeatures,
        venue_mid: float,
        arrival: float,
    ) -> None:
        self.venue = venue
        self.snapshot = snapshot
        self.planned = planned
        self.features = features
        self.venue_mid = venue_mid
        self.arrival = arrival
        self.qty = ZERO
        self.notional = ZERO


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """`mode` split routes across all venues of the vehicle; single sends to `single_venue` only.
    `max_slippage_bps` guards each child against the arrival mid; `max_reroutes` bounds re-routing."""

    mode: str = "split"
    single_venue: str | None = None
    vehicle: str = "auto"  # auto | spot | perp
    max_slippage_bps: Decimal = Decimal(200)
    max_reroutes: int = 2
    #: a child still open this long after it was sent is cancelled and its remainder re-routed (None: a
    #: resting child is left to work, as a simulated venue always settles it)
    child_timeout_ns: int | None = None
    #: one instrument, sized by the strategy (a single-venue backtest): each change of exposure is one
    #: market order for all of it, closing and opening in one, with no planner or slippage guard
    direct: bool = False


class Executor:
    def __init__(
        self,
        *,
        base: str,
        venues: Mapping[str, object],
        instruments: Mapping[InstrumentId, Instrument],
        portfolio: Portfolio,
        oms: OrderManager,
        risk: RiskGate,
        drain: Callable[[], None],
        ids: ClientOrderIdFactory,
        to_source: ToSource,
        config: RouteConfig,
        chooser: VehicleChooser | None = None,
        impact_model: ImpactModel | None = None,
        clock: Clock | None = None,
        fee_rates: Mapping[InstrumentId, Decimal] | None = None,
        arrivals: dict[str, Decimal] | None = None,
    ) -> None:
        """`fee_rates` (what the risk gate assumes; default each venue's `fee_rate`) and `arrivals` (where
        each child's arrival mid is recorded) may be given by a caller that keeps its own."""
        self.base = base
        self.clock = clock
        self.venues = dict(venues)
        self.instruments = {i: inst for i, inst in instruments.items() if inst.base == base}
        self.portfolio = portfolio
        self.oms = oms
        self.risk = risk
        self.drain = drain
        self.ids = ids
        self.to_source = to_source
        self.config = config
        self.chooser = chooser
        #: recalibrated online from every child's realised slippage; the chooser's cost model reads it
        #: one observation per child (its size and size-weighted average price) once the venue closed it:
        #: the fills of one order walking a book are not independent samples of impact
        self.impact_model = impact_model
        self._expected: dict[str, _Expectation] = {}  # client order id -> what the impact model learns
        self.stats = ExecutionStats()
        self.arrivals: dict[str, Decimal] = {} if arrivals is None else arrivals  # client order id -> mid
        #: every child lands on the coarsest lot of the book's instruments (sizes stay round and storable)
        self.grid = max((inst.lot_size for inst in self.instruments.values()), default=None)
        self._arrival = ZERO
        rates = fee_rates or {i: getattr(self.venues[i.venue], "fee_rate", ZERO) for i in self.instruments}
        self._fee_rates = {i: to_decimal(float(r)) for i, r in rates.items()}
        self.children = ChildBook()
        self._parent: Generator[None, None, None] | None = None
        self._waiting: list[ChildOrder] = []
        self._running = False
        self._queued: tuple[Decimal, int, Decimal] | None = None  # (arrival, ts_ns, desired)
        #: when the market data the running decision read was current (ns); the gate sees its age
        self.data_ts_ns: int | None = None
        #: called with every fill after the portfolio applied it (e.g. a carry's event-time net delta)
        self.fill_listeners: list[Callable[[OrderFilled], None]] = []
        if config.child_timeout_ns is not None and clock is None:
            raise ValueError("a child timeout needs a clock")
        if config.direct and len(self.instruments) != 1:
            raise ValueError("direct execution trades exactly one instrument")

    # fills feed the analytics -----------------------------------------------------------------------
    def on_fill(self, fill: OrderFilled) -> None:
        self.children.on_fill(fill.client_order_id, fill.qty)
        for listener in self.fill_listeners:
            listener(fill)
        if fill.instrument not in self.instruments or not self._arrival:
            return
        expected = self._expected.get(fill.client_order_id)
        if expected is not None:  # learned from once the child is done (`_observe`)
            expected.qty += fill.qty
            expected.notional += fill.notional
        per_venue = self.stats.per_venue
        row = per_venue.get(fill.instrument.venue)
        if row is None:
            row = per_venue[fill.instrument.venue] = VenueExecution()
        notional = fill.notional
        row.fills += 1
        row.qty += fill.qty
        row.notional += notional
        row.fees += fill.fee
        paid = notional - fill.qty * self._arrival
        row.shortfall += paid if fill.side is Side.BUY else -paid

    # the parent order ---------------------------------------------------------------------------------
    def execute(
        self, bars: BarArrays, j: int, ts_ns: int, desired: Decimal, arrival: Decimal | None = None
    ) -> None:
        """Move the exposure to `desired` base units at bar `j` (decision at its close; `arrival` is that
        close as a Decimal, when the caller has it). While an earlier parent still waits for its children,
        the newest target waits for it."""
        if arrival is None:
            arrival = to_decimal(float(bars.close[j]))
        if self._parent is not None:
            self._queued = (arrival, ts_ns, desired)
            return
        self._start(arrival, ts_ns, desired)

    def run_legs(
        self, arrival: Decimal, ts_ns: int, legs: Sequence[tuple[Sequence[InstrumentId], Side, Decimal]]
    ) -> None:
        """Move several legs in one parent (a carry's spot and perp), each routed across its own venues."""
        if self._parent is not None:
            return

        def parent() -> Generator[None, None, None]:
            running = {self._leg(ids, side, qty, ts_ns): qty for ids, side, qty in legs if qty > ZERO and ids}
            while running:  # the legs are sent together and each resumes when its children settle
                for leg in list(running):
                    try:
                        next(leg)
                    except StopIteration as done:
                        self.stats.unfilled += max(running.pop(leg) - done.value, ZERO)
                if running:
                    self._waiting = [c for c in self.children.open.values() if not c.settled]
                    yield

        self.stats.parents += 1
        self._arrival = arrival
        self._parent = parent()
        self._step()

    @property
    def busy(self) -> bool:
        """A parent is waiting for its children's events."""
        return self._parent is not None

    # the parent as a resumable state machine ----------------------------------------------------------
    def _start(self, arrival: Decimal, ts_ns: int, desired: Decimal) -> None:
        self._arrival = arrival
        self._parent = self._run_parent(ts_ns, desired)
        self._step()

    def _step(self) -> None:
        """Run the parent until it waits for children or ends; then start a queued target, if any."""
        while self._parent is not None:
            self._running = True
            try:
                next(self._parent)
            except StopIteration:
                self._parent = None
            finally:
                self._running = False
            if self._parent is not None:
                return
            if self._queued is not None:
                queued, self._queued = self._queued, None
                self._arrival = queued[0]
                self._parent = self._run_parent(queued[1], queued[2])

    def on_order_event(self, event: object) -> None:
        """After the order manager applied an event: resume a waiting parent, account a released child
        the venue closed unfilled."""
        child, unfilled = self.children.update(getattr(event, "client_order_id", ""))
        if child is None:
            return
        if child.order.status.is_terminal:
            self._observe(child)
        self.stats.unfilled += unfilled
        if self._parent is not None and not self._running and all(c.settled for c in self._waiting):
            self._step()

    def _on_deadline(self, event: TimeEvent) -> None:
        child = self.children.open.get(event.name.partition(":")[2])
        if child is None or child.order.status.is_terminal:
            return
        if child.order.status is OrderStatus.UNKNOWN:
            # not resolved yet: the order manager is still asking the venue; look again one timeout later
            assert self.clock is not None and self.config.child_timeout_ns is not None
            self.clock.set_time_alert(
                event.name, event.ts_ns + self.config.child_timeout_ns, self._on_deadline
            )
            return
        self.oms.cancel(child.order, "timeout")
        self.drain()

    def _run_parent(self, ts_ns: int, desired: Decimal) -> Generator[None, None, None]:
        current = self.portfolio.exposure_in(self.base)
        delta = desired - current
        if self.children.open:  # what rests at a venue is on its way
            delta -= self.children.working_signed()
        if delta == ZERO:
            return
        self.stats.parents += 1
        if self.config.direct:
            yield from self._direct(ts_ns, current, desired, delta)
            return
        perps = [i for i, inst in self.instruments.items() if inst.is_perp]
        spots = [i for i, inst in self.instruments.items() if not inst.is_perp]
        perp_pos = sum((self.portfolio.positions[i].qty for i in perps), ZERO)
        spot_held = current - perp_pos
        remaining = abs(delta)
        side = Side.BUY if delta > ZERO else Side.SELL
        # 1. close what is held against the move: perp shorts on a buy; on a sell, perp longs then spot
        if side is Side.BUY and perp_pos < ZERO:
            remaining -= yield from self._leg(perps, side, min(remaining, -perp_pos), ts_ns)
        if side is Side.SELL:
            if perp_pos > ZERO:
                remaining -= yield from self._leg(perps, side, min(remaining, perp_pos), ts_ns)
            if remaining > ZERO and spot_held > ZERO:
                remaining -= yield from self._leg(spots, side, min(remaining, spot_held), ts_ns)
        if remaining <= ZERO:
            return
        # 2. open the rest in the chosen vehicle (a sell past zero can only be a perp short); a spot buy is
        #    capped by the cash its wallet holds, and in auto mode the rest goes to the perp
        vehicle = "perp" if side is Side.SELL else self._vehicle(spots, perps, side, remaining)
        if vehicle == "spot":
            affordable = min(remaining, self._affordable(spots))
            remaining -= yield from self._leg(spots, side, affordable, ts_ns)
            if remaining > ZERO and perps and self.config.vehicle == "auto":
                remaining -= yield from self._leg(perps, side, remaining, ts_ns)
        else:
            remaining -= yield from self._leg(perps, side, remaining, ts_ns)
        self.stats.unfilled += max(remaining, ZERO)

    def _direct(
        self, ts_ns: int, current: Decimal, desired: Decimal, delta: Decimal
    ) -> Generator[None, None, None]:
        """The whole change as one market order, reduce-only when it only shrinks the position. The size
        goes toward zero onto the lot grid, and a spot sell sells at most what the account holds: a fee
        charged in the base asset (a CEX spot buy's, a Solana network fee) leaves a holding off the grid,
        whose dust below one lot stays rather than making an order the venue would refuse."""
        (inst_id,) = self.instruments
        inst = self.instruments[inst_id]
        side = Side.BUY if delta > ZERO else Side.SELL
        qty = abs(delta)
        if side is Side.SELL and not inst.is_perp:
            qty = min(qty, max(self.portfolio.balance(inst_id.venue, inst.base), ZERO))
        qty = (qty / inst.lot_size).to_integral_value(rounding="ROUND_FLOOR") * inst.lot_size
        if qty < inst.min_size:
            return  # less than one tradable lot: nothing to send
        shrinks = abs(desired) < abs(current) and (desired > ZERO) == (current > ZERO)
        order = Order(self.ids.next(), inst_id, side, qty, ts_ns, reduce_only=desired == ZERO or shrinks)
        child = self._submit(order)
        if child is None:
            return
        self._waiting = [child]
        while not child.settled:
            yield
        self._waiting = []
        child.released = not child.order.status.is_terminal
        self.stats.unfilled += max(qty - child.committed(), ZERO)

    def _affordable(self, spots: Sequence[InstrumentId]) -> Decimal:
        """Base the spot wallets can buy at the arrival price with a fee and slippage buffer."""
        if not spots or not self._arrival:
            return ZERO
        pf = self.portfolio
        if self.config.mode == "single":
            spots = [i for i in spots if i.venue == self.config.single_venue]
            if not spots:
                return ZERO
        accounts = {pf.account(i.venue): i for i in spots}
        cash = sum((pf.balance(i.venue, self.instruments[i].quote) for i in accounts.values()), ZERO)
        buffer = 1 + self.config.max_slippage_bps / 10_000 + Decimal("0.003")
        lot = max(self.instruments[i].lot_size for i in spots)
        return (cash / (self._arrival * buffer) / lot).to_integral_value(rounding="ROUND_FLOOR") * lot

    def _vehicle(self, spots: list[InstrumentId], perps: list[InstrumentId], side: Side, qty: Decimal) -> str:
        cfg = self.config.vehicle
        if cfg in ("spot", "perp"):
            return cfg if (spots if cfg == "spot" else perps) else ("perp" if perps else "spot")
        if not perps:
            return "spot"
        if not spots:
            return "perp"
        if self.chooser is None:
            return "spot"
        return self.chooser(self.snapshots(spots), self.snapshots(perps), side.value, qty)

    def snapshots(self, ids: Sequence[InstrumentId]) -> list[AnyLiquidity]:
        """The liquidity the venues of `ids` publish now (only the single venue when routing to one)."""
        out = []
        for i in ids:
            venue = self.venues[i.venue]
            if self.config.mode == "single" and self.config.single_venue not in (None, i.venue):
                continue
            snap = venue.liquidity(i)  # type: ignore[attr-defined]
            if snap is not None:
                out.append(snap)
        return out

    def fee_rate(self, inst_id: InstrumentId) -> Decimal:
        """The taker fee rate this executor expects on `inst_id` (0 where none is known)."""
        return self._fee_rates.get(inst_id, ZERO)

    def _leg(
        self, ids: Sequence[InstrumentId], side: Side, qty: Decimal, ts_ns: int
    ) -> Generator[None, None, Decimal]:
        """Route `qty` across `ids`, re-routing what did not fill; return the base quantity committed
        (filled, or resting at a venue). Yields while its children have not settled."""
        filled = ZERO
        excluded: set[InstrumentId] = set()
        for attempt in range(self.config.max_reroutes + 1):
            todo = qty - filled
            snaps = [s for s in self.snapshots(ids) if s.instrument not in excluded]
            if todo <= ZERO or not snaps:
                break
            plan: RoutePlan = plan_route(snaps, side.value, todo, self.to_source, self.grid)
            if attempt and plan.children:
                self.stats.reroutes += 1
            by_inst = {s.instrument: s for s in snaps}
            sent: list[ChildOrder] = []
            for child in plan.children:
                expectation = None
                if self.impact_model is not None:
                    snap, planned, arrival = by_inst[child.instrument], float(child.qty), float(self._arrival)
                    feats, mid = static_impact(snap, side.value, planned, arrival)
                    expectation = _Expectation(str(child.instrument), snap, planned, feats, mid, arrival)
                sent_child = self._send(child.instrument, side, child.qty, ts_ns, expectation)
                if sent_child is None:
                    excluded.add(child.instrument)
                else:
                    sent.append(sent_child)
            self._waiting = sent
            while not all(c.settled for c in sent):
                yield
            self._waiting = []
            for c in sent:
                if c.order.status.is_terminal:  # else when the venue closes it (`on_order_event`)
                    self._observe(c)
                got = c.committed()
                c.released = not c.order.status.is_terminal
                filled += got
                if got < c.planned:
                    excluded.add(c.order.instrument)
            if not plan.children:
                break
        return filled

    def _send(
        self,
        inst_id: InstrumentId,
        side: Side,
        qty: Decimal,
        ts_ns: int,
        expectation: _Expectation | None = None,
    ) -> ChildOrder | None:
        inst = self.instruments[inst_id]
        if side is Side.SELL and not inst.is_perp:  # a spot sell can only sell what its account holds
            held = self.portfolio.balance(inst_id.venue, inst.base)
            qty = min(qty, (held / inst.lot_size).to_integral_value(rounding="ROUND_FLOOR") * inst.lot_size)
            if qty < inst.min_size:
                return None
        guard = self.config.max_slippage_bps / 10_000
        worst = self._arrival * (1 + guard if side is Side.BUY else 1 - guard)
        worst = (worst / inst.tick_size).to_integral_value() * inst.tick_size
        order = Order(self.ids.next(), inst_id, side, qty, ts_ns, price=worst)
        if expectation is not None:
            self._expected[order.client_order_id] = expectation
        child = self._submit(order)
        if child is None:
            self._expected.pop(order.client_order_id, None)
        return child

    def _observe(self, child: ChildOrder) -> None:
        """Tell the impact model what `child` realised once the venue has closed it (filled, cancelled,
        expired): one observation of its filled size at its size-weighted average price against the venue
        mid it was routed on. A child filled short of its plan is seen at the size it filled (the static
        model re-read at that size on the same snapshot)."""
        expected = self._expected.pop(child.order.client_order_id, None)
        model = self.impact_model
        if expected is None or model is None or expected.qty <= ZERO or not expected.arrival:
            return
        filled = float(expected.qty)
        features = expected.features
        if filled != expected.planned:
            side = child.order.side.value
            features, _ = static_impact(expected.snapshot, side, filled, expected.arrival)
        avg = float(expected.notional / expected.qty)
        sign = 1.0 if child.order.side is Side.BUY else -1.0
        realised = max(sign * (avg - expected.venue_mid) / expected.arrival * 1e4, 0.0)
        # predicted before the model sees this child: a prequential (always held-out) record
        predicted = model.predict(expected.venue, features)
        self.stats.impact_log.append((expected.venue, features.static_bps, predicted, realised))
        model.update(expected.venue, features, realised)

    def _submit(self, order: Order) -> ChildOrder | None:
        """Pass `order` through the risk gate and the order manager as a child of the running parent."""
        inst_id = order.instrument
        inst = self.instruments[inst_id]
        self.arrivals[order.client_order_id] = self._arrival
        pf = self.portfolio
        equity = pf.equity({i: self._arrival for i in pf.positions})
        if inst.is_perp:
            position, cash = pf.positions[inst_id].qty, equity
        else:
            position, cash = pf.balance(inst_id.venue, inst.base), pf.balance(inst_id.venue, inst.quote)
        if self.children.open:  # the worst case: what rests on this side fills, the other side does not
            position += self.children.working_signed(inst_id, order.side)
        fee_rate = self._fee_rates.get(inst_id, ZERO)
        age = 0 if self.clock is None or self.data_ts_ns is None else self.clock.now_ns() - self.data_ts_ns
        try:
            oracle = getattr(self.venues.get(inst_id.venue), "oracle_valid", None)
            valid = True if oracle is None or self.clock is None else oracle(inst_id, self.clock.now_ns())
            ctx = RiskContext(self._arrival, position, cash, equity, fee_rate, max(age, 0), valid)
            self.risk.check(order, inst, ctx)
        except Rejected as exc:
            self.oms.reject(order, exc.reason, str(exc))
            self.drain()
            return None
        self.stats.children += 1
        timeout = self.config.child_timeout_ns
        deadline = None if timeout is None or self.clock is None else self.clock.now_ns() + timeout
        child = ChildOrder(order, order.amount, deadline)
        self.children.add(child)
        self.oms.submit(order, venue_for(inst_id, self.venues))  # type: ignore[arg-type]
        self.drain()
        self.children.sent(child)
        if deadline is not None and self.clock is not None and order.status.is_open:
            self.clock.set_time_alert(f"child:{order.client_order_id}", deadline, self._on_deadline)
        return child
