"""`PaperStore` on SQLite and PostgreSQL: runs with their settings, status and kill flag; the journal in
order, each append one committed transaction; the newest snapshots kept; the venues' state replaced whole."""

from __future__ import annotations

import pytest

from botnft.storage import StorageError, make_engine, upgrade
from botnft.storage.journal import PaperStore


@pytest.fixture
def store(database_url: str) -> PaperStore:
    upgrade(database_url)
    return PaperStore(make_engine(database_url))


def test_a_run_keeps_its_settings_status_and_kill_flag(store: PaperStore) -> None:
    store.create_run("r1", {"data": "sol-spot-1h", "cash": "100000"}, pid=42)
    assert store.kill_requested("r1") is False

    store.request_kill("r1")
    assert store.kill_requested("r1") is True
    store.set_status("r1", "killed", summary={"fills": 3})
    row = store.run("r1")

    assert row is not None
    assert (row["status"], row["spec"], row["pid"], row["summary"]) == (
        "killed", {"data": "sol-spot-1h", "cash": "100000"}, 42, {"fills": 3},
    )  # fmt: skip
    store.set_status("r1", "running", pid=43)
    assert store.kill_requested("r1") is False  # a resumed run starts unflagged
    with pytest.raises(StorageError, match="exists already"):
        store.create_run("r1", {}, pid=1)
    assert [r["run_id"] for r in store.runs()] == ["r1"]
    assert store.run("nope") is None


def test_the_journal_reads_back_in_order_by_kind_and_loses_its_tail_on_truncate(store: PaperStore) -> None:
    store.create_run("r1", {}, pid=1)
    store.append("r1", [(2, 20, "bar", {"bar": 1}, b"b"), (1, 10, "bar", {"bar": 0}, b"a")], 2, 20)
    store.append("r1", [(3, 30, "OrderSubmitted", {"client_order_id": "O-1"}, None)], 2, 30)

    assert [e[0] for e in store.entries("r1")] == [1, 2, 3]
    assert store.entries("r1", after_seq=1, kinds=["bar"]) == [(2, 20, "bar", {"bar": 1}, b"b")]
    row = store.run("r1")
    assert row is not None and (row["bars_done"], row["last_event_ts"]) == (2, 30)
    store.truncate("r1", 1)
    assert [e[0] for e in store.entries("r1")] == [1]


def test_an_append_is_one_committed_transaction_and_may_leave_the_progress_alone(
    store: PaperStore, database_url: str
) -> None:
    store.create_run("r1", {}, pid=1)
    store.append("r1", [(1, 10, "bar", {"bar": 0}, b"a")], 1, 10)
    store.append("r1", [(2, 11, "OrderSubmitted", {"amount": "1.5"}, None)], None, None, progress=False)

    other = PaperStore(make_engine(database_url))  # committed: another connection reads it at once
    assert other.entries("r1") == [
        (1, 10, "bar", {"bar": 0}, b"a"), (2, 11, "OrderSubmitted", {"amount": "1.5"}, None),
    ]  # fmt: skip
    row = other.run("r1")
    assert row is not None and (row["bars_done"], row["last_event_ts"]) == (1, 10)

    with pytest.raises(StorageError):  # seq 2 is taken: nothing of this append is written
        store.append("r1", [(3, 12, "bar", {"bar": 1}, b"b"), (2, 12, "bar", {"bar": 1}, b"b")], 2, 12)
    assert [e[0] for e in other.entries("r1")] == [1, 2]
    row = other.run("r1")
    assert row is not None and row["bars_done"] == 1
    store.append("r1", [(3, 12, "bar", {"bar": 1}, b"b")], 2, 12)  # and the store goes on
    assert [e[0] for e in other.entries("r1")] == [1, 2, 3]


def test_the_two_newest_snapshots_are_kept_and_the_venues_state_is_replaced_whole(store: PaperStore) -> None:
    store.create_run("r1", {}, pid=1)
    for bar in (9, 19, 29):
        store.save_snapshot("r1", bar, bar * 10, bytes([bar]))
    store.save_venues("r1", 5, 1, b"old")
    store.save_venues("r1", 7, 2, b"new")

    assert store.latest_snapshot("r1") == (29, 290, bytes([29]))
    with store.engine.connect() as c:
        kept = sorted(r[0] for r in c.exec_driver_sql("SELECT bar FROM node_snapshots"))
    assert kept == [19, 29]
    assert store.load_venues("r1") == (7, 2, b"new")
    assert store.load_venues("r2") is None and store.latest_snapshot("r2") is None
