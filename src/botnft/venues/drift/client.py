"""Drift v2 perps as a live `ExecutionClient`: orders built with driftpy's ``get_*_ix`` builders, signed by
the wallet and sent by the Solana `TransactionSender` (journal before send); what happens to them read back
from the program's events in the user account's transactions.

Orders. ``create_order`` checks the size and price on the market's grids (read from the PerpMarket account),
takes a one-byte ``user_order_id`` for the client order id (`OrderIds`, on disk before anything is built;
none free: ``Rejected(reason="user_order_id_exhausted")``, nothing sent), and sends ``place_perp_order`` (a
limit, or a trigger order for a stop) or, for a market order with ``market_orders = "place_and_take"``,
``place_and_take_perp_order``. A client order id already journaled is never sent again: its ack is returned
(a pending transaction is re-broadcast as the same bytes). A transaction the node refused in preflight
(the program's check failed: margin, reduce-only, post-only, ...) raises `Rejected` with the program's error
as reason and frees the id. ``cancel_order`` sends ``cancel_order_by_user_id``; ``modify_order`` sends
``modify_order_by_user_id``; ``settle_pnl``, ``deposit`` and ``withdraw`` send theirs.

Events. `poll` (the watcher runs it every ``poll_interval_s``) settles the journaled transactions, then reads
the user account's new signatures (``getSignaturesForAddress`` from the stored cursor) and each transaction's
logs (``getTransaction``), decodes the program's events with driftpy's parser and stores them once
(`OrderIds.add_events`): ``OrderRecord`` -> ``OrderAccepted`` (the program's order id joins the slot);
``OrderActionRecord`` fill -> ``OrderFilled`` (taker or maker side, fee in USDC, ``trade_id`` =
signature:position), cancel / expire -> ``OrderCanceled`` / ``OrderExpired``; ``FundingPaymentRecord`` ->
``FundingApplied``; ``LiquidationRecord`` -> ``PositionLiquidated``. An order's id is freed when it is
closed. After a restart the history continues from the cursor; with a new id file it is rebuilt from the
chain. Fills, orders and reports are computed from that history and the User account.

Margin. On every `reconcile_margin` (and `mass_status`) the margin, free collateral, health and liquidation
prices driftpy's `DriftUser` reads from the account are compared with the project's model
(`margin.own_figures`); each figure apart by more than ``margin_tolerance`` is a log line and one more in
`margin_mismatches` (by figure name), which the metrics observer exports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.instruction import Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from botnft.domain.errors import DataError, InvalidOrder, OrderNotFound, Rejected, Retryable
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Perp
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.domain.reports import (
    CancelAck,
    MassStatus,
    OrderAck,
)
from botnft.venues.drift.chain import check_idl_version, decode_account
from botnft.venues.drift.history import ERROR_REASONS, QUOTE, DriftEvent, DriftHistory, _dec
from botnft.venues.drift.ids import IdSpaceExhausted, OrderIds, Slot
from botnft.venues.drift.margin import MarginFigures, compare, own_figures, venue_figures
from botnft.venues.drift.settings import DriftSettings
from botnft.venues.solana.journal import JournalEntry
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender, custom_error

__all__ = ["ERROR_REASONS", "DriftVenue"]

log = logging.getLogger(__name__)


class _PublicWallet:
    """What driftpy's client needs of a wallet to build instructions: the public key. It never signs."""

    def __init__(self, pubkey: Pubkey) -> None:
        self.public_key = pubkey

    @property
    def payer(self) -> Any:
        raise RuntimeError("the Drift adapter signs with its WalletKey, never through driftpy")


