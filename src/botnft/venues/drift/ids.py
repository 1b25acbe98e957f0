"""Drift's ``user_order_id`` is one byte: the node's client order ids mapped to ids 1..255 unique among open
orders, and the fill history the adapter read from the program logs, in one SQLite file beside the send
journal.

An id is taken (`allocate`) and written to disk *before* the order's transaction is built, so a process killed
at any point finds, after a restart, which id each of its orders carries on chain. It is given back
(`release`) only when the order is known closed on chain (filled, canceled, expired, or its transaction can
never land); 0 means "none" to the program and is never used. The id file and the send journal are two
files, so a process killed after `allocate` and before the send journal's row leaves a slot no transaction
carries: such an order was provably never sent, and the venue drops the slot (`forget`) when it starts
(and at once when the send fails before the row is written), so the order reads as never reached and its id
is free again. When all 255 are held by open orders the next
order is refused (`IdSpaceExhausted`), and nothing is sent.

The ``drift_events`` table holds what the adapter decoded from the user account's transactions (one row per
event, keyed by signature and position), and ``drift_cursor`` the newest signature read: after a restart
the history is continued from there, and rebuilt from the chain when the file is new.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MAX_USER_ORDER_ID", "IdSpaceExhausted", "OrderIds", "Slot"]

MAX_USER_ORDER_ID = 255

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drift_order_ids (
    client_order_id TEXT PRIMARY KEY,
    user_order_id INTEGER NOT NULL,
    open INTEGER NOT NULL,
    order_id INTEGER,
    detail TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS drift_open_ids ON drift_order_ids (user_order_id) WHERE open = 1;
CREATE TABLE IF NOT EXISTS drift_order_numbers (order_id INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS drift_events (
    signature TEXT NOT NULL,
    position INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (signature, position)
);
CREATE TABLE IF NOT EXISTS drift_cursor (account TEXT PRIMARY KEY, signature TEXT NOT NULL);
"""


class IdSpaceExhausted(Exception):
    """Every user order id 1..255 is held by an open order."""


@dataclass(frozen=True, slots=True)
class Slot:
    client_order_id: str
    user_order_id: int
    open: bool
    order_id: int | None
    detail: Mapping[str, Any]
    created_ns: int


