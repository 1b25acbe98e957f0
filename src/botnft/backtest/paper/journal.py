"""The node's journal for a paper run (the `Journal` port): every command, event and input, in order,
written before the node acts on a venue, and read back to replay a run from its snapshot."""

from __future__ import annotations

import pickle
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.orders import Order
from botnft.ports import Clock, VenueEvent
from botnft.storage.errors import StorageError, StorageUnavailable
from botnft.storage.journal import Entry, PaperStore

_T = TypeVar("_T")
#: journal entries that note what a life of the run did, not what the node replays
NOTES = frozenset({"reconcile", "divergence", "kill"})


def render(obj: Any) -> dict[str, Any]:
    """A readable JSON rendering of a journaled object (the exact object is kept pickled beside it)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"type": type(obj).__name__}
        for f in fields(obj):
            v = getattr(obj, f.name)
            if isinstance(v, bool | int | float | str) or v is None:
                out[f.name] = v
            elif isinstance(v, Decimal | InstrumentId | Enum):
                out[f.name] = v.value if isinstance(v, Enum) else str(v)
        return out
    if isinstance(obj, dict):
        return {
            str(k): v if isinstance(v, bool | int | float | str) or v is None else str(v)
            for k, v in obj.items()
        }
    return {"type": type(obj).__name__}


class NodeJournal:
    """Entries are buffered and written before the node acts on a venue (`JournaledVenue` flushes before
    every order and cancel) and with the run's progress. A venue's answers that steer decisions (its
    liquidity) are inputs: journaled when read and, on recovery, read back from the journal, so the node
    replays from its snapshot to exactly the decisions it made; what it produces again is checked
    against the journal, not written twice. `append` journals an order event (the order manager calls it
    before the event takes effect).

    `append` journals an order event (the order manager calls it before the event takes effect)."""

    def __init__(
        self,
        store: PaperStore,
        run_id: str,
        clock: Clock,
        *,
        seq: int = 0,
        expected: Iterable[Entry] = (),
        log: Callable[[str], None] = print,
        retry_s: float = 30.0,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.clock = clock
        self.seq = seq
        self.bars_done = 0
        self.last_event_ts: int | None = None
        self.buffer: list[Entry] = []
        self.expected: deque[Entry] = deque(expected)
        self.replayed = 0
        self.divergences: list[str] = []
        self.log = log
        self.retry_s = retry_s
        self.outages = 0

    @property
    def replaying(self) -> bool:
        return bool(self.expected)

    def append(self, event: object) -> None:
        self.record(type(event).__name__, int(getattr(event, "ts_ns", self.clock.now_ns())), event)

    def _skip_notes(self) -> None:
        """Entries that record what a past life did after its replay (reconciliation, a divergence) are
        not replayed: the node's own sequence continues after them."""
        while self.expected and self.expected[0][2] in NOTES:
            self.seq = self.expected.popleft()[0]

    def record(self, kind: str, ts_ns: int, obj: Any, payload: dict[str, Any] | None = None) -> None:
        self._skip_notes()
        self.seq += 1
        self.last_event_ts = ts_ns
        if self.expected:
            seq, _, exp_kind, _, data = self.expected.popleft()
            same = seq == self.seq and exp_kind == kind and data is not None and pickle.loads(data) == obj
            if same:
                self.replayed += 1
                return
            self._diverged(self.seq, f"journal has {exp_kind}, the replay gave {kind}")
            self.seq += 1  # after the divergence note
        self.buffer.append((self.seq, ts_ns, kind, payload or render(obj), pickle.dumps(obj)))

    def read(self, kind: str, live: Callable[[], _T], payload: dict[str, Any]) -> _T:
        """An input: the journaled value while replaying, else `live()`, journaled."""
        self._skip_notes()
        if self.expected:
            seq, _, exp_kind, _, data = self.expected[0]
            if exp_kind == kind and seq == self.seq + 1 and data is not None:
                self.expected.popleft()
                self.seq += 1
                self.replayed += 1
                return pickle.loads(data)  # type: ignore[no-any-return]
            self._diverged(self.seq + 1, f"journal has {exp_kind}, the replay read {kind}")
        value = live()
        self.record(kind, self.clock.now_ns(), value, payload)
        return value

    def _diverged(self, seq: int, why: str) -> None:
        """The replay left the journal's path at entry `seq`: keep what the node does now (the journal's
        tail from `seq` on is dropped) and say so."""
        self.divergences.append(f"entry {seq}: {why}")
        self.log(f"replay diverged from the journal at entry {seq}: {why}")
        self.expected.clear()
        self.store.truncate(self.run_id, seq - 1)
        self.buffer.append((seq, self.clock.now_ns(), "divergence", {"why": why}, None))
        self.seq = seq

    def flush(self) -> None:
        """Write the buffered entries and the run's progress; while the database is away, halt (nothing is
        sent meanwhile), retry with backoff and say so; past `retry_s` raise `StorageError`."""
        if not self.buffer and self.expected:
            return  # replaying: nothing new, and the run's progress stays where it was
        deadline = time.monotonic() + self.retry_s
        delay = 0.05
        while True:
            try:
                self.store.append(self.run_id, self.buffer, self.bars_done, self.last_event_ts)
            except StorageUnavailable as exc:
                self.outages += 1
                if time.monotonic() >= deadline:
                    raise StorageError(
                        f"run {self.run_id}: the database stayed away for {self.retry_s:g} s ({exc}); "
                        f"nothing was lost: resume with `bot paper --resume {self.run_id}`"
                    ) from exc
                self.log(f"database unavailable ({exc}); new risk halted, retrying in {delay:.2f} s")
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            self.buffer = []
            return


class JournaledVenue:
    """A venue as the node sees it in a paper run: the journal is flushed before every command, and its
    liquidity snapshots are journaled inputs."""

    def __init__(self, venue: Any, journal: NodeJournal) -> None:
        self.venue = venue
        self.journal = journal
        self.name: str = venue.name
        self.has: Mapping[str, bool] = venue.has
        self.on_submit: Callable[[Order], None] | None = None  # an observer's tap (botnft.obs)

    @property
    def fee_rate(self) -> Decimal:
        return self.venue.fee_rate  # type: ignore[no-any-return]

    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return self.venue.instruments()  # type: ignore[no-any-return]

    def liquidity(self, instrument: InstrumentId) -> Any:
        payload = {"venue": self.name, "instrument": str(instrument)}
        return self.journal.read("liquidity", lambda: self.venue.liquidity(instrument), payload)

    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        if self.on_submit is not None:
            self.on_submit(order)
        self.journal.flush()
        return self.venue.create_order(order)  # type: ignore[no-any-return]

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        self.journal.flush()
        return self.venue.cancel_order(client_order_id)  # type: ignore[no-any-return]

    def fetch_order(self, client_order_id: str) -> Any:
        return self.venue.fetch_order(client_order_id)

    def fetch_open_orders(self) -> Sequence[Order]:
        return self.venue.fetch_open_orders()  # type: ignore[no-any-return]

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return self.venue.fetch_positions()  # type: ignore[no-any-return]

    def fetch_balance(self) -> Mapping[str, Decimal]:
        return self.venue.fetch_balance()  # type: ignore[no-any-return]
