"""The portfolio: balances per venue and asset, positions per instrument, equity and exposure.

It is rebuilt from events only (fills, funding, liquidations), so it can be checked against each venue's
own ledger. Stable quote assets (USDC, USDT, USD) are valued at par with each other. Balances are kept per
*account*: by default each venue is its own account, but venues that settle from one wallet (Raydium,
OpenBook and Jupiter all trade from the same Solana wallet) map to one account via `accounts`.

Fees are booked in the asset the venue charged them in (`OrderFilled.fee_asset`): a fee in the quote comes
out of the quote; a fee in the base (a Binance spot buy's commission, a Solana network fee on SOL/USDC)
comes out of the base holding, and for a spot instrument out of the position too (a disposal at the fill
price); a fee in a third asset comes out of that asset's balance. `fees_paid` and each position's `fees` hold
the fees' value in the quote: a base fee at the fill's price, a third asset at the last fill price of an
instrument on it (at par between stable assets; 0 while no price is known). `fees_by_asset` keeps the amounts
charged, in their own assets.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from botnft.domain.events import (
    BankruptcyResolved,
    FundingApplied,
    OrderFilled,
    OrderRejected,
    PositionLiquidated,
)
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO
from botnft.domain.orders import Side
from botnft.domain.positions import Position

STABLE = frozenset({"USDC", "USDT", "USD"})


class Portfolio:
    __slots__ = (
        "_accounts",
        "_balances",
        "_funding_to",
        "_instruments",
        "_marks",
        "_perps_on",
        "fees_by_asset",
        "fees_paid",
        "funding_paid",
        "positions",
    )

    def __init__(
        self, instruments: Mapping[InstrumentId, Instrument], accounts: Mapping[str, str] | None = None
    ) -> None:
        self._instruments = dict(instruments)
        self._accounts = dict(accounts or {})
        self._balances: dict[str, dict[str, Decimal]] = {}
        self.positions: dict[InstrumentId, Position] = {i: Position(i) for i in self._instruments}
        self.fees_paid = ZERO
        self.fees_by_asset: dict[str, Decimal] = {}
        self.funding_paid = ZERO
        self._marks: dict[str, Decimal] = {}  # asset -> last fill price of an instrument on it
        # the last funding event's instrument (by identity), its account's book, quote and position:
        # a venue's funding events name the same instrument object bar after bar
        self._funding_to: tuple[InstrumentId, dict[str, Decimal], str, Position] | None = None
        # base asset -> the positions of the perps on it (instruments and positions are fixed at init)
        self._perps_on: dict[str, list[Position]] = {}

    # balances -------------------------------------------------------------------------------------
    @property
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return self._instruments

    def account(self, venue: str) -> str:
        """The account a venue settles into (the venue itself unless mapped)."""
        return self._accounts.get(venue, venue)

    def deposit(self, venue: str, asset: str, amount: Decimal) -> None:
        book = self._balances.setdefault(self.account(venue), {})
        book[asset] = book.get(asset, ZERO) + amount

    def balance(self, venue: str, asset: str) -> Decimal:
        return self._balances.get(self.account(venue), {}).get(asset, ZERO)

    def balances(self) -> dict[str, dict[str, Decimal]]:
        return {v: dict(b) for v, b in self._balances.items()}

    # events ---------------------------------------------------------------------------------------
    def fee_value(self, inst: Instrument, fee: Decimal, asset: str, price: Decimal | None = None) -> Decimal:
        """`fee` in `asset` valued in `inst`'s quote: the quote (or "") at par, the base at `price` (else its
        last fill price), a stable asset at par with a stable quote, another asset at its last fill price;
        0 when no price is known."""
        if not fee:
            return ZERO
        if not asset or asset == inst.quote or (asset in STABLE and inst.quote in STABLE):
            return fee
        if asset == inst.base and price is not None:
            return fee * price
        mark = self._marks.get(asset)
        return fee * mark if mark is not None else ZERO

    def _charge(self, book: dict[str, Decimal], fee: Decimal, asset: str, value: Decimal) -> None:
        book[asset] = book.get(asset, ZERO) - fee
        self.fees_paid += value
        self.fees_by_asset[asset] = self.fees_by_asset.get(asset, ZERO) + fee

    def apply_fill(self, fill: OrderFilled) -> None:
        inst = self._instruments[fill.instrument]
        pos = self.positions[fill.instrument]
        asset = fill.fee_asset or inst.quote
        value = self.fee_value(inst, fill.fee, asset, fill.price)
        realized = pos.apply_fill(fill.side, fill.qty, fill.price, value)
        book = self._balances.setdefault(self.account(fill.instrument.venue), {})
        if fill.price > ZERO:
            self._marks[inst.base] = fill.price
        if inst.is_perp:
            book[inst.quote] = book.get(inst.quote, ZERO) + realized
        else:
            notional = fill.notional
            if fill.side is Side.BUY:
                book[inst.quote] = book.get(inst.quote, ZERO) - notional
                book[inst.base] = book.get(inst.base, ZERO) + fill.qty
            else:
                book[inst.quote] = book.get(inst.quote, ZERO) + notional
                book[inst.base] = book.get(inst.base, ZERO) - fill.qty
            if asset == inst.base and fill.fee:  # the base paid away leaves the position at the fill price
                pos.apply_fill(Side.SELL if fill.fee > ZERO else Side.BUY, abs(fill.fee), fill.price, ZERO)
        self._charge(book, fill.fee, asset, value)

    def apply_rejection(self, ev: OrderRejected) -> None:
        """A refused order changes nothing, except the fee a failed transaction still paid."""
        if ev.fee:
            inst = self._instruments[ev.instrument]
            asset = ev.fee_asset or inst.quote
            book = self._balances.setdefault(self.account(ev.instrument.venue), {})
            value = self.fee_value(inst, ev.fee, asset)
            self._charge(book, ev.fee, asset, value)
            pos = self.positions[ev.instrument]
            mark = self._marks.get(asset)
            if asset == inst.base and not inst.is_perp and mark is not None:  # as a fill's base fee
                pos.apply_fill(Side.SELL if ev.fee > ZERO else Side.BUY, abs(ev.fee), mark, value)
            else:
                pos.fees += value

    def apply_funding(self, ev: FundingApplied) -> None:
        inst_id = ev.instrument
        to = self._funding_to
        if to is None or to[0] is not inst_id:
            inst = self._instruments[inst_id]
            book = self._balances.setdefault(self.account(inst_id.venue), {})
            to = self._funding_to = (inst_id, book, inst.quote, self.positions[inst_id])
        _, book, quote, pos = to
        payment = ev.payment
        book[quote] = book.get(quote, ZERO) - payment
        pos.funding += payment
        self.funding_paid += payment

    def apply_bankruptcy(self, ev: BankruptcyResolved) -> None:
        """The insurance fund's cover of a bankrupt account is credited to that account."""
        inst = self._instruments[ev.instrument]
        book = self._balances.setdefault(self.account(ev.instrument.venue), {})
        book[inst.quote] = book.get(inst.quote, ZERO) + ev.amount

    def apply_liquidation(self, ev: PositionLiquidated) -> None:
        """A liquidation is a forced reduce at `price` with a fee taken from collateral."""
        pos = self.positions[ev.instrument]
        side = Side.SELL if pos.qty > ZERO else Side.BUY
        self.apply_fill(
            OrderFilled(ev.ts_ns, "liquidation", ev.instrument, side, ev.qty, ev.price, ev.fee, "", "taker")
        )

    # valuation ------------------------------------------------------------------------------------
    def equity(self, prices: Mapping[InstrumentId, Decimal]) -> Decimal:
        """Total value in the (stable) quote asset: cash + spot holdings at `prices` + perp unrealized PnL."""
        total = ZERO
        held: dict[str, Decimal] = {}
        for inst_id, inst in self._instruments.items():
            if inst.is_perp:
                total += self.positions[inst_id].unrealized_pnl(prices[inst_id])
            else:
                held.setdefault(inst.base, prices[inst_id])
        for inst_id, inst in self._instruments.items():  # a perp's base (a fee paid in it) at its mark
            if inst.is_perp:
                held.setdefault(inst.base, prices[inst_id])
        for book in self._balances.values():
            for asset, amount in book.items():
                if asset in held:
                    total += amount * held[asset]
                elif amount:
                    total += amount
        return total

    def exposure(self, prices: Mapping[InstrumentId, Decimal]) -> Decimal:
        """Gross notional of all positions at `prices`."""
        return sum((p.notional(prices[i]) for i, p in self.positions.items() if p.qty), ZERO)

    def linear_equity(self, base: str) -> tuple[float, float]:
        """For a book exposed to one base asset: (c, q) with equity(price) == c + q * price, every
        instrument on `base` marked at the same price. Feeds the float kernel that marks the equity
        curve between events."""
        # the same sums in the same order as summing every non-`base` balance, then every `base` holding
        cash = ZERO
        held = ZERO
        for b in self._balances.values():
            for s, a in b.items():
                if s != base:
                    cash += a
        for b in self._balances.values():
            held += b.get(base, ZERO)
        perps = self._perps_on.get(base)
        if perps is None:
            on = [i for i, inst in self._instruments.items() if inst.is_perp and inst.base == base]
            perps = self._perps_on[base] = [self.positions[i] for i in on]
        for pos in perps:
            cash -= pos.qty * pos.avg_entry
            held += pos.qty
        return float(cash), float(held)

    def exposure_in(self, base: str) -> Decimal:
        """Net exposure to `base`: spot holdings in every account plus perp positions."""
        held = sum((b.get(base, ZERO) for b in self._balances.values()), ZERO)
        for inst_id, inst in self._instruments.items():
            if inst.is_perp and inst.base == base:
                held += self.positions[inst_id].qty
        return held

    def round_trips(self) -> int:
        return sum(p.round_trips for p in self.positions.values())
