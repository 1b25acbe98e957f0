"""Crash test of `bot paper` (the figures in the README): a paper run over the Solana venues is SIGKILLed at
random moments, some of them exactly between a venue's fill being persisted and the node's journal write
(the `BOT_CRASH_POINT=venue-fill:n` test hook), and resumed each time until it finishes. Prints the kills,
resumes, orders lost and sent twice, whether the fills equal an uninterrupted run's and whether the node's
positions equal the venues' own, the wall time, and how long `bot kill` takes to halt a run.

    .venv/bin/python bench/paper_crash.py [--kills 50] [--seed 1] [--db-url URL] [--no-kill-latency]

Each life is a fork of this (single-threaded) process, so that fifty lives do not pay fifty imports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RUN = ["--data", "sol-perp-1h", "--venues", "solana", "--param", "short=true",
       "--start", "2024-03-01", "--end", "2024-03-08"]  # fmt: skip
SNAPSHOT = ["--snapshot-every", "10"]
PACE = ["--speed", "360000"]  # the crashed run's bars at most every 10 ms (the reference runs at max)


def _attempt(
    args: list[str],
    env: dict[str, str],
    log: Path,
    *,
    kill_after: float | None = None,
    kill_at_bar: int | None = None,
    progress: Callable[[], int] | None = None,
    rng: random.Random | None = None,
) -> int | None:
    """Run `bot ARGS` in a forked child; SIGKILL it after `kill_after` s, or at a random moment (0-10 ms)
    once `progress()` (the run's stored bar count) reaches `kill_at_bar`. Returns its exit code, None
    when we killed it, -1 when it killed itself (its crash point)."""
    from botnft.cli import run

    pid = os.fork()
    if pid == 0:  # the child: the bot, its output to the log
        code = 1
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.environ.update(env)
            code = run(args)
        finally:
            os._exit(code)
    deadline = None if kill_after is None else time.monotonic() + kill_after
    ours = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        due = deadline is not None and time.monotonic() >= deadline
        if not due and kill_at_bar is not None and progress is not None and progress() >= kill_at_bar:
            time.sleep((rng or random.Random()).uniform(0.0, 0.01))  # somewhere inside the next bar
            due = True
        if due:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            ours = True
            break
        time.sleep(0.005)
    if os.WIFSIGNALED(status):
        return None if ours else -1
    return os.WEXITSTATUS(status)


def _venue_record(store: Any, run_id: str) -> Any:
    from botnft.backtest.paper.state import loads

    saved = store.load_venues(run_id)
    return None if saved is None else loads(saved[2])[1]


def crash_test(
    db_url: str, workdir: Path, *, kills: int = 50, seed: int = 1, every: int = 4
) -> dict[str, Any]:
    """Kill and resume one run at least `kills` times: every `every`-th life dies at the crash point, about a
    third while starting, restoring or replaying, the rest at a random moment inside a bar."""
    from botnft.storage import migrate
    from botnft.storage.db import make_engine
    from botnft.storage.journal import PaperStore

    rng = random.Random(seed)
    migrate.upgrade(db_url)
    store = PaperStore(make_engine(db_url))
    log = workdir / "paper.log"
    db = ["--db-url", db_url]
    ref_csv, crash_csv = workdir / "reference.csv", workdir / "crashed.csv"
    ref_id, run_id = f"ref-{seed}", f"crash-{seed}"
    t0 = time.monotonic()
    code = _attempt(["paper", *RUN, *SNAPSHOT, *db, "--run-id", ref_id, "--fills-out", str(ref_csv)], {}, log)
    assert code == 0, f"the uninterrupted run failed ({code}); see {log}"
    ref_wall = time.monotonic() - t0
    ref = store.run(ref_id)
    assert ref is not None and ref["summary"] is not None
    total = int(ref["summary"]["bars_total"])

    def progress() -> int:
        try:
            row = store.run(run_id)
        except Exception:  # the database is busy: ask again
            return -1
        return -1 if row is None else int(row["bars_done"])

    t1 = time.monotonic()
    killed = resumes = starts = points = 0
    first = True
    while True:
        args = ["paper", *RUN, *SNAPSHOT, *db, "--run-id", run_id] if first else \
            ["paper", "--resume", run_id, *SNAPSHOT, *db]  # fmt: skip
        args += [*PACE, "--fills-out", str(crash_csv)]  # written by the life that finishes the run
        done = max(progress(), 0)
        left = kills - killed
        env: dict[str, str] = {}
        kill_after: float | None = None
        kill_at_bar: int | None = None
        if left > 0:  # this life dies before the end, within about twice its share of the bars left
            share = max(1, (total - done) // (left + 1))
            kill_at_bar = min(done + rng.randint(1, 2 * share), total - 4)  # never at the end
            if (killed + 1) % every == 0:  # its first or second fill; bars enough to reach it
                env["BOT_CRASH_POINT"] = f"venue-fill:{rng.randint(1, 2)}"
                kill_at_bar = min(done + 2 * share + 15, total - 4)
            elif rng.random() < 0.35:
                kill_after = rng.uniform(0.02, 1.0)
        code = _attempt(
            args, env, log, kill_after=kill_after, kill_at_bar=kill_at_bar, progress=progress, rng=rng
        )
        with log.open("a") as fh:
            fh.write(
                f"harness: life from bar {done}: {env} kill at bar {kill_at_bar} or {kill_after} s: {code}\n"
            )
        resumes += 0 if first else 1
        starts += 1 if first else 0  # a life killed before it stored the run starts it again
        first = first and store.run(run_id) is None
        if code is None or code == -1:
            killed += 1
            points += code == -1
            continue
        assert code == 0, f"a life exited {code}; its log ends:\n{log.read_text()[-3000:]}"
        break
    crash_wall = time.monotonic() - t1
    code = _attempt(["paper", "--resume", run_id, *db], {}, log)  # finished: refused, exit 2
    final = store.run(run_id)
    assert final is not None
    ref_orders = set(_venue_record(store, ref_id).created)
    rec = _venue_record(store, run_id)
    sent = set(rec.created)
    journaled = {p["client_order_id"] for _, _, _, p, _ in store.entries(run_id, kinds=["OrderSubmitted"])}
    summary = final["summary"] or {}
    return {
        "kills": killed,
        "crash_point_kills": points,
        "resumes": resumes,
        "starts": starts,
        "bars": total,
        "orders": len(sent),
        "lost": len(ref_orders - sent) + len(journaled - sent),
        "duplicated": sum(max(n - 1, 0) for n in rec.executions.values()),
        "extra_orders": len(sent - ref_orders),
        "fills_equal": ref_csv.read_bytes() == crash_csv.read_bytes(),
        "fills": summary.get("fills"),
        "equity_equal": summary.get("final_equity") == ref["summary"]["final_equity"],
        "positions_equal_venues": summary.get("positions") == summary.get("venue_positions"),
        "resume_of_finished_exit": code,
        "wall_s": round(crash_wall, 1),
        "uninterrupted_s": round(ref_wall, 1),
    }


def kill_latency(db_url: str, workdir: Path) -> tuple[float, float]:
    """Seconds from `bot kill`'s flag in the database to a paced paper run's status killed (orders
    cancelled, the position flattened) and to its process's exit."""
    import subprocess

    from botnft.storage import migrate
    from botnft.storage.db import make_engine
    from botnft.storage.journal import PaperStore

    migrate.upgrade(db_url)
    store = PaperStore(make_engine(db_url))
    args = ["paper", *RUN, "--run-id", "killed", "--speed", "36000", "--db-url", db_url]
    proc = subprocess.Popen([sys.executable, "-m", "botnft.cli", *args], cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    while (row := store.run("killed")) is None or row["bars_done"] < 60:
        time.sleep(0.02)
    t0 = time.monotonic()
    store.request_kill("killed")
    while (row := store.run("killed")) is None or row["status"] == "running":
        time.sleep(0.005)
    halted = time.monotonic() - t0
    proc.wait(timeout=30)
    exited = time.monotonic() - t0
    assert row["status"] == "killed" and row["summary"]["open_orders"] == 0
    return round(halted, 3), round(exited, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db-url", default=None, help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--no-kill-latency", action="store_true", help="skip the bot kill measurement")
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = a.db_url or f"sqlite:///{tmp}/crash.db"
        figures: dict[str, Any] = crash_test(url, Path(tmp), kills=a.kills, seed=a.seed)
        if not a.no_kill_latency:
            halted, exited = kill_latency(f"sqlite:///{tmp}/kill.db", Path(tmp))
            figures["kill_to_halt_s"], figures["kill_to_exit_s"] = halted, exited
    print(json.dumps(figures, indent=2))
    ok = (
        figures["fills_equal"]
        and figures["equity_equal"]
        and not (figures["lost"] or figures["duplicated"] or figures["extra_orders"])
    )
    sys.exit(0 if ok and figures["positions_equal_venues"] else 1)


if __name__ == "__main__":
    main()
