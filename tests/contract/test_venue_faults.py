"""Every simulated venue behind a fault-injecting wrapper (timeouts, 429/5xx, partial fills, late acks,
duplicate and reordered events, fills after a cancel request), traded by the real node, order manager and
routed executor: nothing is double-counted, no order reaches the venue twice, no risk limit is exceeded."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from contract_venues import FACTORIES, Subject
from faulty_venue import FaultyVenue

from botnft.backtest.driver import SimulationDriver
from botnft.domain.events import OrderFilled
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.executor import Executor, RouteConfig
from botnft.engine.node import TradingNode
from botnft.risk.gate import RiskGate, RiskLimits
from botnft.risk.sizing import FixedSize
from botnft.routing.adapt import to_source

SIZE = Decimal(2)  # SOL at exposure 1; the strategy asks for up to 1.5x, past the position limit
LIMIT_IN_SIZES = Decimal("1.25")  # the position limit, in SIZEs at the first bar's close
N_BARS = 240
SEEDS = (1, 2, 3)


class ScriptedSignals:
    """A signal every other bar, exposures drawn from a seeded RNG (shorts only on a perp)."""

    name = "scripted"

    def __init__(self, seed: int, perp: bool) -> None:
        self.rng = random.Random(seed)
        self.levels = (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5) if perp else (0.0, 0.5, 1.0, 1.5)

    def on_bars(self, bars):
        return [(i, self.rng.choice(self.levels)) for i in range(0, len(bars), 2)]


class WatchedPortfolio(Portfolio):
    """A portfolio that records its largest absolute position in base units after every fill."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.peak = Decimal(0)

    def apply_fill(self, fill: OrderFilled) -> None:
        super().apply_fill(fill)
        inst = self.instruments[fill.instrument]
        venue = fill.instrument.venue
        held = self.positions[fill.instrument].qty if inst.is_perp else self.balance(venue, "SOL")
        self.peak = max(self.peak, abs(held))


def trade_through_faults(name: str, seed: int, path: str = "routed"):
    """`path`: "routed" (the routed executor, children cancelled past a deadline) or "direct" (the node's
    own single-venue executor: one market order per change, no deadline)."""
    subject: Subject = FACTORIES[name](sol=Decimal(0))
    inner = subject.venue
    venue = FaultyVenue(inner, random.Random(seed))
    inst = inner.instruments()[subject.instrument]
    bars = subject.bars.slice(subject.j, subject.j + N_BARS)
    clock = SimClock(int(bars.ts_ns[0]))
    vname = subject.instrument.venue
    portfolio = WatchedPortfolio({inst.id: inst})
    for asset, amount in inner.fetch_balance().items():
        if amount:
            portfolio.deposit(vname, asset, amount)
    limit = Decimal(repr(float(bars.close[0]))) * SIZE * LIMIT_IN_SIZES
    risk = RiskGate(RiskLimits(max_leverage=Decimal(3), max_position_notional=limit))
    node = TradingNode(
        clock=clock,
        strategy=ScriptedSignals(seed, inst.is_perp),
        instrument=inst,
        venues={vname: venue},
        portfolio=portfolio,
        sizer=FixedSize(SIZE),
        risk=risk,
        fee_rate=Decimal("0.001"),
        rng=random.Random(seed),
    )
    if path == "direct":
        SimulationDriver(node, clock, {vname: venue}).on_batch(bars)
        return _catch_up(subject, venue, node, portfolio, limit, bars)
    executor = Executor(
        base="SOL",
        venues={vname: venue},
        instruments={inst.id: inst},
        portfolio=portfolio,
        oms=node.oms,
        risk=risk,
        drain=node.bus.drain,
        ids=node.ids,
        to_source=lambda snap, side: to_source(snap, "buy" if side == "buy" else "sell"),
        config=RouteConfig(mode="single", single_venue=vname, child_timeout_ns=bars.interval_ns // 2),
        clock=clock,
    )
    node.attach_executor(executor)
    SimulationDriver(node, clock, {vname: venue}).on_batch(bars)
    return _catch_up(subject, venue, node, portfolio, limit, bars)


def _catch_up(subject, venue, node, portfolio, limit, bars):
    while venue.held:  # the stream catches up after the last bar (and may wake a waiting parent)
        for ev in venue.flush():
            node.bus.publish(ev)
        node.bus.drain()
    # the most any approved order could have made the position: the limit at the lowest decision price
    max_qty = limit / Decimal(repr(float(bars.close.min())))
    return subject, venue, node, portfolio, max_qty


CASES = [(name, seed, path) for name in sorted(FACTORIES) for seed in SEEDS for path in ("routed", "direct")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{n}-seed{s}-{p}" for n, s, p in CASES])
def run(request):
    return trade_through_faults(*request.param)


def test_the_faults_were_injected_and_the_node_still_traded(run):
    _, venue, node, _, _ = run
    assert node.record.fills, "no fill: the run tested nothing"
    assert venue.injected["refuse"] + venue.injected["timeout"] + venue.injected["lost"] > 0
    assert venue.injected["duplicate"] > 0 and venue.injected["late"] > 0
    assert venue.injected["partial"] > 0
    if node.executor is not None:  # the routed run cancels children past their deadline
        assert venue.injected["fill_after_cancel"] > 0
    assert node.risk.denied > 0, "the position limit never bound: the risk check tested nothing"


def test_no_order_reaches_the_venue_twice_for_one_client_order_id(run):
    _, venue, _, _, _ = run
    assert venue.landed and max(venue.landed.values()) == 1


def test_each_trade_is_applied_once_and_every_trade_of_the_venue_is_applied(run):
    _, venue, node, _, _ = run
    ids = [f.trade_id for f in node.record.fills]
    assert len(ids) == len(set(ids))
    assert set(ids) == venue.trade_ids
    per_order: dict[str, Decimal] = {}
    for f in node.record.fills:
        per_order[f.client_order_id] = per_order.get(f.client_order_id, Decimal(0)) + f.qty
    assert per_order == {k: Decimal(v) for k, v in venue.filled.items() if v}


def test_the_order_table_agrees_with_the_fills(run):
    _, _, node, _, _ = run
    for order in node.oms.orders():
        coid = order.client_order_id
        fills = [f.qty for f in node.record.fills if f.client_order_id == coid]
        assert order.filled == sum(fills, Decimal(0))


def test_the_portfolio_equals_the_venues_own_positions_and_balances(run):
    subject, venue, node, portfolio, _ = run
    inst = subject.instrument
    vname = inst.venue
    held = venue.fetch_positions().get(inst, Decimal(0))
    if inst.is_perp:
        assert portfolio.positions[inst].qty == held
        # Drift truncates the cost basis to 1e-6 on each partial close; nothing else may differ
        slack = Decimal(len(node.record.fills)).scaleb(-6) if vname == "DRIFT" else Decimal(0)
        assert abs(portfolio.balance(vname, subject.quote) - venue.fetch_balance()[subject.quote]) <= slack
    else:
        balances = venue.fetch_balance()
        assert portfolio.balance(vname, subject.base) == balances[subject.base]
        assert portfolio.balance(vname, subject.quote) == balances[subject.quote]


def test_no_position_ever_exceeds_the_risk_limit(run):
    _, _, _, portfolio, max_qty = run
    assert portfolio.peak <= max_qty
