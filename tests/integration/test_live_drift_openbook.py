"""`bot live` routed across a CEX, Drift (SOL-PERP) and OpenBook (SOL/USDC) at once, through the real adapters
against their loopback fakes (fake Binance for the candles and a spot book; one local chain with Drift and
OpenBook on it, one wallet), SIGKILLed mid-run and resumed. A long/short crossover buys spot (Binance and
OpenBook) and goes short on the perp (Drift). Afterwards: every order reached its venue once (Binance: create
requests by client id; the chain: at most one successful transaction per client id, and OpenBook's
placeOrder instructions counted by their client order id), every journaled intent is at its venue or
reported as never having reached it, the holdings reconcile, and the Drift user's position, margin and
orders as driftpy reads them equal SimDrift's. Loopback only; bounded (< 90 s)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (the fakes package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.importorskip("ccxt")
pytest.importorskip("driftpy")

from live_chain import LoopChain, kill_then_resume, served, setup, submitted, successes
from test_live_e2e import Fake

from botnft.live.journal import read_journal
from botnft.storage import make_engine
from botnft.storage.journal import PaperStore
from botnft.venues.openbook.client import client_id_u64
from botnft.venues.sim.drift import SimDrift
from botnft.venues.solana import SendJournal
from fakes.drift_accounts import USDC_MINT
from fakes.drift_chain import DriftChain
from fakes.drift_world import minute_bars
from fakes.openbook_chain import OpenBookChain
from fakes.solana_rpc import NATIVE_MINT, LocalSolana

pytestmark = pytest.mark.slow
VENUES = "ccxt:binance,drift,openbook"
BOT = [sys.executable, "-m", "botnft.cli"]


class Chain(LoopChain):
    """The local chain with Drift and OpenBook on it, served from the fake exchange's loop, with a keeper
    running Drift's candles and makers resting on OpenBook's book around 150."""

    start_timeout_s = 60

    def __init__(self, fake: Fake) -> None:
        self.keeper: asyncio.Task[None] | None = None
        super().__init__(fake)

    async def _start(self) -> None:
        self.chain = LocalSolana(slow_s=2.5)
        self.drift = DriftChain(self.chain, SimDrift(), minute_bars(2_000), bar=0)
        self.ob = OpenBookChain(self.chain, quote_mint=USDC_MINT, taker_fee=0, maker_fee=0)
        maker = self.ob.participant()
        for k in range(10):  # 0.05 apart, 20 SOL each
            self.ob.place(maker, False, 150_050 + 50 * k, 20_000)
            self.ob.place(maker, True, 149_950 - 50 * k, 20_000)
        # one wallet: 1 SOL kept for the fees of both venues' transactions (sol_reserve), 2 wrapped SOL and
        # 5,000 USDC to trade on OpenBook, and a Drift user holding 5,000 USDC of collateral
        pk = self.wallet.pubkey()
        self.chain.airdrop(pk, 10**9)
        self.chain.set_token(pk, NATIVE_MINT, 2 * 10**9)
        self.chain.set_token(pk, USDC_MINT, 5_000 * 10**6)
        self.drift.open_user(pk, 5_000 * 10**6)
        self.rpc_url = await self.stack.enter_async_context(self.chain.serve())
        self.keeper = asyncio.create_task(self._keep())

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            if self.drift.j + 1 < len(self.drift.bars):
                self.drift.crank(1)

    def stop_keeper(self) -> None:
        async def _stop() -> None:
            if self.keeper is not None:
                self.keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.keeper

        self.call(_stop(), 10)

    def stop(self) -> None:
        self.stop_keeper()
        super().stop()

    def tables(self, keypair_file: Path) -> str:
        return (
            f'[live.drift]\nrpc_url = "{self.rpc_url}"\nkeypair_file = "{keypair_file}"\n'
            "poll_interval_s = 0.1\nconfirm_timeout_s = 5\n"
            f'[live.openbook]\nrpc_url = "{self.rpc_url}"\nkeypair_file = "{keypair_file}"\n'
            f'market = "{self.ob.market}"\npoll_interval_s = 0.05\nsol_reserve = 1.0\n'
        )


@pytest.fixture
def venues() -> Iterator[tuple[Fake, Chain]]:
    yield from served(Chain)


def args(db: str, *extra: str) -> list[str]:
    return [
        *BOT, "live", "--venues", VENUES, "--strategy", "sma_cross", "--param", "fast=2", "--param", "slow=4",
        "--param", "short=true", "--size", "1", "--interval", "1m", "--db-url", db, "--poll-s", "0.05",
        "--timeout-s", "3", "--json", *extra,
    ]  # fmt: skip


async def driftpy_user(chain: Chain) -> Any:
    """The Drift user as the unmodified driftpy client reads it from the chain."""
    from driftpy.account_subscription_config import AccountSubscriptionConfig
    from driftpy.drift_client import DriftClient
    from driftpy.math.margin import MarginCategory
    from driftpy.types import OracleInfo, OracleSource
    from solana.rpc.async_api import AsyncClient
    from solana.rpc.commitment import Confirmed

    conn = AsyncClient(chain.rpc_url, commitment=Confirmed)
    client = DriftClient(
        conn, chain.wallet, env="mainnet", perp_market_indexes=[0], spot_market_indexes=[0],
        oracle_infos=[OracleInfo(chain.drift.oracles[0], OracleSource.PythPull())],
        account_subscription=AccountSubscriptionConfig("cached"), market_lookup_tables=[],
    )  # fmt: skip
    try:
        await client.subscribe()
        await client.add_user(0)
        user = client.get_user()
        await user.account_subscriber.update_cache()
        await client.account_subscriber.update_cache()
        pos = user.get_perp_position(0)
        return {
            "position": (pos.base_asset_amount, pos.quote_asset_amount) if pos else (0, 0),
            "orders": sorted(o.order_id for o in user.get_open_orders()),
            "margin": user.get_margin_requirement(MarginCategory.MAINTENANCE),
            "collateral": user.get_total_collateral(MarginCategory.MAINTENANCE),
            "usdc": user.get_token_amount(0),
        }
    finally:
        await client.unsubscribe()
        await conn.close()


def test_bot_live_trades_drift_and_openbook_through_the_router_and_survives_a_sigkill(
    venues: tuple[Fake, Chain], tmp_path: Path
) -> None:
    fake, chain = venues
    env = setup(tmp_path, fake, chain)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    store = PaperStore(make_engine(db))
    fake.keep_growing(0.15)
    second = kill_then_resume(
        args(db, "--run-id", "dob", "--i-understand-real-money"),
        args(db, "--resume", "dob", "--i-understand-real-money", "--max-bars", "10", "--metrics-out",
             str(tmp_path / "live.prom")),
        env, tmp_path, lambda: submitted(store, "dob") >= 4, 45,
    )  # fmt: skip
    fake.growing = False
    chain.stop_keeper()
    assert second.returncode == 0, second.stderr[-3000:]
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    view = read_journal(store, "dob")
    assert [lv["life"] for lv in view.lives] == [1, 2]
    journal = SendJournal(str(tmp_path / "runs" / "dob.solana.db"))
    try:
        assert all(n == 1 for n in fake.fake.creates.values()), fake.fake.creates  # Binance: once each
        placed = Counter(a.args.client_order_id for name, a in chain.ob.instructions if name == "placeOrder")
        traced = 0
        venues_used: Counter[str] = Counter()
        for wire, rec in view.orders.items():
            venue = rec.submitted.instrument.venue
            venues_used[venue] += 1
            if venue == "BINANCE":
                traced += wire in fake.fake.creates
                continue
            assert successes(chain.chain, journal, wire) <= 1, wire  # never executed twice
            if venue == "OPENBOOK":
                assert placed[client_id_u64(wire)] <= 1, wire
            traced += bool(journal.for_order(wire))
        rec_sum = summary["reconciliation"]
        assert len(view.orders) - traced == rec_sum["never_reached"], rec_sum  # 0 lost
        assert rec_sum["mismatches"] == 0, rec_sum
        assert venues_used["DRIFT"] >= 1 and venues_used["OPENBOOK"] >= 1, venues_used
        # both traded on chain: our OpenBook orders were placed, and Drift filled some of ours
        assert any(placed[client_id_u64(w)] for w in view.orders), "no OpenBook order of ours on chain"
        filled = [rec.filled for rec in view.orders.values() if rec.submitted.instrument.venue == "DRIFT"]
        assert any(filled) or chain.drift.sim.account.position(0).base_asset_amount, filled
    finally:
        journal.close()
    # the margin mismatch counter is exported (its samples: the mismatches the venue counted, none here)
    prom = (tmp_path / "live.prom").read_text()
    assert "# TYPE bot_drift_margin_mismatch_total counter" in prom
    assert "bot_drift_margin_mismatch_total{" not in prom, prom
    # the Drift user as driftpy reads it equals SimDrift's own state
    got = chain.call(driftpy_user(chain), 60)
    sim = chain.drift.sim
    p = sim.account.position(0)
    want_margin = sim.margin("maintenance")
    assert got["position"] == (p.base_asset_amount, p.quote_asset_amount)
    assert got["orders"] == sorted(int(o) for o in sim.core.orders)
    assert (got["margin"], got["collateral"]) == (
        want_margin.margin_requirement,
        want_margin.total_collateral,
    )
    assert got["usdc"] == sim.account.usdc


class _Loop:
    """A loop on its own thread (what `Chain` runs on, without a fake exchange)."""

    def __init__(self) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_bot_route_live_prices_the_drift_vamm_and_the_openbook_book(tmp_path: Path) -> None:
    loop = _Loop()
    chain = Chain(loop)  # type: ignore[arg-type]
    try:
        chain.stop_keeper()  # the market stays where it is while it is quoted
        cfg = tmp_path / "live.toml"
        cfg.write_text(
            f'[live.drift]\nrpc_url = "{chain.rpc_url}"\n[live.openbook]\nrpc_url = "{chain.rpc_url}"\n'
            f'market = "{chain.ob.market}"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        route = ["route", "--live", "--venues", "drift,openbook", "--side", "buy", "--amount", "3", "--json"]
        done = subprocess.run(
            [*BOT, *route], env={**env, "BOT_LIVE_CONFIG": str(cfg)}, cwd=tmp_path, text=True,
            capture_output=True, timeout=60,
        )  # fmt: skip
        amm = chain.call(_perp_amm(chain))
    finally:
        chain.stop()
        loop.stop()
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    rows = {row["venue"]: row for row in r["venues"]}
    assert set(rows) == {"DRIFT", "OPENBOOK"}
    # OpenBook: 3 SOL from the asks at 150.05 (20 SOL there)
    assert rows["OPENBOOK"]["avg_price"] == pytest.approx(150.05, abs=1e-9)
    # Drift: 3 SOL is within the vAMM's first band (5 bps of marginal price from the reserve price peg·Q/B),
    # which fills at the constant product's average over the band, plus Drift's tier-1 taker fee (3.5 bps)
    b, q, peg = amm.base_asset_reserve, amm.quote_asset_reserve, amm.peg_multiplier
    start = peg / 1e6 * q / b
    edge = start * 1.0005
    x1 = b - math.sqrt(b * q * (peg / 1e6) / edge)  # where the marginal price peg·B·Q/(B-x)² reaches the edge
    band = peg / 1e6 * q / (b - x1)
    tick = amm.order_tick_size / 1e6
    got = rows["DRIFT"]["avg_price"] / 1.00035
    assert band - 1e-9 <= got <= band + tick + 1e-9, (rows["DRIFT"], band)
    assert rows["DRIFT"]["vehicle"] == "perp" and rows["OPENBOOK"]["vehicle"] == "spot"


async def _perp_amm(chain: Chain) -> Any:
    import importlib.resources

    from anchorpy.coder.accounts import AccountsCoder
    from anchorpy_core.idl import Idl

    idl = Idl.from_json((importlib.resources.files("driftpy") / "idl" / "drift.json").read_text())
    acc = chain.chain.svm.get_account(chain.drift.perp_keys[0])
    assert acc is not None
    return AccountsCoder(idl).decode(bytes(acc.data)).amm
