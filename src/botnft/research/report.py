"""`bot train`'s HTML report, drawn with the run report's SVG charts (botnft.obs.report): out-of-sample
classification scores, the model against the baselines after costs (with bootstrap intervals and deflated
Sharpe ratios), their equity curves, the folds, and what the run measured about itself."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from botnft.obs.report import bar_chart, line_chart
from botnft.research.pipeline import TrainResult

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 960px; color: #222; }
h1 { font-size: 20px; } figure.chart { margin: 18px 0; } figcaption { font-weight: 600; }
.tip { color: #555; font-size: 12px; min-height: 1em; } table { border-collapse: collapse; margin: 8px 0; }
td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; } svg text { font-size: 11px; fill: #555; }
p.note { color: #555; max-width: 900px; }
"""


def _table(head: list[str], rows: list[list[str]], table_id: str) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table id="{table_id}"><tr>{th}</tr>{body}</table>'


def _pct(v: float) -> str:
    return f"{v * 100:.2f} %"


def render(r: TrainResult) -> str:
    s = r.spec
    m = r.metrics
    title = f"bot train · {s.kind} · {s.task} · {r.data.name}"
    oos_ts = r.data.ts_ns[r.oos]
    span = f"{np.datetime_as_string(oos_ts[0].astype('datetime64[ns]'), 'm')} → " + str(
        np.datetime_as_string(oos_ts[-1].astype("datetime64[ns]"), "m")
    )
    cls = _table(
        ["metric", "value"],
        [
            ["out-of-sample bars scored", f"{int(m['samples']):,}"],
            ["accuracy", _pct(m["accuracy"])],
            ["majority-class accuracy", _pct(m["base_rate_accuracy"])],
            ["log loss", f"{m['log_loss']:.4f}"],
            ["Brier score", f"{m['brier']:.4f}"],
        ],
        "classification",
    )
    rows = [
        [
            x.name, _pct(x.total_return), f"{x.sharpe:.2f}",
            f"[{x.sharpe_ci.low:.2f}, {x.sharpe_ci.high:.2f}]", _pct(x.max_drawdown),
            f"{x.deflated_sharpe:.3f}", f"{x.turnover:,.0f}",
        ]
        for x in r.scored
    ]  # fmt: skip
    strat = _table(
        ["strategy", "return", "Sharpe (ann.)", "95 % CI", "max drawdown", "deflated Sharpe", "turnover"],
        rows,
        "strategies",
    )
    folds = _table(
        ["fold", "test bars", "train bars", "train samples"],
        [
            [str(k + 1), f"{f.start:,}–{f.end:,}", f"{f.train_first:,}–{f.train_last:,}", f"{f.samples:,}"]
            for k, f in enumerate(r.folds)
        ],
        "folds",
    )
    classes_table = _table(
        ["class", "best after costs (label)", "chosen by the model"],
        [[c, f"{n:,}", f"{r.chosen_counts.get(c, 0):,}"] for c, n in r.class_counts.items()],
        "classes",
    )
    charts = [
        line_chart("equity", "Equity after costs, out of sample (1 = start)", oos_ts.astype(np.int64),
                   [(x.name, x.equity) for x in r.scored]),
        bar_chart("sharpe", "Annualised Sharpe ratio after costs", {x.name: x.sharpe for x in r.scored}),
    ]  # fmt: skip
    beat = [x.name for x in r.scored[1:] if r.scored[0].sharpe <= x.sharpe]
    verdict = (
        "The model's after-cost Sharpe ratio is not above: " + ", ".join(beat) + "."
        if beat
        else "The model's after-cost Sharpe ratio is above every baseline's (see the intervals and the "
        "deflated Sharpe ratio before believing it)."
    )
    timing = ", ".join(f"{k} {v:.1f}" for k, v in r.timings.items())
    w = s.wf
    notes = (
        f"Walk-forward: {w.folds} folds of {w.test_bars} bars, horizon {w.horizon} bars, embargo {w.embargo} "
        f"bars, training window {'expanding' if w.train_bars is None else f'{w.train_bars} bars'}; costs: "
        f"spot fee {s.costs.spot_fee * 1e4:.1f} bps, perp fee {s.costs.perp_fee * 1e4:.1f} bps per side, "
        "perp funding. Research simulation: a decision at a bar's close earns the next bar's close-to-close "
        "return. Confidence intervals: stationary bootstrap (mean block 24 bars). The deflated Sharpe ratio "
        f"is the probability that the true Sharpe ratio beats the best of {len(r.scored)} skill-less trials."
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f'<p class="note">Out of sample: {html.escape(span)} · features: '
        f"{html.escape(', '.join(r.features))} "
        f"· model {html.escape(r.model_id)} · data sha256 {r.data.digest[:16]} · seed {s.seed}</p>"
        f'<p class="note" id="verdict">{html.escape(verdict)}</p>'
        f"<h2>Classification (out of sample)</h2>{cls}{classes_table}"
        f"<h2>After costs against the baselines</h2>{strat}"
        f"{''.join(charts)}<h2>Folds</h2>{folds}"
        f'<p class="note">{html.escape(notes)}</p>'
        f'<p class="note" id="timing">seconds: {html.escape(timing)}</p>'
        "</body></html>"
    )


def write(r: TrainResult, out: Path) -> Path:
    """`out`/report.html and `out`/summary.json (folder created if missing); returns the HTML's path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    tmp = out / "report.html.tmp"
    tmp.write_text(render(r), encoding="utf-8")
    tmp.replace(path)
    summary = {**r.summary(), "timings_s": r.timings}
    (out / "summary.json").write_text(json.dumps(summary, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return path
