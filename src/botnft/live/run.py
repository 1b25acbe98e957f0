"""A live run: the node on bars from live market data, trading through live venues (or, dry, through the
paper venues on the same prices), journaled, reconciled at every start, killable.

Everything reaches the node's thread through one queue, in arrival order: closed bars from the feed and
the venues' order events from their pumps. A bar is closed when the feed moves on to a later one (or
ends). A restarted run is a new *life*: a fresh node under a new wire prefix, its balances the venues' own,
warmed up on the bars its earlier lives saw without acting on them, then reconciled against the journal.
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from botnft.backtest.driver import SimulationDriver
from botnft.backtest.paper.reconcile import HaltingRiskGate
from botnft.data.bars import BarBatch
from botnft.domain.errors import Rejected, UserError
from botnft.domain.market import Bar
from botnft.domain.money import plain
from botnft.domain.reports import MassStatus
from botnft.engine.clock import SimClock
from botnft.engine.node import TradingNode
from botnft.live.bridge import Inbox, LiveVenue
from botnft.live.journal import JournalView, LiveJournal
from botnft.live.reconcile import StartReport, reconcile_start, seed_portfolio
from botnft.live.wire import WireVenue, run_tag
from botnft.ports import MarketDataFeed
from botnft.storage.journal import PaperStore

#: a running run's summary is saved this often (seconds), for `bot status`
SUMMARY_S = 5.0


class FeedClock(SimClock):
    """The node's clock on a live feed: it follows the bars' closes and never goes back (a bar from a
    restarted feed, or a venue's event stamped earlier, leaves it where it is)."""

    __slots__ = ()

    def set(self, ts_ns: int) -> None:
        super().set(max(ts_ns, self.now_ns()))

    def advance_to(self, ts_ns: int) -> int:
        return super().advance_to(max(ts_ns, self.now_ns()))


@dataclass(frozen=True, slots=True)
class LiveSettings:
    interval_ns: int
    max_bars: int | None = None  # stop after this many closed bars of this life (None: run on)
    settle_s: float = 10.0  # at the end, wait this long for orders still working to close
    kill_poll_s: float = 0.5
    #: the feed sends each bar once, closed (else a bar closes when a later one arrives or its time passes)
    closed_bars: bool = False
    #: by venue, per asset: what the node leaves out of trading (a Solana wallet's SOL for fees)
    reserves: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    #: by venue, the wallet paying its transactions' network fees (Solana venues signing with one keypair)
    wallets: Mapping[str, str] = field(default_factory=dict)


async def pump_feed(feed: MarketDataFeed, inbox: Inbox) -> None:
    """Hand the feed's bars to the node's thread; say when the feed ends or fails."""
    try:
        async for event in feed.stream():
            if isinstance(event, Bar):
                inbox.put(("bar", "feed", event))
    except asyncio.CancelledError:
        raise
    except Rejected as exc:  # the venue refuses the query (unknown symbol or interval): the user's to fix
        inbox.put(("error", "feed", UserError(f"market data: {exc}")))
        return
    except Exception as exc:
        inbox.put(("error", "feed", exc))
        return
    inbox.put(("end", "feed", None))


def mass_status(venue: WireVenue, ts_ns: int) -> MassStatus:
    inner = venue.inner
    if isinstance(inner, LiveVenue):
        return inner.mass_status(None)
    return inner.mass_status(ts_ns)  # type: ignore[no-any-return]  # a paper venue


class LiveRun:
    def __init__(
        self,
        node: TradingNode,
        clock: FeedClock,
        venues: Mapping[str, WireVenue],
        gate: HaltingRiskGate,
        inbox: Inbox,
        journal: LiveJournal,
        store: PaperStore,
        run_id: str,
        settings: LiveSettings,
        *,
        life: int,
        view: JournalView,
        log: Callable[[str], None] = print,
    ) -> None:
        self.node = node
        self.clock = clock
        self.venues = dict(venues)
        self.gate = gate
        self.inbox = inbox
        self.journal = journal
        self.store = store
        self.run_id = run_id
        self.settings = settings
        self.life = life
        self.view = view
        self.log = log
        self.driver = SimulationDriver(node, clock, self.venues)  # type: ignore[arg-type]
        self.stop: str | None = None
        self.pending: Bar | None = None
        self.last_bar: BarBatch | None = None
        self.bars = 0  # closed bars acted on in this life
        self.warmup = 0  # closed bars the strategy saw again without acting
        self.last_seen_ts = view.last_bar_ts
        self.started: StartReport | None = None
        self._wall = time.monotonic()
        self.started_ns = time.time_ns()  # bars closed before this are history: warm-up only
        self.closed_ts: int | None = None
        self.warnings: list[str] = []

    # start: reconcile and mark the life ------------------------------------------------------------
    def begin(self) -> StartReport:
        ts = self.clock.now_ns()
        statuses = {name: mass_status(v, ts) for name, v in self.venues.items()}
        if self._await_in_flight(statuses):  # they settled: start from what the venues hold now
            statuses = {name: mass_status(v, ts) for name, v in self.venues.items()}
        report = reconcile_start(
            self.node, self.venues, self.gate, self.view, statuses, run_tag(self.run_id),
            self.settings.reserves, self.settings.wallets,
        )  # fmt: skip
        seeded = seed_portfolio(self.node, statuses, self.settings.reserves)
        prefix = next(iter(self.venues.values())).ids.prefix if self.venues else ""
        self.journal.record("life", ts, None, {"life": self.life, "prefix": prefix, "balances": seeded})
        for line in report.actions or ["nothing to reconcile: the journal agrees with every venue"]:
            self.journal.record("reconcile", ts, None, {"action": line})
            self.log(f"reconcile: {line}")
        self.journal.flush()
        self.started = report
        return report

    def _await_in_flight(self, statuses: Mapping[str, MassStatus]) -> bool:
        """Wait (at most `settle_s`) for the earlier lives' orders a venue cannot cancel (a swap sent, not
        yet landed or expired) to settle; True if there were any."""
        waiting = []
        for wire, rec in self.view.orders.items():
            name = rec.submitted.instrument.venue
            venue, status = self.venues.get(name), statuses.get(name)
            if venue is None or status is None or venue.has.get("cancelOrder", True) is not False:
                continue
            report = status.order(wire)
            if report is not None and report.status.is_open:
                waiting.append((venue, wire))
        if not waiting:
            return False
        self.log(f"waiting for {len(waiting)} order(s) of an earlier life still in flight")
        deadline = time.monotonic() + self.settings.settle_s
        while waiting and time.monotonic() < deadline:
            time.sleep(0.1)
            still = []
            for venue, wire in waiting:
                report = venue.inner.fetch_order(wire)
                if report is not None and report.status.is_open:
                    still.append((venue, wire))
            waiting = still
        return True

    # the loop -------------------------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        self.stop = self.stop or reason

    def run(self) -> str:
        next_kill_check = next_summary = time.monotonic()
        ended = False
        while self.stop is None and not ended:
            try:
                kind, source, payload = self.inbox.get(timeout=0.05)
            except queue.Empty:
                kind = ""
                source, payload = "", None
            if kind == "bar":
                self._on_bar_item(payload)
            elif kind == "event":
                self._on_event(source, payload)
            elif kind == "end":
                if self.pending is not None:
                    self._on_closed(self.pending)
                    self.pending = None
                ended = True
            elif kind == "error":
                raise payload
            elif kind == "warning":
                self.warnings.append(f"{source}: {payload}")
                self.log(f"{source}: {payload}")
            self._tick()
            self._close_due()
            if self.journal.buffer:
                self.journal.flush()
            if self.settings.max_bars is not None and self.bars >= self.settings.max_bars:
                break
            if time.monotonic() >= next_kill_check:
                next_kill_check = time.monotonic() + self.settings.kill_poll_s
                if self.store.kill_requested(self.run_id):
                    self.request_stop("kill")
                if time.monotonic() >= next_summary:  # what `bot status` shows of a running run
                    next_summary = time.monotonic() + SUMMARY_S
                    self.store.save_summary(self.run_id, self.summary("running"))
        if self.stop == "kill":
            self._kill()
            return "killed"
        self._settle(cancel=self.stop is not None)
        return "stopped" if self.stop is not None else "finished"

    def _tick(self) -> None:
        """Between bars the node's clock runs with the wall clock, so its timers (a refused order's
        resend after its backoff, a child's deadline, asking again about an unknown order) fire on time."""
        now = time.monotonic()
        elapsed_ns = int((now - self._wall) * 1e9)
        self._wall = now
        if elapsed_ns > 0 and self.clock.advance_to(self.clock.now_ns() + elapsed_ns):
            self.node.bus.drain()

    def _on_bar_item(self, bar: Bar) -> None:
        if self.closed_ts is not None and bar.ts_ns <= self.closed_ts:
            return  # a bar already closed, sent again
        if self.settings.closed_bars:
            self._on_closed(bar)
            return
        pending = self.pending
        if pending is None or bar.ts_ns == pending.ts_ns:
            self.pending = bar  # the first bar, or an update of the one still forming
        elif bar.ts_ns > pending.ts_ns:
            self.pending = bar
            self._on_closed(pending)
        self._close_due()

    def _close_due(self) -> None:
        """The bar still forming is closed once its interval has passed on the wall clock."""
        p = self.pending
        if p is not None and p.ts_ns + self.settings.interval_ns <= time.time_ns():
            self.pending = None
            self._on_closed(p)

    def _batch(self, bar: Bar) -> BarBatch:
        def f(x: float) -> np.ndarray[Any, np.dtype[np.float64]]:
            return np.array([x], dtype=np.float64)

        return BarBatch(
            np.array([bar.ts_ns], dtype=np.int64), f(bar.open), f(bar.high), f(bar.low), f(bar.close),
            f(bar.volume), self.settings.interval_ns,
        )  # fmt: skip

    def _on_closed(self, bar: Bar) -> None:
        """Act on a closed bar; one an earlier life acted on, or that closed before this life started
        (a feed's history), only warms the strategy up."""
        batch = self._batch(bar)
        self.closed_ts = bar.ts_ns
        seen = self.last_seen_ts is not None and bar.ts_ns <= self.last_seen_ts
        if seen or bar.ts_ns + self.settings.interval_ns <= self.started_ns:
            self.node.signals(batch)
            self.warmup += 1
            return
        self.last_seen_ts = bar.ts_ns
        self.journal.record("bar", bar.ts_ns, bar, {"ts_ns": bar.ts_ns, "close": bar.close})
        self.journal.flush()
        self.driver.on_batch(batch)
        self.last_bar = batch
        self.bars += 1
        self.journal.bars_done += 1

    def _on_event(self, source: str, event: object) -> None:
        venue = self.venues.get(source)
        mine = None if venue is None else venue.ids.event(event)
        if mine is None:
            return  # about an order of someone else (an earlier life's, reconciled at the start)
        coid = getattr(mine, "client_order_id", None)  # none: an account's event (a perp's funding)
        if coid is not None and self.node.oms.get(coid) is None:
            return
        self.node.bus.publish(mine)
        self.node.bus.drain()

    # the end ----------------------------------------------------------------------------------------
    def _pump_for(self, seconds: float) -> None:
        """Apply the venues' events until every order is closed or `seconds` pass."""
        deadline = time.monotonic() + seconds
        while self.node.oms.open_orders() and time.monotonic() < deadline:
            try:
                kind, source, payload = self.inbox.get(timeout=0.05)
            except queue.Empty:
                kind, source, payload = "", "", None
            if kind == "event":
                self._on_event(source, payload)
            self._tick()
            if self.journal.buffer:
                self.journal.flush()

    def _cancel_open(self, reason: str) -> None:
        for order in self.node.oms.open_orders():
            self.node.oms.cancel(order, reason)
        self.node.bus.drain()
        self.journal.flush()

    def _settle(self, *, cancel: bool) -> None:
        if cancel:
            self._cancel_open("stop")
        self._pump_for(self.settings.settle_s)

    def _kill(self) -> None:
        """Cancel every order, flatten through the same gate and routing, wait for the venues, halt."""
        self._cancel_open("kill")
        self._pump_for(self.settings.settle_s)
        if self.last_bar is not None:
            self.node.on_signal(self.last_bar, 0, 0.0)
            self.node.bus.drain()
            self._pump_for(self.settings.settle_s)
        self._cancel_open("kill")
        self.journal.record("kill", self.clock.now_ns(), None, {"flat": plain(self._exposure())})
        self.journal.flush()

    def _exposure(self) -> Decimal:
        return self.node.portfolio.exposure_in(self.node.instrument.base)

    def summary(self, status: str) -> dict[str, Any]:
        node = self.node
        sent: dict[str, int] = {}
        for name, v in self.venues.items():
            inner = v.inner
            sent[name] = len(inner.sent) if isinstance(inner, LiveVenue) else 0
        balances = node.portfolio.balances()
        return {
            "run_id": self.run_id,
            "status": status,
            "life": self.life,
            "bars": self.bars,
            "warmup_bars": self.warmup,
            "fills": len(node.record.fills),
            "orders": len(node.oms.orders()),
            "open_orders": len(node.oms.open_orders()),
            "sent": sent,
            "final_position": plain(self._exposure()),
            "balances": {v: {a: plain(q) for a, q in b.items()} for v, b in balances.items()},
            "reconciliation": None if self.started is None else self.started.as_dict(),
            "halted": {str(i): why for i, why in self.gate.halted.items()},
            "warnings": self.warnings[-20:],
        }
