"""The backtest report: an equity and drawdown chart (PNG) and the fills as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from botnft.backtest.metrics import drawdown_curve
from botnft.backtest.outputs import write_atomic
from botnft.domain.events import OrderFilled


def iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_fills_csv(fills: list[OrderFilled], path: Path) -> None:
    """One row per fill: ts, venue, instrument, side, qty, price, fee (Decimal text, exact); written
    atomically, so an existing file is replaced whole or not at all."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["ts", "venue", "instrument", "side", "qty", "price", "fee"])
    for f in fills:
        w.writerow([iso(f.ts_ns), f.instrument.venue, str(f.instrument), f.side.value, f.qty, f.price, f.fee])
    write_atomic(path, buf.getvalue())


def plot_equity(
    ts_ns: NDArray[np.int64], equity: NDArray[np.float64], path: Path, title: str, fills: list[OrderFilled]
) -> Path:
    """Equity curve with buy/sell marks, and the drawdown below it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    t = ts_ns.astype("datetime64[ns]")
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}, constrained_layout=True
    )
    ax1.plot(t, equity, lw=1.1, color="#1f5fa8", label="equity")
    if fills and len(fills) <= 2000:
        idx = np.searchsorted(ts_ns, np.array([f.ts_ns for f in fills], dtype=np.int64), "right") - 1
        idx = np.clip(idx, 0, len(equity) - 1)
        buys = np.array([f.side.value == "buy" for f in fills])
        ax1.scatter(t[idx[buys]], equity[idx[buys]], marker="^", s=14, color="#2a9d4b", label="buy", zorder=3)
        ax1.scatter(
            t[idx[~buys]], equity[idx[~buys]], marker="v", s=14, color="#c0392b", label="sell", zorder=3
        )
    if equity.size and equity.min() > 0 and equity.max() / equity.min() > 10:
        ax1.set_yscale("log")
    ax1.set_ylabel("equity (quote)")
    ax1.set_title(title)
    ax1.grid(alpha=0.3)
    ax1.legend(loc="upper left")
    dd = drawdown_curve(equity) * 100
    ax2.fill_between(t, dd, 0, color="#c0392b", alpha=0.35, lw=0)
    ax2.set_ylabel("drawdown %")
    ax2.grid(alpha=0.3)
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax2.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=110)
    plt.close(fig)
    return write_atomic(path, png.getvalue())
