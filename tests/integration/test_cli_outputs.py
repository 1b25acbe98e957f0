"""What a run leaves behind: a folder of its own, outputs written whole, the results kept when storing fails,
summaries that record what was applied, and help that tells the values a flag takes."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from botnft.storage import make_engine, upgrade
from botnft.storage.repository import TradeStore

BOT = [sys.executable, "-m", "botnft.cli"]
WEEK = ["--start", "2025-03-01", "--end", "2025-03-15"]


def bot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BOT, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=180
    )


def run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "runs").iterdir() if p.is_dir())


def test_two_runs_in_the_same_second_each_get_their_own_folder(tmp_path):
    procs = [
        subprocess.Popen([*BOT, "backtest", *WEEK, "--no-store"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    for p in procs:
        assert p.wait(timeout=180) == 0, p.stderr.read() if p.stderr else ""
    folders = run_dirs(tmp_path)
    assert len(folders) == 2
    for f in folders:
        assert {"summary.json", "fills.csv", "equity.png"} <= {x.name for x in f.iterdir()}


def test_runs_stored_in_two_databases_never_share_a_folder(tmp_path):
    for name in ("a", "b"):
        r = bot("backtest", *WEEK, "--db-url", f"sqlite:///{tmp_path / name}.db", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    folders = run_dirs(tmp_path)
    assert len(folders) == 2  # both are run 1 of their database; neither overwrote the other
    stored = [json.loads((f / "summary.json").read_text())["stored"] for f in folders]
    assert [s["run_id"] for s in stored] == [1, 1]
    assert {Path(s["database"]).name for s in stored} == {"a.db", "b.db"}


def test_a_finished_run_that_cannot_be_stored_keeps_its_results_and_says_where(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    with sqlite3.connect(tmp_path / "bot.db") as con:  # the database refuses trades, as a full disk would
        con.execute(
            "CREATE TRIGGER full BEFORE INSERT ON trade_logs BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    fills = tmp_path / "fills.csv"
    r = bot("backtest", *WEEK, "--db-url", url, "--fills-out", str(fills), cwd=tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    (folder,) = run_dirs(tmp_path)
    assert "was not stored" in lines[0] and "disk full" in lines[0] and str(folder.name) in lines[0]
    summary = json.loads((folder / "summary.json").read_text())
    rows = (folder / "fills.csv").read_text().splitlines()
    assert summary["fills"] > 0 and len(rows) == summary["fills"] + 1
    assert fills.read_text() == (folder / "fills.csv").read_text()
    assert TradeStore(make_engine(url)).list_runs() == []  # nothing half-stored: a rerun makes no duplicate


def test_fills_out_replaces_an_existing_file_whole_and_leaves_no_temp_file(tmp_path):
    out = tmp_path / "out" / "fills.csv"
    out.parent.mkdir()
    out.write_text("old contents\n" * 10_000)
    r = bot("backtest", *WEEK, "--no-store", "--json", "--fills-out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = out.read_text().splitlines()
    assert rows[0] == "ts,venue,instrument,side,qty,price,fee" and "old contents" not in rows
    assert len(rows) == json.loads(r.stdout)["fills"] + 1
    assert [p.name for p in out.parent.iterdir()] == ["fills.csv"]


@pytest.mark.parametrize(
    ("args", "fee_bps", "fill"),
    [
        ((), "10", "next-open"),
        (("--fee-bps", "2.5", "--fill", "close"), "2.5", "close"),
        (("--data", "sol-perp-1h", "--venue", "perp"), "3.5", "next-open"),
        (("--data", "sol-perp-1h"), None, None),  # SimDrift: Drift's fee tiers and auctions
        (("--venues", "raydium,openbook"), None, None),  # each venue's own fees and matching
        (("--venues", "cex,raydium", "--fee-bps", "5"), "5", None),
    ],
)
def test_the_summary_records_the_fee_and_fill_model_actually_applied(args, fee_bps, fill, tmp_path):
    r = bot("backtest", *WEEK, "--no-store", "--json", *args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["fee_bps"], s["fill"]) == (fee_bps, fill)


def test_json_numbers_are_plain_decimals_never_exponents(tmp_path):
    r = bot("backtest", "--data", "sol-perp-1h", "--venues", "solana", "--param", "short=true", *WEEK,
            "--no-store", "--json", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    text = json.dumps(s)
    assert not re.search(r'"-?\d+(\.\d+)?E[-+]?\d+"', text), re.findall(r'"[^"]*E[-+]?\d+"', text)[:5]
    assert s["execution"]["unfilled"] == "0"


def test_the_candle_perp_has_its_own_name_not_drifts(tmp_path):
    r = bot(
        "backtest", "--data", "sol-perp-1h", "--venue", "perp", *WEEK, "--no-store", "--json", cwd=tmp_path
    )
    s = json.loads(r.stdout)
    assert s["instrument"] == "SOL-PERP.PERP" and set(s["per_venue"]) == {"PERP"}


def test_bot_alone_prints_help_and_exits_0(tmp_path):
    r = bot(cwd=tmp_path)
    assert r.returncode == 0 and "backtest" in r.stdout and "route" in r.stdout


def test_help_names_the_types_and_the_values_each_option_takes(tmp_path):
    text = bot("backtest", "--help", cwd=tmp_path).stdout
    assert "<str>" not in text and "<int>" not in text
    for needle in ("raydium_clmm", "single:VENUE", "auto|spot|perp", "default 0.95", "next-open|close"):
        assert needle in text, needle


def test_the_summary_says_where_simdrifts_funding_came_from(tmp_path):
    # 2026-01-01 -> 04-01: 90 days of hourly funding; the Drift series covers 2026-01-10 -> 03-24 (73 days)
    r = bot("backtest", "--data", "sol-perp-1h", "--param", "short=true", "--start", "2026-01-01", "--end",
            "2026-04-01", "--no-store", "--json", cwd=tmp_path)  # fmt: skip
    sources = json.loads(r.stdout)["per_venue"]["DRIFT"]["funding_source"]
    assert sources == {"drift-funding-daily": 73 * 24, "drift formula": (90 - 73) * 24}
