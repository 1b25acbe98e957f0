"""The Drift adapter's reading side (`DriftHistory`, a part of `client.DriftVenue`): the program's events in
the user account's transactions turned into the node's events once each, and the reports computed from that
history and the User account (see the `client` module docstring)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from solders.pubkey import Pubkey
from solders.signature import Signature

from botnft.domain.errors import Retryable
from botnft.domain.events import (
    FundingApplied,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    PositionLiquidated,
)
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.orders import OrderStatus, Side
from botnft.domain.reports import FillReport, OrderStatusReport, PositionReport
from botnft.venues.drift.chain import events_in_logs
from botnft.venues.drift.ids import OrderIds, Slot
from botnft.venues.drift.margin import usdc_amount
from botnft.venues.solana.journal import JournalEntry
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender, custom_error

__all__ = ["ERROR_REASONS", "QUOTE", "DriftEvent", "DriftHistory"]

QUOTE = "USDC"
ERROR_REASONS: Mapping[int, str] = {
    6003: "insufficient_collateral",
    6064: "reduce_only_would_increase",
    6057: "post_only_would_cross",
    6191: "outside_oracle_band",
    6060: "too_many_orders",
    6035: "oracle_invalid",
    6078: "unknown_market",
    6047: "size_too_small",
    6071: "user_order_id_in_use",
    6061: "order_does_not_exist",
    6042: "invalid_order",
    6002: "insufficient_deposit",
}
DriftEvent = (
    OrderAccepted
    | OrderFilled
    | OrderCanceled
    | OrderExpired
    | OrderRejected
    | FundingApplied
    | PositionLiquidated
)


def _dec(n: int, exp: int) -> Decimal:
    return Decimal(n).scaleb(-exp)


class DriftHistory:
    """The events and reports half of `DriftVenue`."""

    name: str
    rpc: SolanaRpc
    sender: TransactionSender
    ids: OrderIds
    drift: Any
    user_key: Pubkey
    symbols: dict[int, InstrumentId]
    clock: Callable[[], int]
    _instruments: dict[InstrumentId, Instrument]
    _watching: set[str]
    _queue: asyncio.Queue[Any]

    def _mine(self, e: JournalEntry) -> bool:
        return e.detail.get("venue") == self.name

    async def refresh(self) -> None:
        raise NotImplementedError

    def _account(self) -> Any:
        raise NotImplementedError

    # the log history --------------------------------------------------------------------------------
    async def poll(self, *, also: Sequence[str] = ()) -> list[DriftEvent]:
        """Settle the watched transactions, read the user account's new transactions, and emit (once each)
        the events in them (module docstring)."""
        journal = self.sender.journal
        self._watching.update(also)
        pending = [s for s in self._watching if (e := journal.get(s)) is not None and e.state == "pending"]
        if pending:
            await self.sender.statuses(pending)
        out: list[DriftEvent] = []
        for sig in sorted(self._watching):
            e = journal.get(sig)
            if e is None or not e.final:
                continue
            self._watching.discard(sig)
            if e.state != "landed" and e.detail.get("action") == "place":
                out += self._place_failed(e)
        out += await self._read_history()
        for ev in out:
            self._queue.put_nowait(ev)
        return out

    def _place_failed(self, e: JournalEntry) -> list[DriftEvent]:
        slot = self.ids.get(e.client_order_id)
        if slot is None or not slot.open:
            return []
        self.ids.release(e.client_order_id)
        iid = InstrumentId.parse(e.detail["instrument"])
        if e.state == "expired":
            return [OrderExpired(self.clock(), e.client_order_id)]
        code = custom_error(e.err)
        reason = ERROR_REASONS.get(code[1], "transaction_failed") if code else "transaction_failed"
        return [OrderRejected(self.clock(), e.client_order_id, iid, reason, f"{e.signature}: {e.err}")]

    async def _read_history(self) -> list[DriftEvent]:
        account = str(self.user_key)
        cursor = self.ids.cursor(account)
        new: list[dict[str, Any]] = []
        before: str | None = None
        while True:  # newest first, page by page back to the cursor
            opts: dict[str, Any] = {"limit": 1000, "commitment": "confirmed"}
            if cursor:
                opts["until"] = cursor
            if before:
                opts["before"] = before
            page = await self.rpc.raw("getSignaturesForAddress", [account, opts]) or []
            new += page
            if len(page) < 1000:
                break
            before = page[-1]["signature"]
        out: list[DriftEvent] = []
        for row in reversed(new):
            sig = row["signature"]
            self._restore_slot(sig)
            events: list[tuple[str, dict[str, Any]]] = []
            if row.get("err") is None:
                tx = await self.rpc.transaction(Signature.from_string(sig))
                if tx is None:
                    raise Retryable(f"{sig} is listed but the node has no transaction for it yet")
                meta = tx.transaction.meta
                events = events_in_logs(self.drift.program, list(meta.log_messages or []) if meta else [])
            if self.ids.add_events(sig, int(row["slot"]), events):
                mine = self.sender.journal.get(sig)
                modified = (
                    mine.detail.get("order") if mine and mine.detail.get("action") == "modify" else None
                )
                for pos, (name, body) in enumerate(events):
                    out += self._domain(sig, pos, name, body, modified=modified)
            self.ids.set_cursor(account, sig)
        return out

    def _restore_slot(self, sig: str) -> None:
        """A place transaction of ours whose slot the id file lacks (a new file): back from the journal."""
        e = self.sender.journal.get(sig)
        if e is None or not self._mine(e) or e.detail.get("action") != "place":
            return
        if self.ids.get(e.client_order_id) is None:
            detail = {k: v for k, v in e.detail.items() if k not in ("user_order_id", "action")}
            self.ids.restore(e.client_order_id, int(e.detail["user_order_id"]), detail, e.created_ns)

    def _domain(
        self, sig: str, pos: int, name: str, body: Mapping[str, Any], *, modified: str | None = None
    ) -> list[DriftEvent]:
        """The node's events for one program event of our user (others' are skipped). In our modify of order
        `modified` the program cancels it and places the merged order: the order stays open, its program
        order id changes, and neither is an event for the node."""
        me = str(self.user_key)
        ts = int(body.get("ts", 0)) * 10**9
        if name == "OrderRecord" and body["user"] == me:
            o = body["order"]
            slot = self.ids.open_by_user_id(int(o["user_order_id"])) if o["user_order_id"] else None
            if slot is None:
                return []
            self.ids.set_order_id(slot.client_order_id, int(o["order_id"]))
            if slot.client_order_id == modified:
                return []
            return [OrderAccepted(ts, slot.client_order_id, str(o["order_id"]))]
        if name == "OrderActionRecord":
            for side in ("taker", "maker"):
                if body.get(side) != me:
                    continue
                oid = int(body[f"{side}_order_id"])
                slot = self.ids.by_order_id(oid)
                if slot is None:
                    return []
                cid = slot.client_order_id
                action = body["action"]
                if action in ("FILL", "Fill"):
                    return self._fill(sig, pos, side, slot, body)
                if action in ("CANCEL", "Cancel") and cid == modified:
                    return []
                if action in ("CANCEL", "Cancel", "EXPIRE", "Expire"):
                    self.ids.release(cid)
                    return [OrderCanceled(ts, cid) if action.upper() == "CANCEL" else OrderExpired(ts, cid)]
            return []
        if name == "FundingPaymentRecord" and body["user"] == me:
            idx = int(body["market_index"])
            iid = self.symbols.get(idx)
            if iid is None:
                return []
            base = int(body["base_asset_amount"])
            side = "amm_cumulative_funding_long" if base > 0 else "amm_cumulative_funding_short"
            delta = int(body[side]) - int(body["user_last_cumulative_funding"])  # quote per base, 1e9
            twap = self._oracle_twap(idx)
            rate = Decimal(delta) / (Decimal(twap) * 1000) if twap else Decimal(0)
            paid = -int(body["funding_payment"])  # the program's record: > 0 received; the node's: > 0 paid
            return [FundingApplied(ts, iid, _dec(base, 9), rate, _dec(twap, 6), _dec(paid, 6))]
        if name == "LiquidationRecord" and body["user"] == me and body["liquidation_type"] == "LiquidatePerp":
            lp = body["liquidate_perp"]
            iid = self.symbols.get(int(lp["market_index"]))
            if iid is None:
                return []
            return [
                PositionLiquidated(
                    ts,
                    iid,
                    _dec(int(lp["base_asset_amount"]), 9),
                    _dec(int(lp["oracle_price"]), 6),
                    _dec(int(lp["liquidator_fee"]), 6),
                )
            ]
        return []

    def _oracle_twap(self, idx: int) -> int:
        """The market's oracle TWAP now (1e6; 0 if unknown): the funding event's rate and price are read
        against it, the record itself carrying neither."""
        try:
            m = self.drift.get_perp_market_account(idx)
        except (KeyError, IndexError, AttributeError, ValueError):  # not subscribed yet
            return 0
        return int(m.amm.historical_oracle_data.last_oracle_price_twap) if m is not None else 0

    def _fill(self, sig: str, pos: int, side: str, slot: Slot, body: Mapping[str, Any]) -> list[DriftEvent]:
        done = int(body[f"{side}_order_cumulative_base_asset_amount_filled"]) >= int(
            body[f"{side}_order_base_asset_amount"]
        )
        if done:
            self.ids.release(slot.client_order_id)
        return list(self._fill_event(sig, pos, side, slot, body))

    async def _release_closed(self) -> None:
        """After a restart: an id whose order is no longer open on chain (closed while we were away and not
        in the history we read) is freed."""
        acc = self._account()
        live = {o.user_order_id for o in acc.orders if type(o.status).__name__ == "Open"}
        for slot in self.ids.slots(open_only=True):
            entries = [e for e in self.sender.journal.for_order(slot.client_order_id) if self._mine(e)]
            placed = entries and entries[-1].state == "landed"
            if (placed and slot.user_order_id not in live) or (
                entries and entries[-1].state in ("failed", "expired")
            ):
                self.ids.release(slot.client_order_id)

    # reports ----------------------------------------------------------------------------------------
    def _fills_of(self) -> dict[str, list[FillReport]]:
        out: dict[str, list[FillReport]] = {}
        me = str(self.user_key)
        for sig, pos, _slot, _name, body in self.ids.events("OrderActionRecord"):
            if body["action"] not in ("FILL", "Fill"):
                continue
            for side in ("taker", "maker"):
                if body.get(side) != me:
                    continue
                s = self.ids.by_order_id(int(body[f"{side}_order_id"]))
                if s is None:
                    continue
                (ev,) = self._fill_event(sig, pos, side, s, body)
                out.setdefault(s.client_order_id, []).append(
                    FillReport(
                        ev.ts_ns,
                        ev.trade_id or "",
                        s.client_order_id,
                        str(s.order_id),
                        ev.instrument,
                        ev.side,
                        ev.qty,
                        ev.price,
                        ev.fee,
                        QUOTE,
                        side,
                    )
                )
        return out

    def _fill_event(
        self, sig: str, pos: int, side: str, slot: Slot, body: Mapping[str, Any]
    ) -> list[OrderFilled]:
        base, quote = int(body["base_asset_amount_filled"]), int(body["quote_asset_amount_filled"])
        iid = InstrumentId.parse(slot.detail["instrument"])
        qty = _dec(base, 9)
        tick = self._instruments[iid].tick_size if iid in self._instruments else Decimal("0.000001")
        price = (_dec(quote, 6) / qty).quantize(tick, rounding=ROUND_HALF_EVEN)
        side_ = Side.BUY if body[f"{side}_order_direction"] == "Long" else Side.SELL
        fee = _dec(int(body.get(f"{side}_fee") or 0), 6)
        return [
            OrderFilled(
                int(body["ts"]) * 10**9,
                slot.client_order_id,
                iid,
                side_,
                qty,
                price,
                fee,
                QUOTE,
                side,
                quote_qty=_dec(quote, 6),
                trade_id=f"{sig}:{pos}",
            )
        ]

    def _closing(self, slot: Slot) -> str | None:
        me = str(self.user_key)
        for _sig, _pos, _s, _name, body in self.ids.events("OrderActionRecord"):
            for side in ("taker", "maker"):
                if (
                    body.get(side) == me
                    and int(body[f"{side}_order_id"]) == slot.order_id
                    and body["action"] in ("CANCEL", "Cancel", "EXPIRE", "Expire")
                ):
                    return str(body["action"]).upper()
        return None

    async def _report(self, slot: Slot, fills: list[FillReport]) -> OrderStatusReport:
        entries = [e for e in self.sender.journal.for_order(slot.client_order_id) if self._mine(e)]
        last = entries[-1] if entries else None
        if last is not None and last.state == "pending":
            await self.sender.status(last.signature)
            last = self.sender.journal.get(last.signature)
        iid = InstrumentId.parse(slot.detail["instrument"])
        amount = Decimal(slot.detail["amount"])
        filled = sum((f.qty for f in fills), Decimal(0))
        average = (sum((f.qty * f.price for f in fills), Decimal(0)) / filled) if filled else None
        if last is None or last.state == "pending":
            status = OrderStatus.SUBMITTED
        elif last.state == "failed":
            status = OrderStatus.REJECTED
        elif last.state == "expired":
            status = OrderStatus.EXPIRED
        elif filled >= amount:
            status = OrderStatus.FILLED
        elif slot.open:
            status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.ACCEPTED
        else:
            status = OrderStatus.EXPIRED if self._closing(slot) == "EXPIRE" else OrderStatus.CANCELED
        sig = last.signature if last is not None else None
        vid = str(slot.order_id) if slot.order_id is not None else None
        return OrderStatusReport(
            self.clock(),
            slot.client_order_id,
            vid,
            iid,
            Side(slot.detail["side"]),
            amount,
            filled,
            status,
            average,
            sig,
        )

    async def fetch_order(self, client_order_id: str) -> OrderStatusReport | None:
        """None if the order was never journaled (so never sent); `Retryable` while the node cannot tell."""
        slot = self.ids.get(client_order_id)
        if slot is None or not [e for e in self.sender.journal.for_order(client_order_id) if self._mine(e)]:
            return None
        await self.poll()
        slot = self.ids.get(client_order_id)
        assert slot is not None
        return await self._report(slot, self._fills_of().get(client_order_id, []))

    async def fetch_open_orders(self, instrument: InstrumentId | None = None) -> Sequence[OrderStatusReport]:
        await self.poll()
        fills = self._fills_of()
        out = []
        for slot in self.ids.slots(open_only=True):
            if instrument is not None and slot.detail["instrument"] != str(instrument):
                continue
            rep = await self._report(slot, fills.get(slot.client_order_id, []))
            if rep.status.is_open:
                out.append(rep)
        return out

    async def fetch_my_trades(self, since_ns: int | None = None) -> Sequence[FillReport]:
        await self.poll()
        out = [f for fs in self._fills_of().values() for f in fs]
        return sorted((f for f in out if since_ns is None or f.ts_ns >= since_ns), key=lambda f: f.ts_ns)

    async def fetch_balance(self) -> Mapping[str, Decimal]:
        """USDC: the deposit plus each position's settled-but-not-entered quote (realized PnL, fees and
        funding not yet settled into the deposit), as SimDrift reports it."""
        await self.refresh()
        acc = self._account()
        spot = self.drift.get_spot_market_account(0)
        usdc = usdc_amount(acc, spot)
        usdc += sum(p.quote_asset_amount - p.quote_entry_amount for p in acc.perp_positions)
        return {QUOTE: _dec(usdc, 6)}

    async def fetch_positions(self) -> Sequence[PositionReport]:
        await self.refresh()
        acc = self._account()
        now = self.clock()
        out = []
        for p in acc.perp_positions:
            iid = self.symbols.get(p.market_index)
            if iid is None or p.base_asset_amount == 0:
                continue
            entry = abs(_dec(p.quote_entry_amount, 6) / _dec(p.base_asset_amount, 9))
            out.append(PositionReport(now, iid, _dec(p.base_asset_amount, 9), entry))
        return out
