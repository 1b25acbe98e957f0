"""The `bot` command as a user runs it: real processes, real SQLite and PostgreSQL, one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
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


def test_perp_backtests_report_funding_per_venue():
    r = bot("backtest", "--data", "sol-perp-1h", "--param", "short=true", *SHORT, "--json", "--no-store")
    s = json.loads(r.stdout)
    assert s["venue"] == "drift" and s["per_venue"]["DRIFT"]["fills"] == s["fills"]
    assert s["funding_paid"] != "0"


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
    assert len(q["split"]["legs"]) >= 2 and q["split"]["unfilled_base"] < 0.001  # under one lot
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
    assert 0 < split["filled_base"] < 5_000_000
    assert split["unfilled_base"] == pytest.approx(5_000_000 - split["filled_base"])
    assert "fit within" in split["note"] and split["total_bps"] <= 1_000
