"""The live node over an async venue (a test double, tests/unit/live/double.py): orders leave journaled,
come back as the node's events; a lost answer is resolved by asking the venue, never by sending again;
a restart (a new life) reconciles the journal against the venue: nothing lost, nothing sent twice."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path

import pytest

from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.domain.market import Bar
from botnft.live.journal import read_journal
from botnft.live.run import LiveSettings
from botnft.live.session import LiveLife, open_life
from botnft.live.wire import run_tag
from botnft.storage import make_engine, upgrade
from botnft.storage.journal import PaperStore

from .double import SOL, DoubleExchange, ListFeed

HOUR = 3_600_000_000_000


#: the bars start in the next hour: they are live (a bar that closed before the run started is history)
T0 = (time.time_ns() // HOUR + 1) * HOUR


def bars(closes: list[float]) -> list[Bar]:
    return [Bar(SOL.id, T0 + i * HOUR, c, c, c, c, 1.0) for i, c in enumerate(closes)]


# a crossover (fast 2, slow 4) on this path goes long, out, long again, out
PATH = [100.0] * 5 + [110.0, 120.0, 130.0] + [90.0, 80.0, 70.0] + [120.0, 140.0, 150.0] + [60.0] * 4


@pytest.fixture
def store(tmp_path: Path) -> PaperStore:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    s = PaperStore(make_engine(url))
    s.create_run("live-1", {}, 0)
    return s


def life(
    store: PaperStore, ex: DoubleExchange, closes: list[float], pause_s: float = 0.08, **kw: object
) -> LiveLife:
    session = build_backtest(BacktestSpec(strategy="sma_cross", params={"fast": "2", "slow": "4"}, size=D(1)))
    node = session.node
    return open_life(
        store=store, run_id="live-1", feed=ListFeed(bars(closes), ex, pause_s=pause_s),
        strategy=node.strategy, sizer=node.sizer, gate=node.risk, fee_rate=D("0.001"),
        settings=LiveSettings(HOUR, settle_s=3.0, **kw),  # type: ignore[arg-type]
        clients={"DOUBLE": ex}, timeout_s=0.3, poll_s=0.02, log=lambda _: None,
    )  # fmt: skip


def run_life(store: PaperStore, ex: DoubleExchange, closes: list[float], **kw: object) -> tuple[str, dict]:
    lf = life(store, ex, closes, **kw)
    try:
        status = lf.run.run()
        return status, lf.run.summary(status)
    finally:
        lf.close()


def test_orders_round_trip_through_the_async_venue_and_the_node_ends_with_the_venues_balances(store):
    ex = DoubleExchange()
    status, summary = run_life(store, ex, PATH)
    assert status == "finished"
    assert len(ex.trades) >= 2  # the crossover traded in and out
    assert all(n == 1 for n in ex.creates.values())  # every client order id received once
    # the node's ledger, built from the events the bridge delivered, equals the venue's own balances
    assert {a: D(q) for a, q in summary["balances"]["DOUBLE"].items()} == ex.balances
    assert summary["fills"] == len(ex.trades)


def test_a_lost_answer_is_resolved_by_asking_the_venue_and_nothing_is_sent_twice(store):
    ex = DoubleExchange()
    ex.faults = ["lost"]  # the first order lands, its answer never comes (the call times out)
    ex.delay_s = 1.0
    status, summary = run_life(store, ex, PATH)
    assert status == "finished"
    assert all(n == 1 for n in ex.creates.values())
    assert {a: D(q) for a, q in summary["balances"]["DOUBLE"].items()} == ex.balances
    kinds = [e[2] for e in store.entries("live-1")]
    assert "OrderStatusUnknown" in kinds  # the order went UNKNOWN, then fetch_order found it
    assert kinds.index("OrderSubmitted") < kinds.index("OrderStatusUnknown")


def test_every_order_intent_is_journaled_before_the_venue_receives_it(store):
    ex = DoubleExchange()
    seen: list[tuple[str, bool]] = []
    real = ex.create_order

    async def spy(order):
        journaled = {e[3].get("client_order_id") for e in store.entries("live-1", kinds=["OrderSubmitted"])}
        prefix = read_journal(store, "live-1").lives[-1]["prefix"]
        seen.append((order.client_order_id, order.client_order_id[len(prefix) :] in journaled))
        return await real(order)

    ex.create_order = spy  # type: ignore[method-assign]
    run_life(store, ex, PATH)
    assert seen and all(ok for _, ok in seen)


def test_a_restart_reconciles_the_journal_with_the_venue_nothing_lost_nothing_duplicated(store):
    ex = DoubleExchange()
    # life 1 stops abruptly after 9 bars (its orders' events may not all have arrived: a crash)
    lf = life(store, ex, PATH[:10], max_bars=9)
    lf.run.run()
    lf.close()
    before = dict(ex.creates)
    # life 2: a fresh node under a new wire prefix, seeded from the venue, warmed up on the bars seen
    _, summary = run_life(store, ex, PATH)
    view = read_journal(store, "live-1")
    assert [lv["life"] for lv in view.lives] == [1, 2]
    assert view.lives[0]["prefix"] != view.lives[1]["prefix"]
    assert all(n == 1 for n in ex.creates.values())  # 0 duplicated
    for wire in view.orders:  # 0 lost: every journaled intent is at the venue
        assert wire in ex.orders
    assert set(before) <= set(ex.creates)
    assert all(w.startswith(run_tag("live-1") + ".") for w in ex.creates)
    rec = summary["reconciliation"]
    assert rec["mismatches"] == 0 and rec["never_reached"] == 0
    assert summary["warmup_bars"] == 9
    assert {a: D(q) for a, q in summary["balances"]["DOUBLE"].items()} == ex.balances


def test_a_holding_the_journal_cannot_account_for_halts_new_risk(store):
    ex = DoubleExchange()
    lf = life(store, ex, PATH[:10], max_bars=9)
    lf.run.run()
    lf.close()
    ex.balances["SOL"] += D(5)  # someone else moved the account
    lf = life(store, ex, PATH)
    try:
        rec = lf.run.started
        assert rec is not None and rec.mismatches >= 1
        assert SOL.id in lf.run.gate.halted
    finally:
        lf.close()


def test_a_refused_order_is_sent_again_after_its_backoff_in_wall_time_not_at_the_next_bar(store):
    ex = DoubleExchange()
    ex.faults = ["refuse"]  # 429 on the first order: certainly not at the venue, resent after a backoff
    rise = [100.0, 100.0, 100.0, 96.0, 92.0, 96.0, 104.0, 112.0, 120.0]  # the crossover buys at bar 6
    lf = life(store, ex, rise, pause_s=0.6, max_bars=8)  # bars 0.6 s apart (an hour each)
    try:
        lf.run.run()
    finally:
        lf.close()
    entries = store.entries("live-1")
    kinds = [e[2] for e in entries]
    refused = kinds.index("OrderSubmitRefused")
    resent = kinds.index("OrderSubmitted", refused)
    assert "bar" not in kinds[refused:resent]  # resent before the next bar arrived
    assert ex.creates and all(n <= 2 for n in ex.creates.values())
    assert sum(ex.creates.values()) == len(ex.creates) + 1  # the refused request and its one resend
