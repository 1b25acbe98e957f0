"""A paper run: the node on replayed history released at a real-time pace, deciding on the bars' own
timestamps (so at full speed it makes the backtest's fills), journaled, resumable, killable."""

from __future__ import annotations

import dataclasses
import pickle
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from botnft.backtest.driver import SimulationDriver
from botnft.backtest.paper.journal import JournaledVenue, NodeJournal
from botnft.backtest.paper.node import paper_node, restore, snapshot
from botnft.backtest.paper.reconcile import HaltingRiskGate, Reconciled, positions, reconcile
from botnft.backtest.paper.venues import PaperVenues
from botnft.backtest.session import BacktestSession
from botnft.backtest.stats import summarize
from botnft.domain.money import plain, to_decimal
from botnft.storage.errors import StorageError
from botnft.storage.journal import PaperStore

#: at full speed on a server database the journal is written at least this often between orders (paced
#: or on SQLite: after every bar)
FLUSH_S = 0.05
#: at full speed a snapshot (which grows with the run) is taken at most this often
SNAP_S = 1.0


@dataclass(frozen=True, slots=True)
class PaperSettings:
    speed: float | None = None  # None: as fast as it goes
    snapshot_every: int = 50
    unknown_orders: str = "cancel"  # or adopt
    poll_s: float = 0.2
    db_retry_s: float = 30.0


