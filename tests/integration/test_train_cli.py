"""`bot train` and `bot backtest --strategy ml_selector` as a user runs them: real processes on the bundled
data, an HTML report and a stored model, fills unchanged by an altered future, one-line errors."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from botnft.data import bundle

BOT = [sys.executable, "-m", "botnft.cli"]
SMALL_TRAIN = ["--start", "2025-09-01", "--folds", "2", "--test-bars", "500", "--horizon", "12", "--embargo",
               "12", "--min-train", "800", "--trees", "10", "--depth", "3", "--min-leaf", "30",
               "--bootstrap", "50"]  # fmt: skip
SMALL_ML = ["trees=8", "depth=4", "min_leaf=20", "min_train=300", "train=800", "retrain=200", "horizon=12",
            "embargo=12"]  # fmt: skip


def bot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_DATABASE_URL": f"sqlite:///{cwd / 'bot.db'}"}
    return subprocess.run([*BOT, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def assert_user_error(r: subprocess.CompletedProcess[str], needle: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert needle in lines[0], lines[0]
    assert "Traceback" not in r.stderr


def test_train_writes_the_report_and_a_stored_model_and_repeats_itself_for_a_seed(tmp_path: Path) -> None:
    args = ["train", "--model", "gbm", "--task", "selector", "--seed", "3", *SMALL_TRAIN, "--json"]
    r = bot(*args, "--out", str(tmp_path / "rep"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    m = s["metrics"]
    assert m["samples"] > 900 and 0.0 <= m["accuracy"] <= 1.0 and m["log_loss"] > 0 and m["brier"] > 0
    assert set(s["strategies"]) == {"model", "buy_and_hold", "always_perp", "always_spot", "ema_cross"}
    for row in s["strategies"].values():
        ci = row["sharpe_ci"]
        assert ci["low"] <= ci["estimate"] <= ci["high"] and 0.0 <= row["deflated_sharpe"] <= 1.0
    page = (tmp_path / "rep" / "report.html").read_text()
    for needle in ('id="classification"', 'id="strategies"', 'id="equity"', "deflated Sharpe", "Brier"):
        assert needle in page
    meta = json.loads((tmp_path / "runs" / "models" / s["model_id"] / "meta.json").read_text())
    assert meta["seed"] == 3 and meta["features"] == s["features"] and meta["data_sha256"] == s["data_sha256"]
    assert meta["versions"]["lightgbm"] == "4.7.0" and meta["artifact"] == "model.txt"
    assert meta["train_end_ns"] > meta["train_first_ns"] and meta["walk_forward"]["metrics"] == m
    again = bot(*args, "--out", str(tmp_path / "rep2"), cwd=tmp_path)
    s2 = json.loads(again.stdout)
    assert s2["metrics"] == m and s2["model_id"] == s["model_id"] and s2["strategies"] == s["strategies"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "svm"], "unknown model 'svm'"),
        (["--task", "price"], "unknown task 'price'"),
        (["--features", "ema_spread,nope"], "unknown feature 'nope'"),
        (["--start", "2026-04-01"], "too little data for the windows"),
        (["--data", "sol-spot-1h", "--start", "2025-09-01", "--features", "ema_spread,funding"],
         "missing feature column 'funding'"),
        (["--folds", "0"], "folds must be at least 1"),
        (["--data", "nope.csv"], "data file not found"),
    ],
)  # fmt: skip
def test_bad_training_input_is_one_line_and_exit_2(args: list[str], needle: str, tmp_path: Path) -> None:
    small = (
        [a for a in SMALL_TRAIN if a not in ("--start", "2025-09-01")] if "--start" in args else SMALL_TRAIN
    )
    assert_user_error(bot("train", *small, *args, cwd=tmp_path), needle)


def test_a_candle_file_without_a_volume_column_is_one_line_and_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "SOLUSDT_1h.csv"
    f.write_text("open_time,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n")
    r = bot("train", "--data", str(f), cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def _write_candles(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["open_time", "open", "high", "low", "close", "volume"])
        w.writerows(rows)


def test_ml_selector_fills_before_t_ignore_an_altered_future(tmp_path: Path) -> None:
    with gzip.open(bundle.DATASETS["sol-spot-1h"].path, "rt") as fh:
        rows = list(csv.reader(fh))[1:]
    rows = rows[40_000:42_400]
    t = 1796  # one decision after the refit at bar 1784 (first at 384, then every 200)
    rng = np.random.default_rng(8)
    altered = [list(r) for r in rows]
    for r, f in zip(altered[t + 1 :], rng.uniform(0.7, 1.3, size=len(rows) - t - 1).tolist(), strict=True):
        r[1:5] = [repr(float(v) * f) for v in r[1:5]]
        r[5] = repr(float(r[5]) * 2.0)
    (tmp_path / "orig").mkdir()
    (tmp_path / "alt").mkdir()
    _write_candles(tmp_path / "orig" / "SOLUSDT_1h.csv", rows)
    _write_candles(tmp_path / "alt" / "SOLUSDT_1h.csv", altered)
    fills = {}
    summaries = {}
    for name in ("orig", "alt", "orig"):
        params = [a for p in SMALL_ML for a in ("--param", p)]
        out = tmp_path / f"{name}-fills.csv"
        data = str(tmp_path / name / "SOLUSDT_1h.csv")
        r = bot("backtest", "--data", data, "--strategy", "ml_selector", *params, "--seed", "1",
                "--fills-out", str(out), "--no-store", "--json", cwd=tmp_path)  # fmt: skip
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)
        for k in ("elapsed_s", "bars_per_s"):  # wall-clock speed, not a result
            s.pop(k, None)
        if name in summaries:
            assert s == summaries[name]  # the same data and seed: the same backtest JSON
        summaries[name] = s
        fills[name] = list(csv.DictReader(out.open()))
    cut = rows[t + 1][0].replace("T", " ").removesuffix("Z")
    before = {k: [f for f in v if f["ts"].replace("T", " ")[:19] < cut[:19]] for k, v in fills.items()}
    assert len(before["orig"]) >= 6  # the model traded before t
    assert before["alt"] == before["orig"]
    assert fills["alt"] != fills["orig"]  # and the altered future did change what came after


def test_a_stored_model_trades_only_after_its_training_window_ends(tmp_path: Path) -> None:
    price = "ema_spread,ema_short_dist,ema_long_dist,realised_vol,momentum,rsi,atr,volume_z"
    r = bot("train", *SMALL_TRAIN, "--end", "2025-12-01", "--features", price, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    model_id = json.loads(r.stdout)["model_id"]
    fills = tmp_path / "fills.csv"
    r = bot("backtest", "--data", "sol-perp-1h", "--strategy", "ml_selector", "--param", f"model={model_id}",
            "--start", "2025-11-01", "--end", "2026-01-15", "--fills-out", str(fills), "--no-store", "--json",
            cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    times = [row["ts"] for row in csv.DictReader(fills.open())]
    assert times, "the model never traded after its window"
    assert min(times) > "2025-12-01"  # the last training label's future ends at 2025-12-01 00:00
    r = bot(
        "backtest",
        "--strategy",
        "ml_selector",
        "--param",
        "model=0123456789abcdef",
        "--no-store",
        cwd=tmp_path,
    )
    assert_user_error(r, "not found")
