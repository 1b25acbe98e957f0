"""A candle-driven spot venue (CEX-style): market orders at the fill model's price, a taker fee, and a
ledger of the account's balances. A buy needs quote for notional + fee; a sell needs the base it sells."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from botnft.domain.errors import InsufficientFunds
from botnft.domain.events import OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.domain.money import ZERO
from botnft.domain.orders import Order, Side
from botnft.venues.sim.base import SimVenueBase
from botnft.venues.sim.fill_models import FillModel


class SimSpot(SimVenueBase):
    def __init__(
        self,
        instrument: Spot,
        *,
        fee_bps: Decimal = Decimal(10),
        fill_model: FillModel,
        balances: Mapping[str, Decimal] | None = None,
    ) -> None:
        super().__init__(instrument.id.venue, instrument, fee_bps=fee_bps, fill_model=fill_model)
        self.balances: dict[str, Decimal] = {instrument.quote: ZERO, instrument.base: ZERO}
        self.balances.update(balances or {})
        self.fees_collected = ZERO
        #: The rest of the market, the account's counterparty: what the account gains, it loses.
        self.counterparty: dict[str, Decimal] = {instrument.quote: ZERO, instrument.base: ZERO}

    def fetch_balance(self) -> Mapping[str, Decimal]:
        return dict(self.balances)

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return {}

    def _fill(self, order: Order, price: Decimal, ts_ns: int) -> OrderFilled:
        inst = self.instrument
        qty = order.amount - order.filled
        notional = qty * price
        fee = self.taker_fee(notional)
        b = self.balances
        if order.side is Side.BUY:
            if notional + fee > b[inst.quote]:
                raise InsufficientFunds(
                    f"buy of {qty} {inst.base} needs {notional + fee} {inst.quote}, have {b[inst.quote]}"
                )
            b[inst.quote] -= notional + fee
            b[inst.base] += qty
            self.counterparty[inst.quote] += notional
            self.counterparty[inst.base] -= qty
        else:
            if qty > b[inst.base]:
                raise InsufficientFunds(f"sell of {qty} {inst.base} but only {b[inst.base]} held")
            b[inst.base] -= qty
            b[inst.quote] += notional - fee
            self.counterparty[inst.quote] -= notional
            self.counterparty[inst.base] += qty
        self.fees_collected += fee
        return OrderFilled(ts_ns, order.client_order_id, inst.id, order.side, qty, price, fee, inst.quote)
