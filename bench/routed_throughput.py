"""Throughput of routed backtests (issue 10): the Solana workload on sol-perp-1h from 2025-10-01, short=true,
seed 5, as bars/s for the candle path, each venue alone and the Solana stack with and without Jupiter, all
measured in one run (best of --repeat each).

    python bench/routed_throughput.py [--repeat 1] [--only solana,candle,...]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest

BASE = BacktestSpec(
    data="sol-perp-1h", params={"short": "true"}, start=datetime(2025, 10, 1, tzinfo=UTC), seed=5
)
SOLANA = ("raydium", "raydium_cpmm", "raydium_clmm", "openbook", "jupiter", "drift")
CASES: dict[str, BacktestSpec] = {
    "candle": replace(BASE, venue="perp"),
    **{v: replace(BASE, venues=(v,)) for v in SOLANA},
    "solana-no-jupiter": replace(BASE, venues=tuple(v for v in SOLANA if v != "jupiter")),
    "solana": replace(BASE, venues=("solana",)),
}


def measure(spec: BacktestSpec) -> tuple[float, int, int]:
    """(seconds in the run, bars, fills) of one run; the build is not timed."""
    stats = run_backtest(build_backtest(spec)).stats.to_json()
    return float(stats["elapsed_s"]), int(stats["bars"]), int(stats["fills"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated case names (default: all)")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(CASES)
    print("workload   sol-perp-1h from 2025-10-01, short=true, seed 5")
    candle_rate = None
    for name in names:
        runs = [measure(CASES[name]) for _ in range(args.repeat)]
        secs, bars, fills = min(runs)
        rate = bars / secs
        candle_rate = rate if name == "candle" else candle_rate
        ratio = (
            f"  {candle_rate / rate:>8,.0f}x slower than candle" if candle_rate and name != "candle" else ""
        )
        print(f"{name:<18} {bars:>6,} bars {fills:>6,} fills {secs:>8.3f} s {rate:>12,.0f} bars/s{ratio}")


if __name__ == "__main__":
    main()
