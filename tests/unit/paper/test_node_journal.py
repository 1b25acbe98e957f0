"""The node's journal: replaying from a snapshot reads the journaled inputs back and checks, not rewrites,
what the node does again; a divergence is noted and the journal's tail dropped; notes of a past life are
skipped; while the database is away the flush halts, retries and says so."""

from __future__ import annotations

import pickle
from decimal import Decimal as D
from typing import Any

import pytest

from botnft.backtest.paper.journal import NodeJournal
from botnft.domain.events import OrderAccepted, OrderSubmitted
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side
from botnft.engine.clock import SimClock
from botnft.storage.errors import StorageError, StorageUnavailable


class FakeStore:
    def __init__(self, outages: int = 0) -> None:
        self.written: list[tuple[Any, ...]] = []
        self.truncated: list[int] = []
        self.outages = outages

    def append(
        self,
        run_id: str,
        entries: list[Any],
        bars_done: int | None,
        last_event_ts: int | None,
        *,
        progress: bool = True,
    ) -> None:
        if self.outages:
            self.outages -= 1
            raise StorageUnavailable("sqlite:///x.db", "database is locked")
        self.written.extend(entries)

    def truncate(self, run_id: str, after_seq: int) -> None:
        self.truncated.append(after_seq)


def entry(seq: int, kind: str, obj: Any) -> tuple[int, int, str, dict[str, Any], bytes]:
    return (seq, 0, kind, {}, pickle.dumps(obj))


def journal(store: FakeStore, expected: list[Any], **kw: Any) -> NodeJournal:
    lines: list[str] = []
    j = NodeJournal(store, "r", SimClock(0), expected=expected, log=lines.append, **kw)  # type: ignore[arg-type]
    j.lines = lines  # type: ignore[attr-defined]
    return j


def never() -> Any:
    raise AssertionError("a replayed input is read from the journal, not from the venue")


def test_a_replay_reads_journaled_inputs_back_and_writes_nothing_it_already_has() -> None:
    ack = OrderAccepted(5, "O-1", "V-1")
    store = FakeStore()
    j = journal(
        store, [entry(1, "bar", 7), entry(2, "liquidity", {"bid": D("99.5")}), entry(3, "OrderAccepted", ack)]
    )

    j.record("bar", 0, 7)
    seen = j.read("liquidity", never, {})
    j.append(ack)
    j.flush()

    assert seen == {"bid": D("99.5")}
    assert j.replayed == 3 and not j.replaying and j.divergences == []
    assert store.written == [] and j.seq == 3


def test_a_replay_that_leaves_the_journals_path_is_noted_and_the_tail_is_dropped() -> None:
    store = FakeStore()
    j = journal(store, [entry(1, "bar", 7), entry(2, "bar", 8)])

    j.record("bar", 0, 7)
    j.record("bar", 0, 9)  # the journal says bar 8
    j.flush()

    assert store.truncated == [1]
    assert [(seq, kind) for seq, _, kind, _, _ in store.written] == [(2, "divergence"), (3, "bar")]
    assert j.divergences == ["entry 2: journal has bar, the replay gave bar"]


def test_notes_of_a_past_life_are_skipped_and_the_sequence_goes_on_after_them() -> None:
    store = FakeStore()
    j = journal(store, [entry(1, "bar", 7), entry(2, "reconcile", "nothing"), entry(3, "bar", 8)])

    j.record("bar", 0, 7)
    j.record("bar", 0, 8)
    j.record("bar", 0, 9)
    j.flush()

    assert j.replayed == 2 and j.divergences == []
    assert [seq for seq, *_ in store.written] == [4]


def test_while_the_database_is_away_the_flush_halts_retries_says_so_and_then_writes() -> None:
    store = FakeStore(outages=2)
    j = journal(store, [], retry_s=5.0)
    j.record("bar", 0, 1)

    j.flush()

    assert [seq for seq, *_ in store.written] == [1] and j.outages == 2
    assert all("new risk halted, retrying" in line for line in j.lines)  # type: ignore[attr-defined]
    assert len(j.lines) == 2  # type: ignore[attr-defined]


def test_a_database_away_longer_than_the_budget_is_one_error_that_says_how_to_resume() -> None:
    j = journal(FakeStore(outages=10_000), [], retry_s=0.2)
    j.record("bar", 0, 1)

    with pytest.raises(StorageError, match="nothing was lost: resume with `bot paper --resume r`"):
        j.flush()


def test_an_order_event_is_journaled_by_its_rendering_alone_and_replayed_against_it() -> None:
    sub = OrderSubmitted(7, "O-1", InstrumentId("SOL/USDC", "SIM"), Side.BUY, D("1.50"))
    store = FakeStore()
    j = journal(store, [])
    j.append(sub)
    j.flush(progress=False)

    whole = {"type": "OrderSubmitted", "ts_ns": 7, "client_order_id": "O-1", "instrument": "SOL/USDC.SIM",
             "side": "buy", "amount": "1.50"}  # fmt: skip
    assert store.written == [(1, 7, "OrderSubmitted", whole, None)]  # nothing pickled on the way

    again = journal(FakeStore(), store.written)
    again.append(sub)
    assert again.replayed == 1 and again.divergences == []

    other = journal(FakeStore(), store.written)
    other.append(OrderSubmitted(7, "O-1", InstrumentId("SOL/USDC", "SIM"), Side.BUY, D("1.5")))
    assert other.replayed == 0 and other.divergences == [
        "entry 1: journal has OrderSubmitted, the replay gave OrderSubmitted"
    ]
