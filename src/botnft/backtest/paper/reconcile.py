"""Reconciliation after a restart: the node's rebuilt state against each venue's own reports; what it did
is returned line by line for the run's log and summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botnft.domain.errors import RiskDenied
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderExpired, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.orders import Order, OrderStatus
from botnft.engine.node import TradingNode
from botnft.risk.gate import RiskContext

S = OrderStatus


class HaltingRiskGate:
    """The node's risk gate, plus a halt on instruments: an order that would add risk there is refused."""

    def __init__(self, gate: Any) -> None:
        self.gate = gate
        self.halted: dict[InstrumentId, str] = {}

    def __getattr__(self, name: str) -> Any:
        """Everything else is the wrapped gate's (its counters and reasons, for the run's statistics)."""
        if name == "gate" or name.startswith("__"):  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.gate, name)

    def check(self, order: Order, instrument: Instrument, ctx: RiskContext) -> None:
        why = self.halted.get(order.instrument)
        if why is not None:
            new = ctx.position + (order.amount if order.side.sign > 0 else -order.amount)
            if abs(new) > abs(ctx.position) or (new != 0 and (new > 0) != (ctx.position > 0)):
                raise RiskDenied(f"new risk on {order.instrument} is halted: {why}")
        self.gate.check(order, instrument, ctx)


@dataclass(slots=True)
class Reconciled:
    actions: list[str] = field(default_factory=list)
    missed_fills: int = 0
    resolved: int = 0
    canceled: int = 0
    adopted: int = 0
    mismatches: int = 0


def reconcile(
    node: TradingNode,
    venues: Mapping[str, Any],
    gate: HaltingRiskGate,
    ts_ns: int,
    *,
    unknown: str = "cancel",
) -> Reconciled:
    """Bring `node` in line with `venues` (paper venue adapters answering the report queries): unknown
    orders are resolved by client order id; fills the node missed are applied (the venue's own fill
    events, so an AMM swap's exact quote amount is kept); orders the venue has and the node does not know
    are cancelled (default) or adopted; a position that still disagrees is recorded and new risk on that
    instrument is halted."""
    out = Reconciled()
    oms, bus = node.oms, node.bus
    # 1. orders the node sent without an answer: the venue says what became of them
    for order in oms.orders():
        if order.status is not S.UNKNOWN:
            continue
        venue = venues[order.instrument.venue]
        report = venue.fetch_order(order.client_order_id)
        coid = order.client_order_id
        if report is None:
            bus.publish(OrderRejected(ts_ns, coid, order.instrument, "lost", "the venue never received it"))
        elif report.status is S.CANCELED:
            bus.publish(OrderCanceled(ts_ns, coid, "canceled"))
        elif report.status is S.REJECTED:
            bus.publish(OrderRejected(ts_ns, coid, order.instrument, "rejected", "venue reports it rejected"))
        elif report.status is S.EXPIRED:
            bus.publish(OrderExpired(ts_ns, coid))
        else:
            bus.publish(OrderAccepted(ts_ns, coid, report.venue_order_id or coid))
        out.resolved += 1
        out.actions.append(
            f"resolved unknown order {coid}: the venue reports {report.status if report else 'none'}"
        )
    bus.drain()
    # 2. fills the venue made that the node has not applied
    seen = Counter(f.client_order_id for f in node.record.fills)
    for name, venue in venues.items():
        by_order: dict[str, list[OrderFilled]] = {}
        for event in venue.fill_events():
            by_order.setdefault(event.client_order_id, []).append(event)
        for coid, events in by_order.items():
            if oms.get(coid) is None:
                continue  # an order the node does not know: step 3
            for event in events[seen[coid] :]:
                bus.publish(event)
                out.missed_fills += 1
                out.actions.append(
                    f"applied a fill the node missed: {coid} {event.qty} at {event.price} on {name}"
                )
    bus.drain()
    # 3. orders the venue works that the node does not know
    for name, venue in venues.items():
        for report in venue.fetch_order_reports():
            if oms.get(report.client_order_id) is not None or not report.status.is_open:
                continue
            if unknown == "adopt" and venue.has.get("idempotentClientOrderId", False):
                order = Order(report.client_order_id, report.instrument, report.side, report.amount, ts_ns)
                oms.submit(order, venue)  # idempotent on the client id: the venue returns the order it has
                out.adopted += 1
                out.actions.append(f"adopted order {report.client_order_id} on {name}")
            else:
                venue.cancel_order(report.client_order_id)
                out.canceled += 1
                out.actions.append(
                    f"canceled order {report.client_order_id} on {name}: the node did not know it"
                )
    bus.drain()
    # 4. positions: what the node holds against what each venue says it holds
    for name, (mine, theirs) in positions(node, venues).items():
        for key in sorted(set(mine) | set(theirs)):
            a, b = mine.get(key, Decimal(0)), theirs.get(key, Decimal(0))
            if a != b:
                out.mismatches += 1
                inst = key if isinstance(key, InstrumentId) else None
                for i in node.portfolio.positions:
                    if inst is None and i.venue == name:
                        inst = i
                if inst is not None:
                    gate.halted[inst] = f"the node holds {a}, {name} reports {b}"
                out.actions.append(f"position mismatch on {name} {key}: node {a}, venue {b}; new risk halted")
    return out


def positions(
    node: TradingNode, venues: Mapping[str, Any]
) -> dict[str, tuple[dict[Any, Decimal], dict[Any, Decimal]]]:
    """Per venue: (the node's view, the venue's own): perp positions by instrument, spot holdings by asset."""
    pf = node.portfolio
    out: dict[str, tuple[dict[Any, Decimal], dict[Any, Decimal]]] = {}
    for name, venue in venues.items():
        mine: dict[Any, Decimal] = {}
        theirs: dict[Any, Decimal] = {}
        for inst_id, inst in venue.instruments().items():
            if inst.is_perp:
                mine[inst_id] = pf.positions[inst_id].qty if inst_id in pf.positions else Decimal(0)
                theirs[inst_id] = Decimal(venue.fetch_positions().get(inst_id, Decimal(0)))
            else:
                mine[inst.base] = pf.balance(name, inst.base)
                theirs[inst.base] = Decimal(venue.fetch_balance().get(inst.base, Decimal(0)))
        out[name] = (mine, theirs)
    return out
