"""Writes the Grafana dashboards (dashboards/*.json) from the panel lists below (`python generate.py`).
Every query is PromQL over the series botnft.obs.metrics exports; tests run each against a live bot."""

from __future__ import annotations

import json
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "bot-prometheus"}

OVERVIEW = [
    ("Equity", "bot_equity", "currencyUSD"),
    ("PnL realized / unrealized", ["bot_pnl_realized", "bot_pnl_unrealized"], "currencyUSD"),
    ("Drawdown", "bot_drawdown_ratio", "percentunit"),
    ("Risk halted (instruments)", "bot_risk_halted", "short"),
    ("Risk state (1 = current)", "bot_risk_state or vector(0)", "short"),
    ("Bars per second", "bot_bars_per_second", "short"),
    ("Journal lag (entries)", "bot_journal_lag_entries", "short"),
]
EXECUTION = [
    ("Fills per minute by venue", "sum by (venue) (rate(bot_fills_total[5m])) * 60", "short"),
    ("Fees by venue", "sum by (venue) (bot_fees_total)", "currencyUSD"),
    ("Orders by status", "sum by (status) (bot_orders_total)", "short"),
    (
        "Slippage p50 / p90 (bps)",
        [
            "histogram_quantile(0.5, sum by (le, venue) (rate(bot_slippage_bps_bucket[5m])))",
            "histogram_quantile(0.9, sum by (le, venue) (rate(bot_slippage_bps_bucket[5m])))",
        ],
        "short",
    ),
    (
        "Order round trip p50 (run time)",
        "histogram_quantile(0.5, sum by (le, venue, leg) (rate(bot_order_round_trip_seconds_bucket[5m])))",
        "s",
    ),
    (
        "Tick-to-order p50 / p99",
        [
            "histogram_quantile(0.5, sum by (le) (rate(bot_tick_to_order_seconds_bucket[5m])))",
            "histogram_quantile(0.99, sum by (le) (rate(bot_tick_to_order_seconds_bucket[5m])))",
        ],
        "s",
    ),
    ("Venue errors by kind", "sum by (venue, kind) (bot_venue_errors_total) or vector(0)", "short"),
]
RISK = [
    ("Margin ratio by account", "bot_margin_ratio", "short"),
    ("Liquidation distance by account", "bot_liquidation_distance", "percentunit"),
    ("Exposure (notional) by instrument", "sum by (instrument, venue) (bot_notional)", "currencyUSD"),
    ("Position by instrument", "bot_position", "short"),
    ("Guard deleveraging orders", "sum(bot_risk_delever_total) or vector(0)", "short"),
    ("Risk denials by reason", "sum by (reason) (bot_risk_denials_total) or vector(0)", "short"),
    ("Reconciliation events", "sum by (kind) (bot_reconciliation_events_total) or vector(0)", "short"),
    ("Funding paid (+) / earned (-)", "bot_funding_paid", "currencyUSD"),
]


def dashboard(uid: str, title: str, panels: list[tuple[str, str | list[str], str]]) -> dict[str, object]:
    out = []
    for i, (name, exprs, unit) in enumerate(panels):
        targets = [
            {"refId": chr(65 + k), "expr": e, "datasource": DATASOURCE}
            for k, e in enumerate([exprs] if isinstance(exprs, str) else exprs)
        ]
        out.append({
            "id": i + 1, "type": "timeseries", "title": name, "datasource": DATASOURCE, "targets": targets,
            "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        })  # fmt: skip
    return {
        "uid": uid, "title": title, "tags": ["botnft"], "schemaVersion": 39, "version": 1,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "10s", "panels": out,
    }  # fmt: skip


def main() -> None:
    here = Path(__file__).parent / "dashboards"
    for uid, title, panels in (
        ("bot-overview", "Bot · overview", OVERVIEW),
        ("bot-execution", "Bot · execution by venue", EXECUTION),
        ("bot-risk", "Bot · risk", RISK),
    ):
        (here / f"{uid.removeprefix('bot-')}.json").write_text(
            json.dumps(dashboard(uid, title, panels), indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
