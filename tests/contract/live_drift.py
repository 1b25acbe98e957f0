"""The Drift adapter in the live venue contract: `DriftVenue` against the local chain (LiteSVM behind the RPC,
`DriftChain` standing in for the Drift program with SimDrift over one-minute SOL-PERP candles), with a fresh
wallet, user account (created and funded through the adapter), chain and journal per check.

Faults hit the chain's sendTransaction (``rate_limit``, ``server_error``: not executed; ``timeout``,
``lost_response``: executed, no answer). A "create request" is a sendTransaction of one of the order's
journaled signatures; an order "held" is one of them landed without error. Market orders are
``place_and_take`` (they fill in their own transaction, in the next candle). ``take`` is not implemented:
SimDrift fills a resting order from the candles it is driven with, not from another participant's order.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import numpy as np
from live_contract import LOST_RESPONSE, RATE_LIMIT, SERVER_ERROR, TIMEOUT, LiveSubject, register
from solders.keypair import Keypair

from botnft.data.bars import BarBatch
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side
from botnft.venues.drift import DriftVenue, build_drift
from botnft.venues.sim.drift import SimDrift
from botnft.venues.solana import SendJournal, WalletKey
from fakes.drift_chain import USDC_MINT, DriftChain
from fakes.solana_rpc import LocalSolana

MINUTE = 60 * 10**9
T0 = 1_735_689_600 * 10**9 + 5 * MINUTE  # 2025-01-01T00:05Z: no funding hour within the first 55 candles


def minute_bars(n: int = 400, start: float = 150.0) -> BarBatch:
    """SOL-PERP candles wobbling a few cents around `start` (a deterministic path)."""
    c = start + 0.05 * np.sin(np.arange(n) / 7.0)
    c = np.round(c, 2)
    o = np.concatenate([[c[0]], c[:-1]])
    ts = T0 + MINUTE * np.arange(n, dtype=np.int64)
    return BarBatch(ts, o, np.maximum(o, c) + 0.01, np.minimum(o, c) - 0.01, c, np.full(n, 1e7), MINUTE, None, None)


class DriftControl:
    def __init__(self, chain: LocalSolana, journal: SendJournal) -> None:
        self.chain, self.journal = chain, journal

    def inject(self, fault: str, count: int = 1) -> None:
        if fault not in (RATE_LIMIT, SERVER_ERROR, TIMEOUT, LOST_RESPONSE):
            raise ValueError(f"unknown fault {fault}")
        self.chain.inject(fault, count)

    def _sigs(self, cid: str) -> list[str]:
        return [e.signature for e in self.journal.for_order(cid)]

    def creates_received(self, client_order_id: str) -> int:
        return sum(self.chain.sends[s] for s in self._sigs(client_order_id))

    def orders_held(self, client_order_id: str) -> int:
        landed = [self.chain.landed.get(s) for s in self._sigs(client_order_id)]
        return sum(1 for r in landed if r is not None and r.err is None)

    async def take(self, instrument: InstrumentId, side: Side, price: Decimal, qty: Decimal) -> None:
        raise NotImplementedError("SimDrift fills resting orders from its candles, not from another order")


@contextlib.asynccontextmanager
async def drift_world(
    *, collateral: int = 10_000, tmp: Path | None = None, bars: BarBatch | None = None
) -> AsyncIterator[tuple[LocalSolana, DriftChain, Keypair, SendJournal, str]]:
    """A chain with Drift on it and a wallet holding `collateral` USDC; yields (chain, drift, wallet,
    journal, rpc url)."""
    chain = LocalSolana(slow_s=1.0)
    drift = DriftChain(chain, SimDrift(), bars if bars is not None else minute_bars(), bar=0)
    kp = Keypair()
    chain.airdrop(kp.pubkey(), 10 * 10**9)
    chain.set_token(kp.pubkey(), USDC_MINT, collateral * 10**6)
    with tempfile.TemporaryDirectory() as d:
        journal = SendJournal(str((tmp or Path(d)) / "sends.sqlite"))
        async with chain.serve() as url:
            yield chain, drift, kp, journal, url
        journal.close()


async def funded_venue(kp: Keypair, journal: SendJournal, url: str, deposit: int = 5_000) -> DriftVenue:
    from solders.token.associated import get_associated_token_address

    venue = build_drift({"poll_interval_s": 0.05, "initialize_user": True, "confirm_timeout_s": 5},
                        key=WalletKey(kp, "contract"), rpc_url=url, journal=journal, rpc_timeout_s=0.5)
    await venue.start()
    if deposit:
        sig = await venue.deposit(Decimal(deposit), "deposit-1", get_associated_token_address(kp.pubkey(), USDC_MINT))
        out = await venue.sender.confirm(sig, timeout_s=5)
        assert out.state == "landed", out
    return venue


@contextlib.asynccontextmanager
async def drift_subject() -> AsyncIterator[LiveSubject]:
    async with drift_world() as (chain, _drift, kp, journal, url):
        venue = await funded_venue(kp, journal, url)
        try:
            yield LiveSubject(
                client=venue,
                instrument=InstrumentId("SOL-PERP", "DRIFT"),
                control=DriftControl(chain, journal),
                market_qty=Decimal("0.5"),
                rest_price=lambda side: Decimal("140") if side is Side.BUY else Decimal("160"),
                unreported_cost_assets=frozenset(),
            )
        finally:
            await venue.close()


register("drift", drift_subject)
