"""`bot paper` with BOT_SHARD (as the Swarm stack sets it from the task slot) trades its slot's market."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from botnft.storage import make_engine, upgrade
from botnft.storage.journal import PaperStore

BOT = [sys.executable, "-m", "botnft.cli"]
SPOT = ["--start", "2024-03-01", "--end", "2024-03-03"]


def run(tmp_path: Path, db: str, shard: str, run_id: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_SHARD": shard}
    args = [
        "paper",
        "--data",
        "sol-spot-1h,sol-perp-1h",
        "--db-url",
        db,
        "--run-id",
        run_id,
        "--metrics-port",
        "0",
    ]
    return subprocess.run(
        [*BOT, *args, *SPOT], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )


def test_each_slot_runs_its_own_market(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(db)
    for shard, run_id, market in [("1/2", "shard-1", "sol-spot-1h"), ("2/2", "shard-2", "sol-perp-1h")]:
        r = run(tmp_path, db, shard, run_id)
        assert r.returncode == 0, r.stderr
        row = PaperStore(make_engine(db)).run(run_id)
        assert row is not None and row["spec"]["data"] == market


def test_a_slot_beyond_the_markets_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    r = run(tmp_path, db, "3/3", "shard-3")
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "shard 3/3 gets 0 of the 2 markets" in errors[0], r.stderr
    assert "Traceback" not in r.stderr
