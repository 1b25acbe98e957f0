"""Throughput of the full trading node against backtesting.py, in one run on the same bars: 1,000,000
seeded 1-minute GBM bars through sma_cross(10, 50), fixed size 100, 10 bps fee, fills at the signal bar's
close. Prints both engines' bars/s (best of --repeat runs each), checks they made the same trades and the
same final equity, and prints the ratio (the acceptance bar is 2.8x).

    python bench/backtest_throughput.py [--bars 1000000] [--repeat 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

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


def window_sma(values: object, n: int) -> np.ndarray:
    """Each window's own mean, as the node's rolling mean gives (no running-sum drift)."""
    v = np.asarray(values, dtype=float)
    out = np.full(len(v), np.nan)
    out[n - 1 :] = sliding_window_view(v, n).mean(axis=1)
    return out


def run_backtesting_py(bars: BarBatch, cash: float) -> tuple[float, int, float]:
    """The same workload in backtesting.py: (seconds in `Backtest.run`, round trips, final equity)."""
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    frame = pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close, "Volume": bars.volume},
        index=pd.to_datetime(bars.ts_ns),
    )

    class SmaCross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(window_sma, self.data.Close, 10)
            self.slow = self.I(window_sma, self.data.Close, 50)

        def next(self) -> None:
            if crossover(self.fast, self.slow) and not self.position:
                self.buy(size=100)
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    bt = Backtest(frame, SmaCross, cash=cash, commission=0.001, trade_on_close=True, finalize_trades=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        stats = bt.run()
        elapsed = time.perf_counter() - t0
    return elapsed, int(stats["# Trades"]), float(stats["Equity Final [$]"])


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
        s = result.stats.to_json()
        if best is None or s["elapsed_s"] < best["elapsed_s"]:
            best = s
    assert best is not None
    observed = min(_observed_s(spec, data) for _ in range(args.repeat))  # the metrics observer on the bus
    guarded = min(_guarded(spec, data) for _ in range(args.repeat))  # the liquidation guard attached
    bt_runs = [run_backtesting_py(bars, float(spec.cash)) for _ in range(args.repeat)]
    bt_s, bt_trades, bt_equity = min(bt_runs)
    bt_rate = args.bars / bt_s
    node_rate = args.bars / best["elapsed_s"]
    same = bt_trades == best["round_trips"] and abs(float(best["final_equity"]) / bt_equity - 1) < 1e-9
    print(f"bars generated          {args.bars:,} (seed {args.seed}, {gen_s:.2f} s)")
    print("workload                sma_cross fast=10 slow=50, size 100, fee 10 bps, close fills")
    print(f"signals / orders / fills {best['signals']:,} / {best['orders']:,} / {best['fills']:,}")
    print(f"round trips             node {best['round_trips']:,}, backtesting.py {bt_trades:,}")
    print(f"final equity            node {best['final_equity']}, backtesting.py {bt_equity:.5f}")
    print(f"same trades and equity  {'yes' if same else 'NO'}")
    print(f"node time (best of {args.repeat})   {best['elapsed_s']:.3f} s  {node_rate:>12,.0f} bars/s")
    print(f"backtesting.py (best of {args.repeat}) {bt_s:.3f} s  {bt_rate:>12,.0f} bars/s")
    print(f"ratio                   {node_rate / bt_rate:.2f}x (acceptance: >= 2.8x)")
    print(f"with metrics observer   {observed:.3f} s  {args.bars / observed:>12,.0f} bars/s  "
          f"{args.bars / observed / bt_rate:.2f}x (acceptance: >= 2.8x)")  # fmt: skip
    g_s, g_fills = guarded
    g_same = "same fills" if g_fills == best["fills"] else "fills DIFFER"
    print(f"with the guard on       {g_s:.3f} s  {args.bars / g_s:>12,.0f} bars/s  "
          f"{args.bars / g_s / bt_rate:.2f}x (acceptance: >= 2.8x; {g_same})")  # fmt: skip
    if not same:
        raise SystemExit("the two engines disagree: the comparison is void")


def _observed_s(spec: BacktestSpec, data: MarketData) -> float:
    from botnft.obs.metrics import Metrics, MetricsObserver

    session = build_backtest(spec, data)
    MetricsObserver(Metrics(), "bench").attach(session.node.bus)
    return float(run_backtest(session).stats.elapsed_s)


def _guarded(spec: BacktestSpec, data: MarketData) -> tuple[float, int]:
    """The same run with the liquidation guard and a drawdown limit attached: the spot account's margin
    is its equity with no requirement, so the guard watches every span (ATR, equity, peak, leverage,
    drawdown room) and, on this workload, never has to act."""
    from botnft.risk.guard import LiquidationGuard
    from botnft.risk.limits import GuardLimits

    session = build_backtest(spec, data)
    node = session.node
    base = session.instrument.base
    linear = node.portfolio.linear_equity

    def margin_at(price: float) -> tuple[float, float, float]:
        cash, qty = linear(base)
        return cash + qty * price, 0.0, qty

    node.guard = LiquidationGuard(
        margin_at, session.instrument, GuardLimits(max_drawdown=0.9), lambda q: 0.0, cap_entries=False
    )  # a fixed --size is refused when too large, never resized (as bootstrap wires it)
    stats = run_backtest(session).stats.to_json()
    return float(stats["elapsed_s"]), int(stats["fills"])


if __name__ == "__main__":
    main()
