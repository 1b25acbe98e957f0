"""Worlds for tests on the local Drift chain (`drift_chain.DriftChain`).

`drift_fakes()`: the chain on loopback, a wallet whose Drift user already holds collateral, a keeper running
the candles, and a ``[live.drift]`` table pointing at them, as `bot live` reads it. `drift_world()` and
`funded_venue()`: a wallet holding USDC, and a started `DriftVenue` that created and funded its own user.
`minute_bars()`: one-minute SOL-PERP candles wobbling around $150.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from solders.keypair import Keypair

from botnft.data.bars import BarBatch
from botnft.venues.sim.drift import SimDrift
from fakes.drift_accounts import USDC_MINT
from fakes.drift_chain import DriftChain
from fakes.solana_rpc import LocalSolana

MINUTE = 60 * 10**9
T0 = 1_735_689_600 * 10**9 + 5 * MINUTE  # 2025-01-01T00:05Z: no funding hour within the first 55 candles


def minute_bars(n: int = 400, start: float = 150.0) -> BarBatch:
    """SOL-PERP candles wobbling a few cents around `start` (a deterministic path)."""
    c = start + 0.05 * np.sin(np.arange(n) / 7.0)
    c = np.round(c, 2)
    o = np.concatenate([[c[0]], c[:-1]])
    ts = T0 + MINUTE * np.arange(n, dtype=np.int64)
    return BarBatch(
        ts, o, np.maximum(o, c) + 0.01, np.minimum(o, c) - 0.01, c, np.full(n, 1e7), MINUTE, None, None
    )


@contextlib.asynccontextmanager
async def drift_world(
    *, collateral: int = 10_000, tmp: Path | None = None, bars: BarBatch | None = None
) -> AsyncIterator[tuple[LocalSolana, DriftChain, Keypair, Any, str]]:
    """A chain with Drift on it and a wallet holding `collateral` USDC; yields (chain, drift, wallet,
    journal, rpc url)."""
    chain = LocalSolana(slow_s=2.5)
    drift = DriftChain(chain, SimDrift(), bars if bars is not None else minute_bars(), bar=0)
    kp = Keypair()
    chain.airdrop(kp.pubkey(), 10 * 10**9)
    chain.set_token(kp.pubkey(), USDC_MINT, collateral * 10**6)
    from botnft.venues.solana import SendJournal

    with tempfile.TemporaryDirectory() as d:
        journal = SendJournal(str((tmp or Path(d)) / "sends.sqlite"))
        async with chain.serve() as url:
            yield chain, drift, kp, journal, url
        journal.close()


async def funded_venue(kp: Keypair, journal: Any, url: str, deposit: int = 5_000) -> Any:
    """A started `DriftVenue` for `kp` that created its user account and deposited `deposit` USDC."""
    from solders.token.associated import get_associated_token_address

    from botnft.venues.drift import build_drift
    from botnft.venues.solana import WalletKey

    venue = build_drift(
        {"poll_interval_s": 0.05, "initialize_user": True, "confirm_timeout_s": 5},
        key=WalletKey(kp, "contract"),
        rpc_url=url,
        journal=journal,
        rpc_timeout_s=1.5,
    )
    await venue.start()
    if deposit:
        sig = await venue.deposit(
            Decimal(deposit), "deposit-1", get_associated_token_address(kp.pubkey(), USDC_MINT)
        )
        out = await venue.sender.confirm(sig, timeout_s=5)
        assert out.state == "landed", out
    return venue


@dataclass
class DriftFakes:
    """A running local chain with Drift on it and one wallet whose Drift user already holds collateral."""

    chain: LocalSolana
    drift: DriftChain
    keypair: Keypair
    rpc_url: str

    def keypair_file(self, path: Path) -> Path:
        """Write the wallet as a Solana CLI keypair file (mode 600) and return its path."""
        path.write_text(json.dumps(list(bytes(self.keypair))))
        path.chmod(0o600)
        return path

    def table(self, keypair_file: Path, journal: Path, **settings: Any) -> dict[str, Any]:
        """A ``[live.drift]`` table pointing at these fakes (for `drift_from_table`)."""
        return {"rpc_url": self.rpc_url, "keypair_file": str(keypair_file), "journal": str(journal),
                "poll_interval_s": 0.1, **settings}  # fmt: skip


@contextlib.asynccontextmanager
async def drift_fakes(
    *, collateral: int = 5_000, bars: BarBatch | None = None, keeper_s: float | None = 0.5
) -> AsyncIterator[DriftFakes]:
    """The chain on loopback with SimDrift over `bars` (default: `minute_bars`), a wallet whose Drift user
    was created with `collateral` USDC deposited (no transaction of its own: the bot's journal starts
    empty), and a keeper landing a fill transaction (the next candle) every `keeper_s` seconds (None: only
    `drift.crank`). Everything stops when the context closes."""
    chain = LocalSolana(slow_s=2.5)
    drift = DriftChain(chain, SimDrift(), bars if bars is not None else minute_bars(), bar=0)
    kp = Keypair()
    chain.airdrop(kp.pubkey(), 10 * 10**9)
    drift.open_user(kp.pubkey(), collateral * 10**6)

    async def keeper() -> None:
        assert keeper_s is not None
        while True:
            await asyncio.sleep(keeper_s)
            if drift.j + 1 < len(drift.bars):
                drift.crank(1)

    async with chain.serve() as url:
        task = asyncio.create_task(keeper()) if keeper_s is not None else None
        try:
            yield DriftFakes(chain, drift, kp, url)
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
