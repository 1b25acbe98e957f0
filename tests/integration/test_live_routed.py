"""`bot live` routed across a CEX, Jupiter and Raydium at once, through the real adapters against their
loopback fakes (fake Binance; the LiteSVM chain with the fake Jupiter and Raydium APIs on it, one wallet),
SIGKILLed mid-run and resumed: every order a venue received arrived once (Binance: create requests by
client id; the chain: at most one successful transaction per client id), every intent the journal holds
is at its venue or reported as never having reached it, and the holdings reconcile (0 mismatches)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (the fakes package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.importorskip("ccxt")
pytest.importorskip("solders")

from live_chain import LoopChain, kill_then_resume, served, setup, submitted, successes
from test_live_e2e import Fake, args

from botnft.live.journal import read_journal
from botnft.storage import make_engine
from botnft.storage.journal import PaperStore
from botnft.venues.solana import SendJournal
from fakes.jupiter_api import FakeJupiter, sim_jupiter
from fakes.raydium_api import ChainSwaps, FakeRaydiumApi
from fakes.solana_rpc import LocalSolana

pytestmark = pytest.mark.slow
VENUES = "ccxt:binance,jupiter,raydium"


class Chain(LoopChain):
    """The local chain with the fake Jupiter and Raydium APIs, served from the fake exchange's loop."""

    async def _start(self) -> None:
        self.chain = LocalSolana(slow_s=0.5)
        self.jupiter = FakeJupiter(self.chain, sim_jupiter(150.0))
        self.raydium = FakeRaydiumApi(delay_s=1.0)
        ChainSwaps(self.chain, self.raydium)
        self.jupiter.fund_user(self.wallet.pubkey(), sol=Decimal(10), usdc=Decimal(1000))
        await self.raydium.start()
        self.rpc_url = await self.stack.enter_async_context(self.chain.serve())
        self.jupiter_url = await self.stack.enter_async_context(self.jupiter.serve())

    def stop(self) -> None:
        async def _stop() -> None:
            await self.stack.aclose()
            await self.raydium.stop()

        self.call(_stop())

    def tables(self, keypair_file: Path) -> str:
        return (
            f'[live.jupiter]\nrpc_url = "{self.rpc_url}"\nkeypair_file = "{keypair_file}"\n'
            f'base_url = "{self.jupiter_url}"\npoll_interval_s = 0.05\n'
            f'[live.raydium]\nrpc_url = "{self.rpc_url}"\nkeypair_file = "{keypair_file}"\n'
            f'base_url = "{self.raydium.url}"\ntrade_url = "{self.raydium.url}"\npoll_interval_s = 0.05\n'
        )


@pytest.fixture
def venues() -> Iterator[tuple[Fake, Chain]]:
    yield from served(Chain)


def test_bot_live_routed_across_cex_jupiter_and_raydium_survives_a_sigkill(
    venues: tuple[Fake, Chain], tmp_path: Path
) -> None:
    fake, chain = venues
    env = setup(tmp_path, fake, chain)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    store = PaperStore(make_engine(db))
    fake.keep_growing(0.15)
    second = kill_then_resume(
        args(db, "--run-id", "routed", "--i-understand-real-money", venues=VENUES),
        args(db, "--resume", "routed", "--i-understand-real-money", "--max-bars", "12", venues=VENUES),
        env, tmp_path, lambda: submitted(store, "routed") >= 3, 40,
    )  # fmt: skip
    fake.growing = False
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    view = read_journal(store, "routed")
    assert [lv["life"] for lv in view.lives] == [1, 2]
    journal = SendJournal(str(tmp_path / "runs" / "routed.solana.db"))
    try:
        assert all(n == 1 for n in fake.fake.creates.values()), fake.fake.creates  # Binance: once each
        traced = 0
        venues_used = set()
        for wire, rec in view.orders.items():
            venue = rec.submitted.instrument.venue
            venues_used.add(venue)
            if venue == "BINANCE":
                traced += wire in fake.fake.creates
            else:
                assert successes(chain.chain, journal, wire) <= 1, wire  # never executed twice
                traced += bool(journal.for_order(wire))
        rec_sum = summary["reconciliation"]
        assert len(view.orders) - traced == rec_sum["never_reached"], rec_sum  # 0 lost
        assert rec_sum["mismatches"] == 0, rec_sum
        assert {"JUPITER", "RAYDIUM"} & venues_used, venues_used
    finally:
        journal.close()


def test_bot_route_live_prices_one_trade_on_binance_jupiter_and_raydium(
    venues: tuple[Fake, Chain], tmp_path: Path
) -> None:
    fake, chain = venues
    env = setup(tmp_path, fake, chain)
    done = subprocess.run(
        [sys.executable, "-m", "botnft.cli", "route", "--live", "--venues", VENUES, "--side", "buy",
         "--amount", "3", "--json"],
        env=env, cwd=tmp_path, text=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    rows = {row["venue"]: row for row in r["venues"]}
    assert set(rows) == {"BINANCE", "JUPITER", "RAYDIUM"}
    # every venue quotes near the fakes' common price of 150, and the split fills exactly 3 SOL
    for row in rows.values():
        assert row["avg_price"] is not None and 149 < row["avg_price"] < 153, row
    legs = r["split"]["legs"]
    assert sum(Decimal(leg["base"]) for leg in legs) == 3 and r["split"]["unfilled_base"] == "0"
