"""A candle-driven perpetual venue: USDC-style collateral, one linear perp, initial-margin checks, and
funding from a rate series applied to the open position at each funding time.

Funding at time f is charged at the open of the bar that contains f, before any order fills at that open:
payment = position × mark × rate (rounded half-even to 1e-8), paid by longs when the rate is positive.
Mark is the bar's mark-price open when mark candles are attached, else its open. Margin is Drift's (the
one table and size-premium function in ``domain.drift_margin``); this venue refuses orders that would
breach initial margin and has no liquidation engine (SimDrift has).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np

from botnft.domain.drift_margin import BASE_PRECISION, MARGIN_PRECISION, PERP_MARKETS
from botnft.domain.errors import InsufficientFunds
from botnft.domain.events import FundingApplied, OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp
from botnft.domain.liquidity import BookLiquidity, PerpLiquidity
from botnft.domain.money import ZERO, to_decimal
from botnft.domain.orders import Order, Side
from botnft.domain.positions import Position
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim.base import FEE_STEP, SimVenueBase
from botnft.venues.sim.fill_models import FillModel


class SimPerp(SimVenueBase):
    def __init__(
        self,
        instrument: Perp,
        *,
        fee_bps: Decimal = Decimal(5),
        fill_model: FillModel,
        collateral: Decimal = ZERO,
        funding_ts_ns: Any = None,
        funding_rate: Any = None,
    ) -> None:
        super().__init__(instrument.id.venue, instrument, fee_bps=fee_bps, fill_model=fill_model)
        self.perp = instrument
        self.collateral = collateral
        self.position = Position(instrument.id)
        self._f_ts = np.asarray(funding_ts_ns if funding_ts_ns is not None else [], dtype=np.int64)
        self._f_rate = np.asarray(funding_rate if funding_rate is not None else [], dtype=np.float64)
        self._k = 0  # next funding time not yet settled or skipped
        self.funding_paid = ZERO
        self.fees_collected = ZERO
        #: Quote the rest of the market paid out (negative) or took in: realized PnL and funding.
        self.counterparty = ZERO
        self._spec = PERP_MARKETS.get(instrument.id.symbol)

    def initial_margin_at(self, size: Decimal) -> Decimal:
        """The initial margin fraction for a position of ``size``: Drift's ratio with its size premium
        (``domain.drift_margin``) for a market in Drift's table, else the instrument's flat fraction."""
        if self._spec is None:
            return self.perp.initial_margin
        native = int(size * BASE_PRECISION)
        return Decimal(self._spec.margin_ratio(native, "initial")) / MARGIN_PRECISION

    def fetch_balance(self) -> Mapping[str, Decimal]:
        return {self.perp.quote: self.collateral}

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return {self.perp.id: self.position.qty} if self.position.qty else {}

    def liquidity(self, instrument: InstrumentId) -> PerpLiquidity | None:
        """Unlimited size at the candle price (no depth model here), with the funding the position would
        pay: the latest known rate of the series, per hour."""
        book = super().liquidity(instrument)
        if not isinstance(book, BookLiquidity):
            return None
        k = min(self._k, len(self._f_ts) - 1)
        rate_h = ZERO
        if k >= 1:
            hours = Decimal(int(self._f_ts[k] - self._f_ts[k - 1])) / Decimal(3_600_000_000_000)
            rate_h = to_decimal(float(self._f_rate[k - 1])) / hours if hours > 0 else ZERO
        return PerpLiquidity(
            instrument=book.instrument,
            ts_ns=book.ts_ns,
            fee_bps=book.fee_bps,
            lot=book.lot,
            min_size=book.min_size,
            bids=book.bids,
            asks=book.asks,
            oracle_price=book.bids[0][0],
            funding_rate_hourly=rate_h,
            initial_margin=self.perp.initial_margin,
        )

    # funding --------------------------------------------------------------------------------------
    def _funding_bar(self, bars: BarArrays, k: int) -> int:
        """Index of the bar whose open settles funding time k (the bar containing it, else the next)."""
        f = self._f_ts[k]
        j = int(np.searchsorted(bars.ts_ns, f, "right")) - 1
        if j < 0 or int(bars.ts_ns[j]) + bars.interval_ns <= f:
            j += 1
        return j

    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        nxt = super().next_event_index(bars, lo, hi)
        n_f = len(self._f_ts)
        if self._k >= n_f:
            return nxt
        if self.position.qty == ZERO and not self._pending:
            # Flat until the next decision at `hi`: funding before it cannot touch us.
            while self._k < n_f and self._funding_bar(bars, self._k) < hi:
                self._k += 1
            return nxt
        while self._k < n_f:
            j = self._funding_bar(bars, self._k)
            if j >= lo:
                return min(nxt, j)
            self._k += 1
        return nxt

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        out: list[VenueEvent] = []
        n_f = len(self._f_ts)
        while self._k < n_f and self._funding_bar(bars, self._k) <= j:
            if self._funding_bar(bars, self._k) == j and self.position.qty != ZERO:
                out.append(self._settle_funding(bars, j, self._k))
            self._k += 1
        out.extend(super().process(bars, j))
        return out

    def _settle_funding(self, bars: BarArrays, j: int, k: int) -> FundingApplied:
        mark_open = getattr(bars, "mark_open", None)
        mark = to_decimal(float(mark_open[j] if mark_open is not None else bars.open[j]))
        rate = to_decimal(float(self._f_rate[k]))
        qty = self.position.qty
        payment = (qty * mark * rate).quantize(FEE_STEP, rounding=ROUND_HALF_EVEN)
        self.collateral -= payment
        self.counterparty += payment
        self.position.funding += payment
        self.funding_paid += payment
        return FundingApplied(int(self._f_ts[k]), self.perp.id, qty, rate, mark, payment)

    # fills ----------------------------------------------------------------------------------------
    def _fill(self, order: Order, price: Decimal, ts_ns: int) -> OrderFilled:
        perp = self.perp
        pos = self.position
        qty = order.amount - order.filled
        old = pos.qty
        new = old + qty if order.side is Side.BUY else old - qty
        fee = self.taker_fee(qty * price)
        if abs(new) > abs(old) or ((new > ZERO) != (old > ZERO) and new != ZERO):
            equity = self.collateral + pos.unrealized_pnl(price)
            required = abs(new) * price * self.initial_margin_at(abs(new))
            if equity - fee < required:
                raise InsufficientFunds(
                    f"insufficient collateral: {abs(new)} {perp.base} at {price} needs {required} "
                    f"initial margin, equity after fee is {equity - fee}"
                )
        realized = pos.apply_fill(order.side, qty, price, fee)
        self.collateral += realized - fee
        self.counterparty -= realized
        self.fees_collected += fee
        return OrderFilled(ts_ns, order.client_order_id, perp.id, order.side, qty, price, fee, perp.quote)
