"""The send journal: every self-signed transaction is written here, durably, *before* it is sent.

One SQLite file (WAL, ``synchronous=FULL``: a row is on disk when `record` returns, so a process killed
right after still finds it). A row holds the signature, the client order id it serves, the
``lastValidBlockHeight`` of its blockhash, the signed bytes (a re-broadcast sends the very same transaction,
which can land at most once), what the order was (JSON) and its state: ``pending`` until the chain says it
``landed`` or ``failed``, or the block height passed its last valid height while it was unknown
(``expired``: it can never land). Only then may the order be sent again, as a new transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["JournalEntry", "SendJournal", "TxState"]

TxState = Literal["pending", "landed", "failed", "expired"]
FINAL: frozenset[str] = frozenset({"landed", "failed", "expired"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS solana_sends (
    signature TEXT PRIMARY KEY,
    client_order_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    last_valid_block_height INTEGER NOT NULL,
    tx BLOB NOT NULL,
    detail TEXT NOT NULL,
    state TEXT NOT NULL,
    slot INTEGER,
    err TEXT,
    created_ns INTEGER NOT NULL,
    UNIQUE (client_order_id, attempt)
);
CREATE INDEX IF NOT EXISTS solana_sends_cid ON solana_sends (client_order_id);
CREATE INDEX IF NOT EXISTS solana_sends_state ON solana_sends (state);
"""

_COLS = (
    "signature, client_order_id, attempt, last_valid_block_height, tx, detail, state, slot, err, created_ns"
)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    signature: str
    client_order_id: str
    attempt: int
    last_valid_block_height: int
    tx: bytes
    detail: Mapping[str, Any]
    state: TxState
    slot: int | None
    err: str | None
    created_ns: int

    @property
    def final(self) -> bool:
        return self.state in FINAL


class SendJournal:
    """The journal in one SQLite file (``":memory:"`` for a throw-away one)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _entry(row: tuple[Any, ...]) -> JournalEntry:
        sig, cid, attempt, lvbh, tx, detail, state, slot, err, created = row
        return JournalEntry(sig, cid, attempt, lvbh, bytes(tx), json.loads(detail), state, slot, err, created)

    def record(
        self,
        signature: str,
        client_order_id: str,
        last_valid_block_height: int,
        tx: bytes,
        detail: Mapping[str, Any],
        created_ns: int,
    ) -> JournalEntry:
        """Write a new pending row (the next attempt of `client_order_id`); on disk when this returns.
        Refuses while an earlier attempt of the same order is not final."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, attempt FROM solana_sends WHERE client_order_id = ?", (client_order_id,)
            ).fetchall()
            if any(state in {"pending", "landed"} for state, _ in rows):
                raise ValueError(f"{client_order_id} has a pending or landed transaction already")
            attempt = 1 + max((a for _, a in rows), default=0)
            self._db.execute(
                f"INSERT INTO solana_sends ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, 'pending', NULL, NULL, ?)",
                (signature, client_order_id, attempt, last_valid_block_height, tx,
                 json.dumps(dict(detail), sort_keys=True), created_ns),
            )  # fmt: skip
        got = self.get(signature)
        assert got is not None
        return got

    def settle(
        self, signature: str, state: TxState, *, slot: int | None = None, err: str | None = None
    ) -> None:
        """Move a pending row to a final state (a final row keeps its state)."""
        if state not in FINAL:
            raise ValueError(f"not a final state: {state}")
        with self._lock:
            self._db.execute(
                "UPDATE solana_sends SET state = ?, slot = ?, err = ? "
                "WHERE signature = ? AND state = 'pending'",
                (state, slot, err, signature),
            )

    def get(self, signature: str) -> JournalEntry | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLS} FROM solana_sends WHERE signature = ?", (signature,)
            ).fetchone()
        return self._entry(row) if row else None

    def for_order(self, client_order_id: str) -> list[JournalEntry]:
        """Every attempt of one order, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLS} FROM solana_sends WHERE client_order_id = ? ORDER BY attempt",
                (client_order_id,),
            ).fetchall()
        return [self._entry(r) for r in rows]

    def entries(self, state: TxState | None = None) -> list[JournalEntry]:
        """Every row (or those in `state`), in the order they were written."""
        q = f"SELECT {_COLS} FROM solana_sends"
        args: tuple[Any, ...] = ()
        if state is not None:
            q += " WHERE state = ?"
            args = (state,)
        with self._lock:
            rows = self._db.execute(q + " ORDER BY rowid", args).fetchall()
        return [self._entry(r) for r in rows]
