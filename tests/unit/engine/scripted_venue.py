"""A scripted fake venue for the executor and order-manager tests: it acknowledges only, answers each
request as its script says (ack, refuse, time out, land then time out), and the test plays its stream."""

from __future__ import annotations

from decimal import Decimal as D

from botnft.domain.errors import RequestTimeout
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp
from botnft.domain.liquidity import BookLiquidity
from botnft.domain.orders import Order, OrderStatus
from botnft.domain.reports import OrderStatusReport

LANDS = "lands"  # script entry: the order reaches the venue, but the answer is lost (a timeout)


def perp(venue: str = "FAKE") -> Perp:
    return Perp(InstrumentId("SOL-PERP", venue), "SOL", "USDC", D("0.01"), D("0.01"), D("0.01"))


class ScriptedVenue:
    has = {"createOrder": True, "cancelOrder": True, "fetchOrder": True}

    def __init__(self, instrument: Perp, script=(), fetch_script=(), price: D = D(100), by_signature=False):
        self.instrument = instrument
        self.name = instrument.id.venue
        self.script = list(script)
        self.fetch_script = list(fetch_script)
        self.price = price
        self.by_signature = by_signature
        self.landed: dict[str, Order] = {}
        self.signatures: dict[str, str] = {}
        self.requests: list[str] = []
        self.cancels: list[str] = []
        self.fetches: list[str] = []
        self.fee_rate = D(0)
        self.now = 0

    def instruments(self):
        return {self.instrument.id: self.instrument}

    def create_order(self, order: Order):
        self.requests.append(order.client_order_id)
        action = self.script.pop(0) if self.script else "ack"
        if action == LANDS:
            self._land(order)
            raise RequestTimeout("no answer")
        if isinstance(action, Exception):
            raise action
        self._land(order)
        return []  # an acknowledgement only: everything else comes on the stream

    def _land(self, order: Order) -> None:
        self.landed[order.client_order_id] = order
        self.signatures[order.client_order_id] = f"sig-{order.client_order_id}-{len(self.requests)}"

    def cancel_order(self, client_order_id: str):
        self.cancels.append(client_order_id)
        return []  # the confirmation comes on the stream

    def fetch_order(self, client_order_id: str):
        """Found by client order id, or (a Solana-like venue) by the signature it signed for that id."""
        self.fetches.append(client_order_id)
        if self.fetch_script:
            action = self.fetch_script.pop(0)
            if isinstance(action, Exception):
                raise action
        o = self.landed.get(client_order_id)
        if o is None:
            return None
        sig = self.signatures[client_order_id] if self.by_signature else None
        return OrderStatusReport(
            self.now,
            o.client_order_id,
            "V-" + o.client_order_id,
            o.instrument,
            o.side,
            o.amount,
            D(0),
            OrderStatus.ACCEPTED,
            signature=sig,
        )

    def liquidity(self, instrument):
        if instrument != self.instrument.id:
            return None
        size = D(10) ** 9
        return BookLiquidity(
            instrument=instrument,
            ts_ns=self.now,
            fee_bps=D(0),
            lot=self.instrument.lot_size,
            min_size=self.instrument.min_size,
            bids=((self.price - D("0.01"), size),),
            asks=((self.price, size),),
        )

    # the venue's stream --------------------------------------------------------------------------------
    def accepted(self, coid: str, ts: int = 0) -> OrderAccepted:
        return OrderAccepted(ts, coid, "V-" + coid)

    def filled(
        self, order: Order, qty: str, trade_id: str, ts: int = 0, price: D | None = None
    ) -> OrderFilled:
        return OrderFilled(
            ts,
            order.client_order_id,
            order.instrument,
            order.side,
            D(qty),
            price or self.price,
            D(0),
            "USDC",
            trade_id=trade_id,
        )

    def canceled(self, coid: str, ts: int = 0) -> OrderCanceled:
        return OrderCanceled(ts, coid)
