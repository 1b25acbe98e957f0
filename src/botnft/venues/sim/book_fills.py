"""The fills' bookkeeping of an order-book venue (`book_replay.BookVenue`): an incoming order's matches
grouped into one taker fill per price, the fees and ledger moves of taker and maker fills, the events, and
whether the account can fund what an order would execute or post. Integer money throughout (see
`book_replay` for the model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from botnft.domain.events import OrderFilled
from botnft.domain.instruments import Spot
from botnft.domain.money import to_decimal
from botnft.domain.orders import Order
from botnft.venues.sim.book_ledger import FeeSchedule, Ledger
from botnft.venues.sim.clob import Match, MatchPlan, RestingOrder


@dataclass(slots=True, eq=False)
class OwnOrder:
    """Our order resting on the book, with the funds it locks and the fills it has had."""

    order: Order
    resting: RestingOrder
    venue_order_id: str
    since_ts: int
    lock_quote: int = 0
    lock_fee: int = 0
    lock_base: int = 0
    fills: list[tuple[Decimal, Decimal, Decimal]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FillGroup:
    """Consecutive matches of one incoming order at one price, reported as one taker fill."""

    price: int
    lots: int
    self_trade: bool
    matches: tuple[Match, ...]


class BookFills:
    """The fill bookkeeping `BookVenue` inherits; the attributes below are the venue's own."""

    instrument: Spot
    fees: FeeSchedule
    ledger: Ledger
    max_open_orders: int | None
    _own: dict[str, OwnOrder]
    _by_rest: dict[int, OwnOrder]
    _base: str
    _quote: str
    _qd: int
    _qpl: int
    _lot_atoms: int
    _ref: float | None

    def _close(self, own: OwnOrder) -> None:
        raise NotImplementedError

    def _qty(self, lots: int) -> Decimal:
        raise NotImplementedError

    def _price(self, ticks: int) -> Decimal:
        raise NotImplementedError

    def _groups(self, plan: MatchPlan) -> list[FillGroup]:
        groups: list[FillGroup] = []
        run: list[Match] = []
        for m in plan.matches:
            if run and (m.price != run[0].price or m.self_trade != run[0].self_trade):
                groups.append(FillGroup(run[0].price, sum(x.qty for x in run), run[0].self_trade, tuple(run)))
                run = []
            run.append(m)
        if run:
            groups.append(FillGroup(run[0].price, sum(x.qty for x in run), run[0].self_trade, tuple(run)))
        return groups

    def _refusal(self, is_bid: bool, plan: MatchPlan, rest: int, limit: int | None) -> str | None:
        """Why the account cannot place this plan (open-order slots, funds), or None."""
        if rest and self.max_open_orders is not None:
            closing = len(plan.cancels) + sum(
                1 for m in plan.matches if m.self_trade and m.qty == m.maker.qty
            )
            if len(self._own) - closing >= self.max_open_orders:
                return "too_many_open_orders"
        groups = [g for g in self._groups(plan) if not g.self_trade]
        if is_bid:
            quotes = [g.lots * g.price * self._qpl for g in groups]
            need = sum(quotes) + sum(self.fees.taker_fees(quotes))
            if rest:
                assert limit is not None
                posted = rest * limit * self._qpl
                need += posted + self.fees.bid_lock(posted)
            if need > self.ledger.free(self._quote):
                return "insufficient_funds"
        elif (sum(g.lots for g in groups) + rest) * self._lot_atoms > self.ledger.free(self._base):
            return "insufficient_funds"
        return None

    def _taker_fills(self, order: Order, plan: MatchPlan, ts: int) -> list[OrderFilled]:
        groups = self._groups(plan)
        fees = iter(self.fees.taker_fees([g.lots * g.price * self._qpl for g in groups if not g.self_trade]))
        is_bid = plan.is_bid
        sign = 1 if is_bid else -1
        base, quote, led = self._base, self._quote, self.ledger
        events: list[OrderFilled] = []
        for g in groups:
            q, b = g.lots * g.price * self._qpl, g.lots * self._lot_atoms
            fee = 0
            if g.self_trade:  # our own resting orders were the makers: no fees, nothing changes hands
                makers = [self._maker_fill(m, ts, self_trade=True) for m in g.matches]
            else:
                fee = next(fees)
                maker_fees = sum(self.fees.maker_fee(m.qty * m.price * self._qpl) for m in g.matches)
                led.trade(base, sign * b, -sign * b)
                led.trade(quote, -sign * q - fee, sign * q - maker_fees, fee + maker_fees)
                makers = []
            events.append(self._fill_event(order, g.price, g.lots, fee, "taker", ts))
            events.extend(makers)
        return events

    def _maker_fill(
        self, m: Match, ts: int, *, self_trade: bool = False, reference: Decimal | None = None
    ) -> OrderFilled:
        """Our resting order `m.maker` traded `m.qty` lots (the book already shows it). A fill by the bar
        path is referenced to that bar's open, the market price when the bar began."""
        own = self._by_rest[m.maker.order_id]
        q, b = m.qty * m.price * self._qpl, m.qty * self._lot_atoms
        base, quote, led = self._base, self._quote, self.ledger
        fee = 0 if self_trade else self.fees.maker_fee(q)
        if m.maker.is_bid:
            own.lock_quote -= q
            led.locked[quote] -= q
            if fee > 0:
                paid = min(fee, own.lock_fee)
                own.lock_fee -= paid
                led.locked[quote] -= paid
            if not self_trade:
                tape_fee = self.fees.taker_fees([q])[0]
                led.trade(base, b, -b)
                led.trade(quote, -q - fee, q - tape_fee, tape_fee + fee)
        else:
            own.lock_base -= b
            led.locked[base] -= b
            if not self_trade:
                tape_fee = self.fees.taker_fees([q])[0]
                led.trade(base, -b, b)
                led.trade(quote, q - fee, -q - tape_fee, tape_fee + fee)
        event = self._fill_event(own.order, m.price, m.qty, fee, "maker", ts, reference)
        own.fills.append((event.qty, event.price, event.fee))
        if m.maker.qty == 0:
            self._close(own)
        return event

    def _fill_event(
        self,
        order: Order,
        price: int,
        lots: int,
        fee: int,
        liquidity: str,
        ts: int,
        reference: Decimal | None = None,
    ) -> OrderFilled:
        ref = reference if reference is not None or self._ref is None else to_decimal(self._ref)
        return OrderFilled(
            ts, order.client_order_id, self.instrument.id, order.side, self._qty(lots), self._price(price),
            Decimal(fee).scaleb(-self._qd), self._quote, liquidity, ref,
        )  # fmt: skip
