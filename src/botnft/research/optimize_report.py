"""`bot optimize`'s HTML report, drawn with the run report's SVG charts (botnft.obs.report): the best trial
(its parameters, its folds' after-cost Sharpe ratios, its deflated Sharpe ratio given the number of trials),
the parameter importances, the objective over the study's trials, and the best trials."""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from botnft.obs.report import bar_chart, line_chart

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


def _params(p: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in p.items())


def render(s: dict[str, Any]) -> str:
    setup = s["setup"]
    title = f"bot optimize · {setup['strategy']} · study {s['study']}"
    b = s["best"]
    counts = ", ".join(f"{v} {k}" for k, v in sorted(s["trials"].items()))
    parts = [f'<p class="note">storage {html.escape(s["storage"])} · trials: {html.escape(counts)} · data '
             f"{html.escape(', '.join(setup['data']))} · {setup['folds']} folds of {setup['fold_bars']} bars "
             f"after {setup['warmup']} warm-up bars · seed {setup['seed']}</p>"]  # fmt: skip
    if b is None:
        parts.append('<p class="note" id="verdict">No trial completed.</p>')
    else:
        verdict = (
            f"Best trial #{b['number']}: mean out-of-sample Sharpe {b['value']:.3f} (annualised, after "
            f"costs). Deflated Sharpe ratio given {b['n_trials']} trials: {b['deflated_sharpe']:.3f} — the "
            "probability that its true Sharpe ratio beats what the best of that many skill-less trials "
            "would show."
        )
        parts.append(f'<p class="note" id="verdict">{html.escape(verdict)}</p>')
        parts.append("<h2>Best trial</h2>" + _table(
            ["", "value"],
            [["parameters", _params(b["params"])], ["objective (mean fold Sharpe)", f"{b['value']:.4f}"],
             ["deflated Sharpe ratio", f"{b['deflated_sharpe']:.4f}"],
             ["per-bar Sharpe (pooled folds)", f"{b['sr_per_bar']:.5f}"], ["bars scored", f"{b['n_obs']:,}"],
             ["worst fold drawdown", f"{b['max_drawdown'] * 100:.2f} %"]],
            "best",
        ))  # fmt: skip
        parts.append(bar_chart("folds", "Best trial: annualised Sharpe ratio after costs by fold",
                               dict(zip(b["folds"], b["fold_sharpe"], strict=True))))  # fmt: skip
        if s.get("importances"):
            parts.append(bar_chart("importance", "Parameter importance (PED-ANOVA)", s["importances"]))
        hist = [h for h in s["history"] if h["completed"] is not None]
        if len(hist) >= 2:
            hist.sort(key=lambda h: h["completed"])
            ts = np.array([int(datetime.fromisoformat(h["completed"]).timestamp() * 1e9) for h in hist])
            vals = np.array([h["value"] for h in hist], dtype=np.float64)
            series = [("trial", vals), ("best so far", np.maximum.accumulate(vals))]
            title = "Objective by trial (completion time) and the best so far"
            parts.append(line_chart("history", title, ts, series))
        top = sorted(s["history"], key=lambda h: (-h["value"], h["number"]))[:15]
        parts.append("<h2>Best trials</h2>" + _table(
            ["trial", "objective", "parameters"],
            [[str(h["number"]), f"{h['value']:.4f}", _params(h["params"])] for h in top], "trials",
        ))  # fmt: skip
    run = s["this_run"]
    parts.append(
        f'<p class="note" id="timing">this run: {len(run["trials"])} trials in {run["seconds"]:.1f} s on '
        f"{html.escape(run['evaluated_on'])}, batches of {run['batch']}, "
        f"sampler seed {run['sampler_seed']}</p>"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(parts)}</body></html>"
    )


def write(s: dict[str, Any], out: Path) -> Path:
    """`out`/report.html and `out`/summary.json (folder created if missing); returns the HTML's path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    tmp = out / "report.html.tmp"
    tmp.write_text(render(s), encoding="utf-8")
    tmp.replace(path)
    (out / "summary.json").write_text(json.dumps(s, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return path
