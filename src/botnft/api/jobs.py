"""Backtest jobs: the API queues them in `backtest_jobs`, worker processes run them outside any request.

A worker claims the oldest queued job (an UPDATE that only one worker can win), runs the backtest with a
heartbeat every batch of bars, and stores the run, its trades and its equity curve as `bot backtest` does;
the job then names the stored run. A cancel flags the job: a queued one is cancelled at once, a running
one stops at its next batch. A running job whose heartbeat is older than `stale_after_s` (its worker
died) is failed by the next worker that looks. `WorkerPool` is the server's pool of worker processes;
`python -m botnft.api.jobs [--workers N]` runs workers on their own, against the bot's database.

Imports no FastAPI: the worker processes load only what a backtest needs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
from sqlalchemy import Engine, Table, event, exc, insert, select, update
from sqlalchemy.engine import Connection

from botnft.domain.errors import UserError
from botnft.storage.db import make_engine, translate
from botnft.storage.errors import StorageError
from botnft.storage.tables import BacktestEquity, BacktestJob

JOBS = cast(Table, BacktestJob.__table__)
EQUITY = cast(Table, BacktestEquity.__table__)
#: bars between two heartbeats (and cancel checks) of a running job
JOB_BATCH_BARS = 2_000
#: points an equity curve is thinned to when stored
CURVE_POINTS = 2_000
FINAL = ("done", "failed", "cancelled")

log = logging.getLogger("botnft.api.jobs")


class JobCancelled(Exception):
    """Raised inside a running job when its cancel flag is seen."""


class WorkerStopping(Exception):
    """Raised inside a running job when its worker is asked to stop: the job goes back to the queue."""


def _now() -> datetime:
    return datetime.now(UTC)


def _sqlite_waits(dbapi_connection: Any, _record: Any) -> None:
    """Several processes write the jobs table: on SQLite wait for a busy file instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


