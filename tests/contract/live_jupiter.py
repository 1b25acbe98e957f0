"""The Jupiter adapter in the live venue contract: `JupiterClient` against the fake Jupiter API (quotes from
SimJupiter) and the local LiteSVM chain, with a fresh wallet, chain and journal per check.

Faults: ``rate_limit`` and ``server_error`` hit the fake API's ``/swap`` (nothing is built, signed or sent);
``timeout`` and ``lost_response`` hit the chain's sendTransaction (the transaction lands, the answer does not
arrive). A "create request" the venue received is a sendTransaction of one of the order's journaled
signatures; an order "held" is a successful landed transaction among them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

from chain_control import SwapControl
from live_contract import LiveSubject, register
from solders.keypair import Keypair

from botnft.domain.ids import InstrumentId
from botnft.venues.jupiter import JupiterSettings, build_jupiter
from botnft.venues.solana import SendJournal, WalletKey
from fakes.jupiter_api import FakeJupiter
from fakes.solana_rpc import LocalSolana


@contextlib.asynccontextmanager
async def jupiter_subject() -> AsyncIterator[LiveSubject]:
    chain = LocalSolana(slow_s=1.0)
    api = FakeJupiter(chain)
    kp = Keypair()
    api.fund_user(kp.pubkey(), sol=Decimal(20), usdc=Decimal(5_000))
    journal = SendJournal(":memory:")
    async with chain.serve() as rpc_url, api.serve() as jup_url:
        settings = JupiterSettings.from_mapping(
            {"base_url": jup_url, "poll_interval_s": 0.05, "timeout_s": 0.5, "priority_fee": "auto"}
        )
        client = build_jupiter(
            settings, key=WalletKey(kp, "contract"), rpc_url=rpc_url, journal=journal, rpc_timeout_s=0.5
        )
        async with client:
            yield LiveSubject(
                client=client,
                instrument=InstrumentId("SOL/USDC", "JUPITER"),
                control=SwapControl(chain, api, journal),
                market_qty=Decimal("0.5"),
                rest_price=lambda side: None,
                unreported_cost_assets=frozenset(),
            )
    journal.close()


register("jupiter", jupiter_subject)
