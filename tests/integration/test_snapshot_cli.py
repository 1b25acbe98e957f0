"""`bot snapshot`: import a fixture Drift market and price `bot route` against it; fetch the same accounts
from the loopback LocalSolana; every bad input is one line and exit 2, found before driftpy/anchorpy load."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from solders.account import Account
from solders.pubkey import Pubkey

from botnft.snapshot.store import load
from fakes.solana_rpc import LocalSolana

FIXTURES = Path(__file__).parents[1] / "fixtures" / "snapshots"
DRIFT = FIXTURES / "drift_sol_perp.json"
RAYDIUM = FIXTURES / "raydium_pools.json"
OPENBOOK = FIXTURES / "openbook_book.json"
sys.path.insert(0, str(FIXTURES))
import make_drift_fixture as mk  # noqa: E402

BOT = [sys.executable, "-m", "botnft.cli"]


def bot(runs: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_RUNS_DIR": str(runs)}
    return subprocess.run([*BOT, *args], capture_output=True, text=True, env=env, timeout=120)


def one_line_error(r: subprocess.CompletedProcess[str], needle: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def drift_row(q: dict) -> dict:
    return next(v for v in q["venues"] if v["venue"] == "DRIFT")


def test_import_sets_the_sims_margin_terms_and_vamm_and_route_prices_against_them(tmp_path: Path) -> None:
    r = bot(tmp_path, "snapshot", "import", str(DRIFT), "--name", "sol-mainnet", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert (info["slot"], info["taken_at"]) == (301_234_567, "2026-11-20T12:00:00Z")
    shown = json.loads(bot(tmp_path, "snapshot", "show", "sol-mainnet", "--json").stdout)
    m = shown["drift_perp_markets"][0]
    # the documented numbers of the fixture (make_drift_fixture.py), written out
    assert (m["margin_ratio_initial"], m["margin_ratio_maintenance"], m["imf_factor"]) == (1_000, 500, 1_000)
    assert (m["base_asset_reserve"], m["quote_asset_reserve"]) == (960_000 * 10**9, 1_041_666_666_666_667)
    assert (m["peg_multiplier"], m["last_oracle_price"]) == (138_378_240, 150_000_000)

    quotes = {}
    for side in ("buy", "sell"):
        for snap in (None, "sol-mainnet"):
            args = ["route", "--side", side, "--amount", "3000", "--json"]
            r = bot(tmp_path, *args, *(["--snapshot", snap] if snap else []))
            assert r.returncode == 0, r.stderr
            quotes[side, snap] = json.loads(r.stdout)
    # the reserve price quote·peg/base = 1,041,666.67 · 138.37824 / 960,000 = 150.15 against a $150 oracle:
    # the vAMM sits 10 bps above the oracle (plus 10/5 bps spreads vs the default 5/5), so a buy pays more
    # and a sell receives more than on the default balanced vAMM pegged at the oracle
    reserve = mk.Q_RESERVE * mk.PEG / mk.B_RESERVE
    assert reserve / (mk.ORACLE / 1e6) / 1e6 > 1
    buy, buy0 = drift_row(quotes["buy", "sol-mainnet"]), drift_row(quotes["buy", None])
    sell, sell0 = drift_row(quotes["sell", "sol-mainnet"]), drift_row(quotes["sell", None])
    assert buy["avg_price"] > buy0["avg_price"]
    assert sell["avg_price"] > sell0["avg_price"]
    # initial margin 10 % instead of the table's 5 %: the capital tied up doubles
    assert buy["cost_bps"]["capital"] == pytest.approx(2 * buy0["cost_bps"]["capital"], rel=1e-6)
    # the snapshot holds no pool: the other venues quote as before
    for side in ("buy", "sell"):
        rows = {
            v["venue"]: v["avg_price"] for v in quotes[side, "sol-mainnet"]["venues"] if v["venue"] != "DRIFT"
        }
        rows0 = {v["venue"]: v["avg_price"] for v in quotes[side, None]["venues"] if v["venue"] != "DRIFT"}
        assert rows == rows0


def test_list_shows_stored_snapshots(tmp_path: Path) -> None:
    assert bot(tmp_path, "snapshot", "import", str(RAYDIUM), "--name", "pools").returncode == 0
    rows = json.loads(bot(tmp_path, "snapshot", "list", "--json").stdout)
    assert [r["name"] for r in rows] == ["pools"] and rows[0]["slot"] == 301_234_600
    one_line_error(bot(tmp_path, "snapshot", "import", str(RAYDIUM), "--name", "pools"), "pass --replace")
    assert bot(tmp_path, "snapshot", "import", str(RAYDIUM), "--name", "pools", "--replace").returncode == 0


def _doc_with(tmp_path: Path, data: bytes, kind: str = "drift_perp_market") -> Path:
    doc = json.loads(DRIFT.read_text())
    doc["accounts"] = [
        {**doc["accounts"][0], "kind": kind, "data": [base64.b64encode(data).decode(), "base64"]}
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    return path


def _perp_bytes() -> bytes:
    return base64.b64decode(json.loads(DRIFT.read_text())["accounts"][0]["data"][0])


def _spot_bytes() -> bytes:
    return base64.b64decode(json.loads(DRIFT.read_text())["accounts"][1]["data"][0])


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda t: _doc_with(t, _perp_bytes()[:-8]), "is 1208 bytes; a Drift PerpMarket is 1216"),
        (lambda t: _doc_with(t, _spot_bytes()), "is 776 bytes; a Drift PerpMarket is 1216"),
        (lambda t: _doc_with(t, _perp_bytes(), "drift_spot_market"), "a Drift SpotMarket is 776"),
        (lambda t: _doc_with(t, mk.perp_market(mk.coder(), market_index=9, name="JUP-PERP")), "index 9"),
        (lambda t: (t / "m.json").write_text("{not json") and t / "m.json", "is not valid JSON"),
        (lambda t: (t / "e.json").write_text('{"accounts": 3}') and t / "e.json", "a snapshot file is"),
        (lambda t: t / "missing.json", "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, make, needle) -> None:
    one_line_error(bot(tmp_path, "snapshot", "import", str(make(tmp_path)), "--name", "x"), needle)
    assert not (tmp_path / "snapshots" / "x.json").exists()


def test_route_with_an_unknown_snapshot_is_one_line(tmp_path: Path) -> None:
    one_line_error(
        bot(tmp_path, "route", "--side", "buy", "--amount", "1", "--snapshot", "nope"), "no snapshot named"
    )
    one_line_error(
        bot(tmp_path, "route", "--side", "buy", "--amount", "1", "--snapshot", "a", "--live"),
        "give one of them",
    )


_PROBE = """
import sys
from botnft.cli import run
code = run(sys.argv[1:])
print(code, "anchorpy" in sys.modules, "driftpy" in sys.modules, "botnft.snapshot.drift" in sys.modules)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["snapshot", "import", str(DRIFT), "--name", "bad name!"],
        ["snapshot", "import", "/nonexistent/file.json", "--name", "ok"],
        ["snapshot", "fetch", "--rpc", "ftp://x", "--name", "ok", "--account", "drift_perp_market:abc"],
        [
            "snapshot",
            "fetch",
            "--rpc",
            "http://127.0.0.1:1",
            "--name",
            "ok",
            "--account",
            "perp:8UJgxaiQx5nTrdDgph5FiahMmzduuLTLf5WmsPegYA6W",
        ],
    ],
)
def test_arguments_are_checked_before_driftpy_or_anchorpy_load(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "BOT_RUNS_DIR": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.stdout.split() == ["2", "False", "False", "False"], (r.stdout, r.stderr)


def test_fetch_from_the_local_chain_equals_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture's accounts served by LocalSolana (loopback); `bot snapshot fetch` names only the markets
    and pools, and finds the vaults, configs and tick arrays itself."""
    from botnft.cli import run

    monkeypatch.setenv("BOT_RUNS_DIR", str(tmp_path))
    accounts = [a for f in (DRIFT, RAYDIUM, OPENBOOK) for a in json.loads(f.read_text())["accounts"]]
    named = ("drift_perp_market", "drift_spot_market", "raydium_amm_v4", "raydium_cpmm", "raydium_clmm")
    named += ("openbook_market",)
    wanted = [a for a in accounts if a["kind"] in named]

    async def main() -> int:
        chain = LocalSolana()
        for a in accounts:
            data = base64.b64decode(a["data"][0])
            owner = Pubkey.from_string(a["owner"])
            chain.svm.set_account(Pubkey.from_string(a["pubkey"]), Account(10**9, data, owner, False, 0))
        async with chain.serve() as url:
            args = ["snapshot", "fetch", "--rpc", url, "--name", "fetched", "--timeout", "5"]
            for a in wanted:
                args += ["--account", f"{a['kind']}:{a['pubkey']}"]
            return await asyncio.wait_for(asyncio.to_thread(run, args), 60)

    assert asyncio.run(main()) == 0
    assert run(["snapshot", "import", str(DRIFT), "--name", "d"]) == 0
    assert run(["snapshot", "import", str(RAYDIUM), "--name", "r"]) == 0
    assert run(["snapshot", "import", str(OPENBOOK), "--name", "o"]) == 0
    fetched, d, r, o = (load(n, tmp_path) for n in ("fetched", "d", "r", "o"))
    assert fetched.openbook_markets == o.openbook_markets
    assert fetched.drift_perp_markets == d.drift_perp_markets
    assert fetched.drift_spot_markets == d.drift_spot_markets
    assert sorted(fetched.raydium_pools, key=lambda p: p.kind) == sorted(
        r.raydium_pools, key=lambda p: p.kind
    )
    assert fetched.slot is not None and fetched.source.startswith("http://127.0.0.1")


def test_an_openbook_snapshot_thins_the_simulated_book(tmp_path: Path) -> None:
    assert bot(tmp_path, "snapshot", "import", str(OPENBOOK), "--name", "ob").returncode == 0
    rows = {}
    for snap in (None, "ob"):
        r = bot(
            tmp_path,
            "route",
            "--side",
            "buy",
            "--amount",
            "100",
            "--json",
            *(["--snapshot", snap] if snap else []),
        )
        assert r.returncode == 0, r.stderr
        rows[snap] = next(v for v in json.loads(r.stdout)["venues"] if v["venue"] == "OPENBOOK")
    # the profile's cumulative depth is depth_1pct · (d / 100 bps)^1.18: 100 SOL sit within
    # 100 · (100 / 1500)^(1/1.18) ≈ 10 bps on the default book, 100 · (100 / 60)^(1/1.18) ≈ 154 bps on the
    # snapshot's (60 SOL within 1 %): the snapshot's buy pays more
    assert rows["ob"]["avg_price"] > rows[None]["avg_price"]


def test_backtest_runs_on_a_snapshot(tmp_path: Path) -> None:
    assert bot(tmp_path, "snapshot", "import", str(DRIFT), "--name", "d").returncode == 0
    base = [
        "backtest",
        "--data",
        "sol-perp-1h",
        "--venue",
        "drift",
        "--start",
        "2025-01-01",
        "--end",
        "2025-02-01",
    ]
    out = {}
    for snap in (None, "d"):
        r = bot(tmp_path, *base, "--json", "--no-store", *(["--snapshot", snap] if snap else []))
        assert r.returncode == 0, r.stderr
        out[snap] = json.loads(r.stdout)
    assert out["d"]["final_equity"] != out[None]["final_equity"]
    one_line_error(bot(tmp_path, *base, "--no-store", "--snapshot", "missing"), "no snapshot named 'missing'")
