"""Reconciliation against the paper venues' own reports: an unknown order is resolved by its client id, a
fill the node missed is applied once, an order the node never knew is cancelled (or adopted), and a
position that still disagrees halts new risk."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from botnft.backtest.paper.reconcile import reconcile
from botnft.backtest.paper.run import PaperRun, PaperSettings
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.domain.errors import Retryable, RiskDenied
from botnft.domain.orders import Order, OrderStatus, Side
from botnft.risk.gate import RiskContext
from botnft.storage import make_engine, upgrade
from botnft.storage.journal import PaperStore

SPEC = BacktestSpec(start=datetime(2024, 3, 1, tzinfo=UTC), end=datetime(2024, 3, 4, tzinfo=UTC))
CASH = D(100_000)


@pytest.fixture
def run(tmp_path: Path) -> PaperRun:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    store = PaperStore(make_engine(url))
    store.create_run("r", {}, 0)
    return PaperRun(build_backtest(SPEC), store, "r", PaperSettings(), log=lambda _: None)


def order(run: PaperRun, coid: str, qty: str, side: Side = Side.BUY) -> Order:
    return Order(coid, run.node.instrument.id, side, D(qty), int(run.bars.ts_ns[0]))


def next_open_cost(run: PaperRun, qty: D) -> D:
    """A market buy filled at bar 1's open on the sim venue: notional + 10 bps (the fee rounded up)."""
    price = D(repr(float(run.bars.open[1]))).quantize(D("0.0001"))
    notional = qty * price
    return notional + (notional * D("0.001")).quantize(D("0.00000001"), rounding=ROUND_CEILING)


def test_a_fill_the_venue_made_and_the_node_missed_is_applied_once(run: PaperRun) -> None:
    node, venue = run.node, run.side.adapters["SIM"]
    venue.set_cursor(run.bars, 0)
    node.oms.submit(order(run, "O-1", "3"), run.venues["SIM"])
    node.bus.drain()
    venue.process(run.bars.slice(1, 2), 0)  # the venue fills it; the node never hears of it (a crash)
    assert node.portfolio.exposure_in("SOL") == 0

    first = reconcile(node, run.side.adapters, run.gate, 0)
    second = reconcile(node, run.side.adapters, run.gate, 0)

    assert first.missed_fills == 1 and second.missed_fills == 0
    assert node.portfolio.exposure_in("SOL") == D("3")
    assert node.portfolio.balance("SIM", "USDT") == CASH - next_open_cost(run, D("3"))
    assert node.oms.get("O-1").status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert first.mismatches == 0 and not run.gate.halted


def test_an_order_the_node_does_not_know_is_cancelled_by_default(run: PaperRun) -> None:
    venue = run.side.adapters["SIM"]
    venue.set_cursor(run.bars, 0)
    venue.create_order(order(run, "X-1", "1"))  # resting until the next open

    done = reconcile(run.node, run.side.adapters, run.gate, 0)

    assert done.canceled == 1 and venue.fetch_open_orders() == []
    assert "canceled order X-1 on SIM: the node did not know it" in done.actions


def test_an_order_the_node_does_not_know_is_adopted_when_asked(run: PaperRun) -> None:
    venue = run.side.adapters["SIM"]
    venue.set_cursor(run.bars, 0)
    venue.create_order(order(run, "X-1", "1"))

    done = reconcile(run.node, run.side.adapters, run.gate, 0, unknown="adopt")

    assert done.adopted == 1 and run.side.sends("X-1") == 1  # taken on, not sent a second time
    assert run.node.oms.get("X-1").status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    assert [o.client_order_id for o in venue.fetch_open_orders()] == ["X-1"]


def test_a_position_that_still_disagrees_is_recorded_and_halts_new_risk_on_that_instrument(
    run: PaperRun,
) -> None:
    venue = run.side.adapters["SIM"]
    venue.set_cursor(run.bars, 0)
    venue.create_order(order(run, "X-1", "2"))
    venue.process(run.bars.slice(1, 2), 0)  # filled: the venue holds 2 SOL the node knows nothing of

    done = reconcile(run.node, run.side.adapters, run.gate, 0)

    assert done.mismatches == 1
    assert "position mismatch on SIM SOL: node 0, venue 2; new risk halted" in done.actions
    inst = run.node.instrument
    ctx = RiskContext(D(100), D(0), CASH, CASH, D("0.001"))
    with pytest.raises(RiskDenied, match="halted"):
        run.gate.check(order(run, "O-9", "1"), inst, ctx)
    held = RiskContext(D(100), D(2), CASH, CASH, D("0.001"))
    run.gate.check(order(run, "O-10", "1", Side.SELL), inst, held)  # reducing risk stays allowed


class LostAnswer:
    """The paper venue behind a link that loses the answer to every order and to the first query."""

    def __init__(self, venue: Any) -> None:
        self.venue, self.name, self.has, self.asked = venue, venue.name, venue.has, 0

    def create_order(self, order: Order) -> Any:
        self.venue.create_order(order)
        raise Retryable("timed out")

    def fetch_order(self, client_order_id: str) -> Any:
        self.asked += 1
        raise Retryable("timed out")


def test_an_order_left_unknown_is_resolved_by_its_client_id_and_never_sent_again(run: PaperRun) -> None:
    venue = run.side.adapters["SIM"]
    venue.set_cursor(run.bars, 0)
    run.node.oms.submit(order(run, "O-1", "1"), LostAnswer(venue))  # type: ignore[arg-type]
    run.node.bus.drain()
    assert run.node.oms.get("O-1").status is OrderStatus.UNKNOWN  # type: ignore[union-attr]

    done = reconcile(run.node, run.side.adapters, run.gate, 0)

    assert done.resolved == 1
    assert run.node.oms.get("O-1").status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    assert run.side.sends("O-1") == 1
