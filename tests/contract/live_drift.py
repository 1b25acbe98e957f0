"""The Drift adapter in the live venue contract: `DriftVenue` against the local chain (LiteSVM behind the RPC,
`DriftChain` standing in for the Drift program with SimDrift over one-minute SOL-PERP candles), with a fresh
wallet, user account (created and funded through the adapter), chain and journal per check.

Faults hit the chain's sendTransaction (``rate_limit``, ``server_error``: not executed; ``timeout``,
``lost_response``: executed, no answer). A "create request" is a sendTransaction of one of the order's
journaled signatures; an order "held" is one of them landed without error. Market orders are
``place_and_take`` (they fill in their own transaction, in the next candle). ``take`` skips its check:
SimDrift fills a resting order from the candles it is driven with, not from another participant's order.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

from live_contract import LOST_RESPONSE, RATE_LIMIT, SERVER_ERROR, TIMEOUT, LiveSubject, register

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side
from botnft.venues.solana import SendJournal
from fakes.drift_world import drift_world, funded_venue
from fakes.solana_rpc import LocalSolana


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
        import pytest

        pytest.skip("SimDrift fills a resting order from its candles, not from another participant's order")


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
