"""The node's journal for a paper run (the `Journal` port): every command, event and input, in order,
written before the node acts on a venue, and read back to replay a run from its snapshot."""

from __future__ import annotations

import json
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
_PLAIN = frozenset({bool, int, float, str})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


#: journal entries that note what a life of the run did, not what the node replays
NOTES = frozenset({"reconcile", "divergence", "kill"})


def render(obj: Any) -> dict[str, Any]:
    """A readable JSON rendering of a journaled object (the exact object is kept pickled beside it, unless
    the rendering holds all of it: see `NodeJournal.append`)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"type": type(obj).__name__}
        for name in _field_names(type(obj)):
            v = getattr(obj, name)
            if v is None or type(v) in _PLAIN:
                out[name] = v
            elif isinstance(v, Decimal | InstrumentId | Enum):
                out[name] = v.value if isinstance(v, Enum) else str(v)
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
        """An order or account event. Its rendering is the whole record when it holds every field (an
        order's submission, its acks, fills and cancels): nothing is pickled on the way to the venue,
        and the replay compares renderings; an event the rendering does not hold whole is pickled too."""
        ts_ns = int(getattr(event, "ts_ns", self.clock.now_ns()))
        payload = render(event)
        whole = len(payload) == len(_field_names(type(event))) + 1
        self.record(type(event).__name__, ts_ns, event, payload, pickled=not whole)

    def _skip_notes(self) -> None:
        """Entries that record what a past life did after its replay (reconciliation, a divergence) are
        not replayed: the node's own sequence continues after them."""
        while self.expected and self.expected[0][2] in NOTES:
            self.seq = self.expected.popleft()[0]

    def record(
        self, kind: str, ts_ns: int, obj: Any, payload: dict[str, Any] | None = None, *, pickled: bool = True
    ) -> None:
        """Journal `obj` (pickled beside its rendering `payload`, unless `pickled` is False: then the
        rendering is the record, and the replay compares renderings)."""
        self._skip_notes()
        self.seq += 1
        self.last_event_ts = ts_ns
        payload = payload or render(obj)
        if self.expected:
            seq, _, exp_kind, exp_payload, data = self.expected.popleft()
            if seq == self.seq and exp_kind == kind:
                if data is None:
                    same = not pickled and exp_payload == json.loads(json.dumps(payload))
                else:
                    same = pickle.loads(data) == obj
                if same:
                    self.replayed += 1
                    return
            self._diverged(self.seq, f"journal has {exp_kind}, the replay gave {kind}")
            self.seq += 1  # after the divergence note
        self.buffer.append((self.seq, ts_ns, kind, payload, pickle.dumps(obj) if pickled else None))

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

    def flush(self, *, progress: bool = True) -> None:
        """Write the buffered entries and (unless not `progress`) the run's progress; while the database is
        away, halt (nothing is sent meanwhile), retry with backoff and say so; past `retry_s` raise
        `StorageError`."""
        if not self.buffer and (self.expected or not progress):
            return  # replaying: nothing new, and the run's progress stays where it was
        deadline = time.monotonic() + self.retry_s
        delay = 0.05
        while True:
            try:
                if progress:
                    self.store.append(self.run_id, self.buffer, self.bars_done, self.last_event_ts)
                else:
                    self.store.append(self.run_id, self.buffer, None, None, progress=False)
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
        self.on_sent: Callable[[Order], None] | None = None  # after the venue answered (the order log)

    @property
    def fee_rate(self) -> Decimal:
        return self.venue.fee_rate  # type: ignore[no-any-return]

    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return self.venue.instruments()  # type: ignore[no-any-return]

    def liquidity(self, instrument: InstrumentId) -> Any:
        payload = {"venue": self.name, "instrument": str(instrument)}
        return self.journal.read("liquidity", lambda: self.venue.liquidity(instrument), payload)

    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        """The order's intent is committed to the journal, then the order is handed to the venue (an
        observer's `on_submit` sees it at that moment)."""
        self.journal.flush(progress=False)  # the order's intent: the run's progress follows after the bar
        if self.on_submit is not None:
            self.on_submit(order)
        events: Sequence[VenueEvent] = self.venue.create_order(order)
        if self.on_sent is not None:
            self.on_sent(order)
        return events

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