class PaperRun:
    """Each bar: the kill flag is polled, the bar is journaled and driven through the node and the paper
    venues, the journal is flushed with the run's progress, and every `snapshot_every` bars the node is
    snapshotted. `speed` releases the bars that many times faster than their own interval (None: no
    waiting). On resume the venues take their own persisted state, the node its latest snapshot; the
    bars after it are driven again (the venues answer from their record, the journal supplies the
    inputs), then reconciliation checks the node against the venues' reports. `bot kill` cancels,
    flattens and halts; SIGINT/SIGTERM cancel and stop."""

    def __init__(
        self,
        session: BacktestSession,
        store: PaperStore,
        run_id: str,
        settings: PaperSettings,
        log: Callable[[str], None] = print,
    ) -> None:
        self.session = session
        self.store = store
        self.run_id = run_id
        self.settings = settings
        self.log = log
        self.bars = session.data.bars
        self.side = PaperVenues(session.venues, lambda bar, v, blob: store.save_venues(run_id, bar, v, blob))
        self.journal = NodeJournal(store, run_id, session.clock, log=log, retry_s=settings.db_retry_s)
        self.venues = {n: JournaledVenue(a, self.journal) for n, a in self.side.adapters.items()}
        self.gate = HaltingRiskGate(session.node.risk)
        self.node = paper_node(session, self.venues, self.journal, self.gate)
        self.next_bar = 0
        self.catch_up_ts = -1
        self.resumed = False
        self.reconciled: Reconciled | None = None
        self.stop: str | None = None  # "signal" | "kill"
        self.bars_here = 0
        self.elapsed = 0.0
        self.observer: Any = None
        self.listeners: list[Any] = []  # the order log: written into snapshots as references
        self.polled = -float("inf")  # when the kill flag was last read

    def attach(self, observer: Any) -> None:
        """Feed `observer` (botnft.obs's MetricsObserver) from the node's bus and around every bar."""
        self.observer = observer
        observer.attach(self.node.bus)
        for venue in self.venues.values():
            venue.on_submit = observer.on_submit
        # equity, positions and margin from the start (at the last bar done; a fresh run holds cash only)
        close = to_decimal(float(self.bars.close[max(self.next_bar - 1, 0)]))
        observer.mark(
            self.node.portfolio, dict.fromkeys(self.node.portfolio.positions, close), self.side.adapters
        )

    def log_orders(self, order_log: Any) -> None:
        """One log line per order event: `order_log` (botnft.obs's OrderLog) on the node's bus and told of
        every order the venues took."""
        self.listeners.append(order_log)
        order_log.know(self.node.oms.orders())
        order_log.attach(self.node.bus)
        for venue in self.venues.values():
            venue.on_sent = order_log.on_sent

    # recovery -----------------------------------------------------------------------------------------
    def resume(self) -> None:
        """Rebuild from the venues' own state, the node's latest snapshot and the journal after it."""
        self.resumed = True
        saved = self.store.load_venues(self.run_id)
        if saved is not None:
            self.side.restore(saved[2], saved[1])
        seq = 0
        snap = self.store.latest_snapshot(self.run_id)
        if snap is not None:
            bar, seq, blob = snap
            self.node = restore(blob, self.node, self.venues, self.journal)
            self.journal.clock = self.node.clock
            self.journal.seq = seq
            assert isinstance(self.node.risk, HaltingRiskGate)
            self.gate = self.node.risk
            self.next_bar = bar + 1
        self.journal.expected = deque(self.store.entries(self.run_id, seq))
        self.journal.bars_done = self.next_bar
        self.catch_up_ts = max(self.side.record.last_bar_ts.values(), default=-1)
        self.log(
            f"run {self.run_id}: resuming after bar {self.next_bar - 1} "
            f"({len(self.journal.expected)} journal entries to replay)"
        )

    def _reconcile(self, ts_ns: int) -> None:
        self.reconciled = reconcile(
            self.node, self.side.adapters, self.gate, ts_ns, unknown=self.settings.unknown_orders
        )
        for line in self.reconciled.actions or ["nothing to reconcile: the node agrees with every venue"]:
            self.journal.record("reconcile", ts_ns, line, {"action": line})
            self.log(f"reconcile: {line}")
            if self.observer is not None and self.reconciled.actions:
                self.observer.on_reconcile(line)
        self.journal.flush()

    # the run --------------------------------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        self.stop = self.stop or reason

    def _kill_requested(self) -> bool:
        """The kill flag, read from the database at most every `poll_s` (a read costs as much as a bar)."""
        now = time.monotonic()
        if now >= self.polled + self.settings.poll_s:
            self.polled = now
            try:
                if self.store.kill_requested(self.run_id):
                    self.request_stop("kill")
            except StorageError:
                pass  # the flush after the bar waits for the database and says so
        return self.stop is not None

    def _wait(self, until: float) -> bool:
        """Sleep until `until` (monotonic), polling the kill flag at least every `poll_s`; True to stop."""
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(self.settings.poll_s, left))
            if self._kill_requested():
                return True
        return False

    def run(self, progress: Callable[[int], None] | None = None) -> str:
        """Drive the bars left; returns the final status: finished, killed or stopped."""
        bars, n = self.bars, len(self.bars)
        driver = SimulationDriver(self.node, self.node.clock, self.side.adapters)  # type: ignore[arg-type]
        step = None if self.settings.speed is None else bars.interval_ns / 1e9 / self.settings.speed
        if (
            self.resumed
            and not self.journal.replaying
            and int(bars.ts_ns[self.next_bar - 1]) >= self.catch_up_ts
        ):
            self._reconcile(int(bars.ts_ns[max(self.next_bar - 1, 0)]))
        # the journal is written after every bar when paced or when a commit is cheap (SQLite): the
        # write before an order then holds that bar's entries only
        every_bar = step is not None or self.store.local
        t0 = time.perf_counter()
        release = flushed = snapped = time.monotonic()
        j = self.next_bar
        while j < n:
            ts = int(bars.ts_ns[j])
            live = not self.journal.replaying and ts > self.catch_up_ts
            if (step is not None and live and self._wait(release)) or self._kill_requested():
                break
            self.journal.record("bar", ts, j, {"bar": j})
            self.side.bar = max(self.side.bar, j)
            obs = self.observer
            if obs is not None:
                obs.bar_start()
            driver.on_batch(bars.slice(j, j + 1))
            self.side.settle()  # the venues persist the bar's fills once the node has had it
            j += 1
            if obs is not None:
                self._observe(obs, j - 1)
            self.journal.bars_done = j
            if every_bar or time.monotonic() >= flushed + FLUSH_S or j == n:
                self.journal.flush()  # (before any order or cancel it is flushed anyway)
                flushed = time.monotonic()
            if (
                self.resumed
                and self.reconciled is None
                and not self.journal.replaying
                and ts >= self.catch_up_ts
            ):
                self._reconcile(ts)
            if j % self.settings.snapshot_every == 0 and (
                step is not None or time.monotonic() >= snapped + SNAP_S
            ):
                self._snapshot(j - 1)
                snapped = time.monotonic()
            self.bars_here += 1
            if progress is not None:
                progress(j)
            if live and step is not None:
                release = max(release + step, time.monotonic() - step)
        self.elapsed = time.perf_counter() - t0
        self.next_bar = j
        if self.stop == "kill":
            self._kill(j - 1)
            return self._end("killed")
        if self.stop is not None:
            self._cancel_open("stop")
            return self._end("stopped")
        return self._end("finished")

    def _snapshot(self, bar: int) -> None:
        ex = self.node.executor
        if ex is not None and ex.busy:
            return  # a parent order waits for its children: snapshot at a bar where none does
        self.journal.flush()
        try:
            self.side.flush(force=True)
            blob = snapshot(self.node, self.venues, self.journal, self.observer, self.listeners)
            self.store.save_snapshot(self.run_id, bar, self.journal.seq, blob)
            if not self.stop and self.next_bar < len(self.bars):
                self.store.save_summary(self.run_id, self.summary("running"))
        except (StorageError, pickle.PicklingError, TypeError, AttributeError) as exc:
            # the database is away, or the node holds something that cannot be pickled (a retry's timer)
            self.log(f"snapshot after bar {bar} not written ({exc}); the journal still has every entry")

    def _cancel_open(self, reason: str) -> None:
        for order in self.node.oms.open_orders():
            self.node.oms.cancel(order, reason)
        self.node.bus.drain()

    def _kill(self, last: int) -> None:
        """Cancel every order, flatten through the same risk gate and routing, halt."""
        node, bars = self.node, self.bars
        self._cancel_open("kill")
        if last >= 0:
            node.on_signal(bars.slice(last, last + 1), 0, 0.0)
            if node.oms.open_orders() and last + 1 < len(bars):  # filled at the next bar's open
                nxt = bars.slice(last + 1, last + 2)
                for venue in self.side.adapters.values():
                    for event in venue.process(nxt, 0):
                        node.bus.publish(event)
                node.bus.drain()
            self._cancel_open("kill")
        self.journal.record("kill", node.clock.now_ns(), "kill", {"flat": str(self._exposure())})
        self.log(f"run {self.run_id}: killed; orders cancelled, position {plain(self._exposure())}")

    def _exposure(self) -> Decimal:
        return self.node.portfolio.exposure_in(self.node.instrument.base)

    def _end(self, status: str) -> str:
        """The status first (a kill halts as soon as it can), then the last snapshot, which only spares a
        resume of a stopped run some replay."""
        self.journal.flush()
        self.store.set_status(self.run_id, status, summary=self.summary(status))
        self._snapshot(self.next_bar - 1)
        return status

    def _observe(self, obs: Any, j: int) -> None:
        close = to_decimal(float(self.bars.close[j]))
        obs.bar_done(self.node, dict.fromkeys(self.node.portfolio.positions, close), self.side.adapters)
        obs.state(len(self.gate.halted), len(self.journal.buffer))

    def _stats(self) -> dict[str, Any] | None:
        return _stats_of(self)

    # what it did ------------------------------------------------------------------------------------------
    def summary(self, status: str) -> dict[str, Any]:
        node, spec, bars = self.node, self.session.spec, self.bars
        last = to_decimal(float(bars.close[max(self.next_bar - 1, 0)]))
        pf = node.portfolio
        held = positions(node, self.side.adapters)
        rec = self.reconciled
        return {
            "run_id": self.run_id,
            "status": status,
            "strategy": spec.strategy,
            "params": dict(spec.params),
            "data": self.session.data.name,
            "venue_names": list(self.session.venue_names),
            "seed": spec.seed,
            "speed": "max" if self.settings.speed is None else self.settings.speed,
            "bars": self.next_bar,
            "bars_total": len(bars),
            "fills": len(node.record.fills),
            "orders": len(node.oms.orders()),
            "open_orders": len(node.oms.open_orders()),
            "final_equity": plain(pf.equity({i: last for i in pf.positions}).quantize(Decimal("0.00000001"))),
            "final_position": plain(self._exposure()),
            "positions": {v: _plain(mine) for v, (mine, _) in held.items()},
            "venue_positions": {v: _plain(theirs) for v, (_, theirs) in held.items()},
            "resumed": self.resumed,
            "replayed_entries": self.journal.replayed,
            "divergences": list(self.journal.divergences),
            "reconciliation": None if rec is None else {
                "actions": rec.actions, "missed_fills": rec.missed_fills, "resolved": rec.resolved,
                "canceled": rec.canceled, "adopted": rec.adopted, "mismatches": rec.mismatches,
            },
            "halted": {str(i): why for i, why in self.gate.halted.items()},
            "db_outages": self.journal.outages,
            "stats": self._stats(),
            "elapsed_s": round(self.elapsed, 4),
            "bars_per_s": round(self.bars_here / self.elapsed) if self.elapsed > 0 else None,
        }  # fmt: skip


def _stats_of(run: PaperRun) -> dict[str, Any] | None:
    """The backtest's statistics (`summarize`) over the bars this run has done."""
    rec, done = run.node.record, run.next_bar
    if done < 2 or not rec.ts_ns:
        return None
    ts, equity = np.concatenate(rec.ts_ns), np.concatenate(rec.equity)
    s = run.session
    data = dataclasses.replace(s.data, bars=s.data.bars.slice(0, done))
    ran = dataclasses.replace(s, node=run.node, portfolio=run.node.portfolio, data=data)
    return summarize(ran, ts, equity, run.elapsed).to_json()


def _plain(amounts: dict[Any, Decimal]) -> dict[str, str]:
    return {str(k): plain(q) for k, q in amounts.items()}
