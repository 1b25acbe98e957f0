"""What the chain says about one of our OpenBook orders, computed from what was read (no I/O here): the
taker fill from the order transaction's ``TotalOrderFillEvent`` log, maker fills from the event heap and the
book, whether the order still rests, and its status.

Maker fills. A ``FillEvent`` on the heap with our open-orders account as maker and our u64 client order id
is one fill (trade id ``<taker seq_num>:<maker slot>:<timestamp>``). An event consumed by a cranker before
we read it is gone; the book still tells: what the order posted minus its leaf's quantity (or all of it when
its leaf is gone and we did not cancel it) has traded, so the part no event reported is one more fill at the
order's own price (trade id ``book:<u64>:<traded lots>``), read from the same `getMultipleAccounts` as the
heap (one slot), so no lot is counted twice. An order gone from the book while our cancel transaction is still
undecided stays undecided until the cancel is (landed: canceled; failed or expired: traded).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from solders.pubkey import Pubkey

from botnft.domain.events import OrderFilled
from botnft.domain.instruments import Instrument
from botnft.domain.orders import OrderStatus, Side
from botnft.domain.reports import FillReport, OrderStatusReport
from botnft.venues.openbook.idl import openbook_idl
from botnft.venues.openbook.layouts import BookOrder, FillEvent, HeapEvent, Market, OpenOrdersAccount
from botnft.venues.sim.openbook_math import maker_fees_floor, maker_rebate_floor
from botnft.venues.solana.journal import JournalEntry

__all__ = [
    "OrderTrack",
    "Progress",
    "fill_event",
    "fill_reports",
    "in_market",
    "order_report",
    "order_status",
    "progress",
    "taker_fill",
]

POSTING = ("Limit", "PostOnly")


@dataclass
class OrderTrack:
    """One order of ours: its journal row, what it asked (base lots, placeOrder type) and what happened.
    `taker`: (base lots, quote native without the fee, fee native); `maker`: trade id -> (lots, price lots,
    fee native, negative for a rebate)."""

    entry: JournalEntry
    lots: int
    kind: str
    taker: tuple[int, int, int] | None = None
    maker: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    resting: bool = False
    canceled: bool = False
    cancel_pending: bool = False
    closed: bool = False
    accepted: bool = False
    ts_ns: int = 0

    @classmethod
    def of(cls, e: JournalEntry) -> OrderTrack:
        return cls(e, int(e.detail["lots"]), str(e.detail["type"]), ts_ns=int(e.detail.get("ts_ns", 0)))

    @property
    def cid(self) -> str:
        return self.entry.client_order_id

    @property
    def u64(self) -> int:
        return int(self.entry.detail["cid_u64"])

    @property
    def price_lots(self) -> int:
        return int(self.entry.detail["price_lots"])

    @property
    def maker_lots(self) -> int:
        return sum(v[0] for v in self.maker.values())

    @property
    def filled_lots(self) -> int:
        return (self.taker[0] if self.taker else 0) + self.maker_lots


def taker_fill(logs: Iterable[str], open_orders: Pubkey, base_lot_size: int) -> tuple[int, int, int]:
    """(base lots, quote native without fee, taker fee native) of the ``TotalOrderFillEvent`` lines of
    `open_orders` in a transaction's logs; zeros when it took nothing."""
    base = quote = fee = 0
    idl = openbook_idl()
    for line in logs:
        if not line.startswith("Program data: "):
            continue
        ev = idl.decode_event(base64.b64decode(line.removeprefix("Program data: ")))
        if ev is None or ev[0] != "TotalOrderFillEvent" or ev[1].taker != open_orders:
            continue
        f = ev[1]
        bid = f.side == 0
        base_native = f.total_quantity_received if bid else f.total_quantity_paid
        quote += f.total_quantity_paid - f.fees if bid else f.total_quantity_received + f.fees
        base += base_native // base_lot_size
        fee += f.fees
    return base, quote, fee


@dataclass(frozen=True, slots=True)
class Progress:
    """New maker fills (trade id, lots, price lots), whether the order rests, why it closed (None: open or
    filled)."""

    fills: tuple[tuple[str, int, int], ...]
    resting: bool
    closed: bool
    cancel_reason: str | None


def progress(
    t: OrderTrack,
    oo: OpenOrdersAccount,
    leaves: Mapping[int, BookOrder],
    heap: Sequence[HeapEvent],
    us: Pubkey,
) -> Progress:
    """What one read of the open-orders account, our leaves (by u64 client id) and the heap says about `t`."""
    fills: list[tuple[str, int, int]] = []
    seen = dict(t.maker)
    for e in heap:
        if isinstance(e, FillEvent) and e.maker == us and e.maker_client_order_id == t.u64:
            tid = f"{e.seq_num}:{e.maker_slot}:{e.timestamp}"
            if tid not in seen:
                fills.append((tid, e.quantity, e.price))
                seen[tid] = (e.quantity, e.price, 0)
    leaf, slot = leaves.get(t.u64), oo.by_client_id(t.u64)
    if leaf is None and slot is None and t.cancel_pending:
        # gone while our cancel is in flight: filled or canceled is for the cancel's outcome to say
        return Progress(tuple(fills), False, False, None)
    posted = t.lots - (t.taker[0] if t.taker else 0) if t.kind in POSTING else 0
    known = sum(v[0] for v in seen.values())
    if leaf is not None:
        traded = posted - leaf.quantity
    elif t.kind == "PostOnly" and slot is None and not seen and not t.canceled:
        traded = 0  # never posted: it would have crossed (the program posts nothing, silently)
    elif slot is not None or not t.canceled:
        traded = posted  # off the book and not canceled by us: all of it traded
    else:
        traded = known
    if traded > known:
        fills.append((f"book:{t.u64}:{traded}", traded - known, t.price_lots))
        known = traded
    filled = (t.taker[0] if t.taker else 0) + known
    if filled >= t.lots:
        return Progress(tuple(fills), False, True, None)
    if leaf is None and slot is None:
        reason = (
            "canceled" if t.canceled else {"PostOnly": "post_only_would_cross"}.get(t.kind, "ioc_remainder")
        )
        return Progress(tuple(fills), False, True, reason)
    return Progress(tuple(fills), leaf is not None, False, None)


