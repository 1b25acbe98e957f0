"""The `VenueControl` of the Solana venues in the live contract: what a venue received and holds, read from
the local chain and the send journal. A "create request" the venue received is a sendTransaction of one of
the order's journaled signatures; an order "held" is a successful landed transaction among them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from live_contract import LOST_RESPONSE, RATE_LIMIT, SERVER_ERROR, TIMEOUT

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side
from botnft.venues.solana import SendJournal
from fakes.solana_rpc import LocalSolana


class ChainControl:
    """Every fault hits the chain's sendTransaction."""

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


class SwapControl(ChainControl):
    """A swap venue's: ``rate_limit`` and ``server_error`` hit its fake API (nothing is built, signed or
    sent), ``timeout`` and ``lost_response`` the chain; it has no resting orders to take."""

    def __init__(self, chain: LocalSolana, api: Any, journal: SendJournal) -> None:
        super().__init__(chain, journal)
        self.api = api

    def inject(self, fault: str, count: int = 1) -> None:
        if fault in (RATE_LIMIT, SERVER_ERROR):
            self.api.inject(fault, count)
        else:
            super().inject(fault, count)

    async def take(self, instrument: InstrumentId, side: Side, price: Decimal, qty: Decimal) -> None:
        raise NotImplementedError("a swap venue has no resting orders")
