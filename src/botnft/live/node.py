"""The live node: the same `TradingNode` as backtests and paper runs, over the live (or dry-run) venues,
journaled, behind the halting risk gate; one venue trades direct, several are routed by the executor."""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from botnft.backtest.paper.reconcile import HaltingRiskGate
from botnft.domain.instruments import Instrument
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.executor import Executor, RouteConfig
from botnft.engine.node import TradingNode
from botnft.live.journal import LiveJournal
from botnft.routing.adapt import to_source


def _to_source(snapshot: Any, side: str) -> Any:
    return to_source(snapshot, "buy" if side == "buy" else "sell")


def live_node(
    *,
    strategy: Any,
    sizer: Any,
    gate: Any,
    venues: Mapping[str, Any],
    clock: SimClock,
    journal: LiveJournal,
    fee_rate: Decimal,
    seed: int = 0,
    accounts: Mapping[str, str] | None = None,
) -> tuple[TradingNode, HaltingRiskGate]:
    """A node trading every instrument `venues` list for one base asset (the coarsest lot is the node's
    instrument, as a routed backtest sizes on it); several venues are routed (split), one is direct.
    `accounts` maps venues that settle into one wallet (the Solana venues) to it."""
    instruments: dict[Any, Instrument] = {}
    for v in venues.values():
        instruments.update(v.instruments())
    if not instruments:
        raise ValueError("the venues list no instrument")
    bases = {inst.base for inst in instruments.values()}
    if len(bases) != 1:
        raise ValueError(f"a live node trades one base asset, the venues list {sorted(bases)}")
    primary = max(instruments.values(), key=lambda i: i.lot_size)
    halting = HaltingRiskGate(gate)
    node = TradingNode(
        clock=clock,
        strategy=strategy,
        instrument=primary,
        venues=venues,
        portfolio=Portfolio(instruments, accounts),
        sizer=sizer,
        risk=halting,  # type: ignore[arg-type]
        fee_rate=fee_rate,
        journal=journal,
        rng=random.Random(seed),
    )
    if len(instruments) > 1:
        node.attach_executor(
            Executor(
                base=primary.base,
                venues=venues,
                instruments=instruments,
                portfolio=node.portfolio,
                oms=node.oms,
                risk=node.risk,
                drain=node.bus.drain,
                ids=node.ids,
                to_source=_to_source,
                config=RouteConfig(mode="split"),
                clock=clock,
            )
        )
    return node, halting