def order_status(t: OrderTrack) -> OrderStatus:
    state = t.entry.state
    if state != "landed":
        return {
            "pending": OrderStatus.SUBMITTED,
            "failed": OrderStatus.REJECTED,
            "expired": OrderStatus.EXPIRED,
        }[state]
    if t.filled_lots >= t.lots:
        return OrderStatus.FILLED
    if t.closed:
        return OrderStatus.CANCELED
    return OrderStatus.PARTIALLY_FILLED if t.filled_lots else OrderStatus.ACCEPTED


def fill_event(
    t: OrderTrack,
    inst: Instrument,
    m: Market,
    trade_id: str,
    amounts: tuple[int, int, int],
    liquidity: str,
    ts: int,
) -> OrderFilled:
    """One fill of `t`: `amounts` = (base lots, quote native without fee, fee native); the price is the
    quote over the size (on the tick grid when it falls on it), the fee in the quote asset."""
    lots, quote, fee = amounts
    qty = lots * inst.lot_size
    notional = Decimal(quote).scaleb(-m.quote_decimals)
    price = notional / qty
    if price % inst.tick_size == 0:
        price = price.quantize(inst.tick_size)
    return OrderFilled(ts, t.cid, inst.id, Side(t.entry.detail["side"]), qty, price,
                       Decimal(fee).scaleb(-m.quote_decimals), inst.quote, liquidity, quote_qty=notional,
                       trade_id=trade_id)  # fmt: skip


def order_report(t: OrderTrack, inst: Instrument, m: Market, ts: int) -> OrderStatusReport:
    quote = (t.taker[1] if t.taker else 0) + sum(v[0] * v[1] * m.quote_lot_size for v in t.maker.values())
    filled = t.filled_lots * inst.lot_size
    avg = Decimal(quote).scaleb(-m.quote_decimals) / filled if filled else None
    d, sig = t.entry.detail, t.entry.signature
    return OrderStatusReport(ts, t.cid, sig, inst.id, Side(d["side"]), Decimal(d["amount"]), filled,
                             order_status(t), avg, sig)  # fmt: skip


def in_market(oo: OpenOrdersAccount, heap: Sequence[HeapEvent], us: Pubkey, m: Market) -> tuple[int, int]:
    """(base, quote) native the open-orders account holds for its owner: free, locked in resting orders
    (asks' base; bids' quote and maker-fee lock), and the effect of the fill events of its orders that no
    cranker has consumed yet (the program credits the maker only then: the fill's base and quote, less the
    maker fee or plus the rebate)."""
    base = oo.base_free_native + oo.asks_base_lots * m.base_lot_size
    quote = oo.quote_free_native + oo.bids_quote_lots * m.quote_lot_size + oo.locked_maker_fees
    for e in heap:
        if not isinstance(e, FillEvent) or e.maker != us:
            continue
        q = e.price * e.quantity * m.quote_lot_size
        fee = (
            0 if e.maker == e.taker else maker_fees_floor(q, m.maker_fee) - maker_rebate_floor(q, m.maker_fee)
        )
        sign = 1 if e.taker_side == 1 else -1  # the taker sold: our bid bought base with quote
        base += sign * e.quantity * m.base_lot_size
        quote += -sign * q - fee
    return base, quote


def fill_reports(tracks: Iterable[OrderTrack], inst: Instrument, m: Market, ts: int) -> list[FillReport]:
    """Every fill known of `tracks`: the taker part (trade id ``<signature>:taker``), then the maker fills."""
    out = []
    for t in tracks:
        parts = (
            [(f"{t.entry.signature}:taker", *t.taker, "taker")] if t.taker is not None and t.taker[0] else []
        )
        parts += [
            (k, lots, lots * price * m.quote_lot_size, fee, "maker")
            for k, (lots, price, fee) in t.maker.items()
        ]
        for tid, lots, quote, fee, liq in parts:
            f = fill_event(t, inst, m, tid, (lots, quote, fee), liq, ts)
            out.append(
                FillReport(
                    f.ts_ns,
                    tid,
                    t.cid,
                    t.entry.signature,
                    inst.id,
                    f.side,
                    f.qty,
                    f.price,
                    f.fee,
                    f.fee_asset,
                    liq,
                )
            )
    return out
