"""One life of a live run, wired: the venues' loop, the bridge to each adapter (or the paper venues of a
dry run) under this life's wire prefix, the journal, the node, the feed and the pumps; reconciled before
the first bar. `close()` stops the pumps and the loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from botnft.live.bridge import EventPump, Inbox, LiveVenue
from botnft.live.io import IoLoop
from botnft.live.journal import LiveJournal, read_journal
from botnft.live.node import live_node
from botnft.live.run import FeedClock, LiveRun, LiveSettings, pump_feed
from botnft.live.wire import WireIds, WireVenue, life_prefix
from botnft.ports import ExecutionClient, MarketDataFeed
from botnft.storage.journal import PaperStore


class LiveLife:
    def __init__(self, run: LiveRun, io: IoLoop, tasks: list[Any]) -> None:
        self.run = run
        self.io = io
        self.tasks = tasks

    def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        self.io.close()


def open_life(
    *,
    store: PaperStore,
    run_id: str,
    feed: MarketDataFeed,
    strategy: Any,
    sizer: Any,
    gate: Any,
    fee_rate: Decimal,
    settings: LiveSettings,
    clients: Mapping[str, ExecutionClient] | None = None,
    paper: Mapping[str, Any] | None = None,
    io: IoLoop | None = None,
    timeout_s: float = 10.0,
    poll_s: float = 0.2,
    seed: int = 0,
    accounts: Mapping[str, str] | None = None,
    quoters: Mapping[str, Callable[[Any], Awaitable[Any]]] | None = None,
    log: Callable[[str], None] = print,
) -> LiveLife:
    """`clients`: the live adapters by name; `paper`: instead, the paper venues of a dry run (their
    fills simulated on the feed's prices). Reconciles before returning; `life.run.run()` trades."""
    if (clients is None) == (paper is None):
        raise ValueError("give the live clients or the paper venues of a dry run")
    view = read_journal(store, run_id)
    life = len(view.lives) + 1
    ids = WireIds(life_prefix(run_id, life))
    own_io = io is None
    io = io or IoLoop()
    inbox: Inbox = Inbox()
    clock = FeedClock(0)
    journal = LiveJournal(store, run_id, clock, seq=view.last_seq, log=log)
    journal.bars_done = view.bars
    live: dict[str, LiveVenue] = {}
    venues: dict[str, WireVenue] = {}
    try:
        if clients is not None:
            for name, client in clients.items():
                live[name] = LiveVenue(
                    client, io, inbox, before_send=journal.flush, timeout_s=timeout_s, name=name,
                    quoter=(quoters or {}).get(name),
                )  # fmt: skip
                venues[name] = WireVenue(live[name], ids)
        else:
            assert paper is not None
            venues = {name: WireVenue(_Flushing(v, journal.flush), ids) for name, v in paper.items()}
        node, halting = live_node(
            strategy=strategy, sizer=sizer, gate=gate, venues=venues, clock=clock, journal=journal,
            fee_rate=fee_rate, seed=seed, accounts=accounts,
        )  # fmt: skip
        run = LiveRun(
            node, clock, venues, halting, inbox, journal, store, run_id, settings,
            life=life, view=view, log=log,
        )  # fmt: skip
        run.begin()
    except BaseException:
        if own_io:
            io.close()
        raise
    tasks = [io.spawn(EventPump(v, poll_s=poll_s).run()) for v in live.values()]
    tasks.append(io.spawn(pump_feed(feed, inbox)))
    return LiveLife(run, io, tasks)


class _Flushing:
    """A paper venue whose commands flush the journal first (the intent before the effect)."""

    def __init__(self, venue: Any, flush: Callable[[], None]) -> None:
        self.venue = venue
        self.flush = flush
        self.name: str = venue.name

    def __getattr__(self, name: str) -> Any:
        if name in ("venue", "flush") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.venue, name)

    def create_order(self, order: Any) -> Any:
        self.flush()
        return self.venue.create_order(order)

    def cancel_order(self, client_order_id: str) -> Any:
        self.flush()
        return self.venue.cancel_order(client_order_id)
