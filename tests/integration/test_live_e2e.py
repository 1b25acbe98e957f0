"""`bot live` end to end against the loopback fake Binance (tests/fakes/binance.py) through the real ccxt
adapter: a subprocess trades a crossover on the fake's candles, is SIGKILLed mid-run, resumes (a new
life), and the journal reconciles to the fake's own state: every order the fake received arrived once
(0 duplicated) and every intent the journal holds is at the fake (0 lost). `--dry-run` trades the paper
venues on the same candles and sends the fake nothing. Loopback only; bounded (< 60 s)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (the fakes package)

pytest.importorskip("ccxt")
from botnft.live.journal import read_journal
from botnft.live.wire import run_tag
from botnft.storage import make_engine
from botnft.storage.journal import PaperStore
from fakes.binance import API_KEY, SECRET, FakeBinance

pytestmark = pytest.mark.slow
BOT = [sys.executable, "-m", "botnft.cli"]
#: the fake's first candles closed just before the run starts (history: warm-up); the ones added later open
#: in the minutes after it, faster than real time (each closes when the next one opens)
T0_MS = (int(time.time()) // 60 - 8) * 60_000
# a sawtooth: sma_cross(2, 4) goes long on each rise and out on each fall
SAW = [150, 146, 142, 146, 152, 158, 164, 158, 152, 146]


def kline(i: int) -> list[Any]:
    c = SAW[i % len(SAW)]
    t = T0_MS + i * 60_000
    return [t, str(c), str(c + 1), str(c - 1), str(c), "10", t + 59_999, "1500", 10, "5", "750", "0"]


class Fake:
    """The fake exchange served from its own thread and loop; `grow()` adds a candle from the test."""

    def __init__(self, first: int) -> None:
        self.fake = FakeBinance(
            mid=Decimal("150.00"),
            klines=[kline(i) for i in range(first)],
            klines_interval="1m",
            balances={"USDT": Decimal(100_000), "SOL": Decimal(0)},
            # Binance's 0.1 % commission: a buy's in the SOL bought, a sell's in the USDT received
            delay_s=4.0,  # an answer held past the client's timeout (and past the kill)
        )
        self.n = first
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(10)
        self.growing = False

    def grow(self) -> None:
        self.loop.call_soon_threadsafe(self.fake.klines.append, kline(self.n))
        self.n += 1

    def keep_growing(self, every_s: float) -> None:
        self.growing = True

        def loop() -> None:
            while self.growing:
                self.grow()
                time.sleep(every_s)

        threading.Thread(target=loop, daemon=True).start()

    def stop(self) -> None:
        self.growing = False
        stopping = asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop)
        with contextlib.suppress(TimeoutError):  # a held answer may keep a handler a few seconds more
            stopping.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def fake() -> Iterator[Fake]:
    f = Fake(first=8)
    yield f
    f.stop()


def config(tmp_path: Path, url: str) -> dict[str, str]:
    key = tmp_path / "binance.key"
    key.write_text(API_KEY + "\n")
    key.chmod(0o600)
    cfg = tmp_path / "live.toml"
    cfg.write_text(
        "[live.ccxt.binance]\n"
        'market_type = "spot"\nsymbols = ["SOL/USDT"]\n'
        f'api_key_file = "{key}"\napi_urls = "{url}"\nenable_rate_limit = false\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    return {**env, "BOT_LIVE_CONFIG": str(cfg), "BOT_LIVE_BINANCE_SECRET": SECRET}


def args(db: str, *extra: str, venues: str = "ccxt:binance") -> list[str]:
    return [
        *BOT, "live", "--venues", venues, "--strategy", "sma_cross", "--param", "fast=2",
        "--param", "slow=4", "--size", "1", "--interval", "1m", "--db-url", db, "--poll-s", "0.05",
        "--timeout-s", "3", "--json", *extra,
    ]  # fmt: skip


def wait_for(cond: Any, timeout_s: float, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"bot live exited early ({proc.returncode}): {proc.stderr.read()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            proc.kill()
            _, err = proc.communicate(timeout=10)
            raise AssertionError(f"timed out waiting for the run; its stderr:\n{err[-3000:]}")
        time.sleep(0.05)


def test_bot_live_survives_a_sigkill_with_nothing_lost_and_nothing_sent_twice(
    fake: Fake, tmp_path: Path
) -> None:
    env = config(tmp_path, fake.url)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    fake.keep_growing(0.15)
    first = subprocess.Popen(
        args(db, "--run-id", "e2e", "--i-understand-real-money"), env=env, cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(lambda: len(fake.fake.creates) >= 2, 30, first)
        # the next order executes at the fake and its answer never comes: killed while it is unknown
        fake.loop.call_soon_threadsafe(fake.fake.inject, "timeout")
        wait_for(lambda: len(fake.fake.creates) >= 3, 30, first)
        time.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    sent_before = dict(fake.fake.creates)
    second = subprocess.run(
        args(db, "--resume", "e2e", "--i-understand-real-money", "--max-bars", "12"),
        env=env, cwd=tmp_path, text=True, capture_output=True, timeout=40,
    )  # fmt: skip
    fake.growing = False
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    creates = fake.fake.creates
    assert creates, "the fake received no order"
    assert all(n == 1 for n in creates.values()), creates  # 0 duplicated
    assert set(sent_before) <= set(creates)
    view = read_journal(PaperStore(make_engine(db)), "e2e")
    assert [lv["life"] for lv in view.lives] == [1, 2]
    journaled = set(view.orders)
    assert journaled <= set(creates)  # 0 lost: every journaled intent reached the fake...
    assert set(creates) <= journaled  # ...and the fake has nothing the journal does not know
    assert all(c.startswith(run_tag("e2e") + ".") for c in creates)
    rec = summary["reconciliation"]
    assert rec["mismatches"] == 0 and rec["never_reached"] == 0, rec
    # the order killed without an answer was found at the fake, its fill counted, never sent again
    assert rec["found"] >= 3 and rec["missed_fills"] >= 1, rec
    assert summary["status"] == "finished" and summary["life"] == 2


def test_bot_live_dry_run_trades_the_paper_venues_on_live_candles_and_sends_nothing(
    fake: Fake, tmp_path: Path
) -> None:
    env = config(tmp_path, fake.url)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    fake.keep_growing(0.05)
    done = subprocess.run(
        args(db, "--run-id", "dry", "--dry-run", "--max-bars", "25"), env=env, cwd=tmp_path, text=True,
        capture_output=True, timeout=40,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["bars"] == 25 and summary["fills"] >= 2
    assert fake.fake.creates == {}  # nothing sent to the exchange


ROUTED = "ccxt:binance,jupiter,raydium"


def test_bot_live_dry_run_survives_a_sigkill_and_its_paper_venues_executed_each_order_once(
    fake: Fake, tmp_path: Path
) -> None:
    from botnft.backtest.paper.state import loads

    env = config(tmp_path, fake.url)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    store = PaperStore(make_engine(db))
    fake.keep_growing(0.1)
    first = subprocess.Popen(
        args(db, "--run-id", "dry2", "--dry-run", venues=ROUTED), env=env, cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(lambda: _fills(store, "dry2") >= 2, 30, first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    second = subprocess.run(
        args(db, "--resume", "dry2", "--dry-run", "--max-bars", "15", venues=ROUTED),
        env=env, cwd=tmp_path, text=True, capture_output=True, timeout=40,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    assert summary["life"] == 2 and summary["reconciliation"]["mismatches"] == 0, (
        summary["reconciliation"],
        summary["halted"],
    )
    saved = store.load_venues("dry2")
    assert saved is not None
    _venues, record, _bar = loads(saved[2])
    assert record.executions and all(n == 1 for n in record.executions.values())  # none executed twice
    view = read_journal(store, "dry2")
    # every journaled intent reached the paper venue, or (killed between the journal's write and the
    # venue's) reconciliation knows it never did
    never = set(view.orders) - set(record.executions)
    assert len(never) == summary["reconciliation"]["never_reached"], (never, summary["reconciliation"])
    assert fake.fake.creates == {}
    venues_traded = {
        e[3]["instrument"].rpartition(".")[2] for e in store.entries("dry2", kinds=["OrderFilled"])
    }
    assert len(venues_traded) >= 2, venues_traded  # routed across the venues


def _fills(store: PaperStore, run_id: str) -> int:
    try:
        return len(store.entries(run_id, kinds=["OrderFilled"]))
    except Exception:  # the run has not created its tables yet
        return 0


def test_bot_route_live_prices_a_trade_on_the_fakes_live_book(fake: Fake, tmp_path: Path) -> None:
    env = config(tmp_path, fake.url)
    done = subprocess.run(
        [*BOT, "route", "--live", "--venues", "ccxt:binance", "--side", "buy", "--amount", "60", "--json"],
        env=env, cwd=tmp_path, text=True, capture_output=True, timeout=40,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    (row,) = r["venues"]
    assert row["venue"] == "BINANCE" and r["live"] is True
    # the fake's asks: 50 SOL at 150.05, then 50 at 150.10: 60 SOL average (50·150.05 + 10·150.10) / 60,
    # with ccxt's Binance taker fee (0.1 %) on top
    expected = (50 * Decimal("150.05") + 10 * Decimal("150.10")) / 60 * Decimal("1.001")
    assert Decimal(repr(row["avg_price"])) == expected.quantize(Decimal("1e-9"))
    assert [(leg["venue"], leg["base"]) for leg in r["split"]["legs"]] == [("BINANCE", "60")]
    assert r["reference_price"] == 150.0  # the book's mid


def test_bot_route_live_refuses_a_bad_venue_setting_or_an_unreachable_venue_in_one_line(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "live.toml"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BOT_")}, "BOT_LIVE_CONFIG": str(cfg)}
    for body, message in (
        ('[live.jupiter]\nbase_url = "ftp://x"\n', "base_url"),
        (
            '[live.raydium]\nbase_url = "http://127.0.0.1:9"\ntrade_url = "http://127.0.0.1:9"\n',
            "cannot quote",
        ),
    ):
        cfg.write_text(body)
        venue = "jupiter" if "jupiter" in body else "raydium"
        done = subprocess.run(
            [*BOT, "route", "--live", "--venues", venue, "--side", "buy", "--amount", "1"],
            env=env, cwd=tmp_path, text=True, capture_output=True, timeout=40,
        )  # fmt: skip
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1


def test_bot_kill_stops_a_live_run_flat(fake: Fake, tmp_path: Path) -> None:
    env = config(tmp_path, fake.url)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    store = PaperStore(make_engine(db))
    fake.keep_growing(0.15)
    run = subprocess.Popen(
        args(db, "--run-id", "k1", "--i-understand-real-money"), env=env, cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(lambda: _fills(store, "k1") >= 1, 30, run)  # it holds SOL now (the crossover went long)
        kill = subprocess.run(
            [*BOT, "kill", "k1", "--db-url", db], env=env, cwd=tmp_path, text=True, capture_output=True,
            timeout=30,
        )  # fmt: skip
        out, _ = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert kill.returncode == 0 and "killed" in kill.stdout, kill.stdout + kill.stderr
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "killed" and summary["open_orders"] == 0
    assert Decimal(0) <= Decimal(summary["final_position"]) < Decimal("0.001")  # flat but for fee dust
    # flat at the exchange too: what stays is fee dust below one lot (the 0.1 % commission of a buy is taken
    # in the SOL bought, so a holding leaves the 0.001 grid and only its whole lots can be sold)
    assert Decimal(0) <= fake.fake.balances["SOL"] < Decimal("0.001")
    assert all(n == 1 for n in fake.fake.creates.values())
