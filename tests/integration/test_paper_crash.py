"""The crash test: a paper run over the Solana venues SIGKILLed at 50 random moments (every fourth between
a venue's fill being persisted and the node's journal write) and resumed each time ends with the
uninterrupted run's fills and equity, no order lost or sent twice, and the node's positions equal to the
venues' own. The harness is bench/paper_crash.py, which prints the same figures for the README."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).parents[2] / "bench" / "paper_crash.py"


def test_fifty_kills_and_resumes_end_with_the_uninterrupted_fills_and_nothing_lost_or_sent_twice(
    tmp_path: Path,
) -> None:
    # its own process: the harness forks each life, which a threaded test runner must not do
    args = [sys.executable, str(BENCH), "--kills", "50", "--seed", "7", "--no-kill-latency"]
    done = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.stdout, done.stderr[-3000:]
    figures = json.loads(done.stdout)

    assert figures["kills"] >= 50
    assert figures["crash_point_kills"] >= 3  # died at the hook: fill persisted, journal not written
    assert figures["resumes"] + figures["starts"] == figures["kills"] + 1  # every kill is followed by a life
    assert figures["resumes"] >= 40
    assert figures["fills_equal"] and figures["equity_equal"]
    assert figures["fills"] > 30  # the window trades on every venue: nothing trivially equal
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0 and figures["extra_orders"] == 0
    assert figures["positions_equal_venues"]
    assert figures["resume_of_finished_exit"] == 2
