"""The OpenBook v2 adapter in the live venue contract: `OpenBookClient` against the local chain (LiteSVM with
the OpenBook program handler of `fakes.openbook_chain`), a fresh wallet, market, participants and journal
per check.

The market: SOL/USDC, 0.001 SOL lots, a 0.001 USDC tick (``base_lot_size`` 1e6, ``quote_lot_size`` 1000),
taker fee 10 bps, maker rebate 2 bps. A participant rests asks from 150 USDC up and bids from 139 down, so a
bid at 145 is the best bid: `take` (another participant's IOC order at that price) meets ours first.

Faults hit the chain's sendTransaction: ``rate_limit`` and ``server_error`` are refused before execution,
``timeout`` and ``lost_response`` execute without an answer. A "create request" the venue received is a
sendTransaction of one of the order's journaled signatures; an order "held" is a landed successful one.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

from chain_control import ChainControl
from live_contract import LiveSubject, register
from solders.keypair import Keypair

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side
from botnft.venues.openbook.client import build_openbook
from botnft.venues.openbook.settings import OpenBookSettings
from botnft.venues.solana import SendJournal, WalletKey
from fakes.openbook_chain import OpenBookChain
from fakes.solana_rpc import NATIVE_MINT, LocalSolana

BASE_LOT, QUOTE_LOT = 1_000_000, 1_000
REST_BUY = Decimal("145")


def price_lots(price: Decimal) -> int:
    """USDC per SOL -> price lots: quote lots (0.001 USDC) per base lot (0.001 SOL)."""
    return int(price * 10**6 * BASE_LOT / (QUOTE_LOT * 10**9))


def seed_book(ob: OpenBookChain) -> None:
    maker = ob.participant()
    for i in range(10):
        ob.place(maker, False, price_lots(Decimal(150 + i)), 2_000)
        ob.place(maker, True, price_lots(Decimal(139 - i)), 2_000)


class OpenBookControl(ChainControl):
    def __init__(self, chain: LocalSolana, ob: OpenBookChain, journal: SendJournal) -> None:
        super().__init__(chain, journal)
        self.ob = ob
        self.taker = ob.participant()

    async def take(self, instrument: InstrumentId, side: Side, price: Decimal, qty: Decimal) -> None:
        lots = int(qty * 10**9 / BASE_LOT)
        self.ob.place(self.taker, side is Side.BUY, price_lots(price), lots, kind="ImmediateOrCancel")


@contextlib.asynccontextmanager
async def openbook_subject() -> AsyncIterator[LiveSubject]:
    chain = LocalSolana(slow_s=1.0)
    ob = OpenBookChain(
        chain, base_lot_size=BASE_LOT, quote_lot_size=QUOTE_LOT, taker_fee=1_000, maker_fee=-200
    )
    seed_book(ob)
    kp = Keypair()
    chain.airdrop(kp.pubkey(), 5 * 10**9)
    chain.set_token(kp.pubkey(), NATIVE_MINT, 20 * 10**9)
    chain.set_token(kp.pubkey(), ob.quote_mint, 5_000 * 10**6)
    journal = SendJournal(":memory:")
    try:
        async with chain.serve() as rpc_url:
            settings = OpenBookSettings.from_mapping({"market": str(ob.market), "poll_interval_s": 0.05})
            client = build_openbook(
                settings, key=WalletKey(kp, "contract"), rpc_url=rpc_url, journal=journal, rpc_timeout_s=0.5
            )
            async with client:
                yield LiveSubject(
                    client=client,
                    instrument=InstrumentId("SOL/USDC", "OPENBOOK"),
                    control=OpenBookControl(chain, ob, journal),
                    market_qty=Decimal("0.5"),
                    rest_price=lambda side: REST_BUY if side is Side.BUY else None,
                    unreported_cost_assets=frozenset({"SOL"}),
                )
    finally:
        journal.close()


register("openbook", openbook_subject)
