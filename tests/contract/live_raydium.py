"""The Raydium adapter in the live venue contract: `RaydiumClient` against the fake Raydium trade API (compute
priced by the sim pools, transactions built for the local chain) and the local LiteSVM chain, with a fresh
wallet, chain, pools and journal per check.

Faults: ``rate_limit`` and ``server_error`` hit the fake trade API (the compute request: nothing is built,
signed or sent); ``timeout`` and ``lost_response`` hit the chain's sendTransaction (the transaction lands, the
answer does not arrive). A "create request" the venue received is a sendTransaction of one of the order's
journaled signatures; an order "held" is a successful landed transaction among them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

from chain_control import SwapControl
from live_contract import LiveSubject, register
from solders.keypair import Keypair

from botnft.domain.ids import InstrumentId
from botnft.venues.raydium import RaydiumSettings, build_raydium
from botnft.venues.solana import SendJournal, WalletKey
from fakes.raydium_api import USDC, WSOL, ChainSwaps, FakeRaydiumApi
from fakes.solana_rpc import LocalSolana


@contextlib.asynccontextmanager
async def raydium_subject() -> AsyncIterator[LiveSubject]:
    chain = LocalSolana(slow_s=1.0)
    api = FakeRaydiumApi(delay_s=1.0)
    swaps = ChainSwaps(chain, api)
    kp = Keypair()
    swaps.fund_user(kp.pubkey(), sol=20 * 10**9, tokens={USDC: 5_000 * 10**6, WSOL: 0})
    journal = SendJournal(":memory:")
    await api.start()
    try:
        async with chain.serve() as rpc_url:
            settings = RaydiumSettings.from_mapping(
                {"base_url": api.url, "trade_url": api.url, "poll_interval_s": 0.05, "timeout_s": 0.5}
            )
            client = build_raydium(
                settings, key=WalletKey(kp, "contract"), rpc_url=rpc_url, journal=journal, rpc_timeout_s=0.5
            )
            async with client:
                yield LiveSubject(
                    client=client,
                    instrument=InstrumentId("SOL/USDC", "RAYDIUM"),
                    control=SwapControl(chain, api, journal),
                    market_qty=Decimal("0.5"),
                    rest_price=lambda side: None,
                    unreported_cost_assets=frozenset(),
                )
    finally:
        await api.stop()
        journal.close()


register("raydium", raydium_subject)
