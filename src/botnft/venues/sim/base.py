"""What every candle-driven simulated venue shares: its instruments, a cursor into the bars, pending
market orders (for the next-open fill model), taker fees, and ccxt-style queries.

A subclass implements `_fill(order, price_f, ts_ns)` (its own ledger and margin rules) and may add work
to `next_event_index`/`process` (funding, triggers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal

from botnft.domain.errors import InvalidOrder, Rejected
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.liquidity import BookLiquidity, PerpLiquidity
from botnft.domain.money import round_to, to_decimal
from botnft.domain.orders import Order, OrderType, Side
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim.fill_models import FillModel, NextOpenFill

FEE_STEP = Decimal("0.00000001")


class SimVenueBase:
    has: Mapping[str, bool] = {"createOrder": True, "cancelOrder": True, "fetchBalance": True, "market": True}

    def __init__(self, name: str, instrument: Instrument, *, fee_bps: Decimal, fill_model: FillModel) -> None:
        self.name = name
        self.instrument = instrument
        self.fee_rate = fee_bps / 10_000
        self.fill_model = fill_model
        self._pending: list[Order] = []
        self._bars: BarArrays | None = None
        self._j = 0
        self._n_orders = 0

    # ccxt-style surface ---------------------------------------------------------------------------
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {self.instrument.id: self.instrument}

    def fetch_open_orders(self) -> Sequence[Order]:
        return list(self._pending)

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        for o in self._pending:
            if o.client_order_id == client_order_id:
                self._pending.remove(o)
                return [OrderCanceled(self._now(), client_order_id)]
        return []

    def set_cursor(self, bars: BarArrays, j: int) -> None:
        self._bars = bars
        self._j = j

    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        """Validate, then fill at once (close model) or queue for the next bar (next-open model)."""
        try:
            self._validate(order)
        except Rejected as exc:
            return [OrderRejected(order.ts_ns, order.client_order_id, order.instrument, exc.reason, str(exc))]
        self._n_orders += 1
        if isinstance(self.fill_model, NextOpenFill):
            self._pending.append(order)
            return [OrderAccepted(order.ts_ns, order.client_order_id, f"{self.name}-{self._n_orders}")]
        bars = self._bars
        if bars is None:
            raise RuntimeError("simulated venue has no market data yet")
        price = self.fill_model.price(bars, self._j, order.side is Side.BUY)
        return self._execute(order, price, order.ts_ns)

    def liquidity(self, instrument: InstrumentId) -> BookLiquidity | PerpLiquidity | None:
        """A candle venue has no depth model: it quotes unlimited size at the fill model's price (asks) and
        one tick below it (bids), so the quoted book never crosses."""
        if instrument != self.instrument.id or self._bars is None:
            return None
        px = round_to(to_decimal(float(self._bars.close[self._j])), self.instrument.tick_size)
        size = Decimal(10) ** 12
        asks = ((px, size),)
        bids = ((px - self.instrument.tick_size, size),)
        inst = self.instrument
        return BookLiquidity(
            instrument=inst.id,
            ts_ns=self._now(),
            fee_bps=self.fee_rate * 10_000,
            lot=inst.lot_size,
            min_size=inst.min_size,
            bids=bids,
            asks=asks,
        )

    # driving by the backtest ----------------------------------------------------------------------
    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        return lo if self._pending and lo < hi else hi

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        self._bars, self._j = bars, j
        if not self._pending:
            return []
        ts = int(bars.ts_ns[j])
        out: list[VenueEvent] = []
        pending, self._pending = self._pending, []
        for order in pending:
            price = self.fill_model.price(bars, j, order.side is Side.BUY)
            out.extend(self._execute(order, price, ts, queued=True))
        return out

    # helpers --------------------------------------------------------------------------------------
    def _now(self) -> int:
        bars = self._bars
        return int(bars.ts_ns[self._j]) if bars is not None and len(bars) else 0

    def _validate(self, order: Order) -> None:
        if order.instrument != self.instrument.id:
            raise InvalidOrder(f"{self.name} does not list {order.instrument}", reason="unknown_instrument")
        if order.order_type is not OrderType.MARKET:
            raise InvalidOrder(
                f"{self.name} takes market orders only in this version", reason="unsupported_order_type"
            )
        self.instrument.check_qty(order.amount)

    def _execute(self, order: Order, price_f: float, ts_ns: int, *, queued: bool = False) -> list[VenueEvent]:
        price = round_to(to_decimal(price_f), self.instrument.tick_size)
        try:
            return [self._fill(order, price, ts_ns)]
        except Rejected as exc:
            if queued:
                return [OrderCanceled(ts_ns, order.client_order_id, exc.reason)]
            return [OrderRejected(ts_ns, order.client_order_id, order.instrument, exc.reason, str(exc))]

    def taker_fee(self, notional: Decimal) -> Decimal:
        """Fee in the quote asset, rounded up to 1e-8 as venues round fees in their own favour."""
        return (notional * self.fee_rate).quantize(FEE_STEP, rounding=ROUND_CEILING)

    def _fill(self, order: Order, price: Decimal, ts_ns: int) -> VenueEvent:
        raise NotImplementedError
