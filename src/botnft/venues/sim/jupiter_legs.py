"""The legs of a SimJupiter route: one underlying venue each (a Raydium pool or a book), quoted in native
units without touching state and committed on demand, through the venue's public surface only; and
`OneBar`, the one-bar `BarArrays` that moves the legs' venues to where the price has gone when a swap
lands late."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from botnft.domain.errors import UserError
from botnft.domain.events import OrderFilled
from botnft.domain.orders import Order, Side
from botnft.venues.sim.book_replay import ACCOUNT, BookVenue
from botnft.venues.sim.openbook import SimOpenBook
from botnft.venues.sim.raydium import SimRaydium
from botnft.venues.sim.raydium_config import Token
from botnft.venues.sim.raydium_math import RaydiumMathError
from botnft.venues.sim.raydium_pools import ClmmEngine, PoolEngine, SwapQuote

__all__ = ["POOL_LABELS", "BookLeg", "Leg", "LegFill", "LegQuote", "OneBar", "PoolLeg"]

#: Jupiter's dex labels (its ``dexes=`` query values) by Raydium pool kind.
POOL_LABELS = {"amm_v4": "Raydium", "cpmm": "Raydium CP", "clmm": "Raydium CLMM"}


@dataclass(frozen=True, slots=True)
class LegQuote:
    """One venue's part of a route in native units. ``fee_amount`` is in ``fee_symbol``; ``plan`` is what
    commits it (a `SwapQuote` for a pool, base lots for a book)."""

    leg: Leg
    sell_base: bool
    amount_in: int
    amount_out: int
    fee_amount: int
    fee_symbol: str
    plan: SwapQuote | int


@dataclass(frozen=True, slots=True)
class LegFill:
    """A committed leg: base moved (unsigned), the exact quote amount before fees, the fee in quote units."""

    base: int
    quote_qty: int
    fee_quote: int


class Leg:
    """One venue of a route: `quote` prices an amount without touching state, `commit` executes it."""

    name: str
    label: str
    amm_key: str
    is_book: bool

    def quote(self, amount: int, *, sell_base: bool, exact_in: bool) -> LegQuote | None:
        raise NotImplementedError

    def commit(self, q: LegQuote, cid: str, ts_ns: int) -> LegFill:
        raise NotImplementedError

    def usable(self) -> bool:
        return True

    def mid(self) -> Fraction | None:
        raise NotImplementedError


def _amm_key(label: str, name: str) -> str:
    """A pubkey-shaped (base58, 32 bytes) stand-in for the pool address, stable per venue name."""
    digest = hashlib.sha256(f"botnft-sim:{label}:{name}".encode()).digest()
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n, out = int.from_bytes(digest, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    return "1" * (len(digest) - len(digest.lstrip(b"\0"))) + out


class PoolLeg(Leg):
    is_book = False

    def __init__(self, venue: SimRaydium) -> None:
        self.venue = venue
        self.name = venue.name
        self.label = POOL_LABELS[venue.config.kind]
        self.amm_key = _amm_key(self.label, venue.name)
        #: (engine, its config, a CLMM's pool object, reserves) the memo's quotes were priced on
        self._state: tuple[object, object, object, tuple[int, int]] | None = None
        self._memo: dict[tuple[int, bool, bool], LegQuote | None] = {}

    def quote(self, amount: int, *, sell_base: bool, exact_in: bool) -> LegQuote | None:
        eng = self.venue.engine
        reserves = eng.reserves()
        pool = eng.pool if isinstance(eng, ClmmEngine) else None
        st = self._state
        if (
            st is None
            or st[0] is not eng
            or st[1] is not eng.config
            or st[2] is not pool
            or st[3] != reserves
        ):
            self._state = (eng, eng.config, pool, reserves)
            self._memo = {}
        key = (amount, sell_base, exact_in)
        memo = self._memo
        if key in memo:  # a quote is a pure function of the pool's state and its arguments
            return memo[key]
        out = memo[key] = self._quote(eng, amount, sell_base, exact_in)
        return out

    def _quote(self, eng: PoolEngine, amount: int, sell_base: bool, exact_in: bool) -> LegQuote | None:
        try:
            q = eng.quote_swap(amount, sell_base=sell_base, exact_in=exact_in)
        except RaydiumMathError:
            return None
        if q.amount_in <= 0 or q.amount_out <= 0 or q.amount_out > eng.reserves()[1 if sell_base else 0]:
            return None
        # Jupiter's (deprecated) feeAmount/feeMint: the input token's fee, unless it is all on the output
        i_in = 0 if sell_base else 1
        i_fee = i_in if q.fee[i_in] or not q.fee[1 - i_in] else 1 - i_in
        return LegQuote(
            self, sell_base, q.amount_in, q.amount_out, q.fee[i_fee], self.venue.tokens[i_fee].symbol, q
        )

    def commit(self, q: LegQuote, cid: str, ts_ns: int) -> LegFill:
        v = self.venue
        sq = q.plan
        assert isinstance(sq, SwapQuote)
        base_amount = sq.amount_in if sq.sell_base else sq.amount_out
        fill = v.fill_quote(sq, cid, ts_ns)
        qd = v.tokens[1].decimals
        assert fill.quote_qty is not None
        return LegFill(base_amount, int(fill.quote_qty.scaleb(qd)), int(fill.fee.scaleb(qd)))

    def catch_up(self) -> None:
        self.venue.catch_up()

    def mid(self) -> Fraction:
        return self.venue.marginal_price()


class BookLeg(Leg):
    is_book = True

    def __init__(self, venue: BookVenue, base: Token, quote: Token) -> None:
        self.venue = venue
        self.name = venue.name
        self.label = "OpenBook V2" if isinstance(venue, SimOpenBook) else venue.name
        self.amm_key = _amm_key(self.label, venue.name)
        inst = venue.instrument
        self.lot = _exact(inst.lot_size.scaleb(base.decimals), f"{venue.name} lot")
        self.qpl = _exact((inst.lot_size * inst.tick_size).scaleb(quote.decimals), f"{venue.name} lot x tick")
        self.tokens = (base, quote)

    def usable(self) -> bool:
        return not self.venue.book.orders_of(ACCOUNT)  # our own resting orders would self-trade

    def _levels(self, buy: bool) -> list[tuple[int, int]]:
        self.venue.ensure_quoted()
        return self.venue.book.depth(not buy)

    def _walk(self, levels: list[tuple[int, int]], lots: int) -> tuple[int, int] | None:
        """(quote moved, taker fee) to take `lots`, or None when the side is too thin."""
        left, quotes = lots, []
        for price, size in levels:
            take = min(left, size)
            quotes.append(take * price * self.qpl)
            left -= take
            if left == 0:
                break
        if left:
            return None
        return sum(quotes), sum(self.venue.fees.taker_fees(quotes))

    def quote(self, amount: int, *, sell_base: bool, exact_in: bool) -> LegQuote | None:
        buy = not sell_base
        if sell_base and not exact_in:
            return None  # an exact quote-token output is not on the lot grid
        levels = self._levels(buy)
        # ExactIn of the quote token: the most lots `amount` pays for; otherwise whole lots of base
        lots = self._affordable(levels, amount) if buy and exact_in else amount // self.lot
        if lots <= 0:
            return None
        walked = self._walk(levels, lots)
        if walked is None:
            return None
        q, fee = walked
        base = lots * self.lot
        if buy:
            return LegQuote(self, False, q + fee, base, fee, self.tokens[1].symbol, lots)
        if q - fee <= 0:
            return None
        return LegQuote(self, True, base, q - fee, fee, self.tokens[1].symbol, lots)

    def _affordable(self, levels: list[tuple[int, int]], budget: int) -> int:
        lo, hi = 0, sum(s for _, s in levels)
        while lo < hi:  # largest lots whose cost (quote + fee) fits the budget
            mid = (lo + hi + 1) // 2
            w = self._walk(levels, mid)
            if w is not None and w[0] + w[1] <= budget:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def commit(self, q: LegQuote, cid: str, ts_ns: int) -> LegFill:
        lots = q.plan
        assert isinstance(lots, int)
        v = self.venue
        side = Side.SELL if q.sell_base else Side.BUY
        # the leg is one instruction of Jupiter's transaction: the network fee is Jupiter's, once per swap
        order = Order(cid, v.instrument.id, side, lots * v.instrument.lot_size, ts_ns)
        events = v.match_order(order)
        fills = [e for e in events if isinstance(e, OrderFilled)]
        bd, qd = self.tokens[0].decimals, self.tokens[1].decimals
        base = sum(int(f.qty.scaleb(bd)) for f in fills)
        quote_qty = sum(int((f.qty * f.price).scaleb(qd)) for f in fills)
        fee = sum(int(f.fee.scaleb(qd)) for f in fills)
        moved = quote_qty + fee if side is Side.BUY else quote_qty - fee
        if base != lots * self.lot or moved != (q.amount_in if side is Side.BUY else q.amount_out):
            raise AssertionError(f"{v.name} executed {events} where the simulation said {q}")
        return LegFill(base, quote_qty, fee)

    def mid(self) -> Fraction | None:
        self.venue.ensure_quoted()
        bid, ask = self.venue.book.best_bid(), self.venue.book.best_ask()
        if bid is None or ask is None:
            return None
        tick = Fraction(self.venue.instrument.tick_size)
        return (bid + ask) * tick / 2


def _exact(value: Decimal, what: str) -> int:
    if value != value.to_integral_value() or value <= 0:
        raise UserError(f"{what} must be a positive whole number of native units, got {value}")
    return int(value)


@dataclass(frozen=True, slots=True)
class OneBar:
    """A one-bar `BarArrays` that moves a venue's reference to `price` at time ``ts + interval``."""

    ts_ns: tuple[int]
    open: tuple[float]
    high: tuple[float]
    low: tuple[float]
    close: tuple[float]
    volume: tuple[float]
    interval_ns: int

    @classmethod
    def at(cls, price: float, now_ns: int, interval_ns: int) -> OneBar:
        p = (price,)
        return cls((now_ns - interval_ns,), p, p, p, p, (0.0,), interval_ns)

    def __len__(self) -> int:
        return 1
