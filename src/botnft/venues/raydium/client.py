"""Raydium as a live `ExecutionClient`: market swaps through the trade API (``compute`` -> ``transaction``),
signed by the wallet and sent by the Solana `TransactionSender` (journal before send), with every outcome
read from the landed transaction.

create_order (a market order; size on the base mint's native grid, at least the market's minimum): a BUY is
a ``swap-base-out`` of the base amount (quote in, at most ``otherAmountThreshold``), a SELL a
``swap-base-in`` of it; the wallet must hold what the swap may spend. ``wrapSol``/``unwrapSol`` are set when
SOL goes in / comes out; for any other mint the wallet's associated token account is named
(``inputAccount``/``outputAccount``). The API must answer with exactly one transaction.

Blockhash and the recovery rule. The trade API does not say until when its transaction is valid. When the
wallet is the transaction's only signer (what the API builds), its blockhash is replaced by ours from
``getLatestBlockhash`` before signing, so the journaled ``lastValidBlockHeight`` is exact. When another
signature is already in it (it cannot be re-signed), the blockhash is kept and the journal gets our latest
``lastValidBlockHeight`` plus ``foreign_blockhash_margin``: an upper bound, so "expired" is never declared
early (the API's blockhash is older than ours unless its node runs ahead of ours by more than the margin).

A client order id already in the journal is never sent again: the ack of its transaction is returned (a
pending one is re-broadcast as the same bytes). Outcomes arrive on `stream()` once the chain decides:
``OrderFilled`` with the wallet's base and quote changes read from the landed transaction (the fee in SOL: the
network fee plus any rent the swap deposited, less rent returned, so the wallet's SOL moves by exactly the
fill and its fee; ``trade_id`` the signature); ``OrderRejected`` when it landed failed (reason ``slippage``
for the Raydium programs' slippage errors: AMM v4 ``ExceededSlippage`` 30, CPMM ``ExceededSlippage`` 6005,
CLMM ``PriceSlippageCheck`` 6017, ``TooLittleOutputReceived`` 6018, ``TooMuchInputPaid`` 6019; else
``transaction_failed``); ``OrderExpired`` when it provably can never land.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path

from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.token.associated import get_associated_token_address
from solders.transaction import VersionedTransaction

from botnft.domain.errors import Rejected, Retryable
from botnft.domain.orders import Order, Side
from botnft.domain.reports import OrderAck
from botnft.venues.raydium.api import RaydiumApi, SwapCompute
from botnft.venues.raydium.settings import RaydiumSettings
from botnft.venues.solana.journal import SendJournal
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender
from botnft.venues.solana.swaps import SwapClient, SwapEvent
from botnft.venues.solana.table import solana_sender
from botnft.venues.swap_market import SOL_MINT

__all__ = ["SLIPPAGE_CODES", "RaydiumClient", "build_raydium"]

SLIPPAGE_CODES = frozenset({30, 6005, 6017, 6018, 6019})


class RaydiumClient(SwapClient[RaydiumSettings]):
    """See the module docstring. `clock` gives nanoseconds (events, acks, journal rows)."""

    slippage_codes = SLIPPAGE_CODES

    def __init__(
        self,
        api: RaydiumApi,
        rpc: SolanaRpc,
        sender: TransactionSender,
        key: WalletKey,
        settings: RaydiumSettings | None = None,
        *,
        name: str = "RAYDIUM",
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        s = settings if settings is not None else RaydiumSettings()
        super().__init__(rpc, sender, key, s, name=name, clock=clock)
        self.api = api

    def __repr__(self) -> str:
        return f"RaydiumClient({self.name}, {self.settings.trade_url}, wallet={self.key.address})"

    # lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> list[SwapEvent]:
        """Resolve every pending journaled transaction of this venue (the recovery rule) and start the
        watcher; returns (and streams) the events of those that were decided."""
        before = [e.signature for e in self.sender.journal.entries("pending") if self._mine(e)]
        await self.sender.recover()
        events = await self.poll(also=before)
        self._ensure_watcher()
        return events

    async def close(self) -> None:
        await self._stop_watcher()
        await self.api.aclose()
        await self.rpc.close()

    async def _watch(self) -> None:
        """Unlike `WatchedClient`'s, this watcher ends on an error other than `Retryable` (`_ensure_watcher`
        starts it again on the next order)."""
        while True:
            with contextlib.suppress(Retryable):
                await self.poll()
            await asyncio.sleep(self.settings.poll_interval_s)

    # the port ---------------------------------------------------------------------------------------
    def _account(self, mint: str) -> str | None:
        """The wallet's token account for a non-SOL mint (the API wraps and unwraps SOL itself)."""
        if mint == SOL_MINT:
            return None
        return str(get_associated_token_address(self.key.pubkey, Pubkey.from_string(mint)))

    async def create_order(self, order: Order) -> OrderAck:
        m, qty, native = self._swap_terms(order)
        self._ensure_watcher()
        previous = self.sender.journal.for_order(order.client_order_id)
        if previous:
            return await self._known(previous[-1])
        buy = order.side is Side.BUY
        in_mint, out_mint = (m.quote_mint, m.base_mint) if buy else (m.base_mint, m.quote_mint)
        s = self.settings
        c = await self.api.compute_swap(in_mint, out_mint, native, s.slippage_bps, base_in=not buy)
        if (c.output_amount if buy else c.input_amount) != native or (c.input_mint, c.output_mint) != (
            in_mint,
            out_mint,
        ):
            raise Rejected(f"the route does not trade exactly {native} native {m.base}", reason="no_route")
        spend = c.other_amount_threshold if buy else c.input_amount
        await self._check_funds(m, buy, spend, wrap=True)
        raws = await self.api.swap_transactions(
            c,
            self.key.address,
            compute_unit_price_micro_lamports=await self._priority(),
            wrap_sol=in_mint == SOL_MINT,
            unwrap_sol=out_mint == SOL_MINT,
            input_account=self._account(in_mint),
            output_account=self._account(out_mint),
        )
        if len(raws) != 1:
            raise Rejected(
                f"{self.name} built {len(raws)} transactions; one is supported", reason="bad_transaction"
            )
        signed, last_valid = await self._sign(raws[0])
        return await self._send_swap(signed, last_valid, order, self._detail(order, qty, native, c))

    async def _sign(self, raw: bytes) -> tuple[VersionedTransaction, int]:
        """Sign the API's transaction; its journaled last valid height (module docstring)."""
        try:
            tx = VersionedTransaction.from_bytes(raw)
        except ValueError as exc:
            raise Rejected(
                f"{self.name} returned a transaction we cannot read: {exc}", reason="bad_transaction"
            ) from None
        msg = tx.message
        latest = await self.rpc.latest_blockhash()
        only_us = msg.header.num_required_signatures == 1 and msg.account_keys[0] == self.key.pubkey
        if only_us and isinstance(msg, MessageV0):
            fresh = MessageV0(
                msg.header,
                list(msg.account_keys),
                latest.blockhash,
                list(msg.instructions),
                list(msg.address_table_lookups),
            )
            tx = VersionedTransaction.populate(fresh, [Signature.default()])
            last_valid = latest.last_valid_block_height
        else:
            last_valid = latest.last_valid_block_height + self.settings.foreign_blockhash_margin
        try:
            return self.key.sign(tx), last_valid
        except ValueError as exc:
            raise Rejected(
                f"{self.name} returned a transaction we cannot sign: {exc}", reason="bad_transaction"
            ) from None

    def _detail(self, order: Order, qty: Decimal, native: int, c: SwapCompute) -> dict[str, object]:
        return {
            "venue": self.name,
            "instrument": str(order.instrument),
            "side": order.side.value,
            "amount": str(qty),
            "native": native,
            "input_mint": c.input_mint,
            "output_mint": c.output_mint,
            "quote_in": str(c.input_amount),
            "quote_out": str(c.output_amount),
            "threshold": str(c.other_amount_threshold),
            "pools": [step.pool_id for step in c.route_plan],
            "ts_ns": self.clock(),
        }

    async def _priority(self) -> int:
        s = self.settings
        if s.priority_fee == "none":
            return 0
        if isinstance(s.priority_fee, int):
            return s.priority_fee
        fees = await self.api.auto_fee()
        level = {"vh": fees.very_high, "h": fees.high, "m": fees.medium}[s.priority_level]
        return min(level, s.max_priority_micro_lamports)


def build_raydium(
    settings: RaydiumSettings | Mapping[str, object],
    *,
    key: WalletKey,
    rpc_url: str,
    journal: SendJournal | str | Path,
    rpc_timeout_s: float = 10.0,
    skip_preflight: bool = False,
    clock: Callable[[], int] = time.time_ns,
) -> RaydiumClient:
    """A `RaydiumClient` over its own `SolanaRpc`, `RaydiumApi` and a `TransactionSender` on `journal` (a
    `SendJournal`, shareable with the other Solana venues, or the path of its SQLite file). Call
    ``await client.start()`` (or ``async with``) before trading: it resolves what a previous run left
    pending."""
    s = settings if isinstance(settings, RaydiumSettings) else RaydiumSettings.from_mapping(settings)
    rpc, sender = solana_sender(rpc_url, journal, rpc_timeout_s=rpc_timeout_s, skip_preflight=skip_preflight,
                                poll_interval_s=s.poll_interval_s, clock=clock)  # fmt: skip
    return RaydiumClient(RaydiumApi(s.api), rpc, sender, key, s, clock=clock)
