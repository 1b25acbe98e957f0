"""Every mistake a user can make gets exactly one line on stderr and exit code 2, and writes nothing.

One table of bad inputs across `bot backtest`, `bot route`, `bot data`, `bot db` and `bot.toml`, each run as a
real process in an empty folder (so the default SQLite database and runs folder would appear there if anything
were written). `{tmp}` in an argument is that folder; `{bundled}` a bundled data file.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from botnft.data import bundle
from botnft.storage import upgrade

BOT = [sys.executable, "-m", "botnft.cli"]
WEEK = ["--start", "2025-01-01", "--end", "2025-01-08"]
LONG_NAME = "x" * 300 + ".csv.gz"
GOOD_ROWS = "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T01:00:00Z,1.5,2,1,1.2,10\n"
HEADER = "open_time,open,high,low,close,volume\n"


def _gz(path: Path, text: str) -> None:
    with gzip.open(path, "wt") as fh:
        fh.write(text)


def _make_files(tmp: Path) -> None:
    """The bad data files the table refers to, made fresh in each test's folder."""
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = "".join(f"{t0 + timedelta(hours=i):%Y-%m-%dT%H:%M:%SZ},1,2,0.5,1.5,10\n" for i in range(2000))
    _gz(tmp / "good.csv.gz", HEADER + rows)
    blob = (tmp / "good.csv.gz").read_bytes()
    mid = len(blob) // 2
    (tmp / "corrupt.csv.gz").write_bytes(
        blob[:mid] + bytes(b ^ 0x5A for b in blob[mid : mid + 64]) + blob[mid + 64 :]
    )
    (tmp / "truncated.csv.gz").write_bytes(blob[: len(blob) // 2])
    (tmp / "notgzip.csv.gz").write_text(HEADER + GOOD_ROWS)
    _gz(tmp / "open_above_high.csv.gz", HEADER + GOOD_ROWS + "2024-01-01T02:00:00Z,9,2,1,1.5,10\n")
    _gz(tmp / "close_below_low.csv.gz", HEADER + GOOD_ROWS + "2024-01-01T02:00:00Z,1.5,2,1,0.7,10\n")
    _gz(tmp / "bool_column.csv.gz", HEADER + "2024-01-01T00:00:00Z,True,2,0.5,1.5,10\n")
    _gz(tmp / "text_column.csv.gz", HEADER + GOOD_ROWS + "2024-01-01T02:00:00Z,abc,2,1,1.5,10\n")
    _gz(tmp / "negative_volume.csv.gz", HEADER + GOOD_ROWS + "2024-01-01T02:00:00Z,1.5,2,1,1.5,-3\n")
    _gz(tmp / "wrong_columns.csv.gz", "time,price\n2024-01-01,1\n")
    (tmp / "empty.csv").write_text("")
    (tmp / "a_folder.csv").mkdir()
    # a valid file whose name (with its folder) is longer than the database's data_source column
    (tmp / ("d" * 210 + ".csv.gz")).write_bytes(blob)


CASES: list[tuple[str, list[str], str]] = [
    # --- bot backtest: data
    ("missing data file", ["backtest", "--data", "/no/such/file.csv.gz"], "data file not found"),
    ("unknown data set", ["backtest", "--data", "no-such-set"], "unknown data set 'no-such-set'"),
    ("data path is a folder", ["backtest", "--data", "{tmp}/a_folder.csv"], "a_folder.csv"),
    ("gzip corrupted in the middle", ["backtest", "--data", "{tmp}/corrupt.csv.gz"], "corrupt.csv.gz"),
    ("truncated gzip", ["backtest", "--data", "{tmp}/truncated.csv.gz"], "truncated.csv.gz"),
    ("not gzip but named .gz", ["backtest", "--data", "{tmp}/notgzip.csv.gz"], "notgzip.csv.gz"),
    ("open above the high", ["backtest", "--data", "{tmp}/open_above_high.csv.gz"], "row 3"),
    ("close below the low", ["backtest", "--data", "{tmp}/close_below_low.csv.gz"], "row 3"),
    ("boolean price column", ["backtest", "--data", "{tmp}/bool_column.csv.gz"], "open"),
    ("text in a price column", ["backtest", "--data", "{tmp}/text_column.csv.gz"], "row 3"),
    ("negative volume", ["backtest", "--data", "{tmp}/negative_volume.csv.gz"], "row 3"),
    ("wrong columns", ["backtest", "--data", "{tmp}/wrong_columns.csv.gz"], "open_time"),
    ("empty file", ["backtest", "--data", "{tmp}/empty.csv"], "empty.csv"),
    ("300-character file name", ["backtest", "--data", "{tmp}/" + LONG_NAME], "longer than 255"),
    ("no bars in the window", ["backtest", "--start", "2030-01-01"], "no bars"),
    # --- bot backtest: strategy and sizing
    ("unknown strategy", ["backtest", "--strategy", "macd_magic"], "unknown strategy 'macd_magic'"),
    ("unknown parameter", ["backtest", "--param", "speed=3"], "unknown parameter 'speed'"),
    ("parameter without a value", ["backtest", "--param", "fast"], "--param takes key=value"),
    ("start after end", ["backtest", "--start", "2025-02-01", "--end", "2025-01-01"], "is not before --end"),
    ("start is not a date", ["backtest", "--start", "last tuesday"], "--start must be a date"),
    ("zero size", ["backtest", "--size", "0"], "--size must be positive"),
    ("negative size", ["backtest", "--size", "-5"], "--size must be positive"),
    ("astronomic size", ["backtest", "--size", "1e30"], "--size 1E+30 is more than"),
    ("size is not a number", ["backtest", "--size", "ten"], "--size must be a number"),
    (
        "size off the lot grid",
        ["backtest", *WEEK, "--size", "1.0005"],
        "not a multiple of the lot size 0.001",
    ),
    ("size below one lot", ["backtest", *WEEK, "--size", "0.0001"], "below the minimum order size 0.001"),
    ("size and cash fraction", ["backtest", "--size", "1", "--cash-fraction", "0.5"], "not both"),
    ("cash fraction above 1", ["backtest", "--cash-fraction", "1.5"], "--cash-fraction must be in (0, 1]"),
    ("astronomic cash", ["backtest", "--cash", "1e30"], "--cash 1E+30 is more than"),
    ("zero cash", ["backtest", "--cash", "0"], "--cash must be positive"),
    ("nan cash", ["backtest", "--cash", "nan"], "--cash must be a finite number"),
    ("cash finer than a cent of a cent", ["backtest", "--cash", "100.1234567"], "more than 6 decimal places"),
    ("negative seed", ["backtest", "--seed", "-1"], "--seed must be in [0, 2147483647]"),
    ("seed beyond the database", ["backtest", "--seed", "99999999999"], "--seed must be in"),
    ("seed is not a number", ["backtest", "--seed", "abc"], "Invalid value for '--seed'"),
    ("unknown fill model", ["backtest", "--fill", "vwap"], "unknown fill model 'vwap'"),
    ("fee beyond 100 %", ["backtest", "--fee-bps", "20000"], "--fee-bps must be in [0, 10000)"),
    # --- bot backtest: venues and flags that would do nothing
    ("unknown venue", ["backtest", "--venue", "mtgox"], "unknown venue 'mtgox'"),
    ("short on a spot venue", ["backtest", "--param", "short=true"], "short=true needs a perp venue"),
    ("empty venue list", ["backtest", "--venues", ","], "--venues takes venue names"),
    ("unknown routed venue", ["backtest", "--venues", "mtgox"], "unknown venue 'mtgox'"),
    (
        "single route without a venue",
        ["backtest", "--venues", "raydium", "--route", "single:"],
        "needs a venue",
    ),
    ("route without venues", ["backtest", "--route", "single:openbook"], "--route applies to routed runs"),
    ("vehicle without venues", ["backtest", "--vehicle", "perp"], "--vehicle applies to routed runs"),
    (
        "perp vehicle, no perp venue",
        ["backtest", "--venues", "raydium", "--vehicle", "perp"],
        "needs a perp venue",
    ),
    (
        "single venue not routed",
        ["backtest", "--venues", "raydium", "--route", "single:openbook"],
        "names no venue",
    ),
    (
        "fee on SimDrift",
        ["backtest", "--data", "sol-perp-1h", *WEEK, "--fee-bps", "3"],
        "--fee-bps applies only",
    ),
    (
        "fill model on SimDrift",
        ["backtest", "--data", "sol-perp-1h", *WEEK, "--fill", "close"],
        "--fill applies only",
    ),
    (
        "fee on Raydium",
        ["backtest", *WEEK, "--venues", "raydium", "--fee-bps", "3"],
        "--fee-bps applies only",
    ),
    # --- bot backtest: outputs and storage
    ("fills-out is a folder", ["backtest", "--fills-out", "{tmp}"], "is a directory"),
    ("fills-out over the data", ["backtest", "--fills-out", "{bundled}"], "is an input data file"),
    (
        "fills-out over a --data file",
        ["backtest", "--data", "{tmp}/good.csv.gz", "--fills-out", "{tmp}/good.csv.gz"],
        "is an input data file",
    ),
    ("fills-out in a missing folder", ["backtest", "--fills-out", "/no/such/dir/f.csv"], "does not exist"),
    ("fills-out name too long", ["backtest", "--fills-out", "{tmp}/" + LONG_NAME], "longer than 255"),
    ("runs folder is a file", ["backtest", "--runs-dir-file"], "runs folder"),
    (
        "data name beyond the database",
        ["backtest", "--data", "{tmp}/" + "d" * 210 + ".csv.gz"],
        "is longer than 200 characters",
    ),
    (
        "unreachable database",
        ["backtest", "--db-url", "postgresql://postgres@127.0.0.1:5999/test"],
        "cannot reach database",
    ),
    ("unknown database driver", ["backtest", "--db-url", "mysql+nodriver://x@y/z"], "database"),
    ("database from a newer version", ["backtest", "--stamped-db"], "which this version does not know"),
    ("unknown option", ["backtest", "--speed", "3"], "No such option: --speed"),
    # --- bot.toml
    ("config: infinite pool", ["backtest", "--toml", "[liquidity.raydium]\ntvl_usd = inf"], "finite number"),
    ("config: nan basis", ["backtest", "--toml", "[liquidity.drift]\nmark_basis_bps = nan"], "finite number"),
    (
        "config: 1e300 pool",
        ["backtest", "--toml", "[liquidity.raydium]\ntvl_usd = 1e300"],
        "less than or equal",
    ),
    (
        "config: wrong type",
        ["backtest", "--toml", '[liquidity.openbook]\ndepth_scale = "deep"'],
        "depth_scale",
    ),
    ("config: unknown key", ["backtest", "--toml", "colour = 1"], "bad setting colour"),
    ("config: not TOML", ["backtest", "--toml", "x = ["], "cannot read config"),
    ("config: is a folder", ["backtest", "--toml-dir"], "is not a file"),
    # --- bot route
    ("route: unknown side", ["route", "--side", "hold", "--amount", "1"], "--side must be buy or sell"),
    ("route: negative amount", ["route", "--side", "buy", "--amount", "-3"], "--amount"),
    ("route: dust amount", ["route", "--side", "buy", "--amount", "1e-12"], "--amount"),
    ("route: astronomic amount", ["route", "--side", "buy", "--amount", "1e30"], "--amount"),
    ("route: unknown base", ["route", "--side", "buy", "--amount", "1", "--base", "DOGE"], "DOGE"),
    (
        "route: time before the data",
        ["route", "--side", "buy", "--amount", "1", "--at", "2010-01-01"],
        "--at",
    ),
    ("route: absurd horizon", ["route", "--side", "buy", "--amount", "1", "--horizon", "1e9d"], "--horizon"),
    (
        "route: horizon is not a duration",
        ["route", "--side", "buy", "--amount", "1", "--horizon", "soon"],
        "--horizon",
    ),
    ("route: missing side", ["route", "--amount", "1"], "Missing option '--side'"),
    # --- bot data, bot db, bot
    ("data: unknown subcommand", ["data", "show"], "No such command 'show'"),
    ("db: unknown driver", ["db", "upgrade", "--db-url", "mysql+nodriver://x@y/z"], "database"),
    ("db: from a newer version", ["db", "upgrade", "--stamped-db"], "which this version does not know"),
    (
        "db: unreachable",
        ["db", "upgrade", "--db-url", "postgresql://postgres@127.0.0.1:5999/test"],
        "cannot reach",
    ),
    ("unknown command", ["trade"], "No such command 'trade'"),
]


def _expand(args: list[str], tmp: Path) -> tuple[list[str], dict[str, str]]:
    env: dict[str, str] = {}
    out: list[str] = []
    it = iter(args)
    for a in it:
        if a == "--toml":
            (tmp / "bot.toml").write_text(next(it) + "\n")
        elif a == "--toml-dir":
            (tmp / "bot.toml").mkdir()
        elif a == "--stamped-db":  # a database a newer version of the bot migrated
            url = f"sqlite:///{tmp / 'newer.db'}"
            upgrade(url)
            with sqlite3.connect(tmp / "newer.db") as con:
                con.execute("UPDATE alembic_version SET version_num = 'ffff'")
            out += ["--db-url", url] + (WEEK if out[0] == "backtest" else [])
        elif a == "--runs-dir-file":
            (tmp / "runs_file").write_text("")
            env["BOT_RUNS_DIR"] = str(tmp / "runs_file" / "runs")
            out += WEEK
        else:
            out.append(a.replace("{tmp}", str(tmp)).replace("{bundled}", str(bundle.get("sol-spot-1h").path)))
    return out, env


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


@pytest.mark.parametrize(("args", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_mistake_gets_one_line_exit_code_2_and_writes_nothing(args, needle, tmp_path):
    _make_files(tmp_path)
    argv, env = _expand(args, tmp_path)
    before = _tree(tmp_path)
    r = subprocess.run(
        [*BOT, *argv], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **env}, timeout=120
    )
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert len(lines) == 1, r.stderr[-2000:]
    assert needle in lines[0], lines[0]
    assert lines[0].startswith("error: ") and "Traceback" not in r.stderr
    assert r.stdout == ""
    assert _tree(tmp_path) == before, "a refused command wrote files"


def test_the_table_covers_every_command_and_at_least_forty_mistakes():
    assert len(CASES) >= 40
    assert {c[1][0] for c in CASES} >= {"backtest", "route", "data", "db"}
    assert any("--toml" in c[1] for c in CASES)
