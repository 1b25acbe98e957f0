"""`bot backtest` with the risk engine: the 10x crash replay as a user runs it, --no-guard, --max-drawdown,
the risk figures in --json, and a bad limit as one line with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BOT = [sys.executable, "-m", "botnft.cli"]
CRASH = ["--data", "sol-spot-1h", "--venue", "drift", "--strategy", "hold", "--param", "leverage=10"]
WINDOW = ["--start", "2022-11-06", "--end", "2022-11-12"]


def bot(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")} | (env or {})
    return subprocess.run(
        [*BOT, *args], cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=300
    )


def summary(tmp_path: Path, *extra: str) -> dict[str, object]:
    done = bot(tmp_path, "backtest", *CRASH, *WINDOW, "--json", "--no-store", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_crash_replay_reports_its_risk_figures_and_the_guard_prevents_the_liquidation(tmp_path):
    guarded = summary(tmp_path)
    bare = summary(tmp_path, "--no-guard")
    for key in ("liquidations", "risk_denials", "max_leverage", "stops_triggered", "risk_state"):
        assert key in guarded and key in bare
    assert guarded["liquidations"] == 0 and guarded["guard"] == "on"
    assert bare["liquidations"] > 0 and bare["guard"] == "off"
    assert guarded["max_leverage"] < bare["max_leverage"]


def test_a_drawdown_limit_holds_within_the_measured_slippage(tmp_path):
    s = summary(tmp_path, "--max-drawdown", "0.3")
    assert s["max_drawdown"] <= 0.3 + float(s["slippage_cost"]) / float(s["initial_cash"])
    assert s["risk_state"] in ("REDUCING", "HALTED")


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--max-drawdown", "1.5"], {}, "--max-drawdown must be in (0, 1)"),
        (["--max-drawdown", "x"], {}, "--max-drawdown must be a number"),
        ([], {"BOT_RISK_BUFFER": "-0.5"}, "risk.buffer"),
        (
            [],
            {"BOT_RISK_MAX_LEVERAGE": "50"},
            "risk.max_leverage 50.0 exceeds SOL-PERP.DRIFT's maximum of 20x",
        ),
        ([], {"BOT_RISK_WHATEVER": "1"}, "risk.whatever"),
    ],
)
def test_a_bad_risk_limit_is_one_line_and_exit_code_two(tmp_path, args, env, needle):
    done = bot(tmp_path, "backtest", *CRASH, *WINDOW, "--json", "--no-store", *args, env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