class DriftVenue(DriftHistory):
    """See the module docstring."""

    has: Mapping[str, bool] = MappingProxyType(
        {
            "createOrder": True,
            "cancelOrder": True,
            "modifyOrder": True,
            "market": True,
            "limit": True,
            "stopMarket": True,
            "fetchOrder": True,
            "fetchOpenOrders": True,
            "fetchMyTrades": True,
            "fetchBalance": True,
            "fetchPositions": True,
            "idempotentClientOrderId": True,
            "postOnly": True,
            "reduceOnly": True,
        }
    )

    def __init__(
        self,
        rpc: SolanaRpc,
        sender: TransactionSender,
        key: WalletKey,
        ids: OrderIds,
        settings: DriftSettings | None = None,
        *,
        name: str = "DRIFT",
        clock: Callable[[], int] = time.time_ns,
    ) -> None:

        self.name, self.rpc, self.sender, self.key, self.ids = name, rpc, sender, key, ids
        self.settings = settings if settings is not None else DriftSettings()
        self.clock = clock
        self.drift: Any = self._client([])
        self.user_key = self.drift.get_user_account_public_key(self.settings.sub_account_id)
        self.markets: dict[InstrumentId, int] = {
            InstrumentId(s, name): i for s, i in self.settings.markets.items()
        }
        self.symbols = {i: iid for iid, i in self.markets.items()}
        self._instruments: dict[InstrumentId, Instrument] = {}
        self._queue: asyncio.Queue[DriftEvent] = asyncio.Queue()
        self._watching: set[str] = set()
        self._reserving: set[str] = set()  # ids taken by create_order calls not journaled yet
        self._watcher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.margin_mismatches: Counter[str] = Counter()
        self.last_margin: tuple[MarginFigures, MarginFigures] | None = None

    def __repr__(self) -> str:
        return f"DriftVenue({self.name}, user={self.user_key}, wallet={self.key.address})"

    # lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> list[DriftEvent]:
        """Resolve what a previous run left pending, subscribe to the accounts, read the markets and the
        log history since the cursor; returns (and streams) the events found."""
        self._forget_unsent()
        before = [e.signature for e in self.sender.journal.entries("pending") if self._mine(e)]
        for i in range(0, len(before), 256):  # only this venue's rows: others sharing the journal keep theirs
            await self.sender.statuses(before[i : i + 256])
        oracles = await self._load_markets()
        self.drift = self._client(oracles)
        await self.drift.subscribe()
        if await self.rpc.account_data(self.user_key) is None:
            if not self.settings.initialize_user:
                raise DataError(
                    f"no Drift user account {self.user_key} for {self.key.address}; "
                    "create it or set drift.initialize_user = true"
                )
            await self._initialize_user()
        await self.drift.add_user(self.settings.sub_account_id)
        await self.refresh()
        events = await self.poll(also=before)
        await self._release_closed()
        self._ensure_watcher()
        return events

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        with contextlib.suppress(Exception):
            await self.drift.unsubscribe()
        await self.rpc.close()

    async def __aenter__(self) -> DriftVenue:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _ensure_watcher(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            try:
                await self.poll()
            except Retryable:
                pass
            except Exception:  # the watcher survives: logged, tried again next round
                log.exception("drift watcher")
            await asyncio.sleep(self.settings.poll_interval_s)

    async def stream(self) -> AsyncIterator[DriftEvent]:
        self._ensure_watcher()
        while True:
            yield await self._queue.get()

    # accounts ---------------------------------------------------------------------------------------
    def _client(self, oracles: list[Any]) -> Any:
        """driftpy's client over our RPC connection, reading the markets, the USDC spot market and `oracles`
        through its cached subscriber (refreshed by `refresh`)."""
        from driftpy.account_subscription_config import AccountSubscriptionConfig
        from driftpy.drift_client import DriftClient

        client = DriftClient(
            self.rpc.client,
            _PublicWallet(self.key.pubkey),  # type: ignore[arg-type]
            env="mainnet",
            account_subscription=AccountSubscriptionConfig("cached"),
            perp_market_indexes=sorted(self.settings.markets.values()),
            spot_market_indexes=[0],
            oracle_infos=oracles,
            sub_account_ids=[self.settings.sub_account_id],
            active_sub_account_id=self.settings.sub_account_id,
            market_lookup_tables=[],
        )
        check_idl_version(str(client.program.idl.version))
        return client

    async def _load_markets(self) -> list[Any]:
        """The instruments from the PerpMarket accounts (grids, margin fractions) and the client that reads
        their oracles; a market index whose account is missing or names another symbol is a one-line
        `DataError`."""
        from driftpy.addresses import get_perp_market_public_key
        from driftpy.types import OracleInfo

        oracles = []
        for iid, idx in self.markets.items():
            key = get_perp_market_public_key(self.drift.program_id, idx)
            m = decode_account(self.drift.program.coder, "PerpMarket", await self.rpc.account_data(key))
            name = bytes(m.name).decode(errors="replace").strip("\x00 ")
            if name != iid.symbol or m.market_index != idx:
                raise DataError(f"Drift perp market {idx} is {name!r} on chain, not {iid.symbol}")
            amm = m.amm
            oracles.append(OracleInfo(amm.oracle, amm.oracle_source))
            self._instruments[iid] = Perp(
                iid,
                iid.symbol.removesuffix("-PERP"),
                QUOTE,
                tick_size=_dec(amm.order_tick_size, 6),
                lot_size=_dec(amm.order_step_size, 9),
                min_size=_dec(amm.min_order_size, 9),
                initial_margin=_dec(m.margin_ratio_initial, 4),
                maintenance_margin=_dec(m.margin_ratio_maintenance, 4),
                funding_period_s=int(amm.funding_period) or 3600,
            )
        return oracles

    async def refresh(self) -> None:
        """Re-read the markets, oracles and the user account through driftpy's cached subscriber."""
        await self.drift.account_subscriber.update_cache()
        with contextlib.suppress(KeyError):
            await self.drift.get_user(self.settings.sub_account_id).account_subscriber.update_cache()

    def _user(self) -> Any:
        return self.drift.get_user(self.settings.sub_account_id)

    def _account(self) -> Any:
        acc = self._user().get_user_account()
        if acc is None:
            raise Retryable("the Drift user account is not loaded yet")
        return acc

    # the port ---------------------------------------------------------------------------------------
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return dict(self._instruments)

    def _market(self, iid: InstrumentId) -> tuple[int, Instrument]:
        if iid not in self._instruments:
            raise InvalidOrder(
                f"{self.name} lists {', '.join(map(str, self._instruments))}, not {iid}",
                reason="unknown_instrument",
            )
        return self.markets[iid], self._instruments[iid]

    def order_params(self, order: Order, idx: int, inst: Instrument, uid: int) -> Any:
        """driftpy's `OrderParams` of `order` in market `idx` with user order id `uid`; sizes and prices
        checked on the market's grids (`InvalidOrder` off them)."""
        from driftpy import types as T

        qty = inst.check_qty(order.amount)
        price = inst.check_price(order.price) if order.price is not None else None
        trigger = inst.check_price(order.trigger_price) if order.trigger_price is not None else None
        buy = order.side is Side.BUY
        kind: Any
        if order.order_type is OrderType.MARKET:
            kind = T.OrderType.Market()
        elif order.order_type is OrderType.LIMIT:
            kind = T.OrderType.TriggerLimit() if trigger is not None else T.OrderType.Limit()
        else:
            kind = T.OrderType.TriggerMarket()
        cond = None
        if trigger is not None:  # a stop: a sell triggers below, a buy above
            cond = T.OrderTriggerCondition.Above() if buy else T.OrderTriggerCondition.Below()
        return T.OrderParams(
            order_type=kind,
            market_type=T.MarketType.Perp(),
            direction=T.PositionDirection.Long() if buy else T.PositionDirection.Short(),
            user_order_id=uid,
            base_asset_amount=int(qty.scaleb(9)),
            price=int(price.scaleb(6)) if price is not None else 0,
            market_index=idx,
            reduce_only=order.reduce_only,
            post_only=T.PostOnlyParams.MustPostOnly()
            if order.tif is TimeInForce.POST_ONLY
            else T.PostOnlyParams.NONE(),
            bit_flags=1 if order.tif in (TimeInForce.IOC, TimeInForce.FOK) else 0,
            trigger_price=int(trigger.scaleb(6)) if trigger is not None else None,
            trigger_condition=cond or T.OrderTriggerCondition.Above(),
        )

    async def create_order(self, order: Order) -> OrderAck:
        idx, inst = self._market(order.instrument)
        self._ensure_watcher()
        previous = [e for e in self.sender.journal.for_order(order.client_order_id) if self._mine(e)]
        if previous:
            return await self._known(previous[-1])
        self.order_params(order, idx, inst, 1)  # grids checked before an id is taken
        detail = {
            "venue": self.name,
            "instrument": str(order.instrument),
            "side": order.side.value,
            "amount": str(order.amount),
            "type": order.order_type.value,
            "ts_ns": self.clock(),
        }
        try:
            slot = self.ids.allocate(order.client_order_id, detail, self.clock())
        except IdSpaceExhausted as exc:
            raise Rejected(
                f"{self.name}: {exc}; order {order.client_order_id} not sent",
                reason="user_order_id_exhausted",
            ) from None
        self._reserving.add(order.client_order_id)
        try:
            params = self.order_params(order, idx, inst, slot.user_order_id)
            async with self._lock:
                await self.refresh()
                take = (
                    order.order_type is OrderType.MARKET and self.settings.market_orders == "place_and_take"
                )
                ix = (
                    self.drift.get_place_and_take_perp_order_ix(params)
                    if take
                    else self.drift.get_place_perp_order_ix(params)
                )
                sig = await self._send(
                    [ix],
                    order.client_order_id,
                    {**detail, "user_order_id": slot.user_order_id, "action": "place"},
                )
        except BaseException:
            if not self._journaled(order.client_order_id):  # never sent: the id is free again
                self.ids.forget(order.client_order_id)
            raise
        finally:
            self._reserving.discard(order.client_order_id)
        row = self.sender.journal.get(sig)
        if row is not None and row.state == "failed" and row.slot is None:  # refused in preflight
            self.ids.release(order.client_order_id)
            code = custom_error(row.err)
            reason = ERROR_REASONS.get(code[1], "transaction_failed") if code else "transaction_failed"
            raise Rejected(f"{self.name} refused {order.client_order_id}: {row.err}", reason=reason)
        return OrderAck(self.clock(), order.client_order_id, signature=sig)

    def _journaled(self, client_order_id: str) -> bool:
        return any(self._mine(e) for e in self.sender.journal.for_order(client_order_id))

    def _forget_unsent(self) -> None:
        """Slots taken by a process that died before journaling the order's transaction: never sent, so
        dropped (the order was never reached and its id is free)."""
        for slot in self.ids.slots(open_only=True):
            if slot.detail.get("venue") != self.name or slot.client_order_id in self._reserving:
                continue  # another Drift venue's slot in a shared file, or an order being sent now
            if not self._journaled(slot.client_order_id):
                log.warning(
                    "drift: order %s took user order id %d but was never journaled nor sent; id freed",
                    slot.client_order_id,
                    slot.user_order_id,
                )
                self.ids.forget(slot.client_order_id)

    async def _send(self, ixs: list[Instruction], journal_id: str, detail: Mapping[str, Any]) -> str:
        s = self.settings
        budget = [set_compute_unit_limit(s.compute_unit_limit)]
        if s.compute_unit_price:
            budget.append(set_compute_unit_price(s.compute_unit_price))
        latest = await self.rpc.latest_blockhash()
        msg = MessageV0.try_compile(self.key.pubkey, [*budget, *ixs], [], latest.blockhash)
        signed = self.key.sign(VersionedTransaction.populate(msg, [Signature.default()]))
        sig = str(signed.signatures[0])
        self._watching.add(sig)  # watched even if the send raises: the row is journaled first
        await self.sender.send(
            signed, latest.last_valid_block_height, client_order_id=journal_id, detail=detail
        )
        return sig

    async def _known(self, e: JournalEntry) -> OrderAck:
        if e.state == "pending":
            out = await self.sender.status(e.signature)
            if not out.final:
                await self.sender.rebroadcast(e.signature)
        return OrderAck(self.clock(), e.client_order_id, signature=e.signature)

    async def _landed_slot(self, client_order_id: str) -> Slot:
        """The order's slot once its place transaction landed (waits up to ``confirm_timeout_s``)."""
        slot = self.ids.get(client_order_id)
        entries = [e for e in self.sender.journal.for_order(client_order_id) if self._mine(e)]
        if slot is None or not entries:
            raise OrderNotFound(f"{self.name} has no order {client_order_id}")
        last = entries[-1]
        if last.state == "pending":
            out = await self.sender.confirm(last.signature, timeout_s=self.settings.confirm_timeout_s)
            if not out.final:
                raise Retryable(f"the order {client_order_id} is not on chain yet")
        await self.poll()
        slot = self.ids.get(client_order_id)
        assert slot is not None
        if not slot.open:
            raise OrderNotFound(f"{self.name}: order {client_order_id} is closed")
        return slot

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        """``cancel_order_by_user_id``, once: while an earlier cancel of the order is pending it is
        re-broadcast (the same bytes), never a second one sent."""
        slot = await self._landed_slot(client_order_id)
        cancels = self.sender.journal.for_order(f"{client_order_id}#cancel")
        if cancels and cancels[-1].state in ("pending", "landed"):
            await self._known(cancels[-1])
            return CancelAck(self.clock(), client_order_id)
        async with self._lock:
            await self.refresh()
            ix = self.drift.get_cancel_order_by_user_id_ix(slot.user_order_id)
            detail = {"venue": self.name, "action": "cancel", "order": client_order_id}
            await self._send([ix], f"{client_order_id}#cancel", detail)
        return CancelAck(self.clock(), client_order_id)

    async def modify_order(
        self,
        client_order_id: str,
        *,
        price: Decimal | None = None,
        amount: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> str:
        """``modify_order_by_user_id``: the program cancels the order and places the merged one under the
        same user order id. Returns the transaction's signature."""
        from driftpy.types import ModifyOrderParams

        slot = await self._landed_slot(client_order_id)
        inst = self._instruments[InstrumentId.parse(slot.detail["instrument"])]
        mp = ModifyOrderParams(
            price=int(inst.check_price(price).scaleb(6)) if price is not None else None,
            base_asset_amount=int(inst.check_qty(amount).scaleb(9)) if amount is not None else None,
            trigger_price=int(inst.check_price(trigger_price).scaleb(6))
            if trigger_price is not None
            else None,
        )
        async with self._lock:
            await self.refresh()
            ix = self.drift.get_modify_order_by_user_id_ix(slot.user_order_id, mp)
            n = 1
            while self.sender.journal.for_order(f"{client_order_id}#modify-{n}"):
                n += 1
            return await self._send(
                [ix],
                f"{client_order_id}#modify-{n}",
                {"venue": self.name, "action": "modify", "order": client_order_id},
            )

    async def cancel_all_orders(self, instrument: InstrumentId | None = None) -> Sequence[CancelAck]:
        out = []
        for rep in await self.fetch_open_orders(instrument):
            with contextlib.suppress(OrderNotFound):
                out.append(await self.cancel_order(rep.client_order_id))
        return out

    async def settle_pnl(self, instrument: InstrumentId, journal_id: str) -> str:
        idx, _ = self._market(instrument)
        async with self._lock:
            await self.refresh()
            ix = self.drift.get_settle_pnl_ix(self.user_key, self._account(), idx)
            return await self._send([ix], journal_id, {"venue": self.name, "action": "settle_pnl"})

    async def deposit(self, amount: Decimal, journal_id: str, token_account: Pubkey) -> str:
        """Deposit `amount` USDC (on the 1e-6 grid) from `token_account` into spot market 0."""
        native = self._usdc_native(amount)
        async with self._lock:
            await self.refresh()
            ixs = await self.drift.get_deposit_collateral_ix(native, 0, token_account)
            return await self._send(
                list(ixs) if isinstance(ixs, list) else [ixs],
                journal_id,
                {"venue": self.name, "action": "deposit", "amount": str(amount)},
            )

    async def withdraw(self, amount: Decimal, journal_id: str, token_account: Pubkey) -> str:
        native = self._usdc_native(amount)
        async with self._lock:
            await self.refresh()
            ixs = await self.drift.get_withdraw_collateral_ix(native, 0, token_account)
            return await self._send(
                list(ixs) if isinstance(ixs, list) else [ixs],
                journal_id,
                {"venue": self.name, "action": "withdraw", "amount": str(amount)},
            )

    @staticmethod
    def _usdc_native(amount: Decimal) -> int:
        native = Decimal(amount).scaleb(6)
        if native <= 0 or native != native.to_integral_value():
            raise InvalidOrder(
                f"{amount} USDC is not a positive whole number of 1e-6 units", reason="off_grid"
            )
        return int(native)

    async def _initialize_user(self) -> None:
        ixs = [
            self.drift.get_initialize_user_stats(),
            self.drift.get_initialize_user_instructions(self.settings.sub_account_id),
        ]
        sig = await self._send(ixs, f"{self.user_key}#init", {"venue": self.name, "action": "init"})
        out = await self.sender.confirm(sig, timeout_s=self.settings.confirm_timeout_s)
        if out.state != "landed":
            raise DataError(f"creating the Drift user account failed: {out.state} {out.err or ''}")

    async def mass_status(self, since_ns: int | None = None) -> MassStatus:
        await self.poll()
        fills = self._fills_of()
        orders = [
            await self._report(s, fills.get(s.client_order_id, []))
            for s in self.ids.slots()
            if since_ns is None or int(s.detail.get("ts_ns", 0)) >= since_ns
        ]
        trades = await self.fetch_my_trades(since_ns)
        balances = await self.fetch_balance()
        positions = await self.fetch_positions()
        await self.reconcile_margin()
        return MassStatus(
            self.name,
            self.clock(),
            tuple(orders),
            tuple(trades),
            tuple(positions),
            tuple(sorted(balances.items())),
        )

    def _oracle(self, idx: int) -> int:
        data = self.drift.get_oracle_price_data_for_perp_market(idx)
        if data is None:
            raise Retryable(f"no oracle price for Drift perp market {idx} yet")
        return int(data.price)

    # margin -----------------------------------------------------------------------------------------
    async def reconcile_margin(self) -> list[tuple[str, object, object]]:
        """Compare driftpy's margin figures with the project's (module docstring); returns the mismatches."""
        await self.refresh()
        user = self._user()
        idxs = sorted(self.markets.values())
        venue = venue_figures(user, idxs)
        markets = {i: self.drift.get_perp_market_account(i) for i in idxs}
        oracles = {i: self._oracle(i) for i in idxs}
        ours = own_figures(self._account(), self.drift.get_spot_market_account(0), markets, oracles)
        self.last_margin = (venue, ours)
        bad = compare(venue, ours, self.settings.margin_tolerance)
        for figure, theirs, mine in bad:
            self.margin_mismatches[figure] += 1
            log.warning("drift margin mismatch: %s venue=%s ours=%s", figure, theirs, mine)
        return bad