class OrderIds:
    """The id map and the event history in one SQLite file (``":memory:"`` for a throw-away one)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    @staticmethod
    def beside(journal_path: str | Path) -> str:
        """The file beside a send journal (``x.sqlite`` -> ``x.drift-ids.sqlite``)."""
        p = str(journal_path)
        if p == ":memory:":
            return p
        path = Path(p)
        return str(path.with_name(path.stem + ".drift-ids" + (path.suffix or ".sqlite")))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _slot(row: tuple[Any, ...]) -> Slot:
        cid, uid, is_open, oid, detail, created = row
        return Slot(cid, uid, bool(is_open), oid, json.loads(detail), created)

    _COLS = "client_order_id, user_order_id, open, order_id, detail, created_ns"

    # ids --------------------------------------------------------------------------------------------------
    def allocate(self, client_order_id: str, detail: Mapping[str, Any], created_ns: int) -> Slot:
        """The order's slot: its existing one, else the lowest id no open order holds (on disk on return).
        Raises `IdSpaceExhausted` when there is none."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._COLS} FROM drift_order_ids WHERE client_order_id = ?", (client_order_id,)
            ).fetchone()
            if row is not None:
                return self._slot(row)
            held = {
                r[0] for r in self._db.execute("SELECT user_order_id FROM drift_order_ids WHERE open = 1")
            }
            free = next((i for i in range(1, MAX_USER_ORDER_ID + 1) if i not in held), None)
            if free is None:
                raise IdSpaceExhausted(
                    f"all {MAX_USER_ORDER_ID} Drift user order ids are held by open orders"
                )
            self._db.execute(
                f"INSERT INTO drift_order_ids ({self._COLS}) VALUES (?, ?, 1, NULL, ?, ?)",
                (client_order_id, free, json.dumps(dict(detail), sort_keys=True), created_ns),
            )
        got = self.get(client_order_id)
        assert got is not None
        return got

    def restore(
        self, client_order_id: str, user_order_id: int, detail: Mapping[str, Any], created_ns: int
    ) -> None:
        """Put back the slot of an order journaled in the send journal (a new id file rebuilt from the chain);
        open until the history says it closed."""
        with self._lock:
            self._db.execute(
                f"INSERT OR IGNORE INTO drift_order_ids ({self._COLS}) VALUES (?, ?, 1, NULL, ?, ?)",
                (client_order_id, user_order_id, json.dumps(dict(detail), sort_keys=True), created_ns),
            )

    def get(self, client_order_id: str) -> Slot | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._COLS} FROM drift_order_ids WHERE client_order_id = ?", (client_order_id,)
            ).fetchone()
        return self._slot(row) if row else None

    def open_by_user_id(self, user_order_id: int) -> Slot | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._COLS} FROM drift_order_ids WHERE user_order_id = ? AND open = 1",
                (user_order_id,),
            ).fetchone()
        return self._slot(row) if row else None

    def by_order_id(self, order_id: int) -> Slot | None:
        """The slot of the order the program numbered `order_id` (a modified order has several numbers)."""
        with self._lock:
            row = self._db.execute(
                "SELECT client_order_id FROM drift_order_numbers WHERE order_id = ?", (order_id,)
            ).fetchone()
        return self.get(row[0]) if row else None

    def set_order_id(self, client_order_id: str, order_id: int) -> None:
        """The program's order id (u32) of the order, from its OrderRecord (the latest, after a modify)."""
        with self._lock:
            self._db.execute(
                "UPDATE drift_order_ids SET order_id = ? WHERE client_order_id = ?",
                (order_id, client_order_id),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO drift_order_numbers (order_id, client_order_id) VALUES (?, ?)",
                (order_id, client_order_id),
            )

    def release(self, client_order_id: str) -> None:
        """The order is closed on chain: its id may serve another order."""
        with self._lock:
            self._db.execute(
                "UPDATE drift_order_ids SET open = 0 WHERE client_order_id = ?", (client_order_id,)
            )

    def forget(self, client_order_id: str) -> None:
        """Drop the slot of an order whose transaction was never journaled (so never sent): its id is free
        and the client order id unknown again."""
        with self._lock:
            self._db.execute("DELETE FROM drift_order_ids WHERE client_order_id = ?", (client_order_id,))
            self._db.execute("DELETE FROM drift_order_numbers WHERE client_order_id = ?", (client_order_id,))

    def slots(self, *, open_only: bool = False) -> list[Slot]:
        q = f"SELECT {self._COLS} FROM drift_order_ids" + (" WHERE open = 1" if open_only else "")
        with self._lock:
            rows = self._db.execute(q + " ORDER BY rowid").fetchall()
        return [self._slot(r) for r in rows]

    # the event history ------------------------------------------------------------------------------------
    def add_events(self, signature: str, slot: int, events: Sequence[tuple[str, Mapping[str, Any]]]) -> bool:
        """Store a transaction's events once; False if it was stored already."""
        with self._lock:
            seen = self._db.execute(
                "SELECT 1 FROM drift_events WHERE signature = ? LIMIT 1", (signature,)
            ).fetchone()
            if seen:
                return False
            self._db.executemany(
                "INSERT INTO drift_events (signature, position, slot, name, body) VALUES (?, ?, ?, ?, ?)",
                [
                    (signature, i, slot, n, json.dumps(dict(b), sort_keys=True))
                    for i, (n, b) in enumerate(events)
                ],
            )
            return True

    def events(self, name: str | None = None) -> list[tuple[str, int, int, str, dict[str, Any]]]:
        """(signature, position, slot, name, body) in chain order."""
        q = "SELECT signature, position, slot, name, body FROM drift_events"
        args: tuple[Any, ...] = ()
        if name is not None:
            q += " WHERE name = ?"
            args = (name,)
        with self._lock:
            rows = self._db.execute(q + " ORDER BY slot, rowid", args).fetchall()
        return [(s, p, sl, n, json.loads(b)) for s, p, sl, n, b in rows]

    def cursor(self, account: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT signature FROM drift_cursor WHERE account = ?", (account,)
            ).fetchone()
        return row[0] if row else None

    def set_cursor(self, account: str, signature: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO drift_cursor (account, signature) VALUES (?, ?) "
                "ON CONFLICT(account) DO UPDATE SET signature = excluded.signature",
                (account, signature),
            )