class JobStore:
    """The jobs table: submit, read, list, cancel (the API); claim, heartbeat, finish (the workers)."""

    def __init__(self, engine: Engine, now: Callable[[], datetime] = _now) -> None:
        self._engine = engine
        self._now = now
        if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_waits):
            event.listen(engine, "connect", _sqlite_waits)

    @property
    def engine(self) -> Engine:
        return self._engine

    def _do(self, action: Callable[[Connection], Any]) -> Any:
        try:
            with self._engine.begin() as connection:
                return action(connection)
        except exc.SQLAlchemyError as error:
            raise translate(error, self._engine.url) from error

    def submit(self, spec: dict[str, Any], submitted_by: str | None) -> int:
        row = {"spec": spec, "status": "queued", "submitted_by": submitted_by, "created_at": self._now()}

        def add(c: Connection) -> int:
            key = c.execute(insert(JOBS), row).inserted_primary_key
            assert key is not None
            return int(key[0])

        return int(self._do(add))

    def get(self, job_id: int) -> dict[str, Any] | None:
        def read(c: Connection) -> dict[str, Any] | None:
            row = c.execute(select(JOBS).where(JOBS.c.id == job_id)).first()
            return None if row is None else row._asdict()

        return cast(dict[str, Any] | None, self._do(read))

    def list(self, *, status: str | None = None, before_id: int | None = None, limit: int = 50) -> list[Any]:
        query = select(JOBS).order_by(JOBS.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(JOBS.c.status == status)
        if before_id is not None:
            query = query.where(JOBS.c.id < before_id)
        return cast(list[Any], self._do(lambda c: [r._asdict() for r in c.execute(query)]))

    def queued(self) -> int:
        query = select(JOBS.c.id).where(JOBS.c.status == "queued").limit(1)
        return len(self._do(lambda c: list(c.execute(query))))

    def cancel(self, job_id: int) -> dict[str, Any] | None:
        """A queued job is cancelled now; a running one is flagged (its worker stops at the next batch);
        a finished one is left as it is. The job as it is afterwards, or None if there is none."""
        now = self._now()

        def act(c: Connection) -> None:
            c.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id, JOBS.c.status == "queued")
                .values(status="cancelled", cancel_requested=True, finished_at=now)
            )
            c.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id, JOBS.c.status == "running")
                .values(cancel_requested=True)
            )

        self._do(act)
        return self.get(job_id)

    # the workers' side ----------------------------------------------------------------------------------
    def claim(self, worker: str) -> dict[str, Any] | None:
        """The oldest queued job, now running on `worker`; None when the queue is empty. Two workers never
        claim the same job: the UPDATE only changes a row that is still queued."""
        for _ in range(20):
            now = self._now()

            def take(c: Connection, now: datetime = now) -> tuple[bool, int | None]:
                first = c.execute(
                    select(JOBS.c.id).where(JOBS.c.status == "queued").order_by(JOBS.c.id).limit(1)
                ).first()
                if first is None:
                    return False, None
                done = c.execute(
                    update(JOBS)
                    .where(JOBS.c.id == first[0], JOBS.c.status == "queued")
                    .values(status="running", worker=worker[:64], started_at=now, heartbeat_at=now)
                )
                return True, first[0] if done.rowcount == 1 else None

            found, job_id = self._do(take)
            if not found:
                return None
            if job_id is not None:
                return self.get(job_id)
        return None

    def heartbeat(self, job_id: int, worker: str) -> bool:
        """Note that `worker` still runs the job; True when a cancel was asked for."""
        now = self._now()

        def beat(c: Connection) -> bool:
            c.execute(
                update(JOBS).where(JOBS.c.id == job_id, JOBS.c.worker == worker).values(heartbeat_at=now)
            )
            return bool(c.execute(select(JOBS.c.cancel_requested).where(JOBS.c.id == job_id)).scalar())

        return bool(self._do(beat))

    def finish(
        self,
        job_id: int,
        status: str,
        *,
        run_id: int | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": self._now(), "run_id": run_id}
        values.update(result=result, error=None if error is None else error[:500])
        self._do(lambda c: c.execute(update(JOBS).where(JOBS.c.id == job_id).values(**values)))

    def requeue(self, job_id: int) -> None:
        """Back to the queue (its worker is stopping before the job ended)."""
        values = {"status": "queued", "worker": None, "started_at": None, "heartbeat_at": None}
        query = update(JOBS).where(JOBS.c.id == job_id, JOBS.c.status == "running").values(**values)
        self._do(lambda c: c.execute(query))

    def fail_stale(self, stale_after_s: float) -> int:
        """Fail the running jobs whose worker has not been heard of for `stale_after_s`: it died."""
        now = self._now()
        cutoff = now - timedelta(seconds=stale_after_s)
        query = (
            update(JOBS)
            .where(JOBS.c.status == "running", JOBS.c.heartbeat_at < cutoff)
            .values(status="failed", finished_at=now, error="its worker stopped answering (it died)")
        )
        return int(self._do(lambda c: c.execute(query).rowcount))

    # equity curves ----------------------------------------------------------------------------------------
    def save_curve(self, run_id: int, ts_ns: Any, equity: Any) -> None:
        ts, eq = thin_curve(np.asarray(ts_ns, dtype=np.int64), np.asarray(equity, dtype=np.float64))
        row = {"run_id": run_id, "points": len(ts), "curve": {"ts_ns": ts, "equity": eq}}

        def write(c: Connection) -> None:
            if c.execute(select(EQUITY.c.run_id).where(EQUITY.c.run_id == run_id)).first() is None:
                c.execute(insert(EQUITY), row)

        self._do(write)

    def curve(self, run_id: int) -> dict[str, Any] | None:
        query = select(EQUITY.c.curve).where(EQUITY.c.run_id == run_id)
        return cast(dict[str, Any] | None, self._do(lambda c: c.execute(query).scalar()))


def thin_curve(ts_ns: Any, equity: Any, points: int = CURVE_POINTS) -> tuple[list[int], list[float]]:
    """At most `points` evenly spaced samples of the curve, always with its first and last point."""
    n = len(ts_ns)
    spaced = np.linspace(0, n - 1, min(n, points)).round().astype(np.int64)
    keep = np.unique(spaced) if n > points else np.arange(n)
    return [int(t) for t in ts_ns[keep]], [float(e) for e in equity[keep]]


def replay_stored_run(store: JobStore, row: Any) -> dict[str, Any] | None:
    """A run stored without its curve (by `bot backtest`), run again from its stored settings (strategy,
    parameters, data, venues, fee, fill, cash, seed, first and last bar); its curve is kept when the run
    ends at the stored final equity, else None (a fixed size or cash fraction is not stored with a run)."""
    from decimal import Decimal

    from botnft.backtest.runner import run_backtest
    from botnft.backtest.spec import BacktestSpec
    from botnft.bootstrap import build_backtest
    from botnft.config import load_settings

    s = dict(row.summary or {})
    fee = s.get("fee_bps")
    try:
        spec = BacktestSpec(
            data=row.data_source,
            strategy=row.strategy,
            params={k: str(v) for k, v in dict(row.params or {}).items()},
            venue=None if s.get("venues") else s.get("venue"),
            venues=tuple(s.get("venues") or ()),
            route=s.get("route"),
            fee_bps=None if fee is None else Decimal(str(fee)),
            fill=s.get("fill") or "next-open",
            cash=row.initial_cash,
            seed=row.seed,
            start=row.start_ts,
            end=None if row.end_ts is None else row.end_ts + timedelta(seconds=1),
            liquidity=load_settings().liquidity.model_dump(),
        )
        result = run_backtest(build_backtest(spec, risk=load_settings().risk))
    except (UserError, ValueError, TypeError, ArithmeticError, OSError):
        return None
    if result.stats.final_equity != row.final_equity:
        return None
    store.save_curve(int(row.id), result.ts_ns, result.equity)
    return store.curve(int(row.id))


# running one job ------------------------------------------------------------------------------------------
def run_job(
    store: JobStore, job: dict[str, Any], worker: str, should_stop: Callable[[], bool] = lambda: False
) -> str:
    """Run `job` (claimed by `worker`) to its end; returns its final status (or 'queued' when the worker
    stopped first). A user mistake the spec's checks could not see before the data loaded (a flag its
    venues ignore, no bars in the range) fails the job with its one-line message."""
    import dataclasses

    from botnft.backtest.paper.specjson import spec_from_json
    from botnft.backtest.persist import preflight, records
    from botnft.backtest.runner import run_backtest
    from botnft.bootstrap import build_backtest
    from botnft.config import load_settings
    from botnft.risk.sizing import check_fixed_size
    from botnft.storage.repository import TradeStore

    job_id = int(job["id"])
    try:
        settings = load_settings()
        spec = spec_from_json(job["spec"])
        spec = dataclasses.replace(
            spec, liquidity=settings.liquidity.model_dump(), batch_bars=min(spec.batch_bars, JOB_BATCH_BARS)
        )
        session = build_backtest(spec, risk=settings.risk)
        spec.check_applies(session.venue_names, fill_given=bool(job["spec"].get("fill_given")))
        check_fixed_size(spec.size, session.instrument)
        preflight(
            spec.strategy, dict(spec.params), session.data.name, session.venue_kind, spec.seed, spec.cash
        )
        last = [time.monotonic()]

        def progress(_bars: int) -> None:
            if should_stop():
                raise WorkerStopping
            if time.monotonic() - last[0] >= 0.5:
                last[0] = time.monotonic()
                if store.heartbeat(job_id, worker):
                    raise JobCancelled

        result = run_backtest(session, progress=progress)
        if store.heartbeat(job_id, worker):
            raise JobCancelled
        run_id = TradeStore(store.engine).save_backtest(*records(session, result))
        store.save_curve(run_id, result.ts_ns, result.equity)
        store.finish(job_id, "done", run_id=run_id, result=result.stats.to_json())
        return "done"
    except JobCancelled:
        store.finish(job_id, "cancelled", error="cancelled on request")
        return "cancelled"
    except WorkerStopping:
        store.requeue(job_id)
        return "queued"
    except (UserError, StorageError) as error:
        store.finish(
            job_id, "failed", error=str(error).splitlines()[0] if str(error) else type(error).__name__
        )
        return "failed"
    except Exception:
        log.exception("backtest job %s failed", job_id)
        store.finish(
            job_id, "failed", error="the backtest failed with an internal error (see the worker's log)"
        )
        return "failed"


def work(
    database_url: str,
    worker: str,
    stop: Callable[[], bool],
    *,
    poll_s: float = 0.5,
    stale_after_s: float = 60.0,
    max_jobs: int | None = None,
) -> int:
    """A worker's loop: fail stale jobs, claim the next one, run it; sleep `poll_s` when there is none.
    Returns when `stop()` is true (or after `max_jobs` jobs); the number of jobs it ran."""
    store = JobStore(make_engine(database_url))
    ran = 0
    try:
        while not stop() and (max_jobs is None or ran < max_jobs):
            try:
                store.fail_stale(stale_after_s)
                job = store.claim(worker)
            except StorageError as error:
                log.warning("job worker %s: %s", worker, error)
                job = None
            if job is None:
                deadline = time.monotonic() + poll_s
                while time.monotonic() < deadline and not stop():
                    time.sleep(min(0.05, poll_s))
                continue
            run_job(store, job, worker, stop)
            ran += 1
    finally:
        store.engine.dispose()
    return ran


def _worker_main(
    database_url: str, worker: str, stop_event: Any, poll_s: float, stale_after_s: float
) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool stops its workers through the event
    work(database_url, worker, stop_event.is_set, poll_s=poll_s, stale_after_s=stale_after_s)


class WorkerPool:
    """`size` worker processes (spawned: a fresh interpreter each, no state shared with the server's
    threads) running `work` against `database_url`. `stop` asks them to stop (a running job goes back to
    the queue at its next batch) and waits up to `timeout_s` before terminating them."""

    def __init__(
        self, database_url: str, size: int, *, poll_s: float = 0.5, stale_after_s: float = 60.0
    ) -> None:
        self.database_url = database_url
        self.size = size
        self.poll_s = poll_s
        self.stale_after_s = stale_after_s
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self.processes: list[Any] = []

    @property
    def started(self) -> bool:
        return bool(self.processes)

    def start(self) -> None:
        if self.processes:
            return
        host = socket.gethostname()[:24]
        for k in range(self.size):
            name = f"{host}-{os.getpid()}-{k}"
            args = (self.database_url, name, self._stop, self.poll_s, self.stale_after_s)
            process = self._context.Process(target=_worker_main, args=args, name=f"bot-job-{k}", daemon=True)
            process.start()
            self.processes.append(process)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            if process.is_alive():
                process.terminate()
                process.join(2.0)
        self.processes = []


def main(argv: list[str] | None = None) -> int:
    """`python -m botnft.api.jobs [--workers N]`: backtest job workers on the bot's database, until
    SIGINT or SIGTERM."""
    import argparse
    import signal
    import threading

    from botnft.config import load_settings

    parser = argparse.ArgumentParser(prog="python -m botnft.api.jobs", description=main.__doc__)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--db-url", default=None, help="database URL (default: the bot's)")
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 32:
        parser.error("--workers must be in [1, 32]")
    url = load_settings(database_url=args.db_url).database_url
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    pool = WorkerPool(url, args.workers)
    pool.start()
    done.wait()
    pool.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
