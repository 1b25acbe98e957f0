"""Parity: `bot paper --speed max` decides on the bars' own timestamps through the same node, so it writes
the same `--fills-out` file and statistics as `bot backtest` with the same data, strategy, venues and seed:
for the candle venue and for the whole Solana stack shorting the perp."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BOT = [sys.executable, "-m", "botnft.cli"]
CASES = {
    "candle": ["--start", "2024-03-01", "--end", "2024-03-22", "--seed", "4"],
    "solana": ["--data", "sol-perp-1h", "--venues", "solana", "--param", "short=true",
               "--start", "2024-03-01", "--end", "2024-03-15", "--seed", "4"],
}  # fmt: skip


def bot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*BOT, *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


@pytest.mark.parametrize("case", sorted(CASES))
def test_paper_at_full_speed_writes_the_backtests_fills(case: str, tmp_path: Path) -> None:
    args = CASES[case]
    ran = bot("backtest", *args, "--fills-out", "backtest.csv", "--json", "--no-store", cwd=tmp_path)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    traded = bot(
        "paper", *args, "--speed", "max", "--fills-out", "paper.csv", "--json", "--db-url", db, cwd=tmp_path
    )

    backtest = (tmp_path / "backtest.csv").read_text()
    paper = (tmp_path / "paper.csv").read_text()
    assert len(backtest.splitlines()) > 8  # the window trades: the comparison is not between two empty files
    assert paper == backtest
    timing = {"elapsed_s", "bars_per_s"}
    stats = {k: v for k, v in json.loads(traded.stdout)["stats"].items() if k not in timing}
    assert stats == {k: v for k, v in json.loads(ran.stdout).items() if k not in timing}
