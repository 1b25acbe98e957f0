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

from chain_control import ChainControl
from live_contract import LiveSubject, register

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side
from fakes.drift_world import drift_world, funded_venue


class DriftControl(ChainControl):
    """Every fault hits the chain's sendTransaction; SimDrift has no other participant to take an order."""

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
