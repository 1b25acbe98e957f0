"""The node of a paper run: the backtest session's node rebuilt around the paper venues and the journal,
and its snapshots (the node's whole state, without its venues) and their restore."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from botnft.backtest.paper.journal import JournaledVenue, NodeJournal
from botnft.backtest.paper.state import dumps, loads
from botnft.backtest.session import BacktestSession
from botnft.domain.events import BankruptcyResolved, FundingApplied, PositionLiquidated
from botnft.engine.executor import Executor
from botnft.engine.node import TradingNode
from botnft.ports import VenueClient


def paper_node(
    session: BacktestSession, venues: Mapping[str, VenueClient], journal: NodeJournal, risk: Any
) -> TradingNode:
    """The session's node, built again with `venues`, `journal` and `risk` (nothing has run on it yet)."""
    old = session.node
    node = TradingNode(
        clock=old.clock,
        strategy=old.strategy,
        instrument=old.instrument,
        venues=venues,
        portfolio=old.portfolio,
        sizer=old.sizer,
        risk=risk,
        fee_rate=old.fee_rate,
        journal=journal,
        rng=random.Random(session.spec.seed),  # as the backtest seeds its retry jitter
    )
    for kind in (FundingApplied, PositionLiquidated, BankruptcyResolved):  # account events: journaled too
        node.bus.subscribe(kind, journal.append)
    ex = old.executor
    if ex is not None:
        node.attach_executor(
            Executor(
                base=ex.base,
                venues=venues,
                instruments=ex.instruments,
                portfolio=node.portfolio,
                oms=node.oms,
                risk=node.risk,
                drain=node.bus.drain,
                ids=node.ids,
                to_source=ex.to_source,
                config=ex.config,
                chooser=ex.chooser,
                impact_model=ex.impact_model,
                clock=ex.clock,
            )
        )
    return node


class Detached:
    """Stands in a restored node's bus for an observer of an earlier life (the live one attaches afresh):
    whatever the observer had subscribed (`on_event`, `on_risk`, ...) does nothing."""

    def on_event(self, _event: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.on_event


DETACHED = Detached()


#: how many listeners besides the observer a snapshot writes as references (`snapshot`'s `listeners`)
MAX_LISTENERS = 4


def _refs(
    node: TradingNode,
    venues: Mapping[str, JournaledVenue],
    journal: NodeJournal,
    observer: Any = None,
    listeners: Sequence[Any] = (),
) -> dict[str, Any]:
    refs: dict[str, Any] = {f"venue:{name}": v for name, v in venues.items()}
    refs["journal"] = journal
    refs["observer:detached"] = DETACHED
    if observer is not None:
        refs["observer"] = observer
    if len(listeners) > MAX_LISTENERS:
        raise ValueError(f"at most {MAX_LISTENERS} listeners")
    for i, listener in enumerate(listeners):
        refs[f"listener:{i}"] = listener
    ex = node.executor
    if ex is not None:
        if ex.chooser is not None:
            refs["chooser"] = ex.chooser
        if ex.impact_model is not None:
            refs["impact"] = ex.impact_model
    return refs


def compact(node: TradingNode) -> None:
    """One array each for the equity curve so far (a paper run appends one per bar)."""
    rec = node.record
    if len(rec.ts_ns) > 1:
        rec.ts_ns[:] = [np.concatenate(rec.ts_ns)]
        rec.equity[:] = [np.concatenate(rec.equity)]


def snapshot(
    node: TradingNode,
    venues: Mapping[str, JournaledVenue],
    journal: NodeJournal,
    observer: Any = None,
    listeners: Sequence[Any] = (),
) -> bytes:
    """The node's whole state: orders, positions, balances, the strategy's state, the executor's and the
    clock's, the random generators, the record. The venues, the journal and the vehicle chooser (a
    closure over the impact model) are written as references and bound to the rebuilt ones on restore;
    the impact model's state is written beside the node and loaded into the rebuilt model. An `observer`
    subscribed to the bus is written as a reference too and restored detached, as are `listeners` (the
    order log)."""
    compact(node)
    ex = node.executor
    impact = None if ex is None or ex.impact_model is None else dict(vars(ex.impact_model))
    return dumps((node, impact), _refs(node, venues, journal, observer, listeners))


def restore(
    blob: bytes, fresh: TradingNode, venues: Mapping[str, JournaledVenue], journal: NodeJournal
) -> TradingNode:
    """The node a snapshot holds, bound to `fresh`'s venues, journal, chooser and impact model."""
    detached = {"observer": DETACHED} | {f"listener:{i}": DETACHED for i in range(MAX_LISTENERS)}
    node, impact = loads(blob, {**_refs(fresh, venues, journal), **detached})
    assert isinstance(node, TradingNode)
    if impact is not None and node.executor is not None and node.executor.impact_model is not None:
        vars(node.executor.impact_model).update(impact)
    return node
