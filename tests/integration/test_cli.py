"""The `bot` command as a user runs it: real processes, real SQLite and PostgreSQL, one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from botnft.storage import make_engine
from botnft.storage.repository import TradeStore

BOT = [sys.executable, "-m", "botnft.cli"]
SHORT = ["--start", "2025-01-01", "--end", "2025-04-01"]


def bot(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BOT, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=120
    )


def assert_user_error(r: subprocess.CompletedProcess[str], needle: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert needle in lines[0], lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_backtest_runs_migrations_and_stores_the_run_and_its_trades(database_url, tmp_path):
    fills_csv = tmp_path / "fills.csv"
    r = bot("backtest", *SHORT, "--json", "--db-url", database_url, "--fills-out", str(fills_csv))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert "stored as run" in r.stderr
    store = TradeStore(make_engine(database_url))
    run = store.list_runs(1)[0]
    assert run.bars == summary["bars"] and run.fills == summary["fills"] > 0
    assert str(run.final_equity) == summary["final_equity"]
    trades = store.trades_for_run(run.id)
    assert len(trades) == summary["fills"]
    rows = fills_csv.read_text().splitlines()
    assert rows[0] == "ts,venue,instrument,side,qty,price,fee" and len(rows) == summary["fills"] + 1
    first = rows[1].split(",")
    assert (trades[0].amount, trades[0].price, trades[0].fee) == tuple(
        map(type(run.final_equity), first[4:7])
    )


def test_the_json_output_is_exactly_one_object_with_the_promised_fields(tmp_path):
    r = bot("backtest", *SHORT, "--json", "--no-store")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 1
    s = json.loads(r.stdout)
    for key in (
        "bars",
        "fills",
        "round_trips",
        "final_equity",
        "total_return",
        "max_drawdown",
        "sharpe",
        "fees_paid",
        "funding_paid",
        "elapsed_s",
        "bars_per_s",
        "per_venue",
    ):
        assert key in s


def test_without_json_it_prints_a_summary_table_and_writes_the_chart(tmp_path):
    r = bot("backtest", *SHORT, "--no-store", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "final equity" in r.stdout and "max drawdown" in r.stdout
    charts = list((tmp_path / "runs").glob("run-*/equity.png"))
    assert len(charts) == 1 and charts[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9


def _funding_from_fills(fills_csv: Path, start: str, end: str, venue: str) -> float:
    """Funding the position should have paid, rebuilt independently: the position from the fills CSV; for
    the candle perp the Binance rate at each funding time on the mark price, for SimDrift the bundled Drift
    series' SOL-PERP mean hourly rate of each day, every hour, on the bar's open (the oracle). + = paid."""
    import csv
    import gzip

    import numpy as np

    from botnft.data import bundle
    from botnft.data.loader import load_candles, load_funding

    rows = [line.split(",") for line in fills_csv.read_text().splitlines()[1:]]
    ts = np.array([_ns(r[0].rstrip("Z")) for r in rows])
    cum = np.cumsum([float(r[4]) * (1 if r[3] == "buy" else -1) for r in rows])

    def held(t: int) -> float:  # the position held just before t
        k = int(np.searchsorted(ts, t, "left"))
        return float(cum[k - 1]) if k else 0.0

    t0, t1 = _ns(start), _ns(end)
    if venue == "drift":
        with gzip.open(bundle.get("drift-funding-daily").path, "rt") as fh:
            daily = {
                r["date"]: float(r["avg_hourly_rate"])
                for r in csv.DictReader(fh)
                if r["market"] == "SOL-PERP"
            }
        bars = load_candles(bundle.get("sol-perp-1h").path)
        return sum(
            held(int(t))
            * float(bars.open[i])
            * daily[datetime.fromtimestamp(t / 1e9, UTC).date().isoformat()]
            for i, t in enumerate(bars.ts_ns)
            if t0 < t < t1
        )
    rates = load_funding(bundle.get("sol-funding").path)
    mark = load_candles(bundle.get("sol-perp-mark-1h").path)
    return sum(
        held(int(t)) * float(mark.open[np.searchsorted(mark.ts_ns, t)]) * float(r)
        for t, r in zip(rates.ts_ns, rates.rate, strict=True)
        if t0 <= t < t1
    )


@pytest.mark.parametrize(
    ("venue", "start", "end", "rel"),
    [
        ("perp", "2025-01-01", "2025-04-01", 1e-6),  # Binance's 8 h rate at each funding time
        ("drift", "2026-01-11", "2026-03-22", 0.01),  # inside the Drift series: what Drift paid, hourly
    ],
)
def test_perp_backtests_pay_the_funding_their_positions_owe(venue, start, end, rel, tmp_path):
    fills = tmp_path / "fills.csv"
    r = bot("backtest", "--data", "sol-perp-1h", "--venue", venue, "--param", "short=true", "--start", start,
            "--end", end, "--json", "--no-store", "--fills-out", str(fills))  # fmt: skip
    s = json.loads(r.stdout)
    name = venue.upper()
    assert s["instrument"] == f"SOL-PERP.{name}" and s["per_venue"][name]["fills"] == s["fills"]
    expected = _funding_from_fills(fills, start, end, venue)
    assert abs(expected) > 20  # the window pays real funding
    assert float(s["funding_paid"]) == pytest.approx(expected, rel=rel)  # the sign and the size
    assert s["per_venue"][name]["funding"] == s["funding_paid"]


def test_data_list_shows_the_bundled_sets():
    r = bot("data", "list")
    assert r.returncode == 0
    for name in ("sol-spot-1h", "sol-perp-1h", "sol-perp-mark-1h", "sol-funding"):
        assert name in r.stdout


@pytest.fixture
def corrupt_file(tmp_path: Path) -> Path:
    p = tmp_path / "bad.csv.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("open_time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n")
        fh.write("2024-01-01T01:00:00Z,1,2,0.5,nan,1\n")
    return p


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--data", "/no/such/file.csv.gz"], "data file not found: /no/such/file.csv.gz"),
        (["--data", "no-such-set"], "unknown data set 'no-such-set'"),
        (["--strategy", "macd_magic"], "unknown strategy 'macd_magic'"),
        (["--param", "speed=3"], "unknown parameter 'speed'"),
        (["--param", "fast"], "--param takes key=value"),
        (["--start", "2025-02-01", "--end", "2025-01-01"], "is not before --end"),
        (["--start", "last tuesday"], "--start must be a date"),
        (["--size", "0"], "--size must be positive"),
        (["--size", "-5"], "--size must be positive"),
        (["--size", "1", "--cash-fraction", "0.5"], "not both"),
        (["--fill", "vwap"], "unknown fill model 'vwap'"),
        (["--venue", "mtgox"], "unknown venue 'mtgox'"),
        (["--param", "short=true"], "short=true needs a perp venue"),
        (["--db-url", "postgresql://postgres@127.0.0.1:5999/test"], "cannot reach database"),
        (["--db-url", "mysql+nodriver://x@y/z"], "database"),
    ],
)
def test_user_mistakes_get_one_line_and_exit_code_2(args, needle):
    assert_user_error(
        bot("backtest", "--no-store", *args) if "--db-url" not in args else bot("backtest", *args), needle
    )


def test_a_corrupt_data_file_names_the_row(corrupt_file):
    assert_user_error(
        bot("backtest", "--no-store", "--data", str(corrupt_file)), "row 2: close is not a number"
    )


def test_a_bad_config_file_is_a_one_line_error(tmp_path):
    (tmp_path / "bot.toml").write_text("database_url = 5\n")
    assert_user_error(bot("backtest", cwd=tmp_path), "bad setting database_url")


def test_route_prices_every_venue_all_in_and_reports_the_split_vehicle_and_saving():
    args = ["--side", "buy", "--amount", "20000", "--base", "SOL", "--quote", "USDC", "--horizon", "24h"]
    r = bot("route", *args, "--json")
    assert r.returncode == 0, r.stderr
    q = json.loads(r.stdout)
    venues = {v["venue"]: v for v in q["venues"]}
    assert {"RAYDIUM", "RAYDIUM_CLMM", "OPENBOOK", "CEX", "DRIFT"} <= set(venues)
    for v in venues.values():
        if v["cost_bps"] is not None:
            parts = sum(v["cost_bps"][k] for k in ("fee", "impact", "basis", "network", "funding", "capital",
                                                   "staleness"))  # fmt: skip
            assert parts == pytest.approx(v["total_bps"])
    assert venues["RAYDIUM_CPMM"]["note"]  # too small for 20,000 SOL: reported, not dropped
    assert len(q["split"]["legs"]) >= 2 and q["split"]["unfilled_base"] == "0"  # exact decimal strings
    assert (
        sum(Decimal(leg["base"]) for leg in q["split"]["legs"]) == Decimal(q["split"]["filled_base"]) == 20000
    )
    assert q["saving_vs_best_single_bps"] > 0
    assert q["vehicle"]["choice"] in ("spot", "perp") and q["vehicle"]["reason"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--side", "hold", "--amount", "1"], "--side must be buy or sell"),
        (["--side", "buy", "--amount", "-3"], "--amount must be a positive number"),
        (["--side", "buy", "--amount", "1", "--base", "DOGE"], "no simulated market for DOGE"),
        (["--side", "buy", "--amount", "1", "--horizon", "soon"], "--horizon must look like"),
    ],
)
def test_route_mistakes_get_one_line_and_exit_code_2(args, needle):
    assert_user_error(bot("route", *args), needle)


def test_the_default_strategy_runs_over_drift_raydium_openbook_and_jupiter():
    r = bot("backtest", "--data", "sol-perp-1h", "--venues", "solana", "--param", "short=true", "--start",
            "2025-10-01", "--end", "2025-11-01", "--json", "--no-store")  # fmt: skip
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["strategy"] == "ema_cross"
    per = s["per_venue"]
    assert {"DRIFT", "JUPITER"} <= set(per) and any(v.startswith("RAYDIUM") for v in per)
    for row in per.values():
        assert {"fills", "fees", "funding", "slippage_bps"} <= set(row)
    assert per["DRIFT"]["funding"] != "0"
    assert s["execution"]["children"] >= s["execution"]["parents"] > 0


def test_the_liquidity_model_is_overridden_from_bot_toml(tmp_path):
    args = ("backtest", "--venues", "raydium_clmm", "--start", "2025-06-01", "--json", "--no-store")
    default = json.loads(bot(*args, cwd=tmp_path).stdout)
    (tmp_path / "bot.toml").write_text("[liquidity.raydium_clmm]\ntvl_usd = 50000000\n")
    deep = json.loads(bot(*args, cwd=tmp_path).stdout)
    assert Decimal(deep["execution"]["cost"]) < Decimal(default["execution"]["cost"])
    (tmp_path / "bot.toml").write_text("[liquidity.raydium_clmm]\ntvl_usd = -5\n")
    assert_user_error(bot(*args, cwd=tmp_path), "bad setting liquidity.raydium_clmm.tvl_usd")


def test_route_fills_what_fits_and_reports_the_remainder_of_an_order_beyond_all_liquidity():
    r = bot("route", "--side", "buy", "--amount", "5000000", "--json")
    assert r.returncode == 0, r.stderr
    split = json.loads(r.stdout)["split"]
    filled = Decimal(split["filled_base"])
    assert 0 < filled < 5_000_000
    assert Decimal(split["unfilled_base"]) == 5_000_000 - filled  # exact, no float remainder
    assert "fit within" in split["note"] and split["total_bps"] <= 1_000
