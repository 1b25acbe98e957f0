"""Monte Carlo of the liquidation guard: seeded GBM hourly paths with jumps inside bars, a hold at 2-10x on
SimDrift, each path run with the guard and without it. Prints the liquidated paths either way, by leverage
(the acceptance bar: zero with the guard).

    python bench/risk_montecarlo.py [--paths 1000] [--bars 240] [--seed 11]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from decimal import Decimal

import numpy as np

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings, RiskSettings
from botnft.data.bars import BarBatch, MarketData

HOUR_NS = 3_600_000_000_000
STEPS = 12  # sub-steps a bar: a jump lands inside a bar and its extreme shows in the high or low
SIGMA_HOURLY = 0.01  # about SOL's hourly volatility (~94 % a year)
JUMP_RATE = 0.02  # jumps per bar (one every two days)
JUMP_SIGMA = 0.06  # log size of a jump: a 3-sigma jump moves the price 18 %


def jump_path(n: int, seed: int, s0: float = 100.0) -> BarBatch:
    """``n`` hourly bars of a seeded GBM with Poisson jumps at random sub-steps; prices on a 0.0001 tick."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / STEPS
    steps = SIGMA_HOURLY * np.sqrt(dt) * rng.standard_normal(n * STEPS) - 0.5 * SIGMA_HOURLY**2 * dt
    jumps = rng.random(n * STEPS) < JUMP_RATE * dt
    steps[jumps] += JUMP_SIGMA * rng.standard_normal(int(jumps.sum()))
    path = s0 * np.exp(np.cumsum(steps)).reshape(n, STEPS)
    close = np.round(path[:, -1], 4)
    open_ = np.round(np.concatenate(([s0], close[:-1])), 4)
    high = np.round(np.maximum(path.max(axis=1), open_), 4)
    low = np.round(np.minimum(path.min(axis=1), open_), 4)
    ts = np.int64(1_704_067_200 * 10**9) + np.arange(n, dtype=np.int64) * HOUR_NS
    return BarBatch(ts, open_, high, low, close, np.full(n, 1_000.0), HOUR_NS)


def run_path(bars: BarBatch, leverage: int, side: str, guard: bool) -> tuple[int, float]:
    """(liquidations, max leverage) of a hold on SimDrift over ``bars`` used as the oracle."""
    spec = BacktestSpec(
        data="mc",
        venue="drift",
        strategy="hold",
        params={"leverage": str(leverage), "side": side},
        cash=Decimal(100_000),
        liquidity=LiquiditySettings().model_dump(),
    )
    session = build_backtest(
        spec, MarketData("mc", "spot", "SOL", bars, None), risk=RiskSettings(guard=guard)
    )
    stats = run_backtest(session).stats.to_json()
    return int(stats["liquidations"]), float(stats["max_leverage"] or 0.0)


def simulate(paths: int, bars: int, seed: int) -> dict[str, Counter[int]]:
    """Per leverage: paths run, paths liquidated with the guard and without it."""
    out: dict[str, Counter[int]] = {"paths": Counter(), "guarded": Counter(), "bare": Counter()}
    for i in range(paths):
        leverage = 2 + i % 9
        side = "long" if (i // 9) % 2 == 0 else "short"
        path = jump_path(bars, seed * 1_000_003 + i)
        out["paths"][leverage] += 1
        out["guarded"][leverage] += run_path(path, leverage, side, True)[0] > 0
        out["bare"][leverage] += run_path(path, leverage, side, False)[0] > 0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=1_000)
    ap.add_argument("--bars", type=int, default=240)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = simulate(args.paths, args.bars, args.seed)
    elapsed = time.perf_counter() - t0
    print(
        f"paths                 {args.paths:,} x {args.bars} hourly bars (seed {args.seed}, {elapsed:.0f} s)"
    )
    print(f"model                 GBM {SIGMA_HOURLY:.1%}/h, jumps {JUMP_RATE}/bar of log-sd {JUMP_SIGMA}, "
          f"{STEPS} sub-steps a bar; hold long and short at 2-10x on SimDrift, $100,000")  # fmt: skip
    print("leverage  paths  liquidated with guard  without guard")
    for lev in sorted(res["paths"]):
        print(f"{lev:>7}x  {res['paths'][lev]:>5}  {res['guarded'][lev]:>21}  {res['bare'][lev]:>13}")
    total = {k: sum(v.values()) for k, v in res.items()}
    print(f"{'all':>8}  {total['paths']:>5}  {total['guarded']:>21}  {total['bare']:>13}")
    verdict = "yes" if total["guarded"] == 0 else "NO"
    print(f"acceptance            zero liquidated paths with the guard: {verdict}")


if __name__ == "__main__":
    main()
