"""SIGKILL in the middle of an order, then a restart: 0 orders lost, 0 duplicated.

The chain (LiteSVM + the local Drift program) runs in a thread of this process; a child process trades on it
through `bot live`'s table builder (`drift_from_table`) and is SIGKILLed the moment the chain receives the
transaction of its 4th order (journaled and sent, no answer read). A new venue on the same journal and id file
then starts (recovery, log history) and the engine's retry sends every one of the 8 orders again by client
order id: each lands exactly once, and SimDrift's position is exactly the sum of the 8 orders."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from solders.keypair import Keypair

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, Side
from botnft.venues.drift import drift_from_table
from botnft.venues.sim.drift import SimDrift
from fakes.drift_chain import USDC_MINT, DriftChain
from fakes.drift_world import funded_venue, minute_bars
from fakes.solana_rpc import LocalSolana

SOL = InstrumentId("SOL-PERP", "DRIFT")
CIDS = [f"k{i}" for i in range(8)]
QTY = Decimal("0.1")
TESTS = Path(__file__).parents[3]


class ChainThread:
    """The chain served from a thread's own event loop, so it outlives the child process."""

    def __init__(self, chain: LocalSolana) -> None:
        self.chain = chain
        self.url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self.chain.serve() as url:
            self.url = url
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ChainThread:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    from decimal import Decimal
    from botnft.domain.ids import InstrumentId
    from botnft.domain.orders import Order, Side
    from botnft.venues.drift import drift_from_table

    table, cids = json.loads(sys.argv[1]), json.loads(sys.argv[2])

    async def main():
        venue = drift_from_table(table)
        await venue.start()
        for cid in cids:
            sol = InstrumentId("SOL-PERP", "DRIFT")
            await venue.create_order(Order(cid, sol, Side.BUY, Decimal("0.1"), 0))
            print("acked", cid, flush=True)

    asyncio.run(main())
    """
)


def test_sigkill_mid_order_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    chain = LocalSolana(slow_s=1.0)
    drift = DriftChain(chain, SimDrift(), minute_bars(), bar=0)
    kp = Keypair()
    chain.airdrop(kp.pubkey(), 10 * 10**9)
    chain.set_token(kp.pubkey(), USDC_MINT, 10_000 * 10**6)
    key_file = tmp_path / "wallet.json"
    key_file.write_text(json.dumps(list(bytes(kp))))
    key_file.chmod(0o600)
    journal = tmp_path / "sends.sqlite"
    with ChainThread(chain) as served:
        table: dict[str, Any] = {
            "rpc_url": served.url,
            "keypair_file": str(key_file),
            "journal": str(journal),
            "poll_interval_s": 0.05,
            "rpc_timeout_s": 2.0,
            "initialize_user": True,
        }
        asyncio.run(setup(kp, table))
        placed_before = len(chain.landed)
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(table), json.dumps(CIDS)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(TESTS)},
        )
        seen: set[str] = set()

        def kill_on_fourth(sig: str) -> None:
            seen.add(sig)
            if len(seen) == 4:
                os.kill(proc.pid, signal.SIGKILL)

        chain.on_send.append(kill_on_fourth)
        out, _ = proc.communicate(timeout=120)
        chain.on_send.clear()
        assert proc.returncode == -signal.SIGKILL
        acked = [line.split()[1] for line in out.splitlines() if line.startswith("acked")]
        assert acked == CIDS[:3], out  # killed while the 4th order's transaction was on its way
        assert len(chain.landed) > placed_before
        asyncio.run(restart_and_retry(table))
    sim = drift.sim
    assert Decimal(sim.account.position(0).base_asset_amount).scaleb(-9) == QTY * len(CIDS)
    from botnft.venues.solana import SendJournal

    j = SendJournal(journal)
    for cid in CIDS:
        ok = [
            e for e in j.for_order(cid) if (r := chain.landed.get(e.signature)) is not None and r.err is None
        ]
        assert len(ok) == 1, f"{cid}: {len(ok)} landed orders"


async def setup(kp: Keypair, table: dict[str, Any]) -> None:
    from botnft.venues.solana import SendJournal

    venue = await funded_venue(kp, SendJournal(table["journal"]), table["rpc_url"], deposit=5_000)
    await venue.close()


async def restart_and_retry(table: dict[str, Any]) -> None:
    venue = drift_from_table(table)
    await venue.start()
    try:
        for cid in CIDS:  # the engine re-submits what it has not seen acknowledged, by client order id
            await venue.create_order(Order(cid, SOL, Side.BUY, QTY, 0))
        for cid in CIDS:
            for _ in range(100):
                rep = await venue.fetch_order(cid)
                if rep is not None and rep.status is OrderStatus.FILLED:
                    break
                await asyncio.sleep(0.05)
            assert rep is not None and rep.status is OrderStatus.FILLED and rep.filled == QTY, (cid, rep)
        trades = await venue.fetch_my_trades()
        assert sorted(t.client_order_id for t in trades) == CIDS
    finally:
        await venue.close()
