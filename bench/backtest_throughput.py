"""Throughput of the full trading node: 1,000,000 seeded 1-minute GBM bars through sma_cross(10, 50),
fixed size 100, 10 bps fee, close fills — strategy, risk gate on every order, OMS, simulated venue,
Decimal fills and the portfolio ledger. Prints bars/s (best of --repeat runs) and the run's counts.

    python bench/backtest_throughput.py [--bars 1000000] [--repeat 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import numpy as np

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.data.bars import BarBatch, MarketData

MINUTE_NS = 60_000_000_000


def gbm_bars(n: int, seed: int, s0: float = 150.0, sigma_annual: float = 0.8) -> BarBatch:
    """Seeded GBM closes on a 1-minute grid; open = previous close; high/low widen by a seeded fraction.
    Prices are rounded to the 0.0001 tick, as a venue would quote them."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / (365 * 24 * 60)
    log_ret = (-0.5 * sigma_annual**2) * dt + sigma_annual * np.sqrt(dt) * rng.standard_normal(n)
    close = np.round(s0 * np.exp(np.cumsum(log_ret)), 4)
    open_ = np.round(np.concatenate(([s0], close[:-1])), 4)
    wiggle = np.abs(rng.standard_normal(n)) * sigma_annual * np.sqrt(dt) * 0.5
    high = np.round(np.maximum(open_, close) * (1 + wiggle), 4)
    low = np.round(np.minimum(open_, close) * (1 - wiggle), 4)
    volume = np.round(rng.gamma(2.0, 50.0, n), 3)
    ts = np.int64(1_704_067_200 * 10**9) + np.arange(n, dtype=np.int64) * MINUTE_NS
    return BarBatch(ts, open_, high, low, close, volume, MINUTE_NS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    t0 = time.perf_counter()
    bars = gbm_bars(args.bars, args.seed)
    gen_s = time.perf_counter() - t0
    spec = BacktestSpec(
        strategy="sma_cross",
        params={"fast": "10", "slow": "50"},
        fee_bps=Decimal(10),
        size=Decimal(100),
        fill="close",
        cash=Decimal(10_000_000),
        seed=args.seed,
    )
    data = MarketData("gbm-1m", "spot", "SOL", bars, None)
    best = None
    for _ in range(args.repeat):
        session = build_backtest(spec, data)
        result = run_backtest(session)
        s = result.summary
        if best is None or s["elapsed_s"] < best["elapsed_s"]:
            best = s
    assert best is not None
    print(f"bars generated          {args.bars:,} (seed {args.seed}, {gen_s:.2f} s)")
    print("workload                sma_cross fast=10 slow=50, size 100, fee 10 bps, close fills")
    print(f"signals / orders / fills {best['signals']:,} / {best['orders']:,} / {best['fills']:,}")
    print(f"round trips             {best['round_trips']:,}")
    print(f"final equity            {best['final_equity']}")
    print(f"node time (best of {args.repeat})   {best['elapsed_s']:.3f} s")
    print(f"throughput              {best['bars_per_s']:,} bars/s")


if __name__ == "__main__":
    main()
