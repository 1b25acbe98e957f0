"""`PaperStore`: paper runs, the node's journal and snapshots, and the paper venues' own state, written by
the node and the venue side in separate transactions. State blobs are pickles the bot wrote itself."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Table, delete, event, exc, insert, select, update

from botnft.storage.db import translate
from botnft.storage.errors import StorageError
from botnft.storage.tables import JournalEntry, NodeSnapshot, PaperRun, PaperVenueState

RUNS = cast(Table, PaperRun.__table__)
ENTRIES = cast(Table, JournalEntry.__table__)
SNAPSHOTS = cast(Table, NodeSnapshot.__table__)
VENUES = cast(Table, PaperVenueState.__table__)
KEEP_SNAPSHOTS = 2
_T = TypeVar("_T")

_INSERT_ENTRY = (
    f"INSERT INTO {ENTRIES.name} (run_id, seq, ts_ns, kind, payload, data) VALUES (?, ?, ?, ?, ?, ?)"
)
_PROGRESS = f"UPDATE {RUNS.name} SET bars_done = ?, last_event_ts = ? WHERE run_id = ?"

#: (seq, ts_ns, kind, payload, data)
Entry = tuple[int, int, str, dict[str, Any], bytes | None]


class PaperStore:
    """On SQLite the journal's appends (the write before every order) go through one connection of their
    own, straight to the driver: a commit there costs some 20 µs against some 400 µs through the ORM's
    Core layer, and that connection never checkpoints the WAL (the other writes do)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._appender: Any = None
        self._cursor: Any = None
        self.local = engine.dialect.name == "sqlite"
        if self.local:
            event.listen(engine, "connect", _sqlite_for_runs)

    @property
    def engine(self) -> Engine:
        return self._engine

    def _do(self, action: Callable[[Any], _T]) -> _T:
        try:
            with self._engine.begin() as connection:
                return action(connection)
        except exc.SQLAlchemyError as error:
            raise translate(error, self._engine.url) from error

    # runs -----------------------------------------------------------------------------------------
    def create_run(self, run_id: str, spec: dict[str, Any], pid: int) -> None:
        if self.run(run_id) is not None:
            raise StorageError(f"a paper run {run_id!r} exists already; pick another --run-id")
        row = {"run_id": run_id, "spec": spec, "status": "running", "pid": pid, "bars_done": 0}
        self._do(lambda c: c.execute(insert(RUNS), row))

    def run(self, run_id: str) -> dict[str, Any] | None:
        def get(c: Any) -> dict[str, Any] | None:
            row = c.execute(select(RUNS).where(RUNS.c.run_id == run_id)).first()
            return None if row is None else row._asdict()

        return self._do(get)

    def runs(self) -> list[dict[str, Any]]:
        query = select(RUNS).order_by(RUNS.c.created_at, RUNS.c.run_id)
        return self._do(lambda c: [r._asdict() for r in c.execute(query)])

    def set_status(
        self, run_id: str, status: str, *, summary: dict[str, Any] | None = None, pid: int | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status}
        if summary is not None:
            values["summary"] = summary
        if pid is not None:
            values["pid"] = pid
        if status == "running":
            values["kill_requested"] = False
        self._do(lambda c: c.execute(update(RUNS).where(RUNS.c.run_id == run_id).values(**values)))

    def save_summary(self, run_id: str, summary: dict[str, Any]) -> None:
        """What a running run holds now (positions, open orders), for `bot status`."""
        query = update(RUNS).where(RUNS.c.run_id == run_id).values(summary=summary)
        self._do(lambda c: c.execute(query))

    def request_kill(self, run_id: str) -> None:
        query = update(RUNS).where(RUNS.c.run_id == run_id).values(kill_requested=True)
        self._do(lambda c: c.execute(query))

    def kill_requested(self, run_id: str) -> bool:
        query = select(RUNS.c.kill_requested).where(RUNS.c.run_id == run_id)
        return bool(self._do(lambda c: c.execute(query).scalar()))

    # the node's journal and snapshots ---------------------------------------------------------------
    def append(
        self,
        run_id: str,
        entries: Sequence[Entry],
        bars_done: int | None,
        last_event_ts: int | None,
        *,
        progress: bool = True,
    ) -> None:
        """Write `entries` and (unless not `progress`) the run's progress in one transaction (committed:
        durable against the process being killed once this returns)."""
        if self.local:
            self._append_sqlite(run_id, entries, bars_done, last_event_ts, progress)
            return
        rows = [
            {"run_id": run_id, "seq": s, "ts_ns": ts, "kind": k, "payload": p, "data": d}
            for s, ts, k, p, d in entries
        ]
        advance = update(RUNS).where(RUNS.c.run_id == run_id)
        advance = advance.values(bars_done=bars_done, last_event_ts=last_event_ts)

        def write(c: Any) -> None:
            if rows:
                c.execute(insert(ENTRIES), rows)
            if progress:
                c.execute(advance)

        self._do(write)

    def _append_sqlite(
        self,
        run_id: str,
        entries: Sequence[Entry],
        bars_done: int | None,
        last_event_ts: int | None,
        progress: bool,
    ) -> None:
        rows = [(run_id, s, ts, k, json.dumps(p), d) for s, ts, k, p, d in entries]
        try:
            if self._appender is None:
                self._appender = self._engine.raw_connection()
                self._cursor = self._appender.cursor()
                self._cursor.execute("PRAGMA wal_autocheckpoint = 0")
            connection, cursor = self._appender, self._cursor
            try:
                cursor.execute("BEGIN")  # the driver runs in autocommit mode (storage.db): one transaction
                if rows:
                    cursor.executemany(_INSERT_ENTRY, rows)
                if progress:
                    cursor.execute(_PROGRESS, (bars_done, last_event_ts, run_id))
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        except sqlite3.Error as error:
            self.close()
            sql_error = exc.DBAPIError.instance(_INSERT_ENTRY, None, error, sqlite3.Error)
            raise translate(sql_error, self._engine.url) from error

    def close(self) -> None:
        """Give back the journal's own connection (opened again at the next append)."""
        appender, cursor, self._appender, self._cursor = self._appender, self._cursor, None, None
        if appender is None:
            return
        try:
            cursor.execute("PRAGMA wal_autocheckpoint = 1000")  # back to the pool as it came
            cursor.close()
            appender.close()
        except sqlite3.Error:
            appender.invalidate()  # not back to the pool: dropped

    def entries(self, run_id: str, after_seq: int = 0, kinds: Iterable[str] | None = None) -> list[Entry]:
        query = select(ENTRIES).where(ENTRIES.c.run_id == run_id, ENTRIES.c.seq > after_seq)
        if kinds is not None:
            query = query.where(ENTRIES.c.kind.in_(list(kinds)))
        query = query.order_by(ENTRIES.c.seq)
        return self._do(lambda c: [(r.seq, r.ts_ns, r.kind, r.payload, r.data) for r in c.execute(query)])

    def truncate(self, run_id: str, after_seq: int) -> None:
        """Drop the entries after `after_seq` (a replay that left the journal's path rewrites them)."""
        query = delete(ENTRIES).where(ENTRIES.c.run_id == run_id, ENTRIES.c.seq > after_seq)
        self._do(lambda c: c.execute(query))

    def save_snapshot(self, run_id: str, bar: int, seq: int, state: bytes) -> None:
        def write(c: Any) -> None:
            c.execute(delete(SNAPSHOTS).where(SNAPSHOTS.c.run_id == run_id, SNAPSHOTS.c.bar == bar))
            c.execute(insert(SNAPSHOTS), {"run_id": run_id, "bar": bar, "seq": seq, "state": state})
            old = select(SNAPSHOTS.c.bar).where(SNAPSHOTS.c.run_id == run_id)
            bars = sorted((r[0] for r in c.execute(old)), reverse=True)[KEEP_SNAPSHOTS:]
            if bars:
                c.execute(delete(SNAPSHOTS).where(SNAPSHOTS.c.run_id == run_id, SNAPSHOTS.c.bar.in_(bars)))

        self._do(write)

    def latest_snapshot(self, run_id: str) -> tuple[int, int, bytes] | None:
        """(bar, journal seq, state) of the newest snapshot."""
        query = (
            select(SNAPSHOTS.c.bar, SNAPSHOTS.c.seq, SNAPSHOTS.c.state)
            .where(SNAPSHOTS.c.run_id == run_id)
            .order_by(SNAPSHOTS.c.bar.desc())
            .limit(1)
        )

        def get(c: Any) -> tuple[int, int, bytes] | None:
            row = c.execute(query).first()
            return None if row is None else (row[0], row[1], bytes(row[2]))

        return self._do(get)

    # the paper venues' own state --------------------------------------------------------------------
    def save_venues(self, run_id: str, bar: int, version: int, state: bytes) -> None:
        values = {"bar": bar, "version": version, "state": state}

        def write(c: Any) -> None:
            done = c.execute(update(VENUES).where(VENUES.c.run_id == run_id).values(**values))
            if done.rowcount == 0:
                c.execute(insert(VENUES), {"run_id": run_id, **values})

        self._do(write)

    def load_venues(self, run_id: str) -> tuple[int, int, bytes] | None:
        query = select(VENUES.c.bar, VENUES.c.version, VENUES.c.state).where(VENUES.c.run_id == run_id)

        def get(c: Any) -> tuple[int, int, bytes] | None:
            row = c.execute(query).first()
            return None if row is None else (row[0], row[1], bytes(row[2]))

        return self._do(get)


def _sqlite_for_runs(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets `bot status`/`bot kill` read and flag a run while it writes; NORMAL sync survives a killed
    process (only a power cut could lose the last commits); wait instead of failing on a busy file."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
