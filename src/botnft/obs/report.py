"""The run report: one self-contained HTML file (charts drawn as inline SVG, a few lines of inline script for
the hover read-out: nothing fetched from a network) with the stats table, and PNGs of the key charts."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from botnft.obs.reportdata import ReportData

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 900, 240, 70, 20, 28, 30
MAX_POINTS = 1500
COLORS = ("#1f5fa8", "#c0392b", "#2a9d4b", "#8e44ad", "#d68910")

_SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  function check() {
    var figs = document.querySelectorAll('figure.chart'), ok = 0;
    figs.forEach(function (f) {
      var svg = f.querySelector('svg'), r = svg.getBoundingClientRect();
      var marks = svg.querySelectorAll('polyline, rect.bar, circle.mark').length;
      var drawn = r.width > 0 && r.height > 0 && marks > 0;
      f.setAttribute('data-drawn', drawn ? 'yes' : 'no');
      if (drawn) { ok += 1; }
      var tip = f.querySelector('.tip'), xs = JSON.parse(svg.getAttribute('data-x') || '[]');
      svg.addEventListener('mousemove', function (ev) {
        if (!xs.length) { return; }
        var b = svg.getBoundingClientRect(), px = (ev.clientX - b.left) / b.width;
        var i = Math.max(0, Math.min(xs.length - 1, Math.round(px * (xs.length - 1))));
        tip.textContent = xs[i];
      });
    });
    document.body.setAttribute('data-charts', ok + '/' + figs.length);
    document.body.setAttribute('data-errors', String(errors.length));
  }
  window.addEventListener('load', check);
})();
"""

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 960px; color: #222; }
h1 { font-size: 20px; } figure.chart { margin: 18px 0; } figcaption { font-weight: 600; }
.tip { color: #555; font-size: 12px; min-height: 1em; } table { border-collapse: collapse; }
td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child { text-align: left; }
svg text { font-size: 11px; fill: #555; }
"""


def _thin(*arrays: NDArray[np.float64] | NDArray[np.int64]) -> list[NDArray[np.float64]]:
    n = len(arrays[0])
    step = max(1, -(-n // MAX_POINTS))
    idx = np.r_[np.arange(0, n, step), n - 1] if n else np.arange(0)
    return [np.asarray(a, dtype=np.float64)[idx] for a in arrays]


def _day(ts_ns: float) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _fmt(v: float) -> str:
    return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"


def line_chart(
    name: str, title: str, ts: NDArray[np.int64], series: list[tuple[str, NDArray[np.float64]]],
    marks: list[tuple[float, float, str]] = (),  # type: ignore[assignment]
) -> str:  # fmt: skip
    """An SVG line chart of `series` over `ts` (one y scale), with optional (ts, y, color) markers."""
    thinned = _thin(ts, *(s for _, s in series))
    x, ys = thinned[0], thinned[1:]
    lo = min(float(np.nanmin(y)) for y in ys)
    hi = max(float(np.nanmax(y)) for y in ys)
    if marks:
        lo, hi = min(lo, *(m[1] for m in marks)), max(hi, *(m[1] for m in marks))
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    x0, x1 = float(x[0]), float(x[-1]) if x[-1] > x[0] else float(x[0]) + 1

    def sx(v: float) -> float:
        return PAD_L + (v - x0) / (x1 - x0) * (W - PAD_L - PAD_R)

    def sy(v: float) -> float:
        return PAD_T + (hi - v) / (hi - lo) * (H - PAD_T - PAD_B)

    parts = [
        f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="#999"/>',
        f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="#999"/>',
        f'<text x="4" y="{PAD_T + 4}">{_fmt(hi)}</text><text x="4" y="{H - PAD_B}">{_fmt(lo)}</text>',
        f'<text x="{PAD_L}" y="{H - 8}">{_day(x0)}</text>',
        f'<text x="{W - PAD_R}" y="{H - 8}" text-anchor="end">{_day(x1)}</text>',
    ]
    for k, ((label, _), y) in enumerate(zip(series, ys, strict=True)):
        pts = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(x, y, strict=True) if np.isfinite(b))
        color = COLORS[k % len(COLORS)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.3" points="{pts}"/>')
        parts.append(
            f'<text x="{PAD_L + 8 + 150 * k}" y="16" style="fill:{color}">{html.escape(label)}</text>'
        )
    for t, my, color in marks:
        parts.append(f'<circle class="mark" cx="{sx(t):.1f}" cy="{sy(my):.1f}" r="3" fill="{color}"/>')
    readout = [
        f"{_day(a)}  "
        + "  ".join(f"{lbl} {_fmt(float(v[i]))}" for (lbl, _), v in zip(series, ys, strict=True))
        for i, a in enumerate(x)
    ]
    return _figure(name, title, parts, readout)


def bar_chart(name: str, title: str, values: dict[str, float], unit: str = "") -> str:
    """An SVG bar chart, one bar per key (zero baseline; negative bars hang below it)."""
    keys = list(values) or ["none"]
    vals = [values.get(k, 0.0) for k in keys]
    hi, lo = max(*vals, 0.0), min(*vals, 0.0)
    span = (hi - lo) or 1.0
    inner = H - PAD_T - PAD_B
    zero = PAD_T + hi / span * inner
    width = (W - PAD_L - PAD_R) / len(keys)
    parts = [f'<line x1="{PAD_L}" y1="{zero:.1f}" x2="{W - PAD_R}" y2="{zero:.1f}" stroke="#999"/>']
    for i, (k, v) in enumerate(zip(keys, vals, strict=True)):
        h = max(abs(v) / span * inner, 1.0)
        y = zero - h if v >= 0 else zero
        x = PAD_L + i * width + width * 0.15
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{COLORS[i % len(COLORS)]}"/>'
            f'<text x="{x + width * 0.35:.1f}" y="{H - 10}" text-anchor="middle">{html.escape(k)}</text>'
            f'<text x="{x + width * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle">{_fmt(v)}{unit}</text>'
        )
    return _figure(name, title, parts, [f"{k}: {_fmt(v)}{unit}" for k, v in zip(keys, vals, strict=True)])


def _figure(name: str, title: str, parts: list[str], readout: list[str]) -> str:
    data = html.escape(json.dumps(readout), quote=True)
    return (
        f'<figure class="chart" id="{name}"><figcaption>{html.escape(title)}</figcaption>'
        f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" data-x="{data}">{"".join(parts)}</svg>'
        f'<div class="tip"></div></figure>'
    )


def charts(d: ReportData) -> list[str]:
    """Every chart of the report, in order."""
    ts, close = d.ts_ns, d.close
    fills = d.fill_index()
    marks = [
        (float(ts[i]), float(f.price), "#2a9d4b" if f.side == "buy" else "#c0392b")
        for i, f in zip(fills[:2000], d.fills[:2000], strict=True)
    ]
    venues = d.by_venue()
    return [
        line_chart("equity", "Equity (quote)", ts, [("equity", d.equity)]),
        line_chart("drawdown", "Drawdown (%)", ts, [("drawdown", d.drawdown() * 100)]),
        line_chart("price", "Price with entries (green) and exits (red)", ts, [("close", close)], marks),
        line_chart("position", "Position (base units)", ts, [("position", d.position())]),
        line_chart("leverage", "Leverage (notional / equity)", ts, [("leverage", d.leverage())]),
        line_chart(
            "margin",
            "Margin ratio and liquidation distance",
            ts,
            [("margin ratio", d.margin_ratio()), ("liquidation distance", d.liquidation_distance())],
        ),
        line_chart(
            "funding", "Funding earned (+) / paid (-), cumulative", ts, [("funding", d.funding_cumulative())]
        ),
        bar_chart("fees", "Fees by venue (quote)", {v: r["fees"] for v, r in venues.items()}),
        bar_chart(
            "slippage", "Mean slippage by venue (bps)", {v: r["slippage_bps"] for v, r in venues.items()}
        ),
        bar_chart("usage", "Venue usage (fills)", {v: r["fills"] for v, r in venues.items()}),
    ]


def stats_table(d: ReportData) -> str:
    labels = {
        "total_return": ("return", "%"), "cagr": ("CAGR", "%"), "sharpe": ("Sharpe", ""),
        "sortino": ("Sortino", ""), "calmar": ("Calmar", ""), "max_drawdown": ("max drawdown", "%"),
        "win_rate": ("win rate", "%"), "profit_factor": ("profit factor", ""), "exposure": ("exposure", "%"),
        "turnover": ("turnover (x equity)", ""), "trades": ("trades", ""),
    }  # fmt: skip
    rows = []
    for key, value in d.stats().items():
        label, unit = labels[key]
        text = "n/a" if value is None else f"{value * 100:.2f} %" if unit == "%" else f"{value:,.2f}"
        if key == "trades":
            text = f"{value:,}"
        rows.append(f'<tr><td>{label}</td><td id="stat-{key}">{text}</td></tr>')
    return f"<table><tr><th>metric</th><th>value</th></tr>{''.join(rows)}</table>"


def write_report(d: ReportData, out: Path) -> Path:
    """Write `out`/report.html and the key charts' PNGs into `out` (created if missing); returns the HTML."""
    out.mkdir(parents=True, exist_ok=True)
    body = "".join(charts(d))
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(d.title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(d.title)}</h1>"
        f"<h2>Statistics</h2>{stats_table(d)}<h2>Charts</h2>{body}<script>{_SCRIPT}</script></body></html>"
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    write_pngs(d, out)
    return path


def write_pngs(d: ReportData, out: Path) -> list[Path]:
    """equity.png (with drawdown), price.png (with the fills) and position.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = d.ts_ns.astype("datetime64[ns]")
    paths = []
    panels = {
        "equity": [("equity", d.equity), ("drawdown %", d.drawdown() * 100)],
        "price": [("close", d.close)],
        "position": [("position", d.position()), ("leverage", d.leverage())],
    }
    for name, series in panels.items():
        fig, axes = plt.subplots(len(series), 1, figsize=(10, 2.6 * len(series)), sharex=True, squeeze=False)
        for ax, (label, y) in zip(axes[:, 0], series, strict=True):
            ax.plot(t, y, lw=1.0, color="#1f5fa8")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        if name == "price" and d.fills:
            idx = d.fill_index()
            buys = np.array([f.side == "buy" for f in d.fills])
            px = np.array([f.price for f in d.fills])
            axes[0, 0].scatter(t[idx[buys]], px[buys], marker="^", s=14, color="#2a9d4b", zorder=3)
            axes[0, 0].scatter(t[idx[~buys]], px[~buys], marker="v", s=14, color="#c0392b", zorder=3)
        fig.suptitle(d.title)
        fig.tight_layout()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths
