"""Golden backtests (LEAN-style regression algorithms): pinned statistics on bundled data, and the same
data + seed giving the same JSON, bit for bit, except the timings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

TIMINGS = {"elapsed_s", "bars_per_s"}


def run(*args: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-m", "botnft.cli", "backtest", "--json", "--no-store", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(r.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ("--seed", "7"),
        ("--data", "sol-perp-1h", "--param", "short=true", "--seed", "11"),
    ],
)
def test_same_data_and_seed_give_identical_json_except_timings(args):
    a, b = run(*args), run(*args)
    assert {k: v for k, v in a.items() if k not in TIMINGS} == {
        k: v for k, v in b.items() if k not in TIMINGS
    }


GOLDEN = {
    # the demo: `bot backtest` with its defaults (ema_cross 10/50, sol-spot-1h, next-open fills, 10 bps)
    (): {
        "bars": 50_489,
        "fills": 1_302,
        "round_trips": 651,
        "final_equity": "1978475.35026211",
        "fees_paid": "2558044.41335149",
        "funding_paid": "0",
    },
    # the candle perp: fills at the next open, the data's 8 h funding at each funding time
    ("--data", "sol-perp-1h", "--venue", "perp", "--param", "short=true"): {
        "bars": 20_795,
        "fills": 555,
        "round_trips": 554,
        "final_equity": "47921.32997481",
        "fees_paid": "36846.67542868",
        "funding_paid": "9335.64070651",
    },
    # SimDrift: taker orders fill on its finite curve (capped JIT makers, resting orders, vAMM); funding
    # is Drift's own series where it covers the time, else Drift's formula on the fitted mark basis;
    # Drift's own fee tier
    ("--data", "sol-perp-1h", "--param", "short=true"): {
        "bars": 20_795,
        "fills": 555,
        "round_trips": 554,
        "final_equity": "30679.285922",
        "fees_paid": "30479.360355",
        "funding_paid": "687.991806",
    },
}


@pytest.mark.parametrize("args", list(GOLDEN))
def test_golden_backtests_keep_their_pinned_statistics(args):
    s = run(*args)
    assert {k: s[k] for k in GOLDEN[args]} == GOLDEN[args]
