"""Throughput of routed backtests (issue 10), as bars/s for the candle path, each venue alone and the Solana
stack with and without Jupiter, all measured in one run (best of --repeat each) on two workloads:

* ``1h``: sol-perp-1h from 2025-10-01, short=true, seed 5 (5,459 bars; the issue's workload);
* ``5m-year``: one year of 5-minute SOL-PERP candles (105,120 bars), short=true, seed 5, RESAMPLED from the
  bundled hourly perp candles (the last 8,760 hours): each hour becomes 12 bars along a Brownian bridge
  from its open to its close drawn from a fixed seed (``numpy.random.default_rng(5)``), kept inside the
  hour's range, with a bar at the hour's high and one at its low, prices on the 0.001 grid and a twelfth of
  the hour's volume each. The same seed gives the same file, bit for bit. By default it runs the candle
  path and the Solana stack (``--cases5m`` picks others).

    python bench/routed_throughput.py [--repeat 1] [--only solana,candle,...] [--workloads 1h,5m-year]

Each line gives the run's wall time and bars/s (best of --repeat) and, in brackets, its CPU time and the
bars/s that makes (best of --repeat): on a machine others load, compare versions on CPU time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest, load_market_data

BASE = BacktestSpec(
    data="sol-perp-1h", params={"short": "true"}, start=datetime(2025, 10, 1, tzinfo=UTC), seed=5
)
SOLANA = ("raydium", "raydium_cpmm", "raydium_clmm", "openbook", "jupiter", "drift")


def cases(base: BacktestSpec) -> dict[str, BacktestSpec]:
    return {
        "candle": replace(base, venue="perp"),
        **{v: replace(base, venues=(v,)) for v in SOLANA},
        "solana-no-jupiter": replace(base, venues=tuple(v for v in SOLANA if v != "jupiter")),
        "solana": replace(base, venues=("solana",)),
    }


CASES = cases(BASE)
HOURS_5M = 8_760  # one year of hours, each 12 five-minute bars: 105,120 bars
TICK = 0.001


def five_minute_year(directory: Path, seed: int = 5) -> Path:
    """Write the resampled 5-minute year (see the module docstring) as a candle CSV; return its path."""
    hourly = load_market_data("sol-perp-1h").bars
    sl = slice(len(hourly) - HOURS_5M, len(hourly))
    ts, o, h, lo, c, v = (
        np.asarray(a)[sl]
        for a in (hourly.ts_ns, hourly.open, hourly.high, hourly.low, hourly.close, hourly.volume)
    )
    rng = np.random.default_rng(seed)
    n, k = len(o), 12
    steps = np.arange(k + 1) / k
    walk = np.concatenate([np.zeros((n, 1)), np.cumsum(rng.standard_normal((n, k)), axis=1)], axis=1)
    bridge = walk - steps[None, :] * walk[:, -1:]  # 0 at both ends
    scale = (h - lo) / (4.0 * np.sqrt(k))
    path = o[:, None] + (c - o)[:, None] * steps[None, :] + scale[:, None] * bridge
    path = np.clip(path, lo[:, None], h[:, None])
    path[:, 0], path[:, -1] = o, c
    opens, closes = path[:, :-1], path[:, 1:]
    wiggle = np.abs(rng.standard_normal((n, k))) * scale[:, None] * 0.5
    highs = np.minimum(np.maximum(opens, closes) + wiggle, h[:, None])
    lows = np.maximum(
        np.minimum(opens, closes) - np.abs(rng.standard_normal((n, k))) * scale[:, None] * 0.5, lo[:, None]
    )
    # the hour's extremes are reached inside it, in a bar drawn from the seed
    rows = np.arange(n)
    highs[rows, rng.integers(0, k, n)] = h
    lows[rows, rng.integers(0, k, n)] = lo

    def grid(a: np.ndarray) -> np.ndarray:
        return np.round(a / TICK) * TICK

    opens, closes, highs, lows = grid(opens), grid(closes), grid(highs), grid(lows)
    highs = np.maximum(highs, np.maximum(opens, closes))
    lows = np.minimum(lows, np.minimum(opens, closes))
    times = ts[:, None] + np.arange(k)[None, :] * (hourly.interval_ns // k)
    frame = pd.DataFrame(
        {
            "open_time": pd.to_datetime(times.ravel(), utc=True).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "open": opens.ravel(),
            "high": highs.ravel(),
            "low": lows.ravel(),
            "close": closes.ravel(),
            "volume": np.repeat(v / k, k),
        }
    )
    out = directory / f"SOL-USDT_usdm_5m_resampled_seed{seed}.csv"  # a SOL perp, by its name
    frame.to_csv(out, index=False, float_format="%.3f")
    return out


def measure(spec: BacktestSpec) -> tuple[float, float, int, int]:
    """(seconds in the run, CPU seconds of the run, bars, fills) of one run; the build is not timed. On a
    machine others load, CPU time (this process's) moves less than wall time: compare versions on it."""
    session = build_backtest(spec)
    cpu = time.process_time()
    stats = run_backtest(session).stats.to_json()
    cpu = time.process_time() - cpu
    return float(stats["elapsed_s"]), cpu, int(stats["bars"]), int(stats["fills"])


def table(title: str, specs: dict[str, BacktestSpec], names: list[str], repeat: int) -> None:
    print(f"workload   {title}")
    candle_rate = None
    for name in names:
        runs = [measure(specs[name]) for _ in range(repeat)]
        secs, _, bars, fills = min(runs)
        cpu = min(r[1] for r in runs)
        rate = bars / secs
        candle_rate = rate if name == "candle" else candle_rate
        ratio = (
            f"  {candle_rate / rate:>8,.0f}x slower than candle" if candle_rate and name != "candle" else ""
        )
        print(
            f"{name:<18} {bars:>7,} bars {fills:>6,} fills {secs:>8.3f} s {rate:>12,.0f} bars/s"
            f"  (cpu {cpu:.3f} s, {bars / cpu:>9,.0f} bars/s){ratio}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated case names on the 1h workload (default: all)")
    ap.add_argument("--cases5m", default="candle,solana", help="comma-separated case names on the 5m year")
    ap.add_argument("--workloads", default="1h,5m-year", help="comma-separated: 1h, 5m-year")
    args = ap.parse_args()
    workloads = [w for w in args.workloads.split(",") if w]
    if "1h" in workloads:
        names = [n for n in args.only.split(",") if n] or list(CASES)
        table("sol-perp-1h from 2025-10-01, short=true, seed 5", CASES, names, args.repeat)
    if "5m-year" in workloads:
        with tempfile.TemporaryDirectory() as tmp:
            path = five_minute_year(Path(tmp))
            specs = cases(replace(BASE, data=str(path), start=None))
            names = [n for n in args.cases5m.split(",") if n]
            title = (
                "one year of 5-minute SOL-PERP bars resampled from sol-perp-1h (seed 5), short=true, seed 5"
            )
            table(title, specs, names, args.repeat)


if __name__ == "__main__":
    main()
