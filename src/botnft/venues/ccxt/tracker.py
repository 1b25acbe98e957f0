"""Turns what the exchange reports into venue events: polls the orders a client knows and its trades, and
emits `OrderAccepted` once, each `OrderFilled` once (by trade id), then the closing event (canceled, expired,
rejected). A fill is never emitted twice, however often it is reported."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botnft.domain.events import OrderAccepted, OrderCanceled, OrderExpired, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import OrderStatus
from botnft.domain.reports import OrderStatusReport

if TYPE_CHECKING:
    from botnft.venues.ccxt.client import CcxtExecutionClient

LOOKBACK_NS = 60 * 1_000_000_000
OVERLAP_NS = 5 * 1_000_000_000


class OrderTracker:
    def __init__(self, client: CcxtExecutionClient) -> None:
        self.client = client
        self.since_ns = client.now_ns() - LOOKBACK_NS
        self.watched: set[str] = set()
        self.accepted: set[str] = set()
        self.closed: set[str] = set()
        self.trades_seen: set[str] = set()
        self.filled: dict[str, Decimal] = {}
        self.reports: dict[str, OrderStatusReport] = {}
        self.cid_by_venue_id: dict[str, str] = {}

    def watch(self, cid: str) -> None:
        self.watched.add(cid)

    def forget(self, cid: str) -> None:
        self.watched.discard(cid)

    def learn(self, rep: OrderStatusReport) -> None:
        self.reports[rep.client_order_id] = rep
        if rep.venue_order_id is not None:
            self.cid_by_venue_id[rep.venue_order_id] = rep.client_order_id

    async def client_id_of(self, inst: InstrumentId, venue_order_id: str) -> str:
        """Our client id of a venue order id (asked from the venue once if this client never saw it)."""
        cid = self.cid_by_venue_id.get(venue_order_id)
        if cid is None:
            ex = self.client.exchange
            raw: Any = await self.client.call(
                "fetch_order", ex.fetch_order, venue_order_id, self.client.symbol(inst)
            )
            cid = str(raw.get("clientOrderId") or venue_order_id)
            self.cid_by_venue_id[venue_order_id] = cid
        return cid

    async def poll(self) -> list[Any]:
        """One round: the watched orders' states, then the trades, then the closing events."""
        open_ids = sorted(self.watched - self.closed)
        if not open_ids:
            return []
        reports: dict[str, OrderStatusReport] = {}
        known = self.client.known_orders()
        for inst in sorted({known[c] for c in open_ids if c in known}):
            # one request per instrument for the working orders (not one per order: rate limits)
            for rep in await self.client.fetch_open_orders(inst):
                if rep.client_order_id in self.watched:
                    reports[rep.client_order_id] = rep
        for cid in open_ids:
            if cid not in reports:  # closed since, not yet visible, or never sent: ask for it alone
                one = await self.client.fetch_order(cid)
                if one is not None:
                    reports[cid] = one
        events: list[Any] = []
        for cid, rep in reports.items():
            if (
                cid not in self.accepted
                and rep.venue_order_id is not None
                and rep.status is not OrderStatus.REJECTED
            ):
                self.accepted.add(cid)
                events.append(OrderAccepted(rep.ts_ns, cid, rep.venue_order_id))
        if reports:
            fills = await self.client.fetch_my_trades(self.since_ns)
            if fills:
                # the next round starts a little before the latest trade listed, and never after a trade of
                # a watched order this round could not place yet (its order was not reported)
                waiting = [
                    f.ts_ns
                    for f in fills
                    if f.client_order_id in self.watched
                    and f.client_order_id not in reports
                    and f.client_order_id not in self.closed
                ]
                nxt = min([max(f.ts_ns for f in fills) - OVERLAP_NS, *waiting])
                self.since_ns = max(self.since_ns, nxt)
            for f in fills:
                if f.client_order_id not in reports or f.trade_id in self.trades_seen:
                    continue
                self.trades_seen.add(f.trade_id)
                self.filled[f.client_order_id] = self.filled.get(f.client_order_id, Decimal(0)) + f.qty
                events.append(
                    OrderFilled(
                        f.ts_ns,
                        f.client_order_id,
                        f.instrument,
                        f.side,
                        f.qty,
                        f.price,
                        f.fee,
                        f.fee_asset,
                        liquidity=f.liquidity,
                        trade_id=f.trade_id,
                    )
                )
        for cid, rep in reports.items():
            if not rep.status.is_terminal or self.filled.get(cid, Decimal(0)) < rep.filled:
                continue  # still working, or a fill not yet listed: look again next round
            self.closed.add(cid)
            if rep.status is OrderStatus.CANCELED:
                events.append(OrderCanceled(rep.ts_ns, cid))
            elif rep.status is OrderStatus.EXPIRED:
                events.append(OrderExpired(rep.ts_ns, cid))
            elif rep.status is OrderStatus.REJECTED:
                events.append(
                    OrderRejected(rep.ts_ns, cid, rep.instrument, "rejected", "rejected by the venue")
                )
        return events
