"""Split-solver benchmark: solve time, end-to-end time (venue snapshots → solver sources → split), and what
splitting saves on a SOL/USDC-like market.

Run: ``.venv/bin/python bench/route.py``. Prints figures; asserts nothing.

The market (documented here, invented but realistic for SOL/USDC at ~150 USDC/SOL):

* five constant-product pools, TVL split half/half between SOL and USDC, prices a few bp apart as
  arbitrage leaves them between blocks:

  ====  ========  ========  ===========
  pool  TVL ($)   fee (bp)  price
  ====  ========  ========  ===========
  P1    20 M      25        150.00      (Raydium-v4-like, the deepest pool)
  P2    12 M      30        150.03
  P3     8 M       5        149.98
  P4     4 M       4        150.05
  P5     2 M       1        149.96
  ====  ========  ========  ===========

* one order book, 40 levels a side around a 150.00 mid: best bid/ask 149.995/150.005, then every
  0.02 USDC (~1.3 bp), sizes 20 SOL at the touch growing 4 SOL a level (3,920 SOL, ~$0.59 M a
  side, within 0.8 USDC of mid); taker fee 5 bp (a Phoenix/CEX-like venue).

Trade sizes are fractions of the deepest pool's reserve of the input asset (10 M USDC for a buy,
66,667 SOL for a sell): 0.1 %, 1 % and 5 %.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import BookLiquidity, CpmmLiquidity, FloatLevels
from botnft.routing import BookSource, CpmmSource, optimal_split
from botnft.routing.adapt import SOURCE_CACHE, to_source

# The reference (numpy/scipy) runs single-threaded, like the solver: BLAS threads only add noise here.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

MID = 150.0
POOLS = [  # (TVL in USD, fee in bp, price)
    (20e6, 25, 150.00),
    (12e6, 30, 150.03),
    (8e6, 5, 149.98),
    (4e6, 4, 150.05),
    (2e6, 1, 149.96),
]
FRACTIONS = (0.001, 0.01, 0.05)
SOLVES = 3_000


def market() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [("cpmm", (tvl / 2 / px, tvl / 2, float(fee))) for tvl, fee, px in POOLS]
    asks = [(MID + 0.005 + 0.02 * i, 20.0 + 4.0 * i) for i in range(40)]
    bids = [(MID - 0.005 - 0.02 * i, 20.0 + 4.0 * i) for i in range(40)]
    out.append(("book", (asks, bids, 5.0)))
    return out


def build(mkt: list[tuple[str, Any]]) -> list[Any]:
    sources: list[Any] = []
    for kind, p in mkt:
        if kind == "cpmm":
            sources.append(CpmmSource(base_reserve=p[0], quote_reserve=p[1], fee_bps=p[2]))
        else:
            sources.append(BookSource(asks=p[0], bids=p[1], fee_bps=p[2]))
    return sources


def snapshots(mkt: list[tuple[str, Any]]) -> list[Any]:
    """The same market as the venues publish it: Decimal liquidity snapshots (no lot grid, as `build`)."""
    out: list[Any] = []
    zero = Decimal(0)
    for k, (kind, p) in enumerate(mkt):
        common = {"ts_ns": 0, "fee_bps": Decimal(repr(p[-1])), "lot": zero, "min_size": zero}
        if kind == "cpmm":
            inst = InstrumentId("SOL/USDC", f"P{k + 1}")
            out.append(
                CpmmLiquidity(
                    instrument=inst,
                    base_reserve=Decimal(repr(p[0])),
                    quote_reserve=Decimal(repr(p[1])),
                    float_reserves=(p[0], p[1]),
                    **common,
                )
            )
        else:
            levels = [tuple((Decimal(repr(px)), Decimal(repr(q))) for px, q in side) for side in p[:2]]
            inst = InstrumentId("SOL/USDC", "BOOK")
            # the float mirrors a book venue publishes beside its Decimal levels (see `mirror_cost`)
            floats = [FloatLevels.of(side) for side in levels]
            out.append(
                BookLiquidity(
                    instrument=inst,
                    asks=levels[0],
                    bids=levels[1],
                    float_asks=floats[0],
                    float_bids=floats[1],
                    **common,
                )
            )
    return out


def time_end_to_end(
    mkt: list[tuple[str, Any]], *, cold: bool
) -> dict[tuple[str, float], tuple[float, float]]:
    """Each sample converts every snapshot (``to_source``) and solves. ``cold``: the conversion cache is
    emptied before each sample (outside the timing), so every source is built from its snapshot; warm: the
    snapshots are the objects a decision already converted (the router converts each several times)."""
    snaps = snapshots(mkt)
    results = {}
    gc.collect()
    for side in ("buy", "sell"):
        for fraction in FRACTIONS:
            amount = order_size(side, fraction)
            samples = []
            for i in range(200 + SOLVES):
                if cold:
                    SOURCE_CACHE.clear()
                t0 = time.perf_counter_ns()
                optimal_split([to_source(s, side) for s in snaps], side, amount)  # type: ignore[arg-type]
                if i >= 200:  # after the warm-up
                    samples.append(time.perf_counter_ns() - t0)
            results[(side, fraction)] = percentiles(samples)
    return results


def mirror_cost() -> tuple[float, float]:
    """Median µs a venue spends on the float mirrors it publishes with a snapshot: the book's two sides
    from integer (ticks, lots) levels (`FloatLevels.of_ints`, as `BookVenue.liquidity` does) and a pool's
    reserves from its native integers (as `SimRaydium.liquidity` does)."""
    tick, lot = Decimal("0.001"), Decimal("0.001")
    asks = [(150_005 + 20 * i, 20_000 + 4_000 * i) for i in range(40)]
    bids = [(149_995 - 20 * i, 20_000 + 4_000 * i) for i in range(40)]
    rb, rq = 66_666_666_666_667, 10_000_000_000_000
    book, pool = [], []
    for _ in range(2_000):
        t0 = time.perf_counter_ns()
        FloatLevels.of_ints(asks, tick, lot), FloatLevels.of_ints(bids, tick, lot)
        t1 = time.perf_counter_ns()
        _ = (rb / 10**9, rq / 10**6)
        book.append(t1 - t0)
        pool.append(time.perf_counter_ns() - t1)
    return statistics.median(book) / 1e3, statistics.median(pool) / 1e3


def order_size(side: str, fraction: float) -> float:
    tvl, _, px = POOLS[0]
    return fraction * (tvl / 2 if side == "buy" else tvl / 2 / px)


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    s = sorted(samples_ns)
    return statistics.median(s) / 1e3, s[min(len(s) - 1, int(0.99 * len(s)))] / 1e3


def time_solves(mkt: list[tuple[str, Any]], *, rebuild: bool) -> dict[tuple[str, float], tuple[float, float]]:
    sources = build(mkt)
    results = {}
    gc.collect()
    for side in ("buy", "sell"):
        for fraction in FRACTIONS:
            amount = order_size(side, fraction)
            for _ in range(200):  # warm-up
                optimal_split(sources, side, amount)  # type: ignore[arg-type]
            samples = []
            for _ in range(SOLVES):
                t0 = time.perf_counter_ns()
                optimal_split(build(mkt) if rebuild else sources, side, amount)  # type: ignore[arg-type]
                samples.append(time.perf_counter_ns() - t0)
            results[(side, fraction)] = percentiles(samples)
    return results


def load_reference() -> Any:
    path = Path(__file__).resolve().parents[1] / "tests" / "unit" / "routing" / "test_split_optimality.py"
    spec = importlib.util.spec_from_file_location("split_reference", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    except ImportError:  # pytest/scipy missing outside the dev environment
        return None
    return module


def main() -> None:
    mkt = market()
    sources = build(mkt)
    print(f"python {sys.version.split()[0]}; market: 5 constant-product pools + 1 book of 40 levels a side")
    print()
    print(f"solve time, {SOLVES} solves per row (sources built once; then including building them)")
    head = f"{'side':<5} {'size':>6} {'amount':>14} {'median µs':>10} {'p99 µs':>8}"
    print(head + f" {'+build med':>11} {'p99':>7}")
    solve = time_solves(mkt, rebuild=False)
    with_build = time_solves(mkt, rebuild=True)
    for (side, fraction), (med, p99) in solve.items():
        amount = order_size(side, fraction)
        unit = "USDC" if side == "buy" else "SOL"
        bmed, bp99 = with_build[(side, fraction)]
        print(f"{side:<5} {fraction:>6.1%} {amount:>9,.0f} {unit:<4} {med:>10.1f} {p99:>8.1f}", end="")
        print(f" {bmed:>11.1f} {bp99:>7.1f}")
    all_med = statistics.median(m for m, _ in solve.values())
    print(f"all {len(solve) * SOLVES} solves: median of row medians {all_med:.1f} µs")
    print()
    print("end to end: the venues' Decimal snapshots → solver sources (routing.adapt.to_source) → split")
    print(f"{'side':<5} {'size':>6} {'warm med µs':>12} {'p99':>7} {'cold med µs':>12} {'p99':>7}")
    warm = time_end_to_end(mkt, cold=False)
    cold = time_end_to_end(mkt, cold=True)
    for key, (wmed, wp99) in warm.items():
        cmed, cp99 = cold[key]
        print(f"{key[0]:<5} {key[1]:>6.1%} {wmed:>12.1f} {wp99:>7.1f} {cmed:>12.1f} {cp99:>7.1f}")
    print(
        f"end-to-end median of row medians: warm {statistics.median(m for m, _ in warm.values()):.1f} µs "
        f"(sources cached per snapshot), cold {statistics.median(m for m, _ in cold.values()):.1f} µs "
        "(every source built from its snapshot)"
    )
    book_us, pool_us = mirror_cost()
    print(
        f"the venues' share, once per snapshot (not in the figures above): float mirrors of the book's 80 "
        f"integer levels {book_us:.1f} µs, of a pool's two integer reserves {pool_us:.2f} µs"
    )
    print()
    for title, srcs in (("pools + book", sources), ("pools only", sources[: len(POOLS)])):
        print(f"saving of the optimal split vs the best single source (bp of output), {title}")
        head = f"{'side':<5} {'size':>6} {'best single':>12} {'single out':>14} {'split out':>14}"
        print(head + f" {'saving bp':>10}  used")
        for side in ("buy", "sell"):
            for fraction in FRACTIONS:
                amount = order_size(side, fraction)
                split = optimal_split(srcs, side, amount)  # type: ignore[arg-type]
                singles = [src.output(side, amount) for src in srcs]
                best = max(range(len(srcs)), key=singles.__getitem__)
                name = f"P{best + 1}" if best < len(POOLS) else "book"
                used = sum(1 for x in split.allocations if x > 0)
                saving = (split.filled / singles[best] - 1) * 1e4
                print(
                    f"{side:<5} {fraction:>6.1%} {name:>12} {singles[best]:>14,.4f} {split.filled:>14,.4f} "
                    f"{saving:>10.2f}  {used}/{len(srcs)} venues"
                )
        print()
    ref = load_reference()
    if ref is None:
        print("reference solver unavailable (needs the dev environment)")
        return
    print("scipy reference on the same market (tests/unit/routing/test_split_optimality.py), for scale")
    print(
        f"{'side':<5} {'size':>6} {'SLSQP ms':>9} {'dual ms':>8} {'split µs':>9} {'gap to dual bound bp':>21}"
    )
    for side in ("buy", "sell"):
        for fraction in FRACTIONS:
            amount = order_size(side, fraction)
            t_slsqp, t_dual = [], []
            for _ in range(5):
                t0 = time.perf_counter()
                reference = ref.Reference(mkt, side)
                bound, lam = reference.dual_bound(amount)
                t_dual.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                reference = ref.Reference(mkt, side)
                reference.slsqp(amount, lam)
                t_slsqp.append(time.perf_counter() - t0)
            split = optimal_split(sources, side, amount)  # type: ignore[arg-type]
            gap = (bound - split.filled) / bound * 1e4
            print(
                f"{side:<5} {fraction:>6.1%} {statistics.median(t_slsqp) * 1e3:>9.1f} "
                f"{statistics.median(t_dual) * 1e3:>8.2f} {solve[(side, fraction)][0]:>9.1f} {gap:>21.2e}"
            )
    print("(SLSQP: warm-started from the dual's solution, ftol 1e-16, at most 100 iterations)")


if __name__ == "__main__":
    main()
