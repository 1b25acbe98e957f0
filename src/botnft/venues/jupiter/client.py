"""Jupiter as a live `ExecutionClient`: market swaps through the Swap API v1, signed by the wallet and sent by
the Solana `TransactionSender` (journal before send), with every outcome read from the chain.

create_order (a market order; size on the base mint's native grid, at least the market's minimum): a BUY
is an ``ExactOut`` quote of the base amount, a SELL an ``ExactIn`` quote; the wallet must hold what the swap
may spend (``otherAmountThreshold`` for ExactOut); then ``/swap`` builds the transaction, the wallet signs its
slot (other signatures already in it are kept), the sender journals and broadcasts it. The ack carries the
signature (also the venue order id). A client order id already in the journal is never sent again: the ack
of its transaction is returned (a pending one is re-broadcast as the same bytes, so it lands at most once).

Outcomes (`SwapClient`, shared with Raydium) arrive on `stream()` once the chain decides: ``OrderFilled``
with the wallet's base and quote changes read from the landed transaction (the fee in SOL: the network fee
plus any rent the swap deposited, less rent returned; `trade_id` = signature); ``OrderRejected`` when it
landed failed (reason ``slippage`` for Jupiter's program error 6001, else ``transaction_failed``; the fee it
paid is reported); ``OrderExpired`` when it provably can never land. `fetch_order` answers the same from the
journal and the chain, by client id or (`fetch_order_by_signature`) by signature.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable

from solders.transaction import VersionedTransaction

from botnft.domain.errors import InvalidOrder, Rejected
from botnft.domain.orders import Order, Side
from botnft.domain.reports import OrderAck
from botnft.venues.jupiter.api import JupiterApi
from botnft.venues.jupiter.settings import JupiterSettings
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender
from botnft.venues.solana.swaps import SwapClient, SwapEvent

__all__ = ["SLIPPAGE_CODE", "JupiterClient"]

SLIPPAGE_CODE = 6001


class JupiterClient(SwapClient[JupiterSettings]):
    """See the module docstring. `clock` gives nanoseconds (events, acks, journal rows)."""

    slippage_codes = frozenset({SLIPPAGE_CODE})
    log = logging.getLogger("botnft.venues.jupiter")

    def __init__(
        self,
        api: JupiterApi,
        rpc: SolanaRpc,
        sender: TransactionSender,
        key: WalletKey,
        settings: JupiterSettings | None = None,
        *,
        name: str = "JUPITER",
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        s = settings if settings is not None else JupiterSettings()
        super().__init__(rpc, sender, key, s, name=name, clock=clock)
        self.api = api

    def __repr__(self) -> str:
        return f"JupiterClient({self.name}, {self.api.base_url}, wallet={self.key.address})"

    # lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> list[SwapEvent]:
        """Resolve this venue's pending journaled transactions by the recovery rule (found, or provably
        expired) and start the watcher; returns (and streams) the events of those now decided. Rows of
        other venues sharing the journal are left to their own clients."""
        before = [e.signature for e in self.sender.journal.entries("pending") if self._mine(e)]
        if before:
            await self.sender.statuses(before)
        events = await self.poll(also=before)
        self._ensure_watcher()
        return events

    async def close(self) -> None:
        await self._stop_watcher()
        await self.api.close()
        await self.rpc.close()

    # the port ---------------------------------------------------------------------------------------
    async def create_order(self, order: Order) -> OrderAck:
        m, qty, native = self._swap_terms(order)
        self._ensure_watcher()
        previous = self.sender.journal.for_order(order.client_order_id)
        if previous:
            d = previous[-1].detail
            if (d.get("instrument"), d.get("side"), d.get("amount")) != (
                str(order.instrument),
                order.side.value,
                str(qty),
            ):
                msg = f"client order id {order.client_order_id} was already used for another order"
                raise InvalidOrder(msg, reason="duplicate_client_order_id")
            return await self._known(previous[-1])
        buy = order.side is Side.BUY
        in_mint, out_mint = (m.quote_mint, m.base_mint) if buy else (m.base_mint, m.quote_mint)
        mode = "ExactOut" if buy else "ExactIn"
        s = self.settings
        q = await self.api.quote(in_mint, out_mint, native, slippage_bps=s.slippage_bps, swap_mode=mode)
        if int(q["outAmount" if buy else "inAmount"]) != native:
            raise Rejected(f"the route does not trade exactly {native} native {m.base}", reason="no_route")
        spend = int(q["otherAmountThreshold"]) if buy else int(q["inAmount"])
        await self._check_funds(m, buy, spend, wrap=s.wrap_and_unwrap_sol)
        price = await self._priority()
        swap = await self.api.swap(
            q,
            self.key.address,
            wrap_and_unwrap_sol=s.wrap_and_unwrap_sol,
            compute_unit_price_micro_lamports=price,
        )
        try:
            tx = VersionedTransaction.from_bytes(base64.b64decode(swap["swapTransaction"]))
            signed = self.key.sign(tx)
        except ValueError as exc:
            raise Rejected(f"{self.name} /swap returned a transaction we cannot sign: {exc}",
                           reason="bad_transaction") from None  # fmt: skip
        detail = {
            "venue": self.name,
            "instrument": str(order.instrument),
            "side": order.side.value,
            "amount": str(qty),
            "native": native,
            "input_mint": in_mint,
            "output_mint": out_mint,
            "quote_in": q["inAmount"],
            "quote_out": q["outAmount"],
            "threshold": q["otherAmountThreshold"],
            "ts_ns": self.clock(),
        }
        return await self._send_swap(signed, int(swap["lastValidBlockHeight"]), order, detail)

    async def _priority(self) -> int | None:
        s = self.settings
        if s.priority_fee == "none":
            return None
        if isinstance(s.priority_fee, int):
            return s.priority_fee
        return await self.rpc.priority_fee(
            percentile=s.priority_percentile, max_micro_lamports=s.max_priority_micro_lamports
        )
