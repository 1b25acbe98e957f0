"""Order-book venues replayed against bars: `BookVenue` and its CEX flavour `SimClob` (the OpenBook v2
flavour is `openbook.SimOpenBook`), with the simulated rest of the book (`DepthProfile`), the `Ledger` that
conserves every unit, and the bar path that reaches our resting orders.

Model
* The matching engine is `clob.OrderBook` (ticks and lots). The other participants' liquidity is
  re-quoted from the depth profile around the reference price (the close at the cursor bar) before the
  book is next used; our resting orders stay put and keep their queue places: the participants' lots that
  were ahead of an order stay ahead (capped by the new size at its price), new lots join behind.
* Our incoming orders take at once (taker fills, one `OrderFilled` per price level, on the tick grid).
* Our resting orders are filled by later bars (`next_event_index` / `process`), as maker at their own limit
  price. The bar's low sells into the bids and its high buys from the asks, in price-time priority:
  everything priced better than the extreme trades, so an order the path trades THROUGH fills entirely;
  at the extreme itself a uniformly random number of lots in [0, lots shown at that price] trades, front of
  the queue first, so an order only touched fills with a probability set by the lots ahead of it (and
  those lots are used up, moving it forward). The draw comes from a seeded RNG: same seed, same fills.
  An order is never filled by the bar at whose close it was placed.
* Money is integer: balances in units of 10**-decimals; a fill's quote is lots x ticks x
  (lot_size x tick_size in quote units); fees come from a `FeeSchedule`. The counterparty of every trade is
  the rest of the book (participants or the bar path, which pay and receive their own fees), so
  account + counterparty + fee pool == initial balances, per asset, to the unit.

Events of `create_order`
* a refused order: one `OrderRejected` (reasons: unknown_instrument, unsupported_order_type,
  invalid_time_in_force, below_min_size, off_lot, off_tick, invalid_price, duplicate_client_order_id,
  too_many_open_orders, post_only_would_cross, no_liquidity, insufficient_funds, would_self_trade);
* otherwise `OrderAccepted`; then `OrderCanceled(reason="self_trade_prevention")` for our resting orders
  that cancel-maker self-trade prevention removed; then the taker fills (a DecrementTake self-trade also
  gives our resting order its maker fill, both without fees); then `OrderCanceled` for an unfilled
  remainder: "ioc_remainder" (IOC), "no_liquidity" (a market order that emptied the book) or
  "fok_unfillable" (a FOK that could not fill entirely: nothing executed). A GTC or POST_ONLY remainder
  rests and locks its funds (a bid: quote at its price plus any maker fee; an ask: base).
  An order must be funded for everything it would execute or post, else "insufficient_funds".

The rest of the market (the depth profile, the bar path) is in `book_market`, the ledger and fee schedules
in `book_ledger`, the fills' bookkeeping (taker fills per price, maker fills, the funds an order needs) in
`book_fills`.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from decimal import Decimal

from botnft.domain.errors import UserError
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Spot
from botnft.domain.liquidity import BookLiquidity, FloatLevels
from botnft.domain.money import to_decimal
from botnft.domain.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim.book_fills import BookFills, OwnOrder
from botnft.venues.sim.book_ledger import BpsFees, FeeSchedule, Ledger
from botnft.venues.sim.book_market import DepthProfile, bar_ticks, first_reach
from botnft.venues.sim.clob import MatchPlan, OrderBook, RestingOrder, SelfTradeMode
from botnft.venues.sim.solana import SolanaExecution, SolanaFees, latency_price
from botnft.venues.sim.wallet import MappingView, SolanaWallet

__all__ = ["ACCOUNT", "PARTICIPANTS", "BookVenue", "SimClob"]

# ==================================================================================================
# The venue
# ==================================================================================================

ACCOUNT = "account"
"""Owner of our own orders on the book."""
PARTICIPANTS = "market"
"""Owner of the simulated rest of the book, re-quoted around the reference price."""
TAPE = "tape"
"""The bar's price path, acting as the taker that reaches our resting orders."""


class BookVenue(BookFills):
    """An order-book venue over `clob.OrderBook` (the model is in the module docstring). Subclasses choose
    the instrument grid, the decimals of the balances, the fee schedule and the self-trade mode.

    `book` (the engine) and `ledger` are public for inspection: `book.check()` and `ledger.residual()`
    are the invariants the tests hold it to."""

    has: Mapping[str, bool] = {
        "createOrder": True,
        "createMarketOrder": True,
        "createLimitOrder": True,
        "createPostOnlyOrder": True,
        "cancelOrder": True,
        "fetchBalance": True,
        "fetchOpenOrders": True,
        "fetchOrderBook": True,
        "fetchPositions": False,
        "market": True,
    }

    def __init__(
        self,
        instrument: Spot,
        *,
        name: str,
        fees: FeeSchedule,
        profile: DepthProfile,
        balances: Mapping[str, Decimal] | None,
        base_decimals: int,
        quote_decimals: int,
        self_trade: SelfTradeMode,
        seed: int,
        max_open_orders: int | None,
        solana_fees: SolanaFees | None = None,
        wallet: SolanaWallet | None = None,
        execution: SolanaExecution | None = None,
    ) -> None:
        """`solana_fees`: an on-chain book charges each order transaction that takes liquidity this
        network fee, in quote at the reference price, into the fee pool (None on a CEX); `wallet`: a
        shared Solana wallet the account trades from (see `use_wallet`); `execution`: an on-chain book's
        orders land after the latency's slots, on the book re-quoted around where the price has gone by
        then (`solana.latency_price`; its fees replace `solana_fees`)."""
        self.name = name
        self.solana_fees = execution.fees if execution is not None else solana_fees
        self.execution = execution
        moves = execution is not None and execution.moves
        self.latency = execution.latency(name) if moves and execution is not None else None
        self._move_rng = execution.rng(name, "move") if moves and execution is not None else None
        self._bars: BarArrays | None = None
        self._cursor = -1
        self.instrument = instrument
        self.fees = fees
        self.profile = profile
        self.self_trade = self_trade
        self.max_open_orders = max_open_orders
        self.book = OrderBook()
        self._base, self._quote = instrument.base, instrument.quote
        self._bd, self._qd = base_decimals, quote_decimals
        self._lot_atoms = _exact_int(instrument.lot_size.scaleb(base_decimals), "lot size in base units")
        self._qpl = _exact_int(
            (instrument.lot_size * instrument.tick_size).scaleb(quote_decimals), "lot x tick in quote units"
        )
        self._tick_f = float(instrument.tick_size)
        self._level_lots = profile.level_lots(instrument.lot_size)
        initial = {self._base: 0, self._quote: 0}
        for asset, amount in (balances or {}).items():
            dec = base_decimals if asset == self._base else quote_decimals
            initial[asset] = _exact_int(amount.scaleb(dec), f"{asset} balance")
        self.ledger = Ledger(initial)
        self._rng = random.Random(seed)
        self._own: dict[str, OwnOrder] = {}
        self._by_rest: dict[int, OwnOrder] = {}
        self._ref: float | None = None
        self._ref_key: tuple[int, float] | None = None
        self._quoted = True
        self._now = 0
        self._liquidity: tuple[tuple[object, ...], BookLiquidity | None] | None = None
        self._n_orders = 0
        self._qty_of: dict[int, Decimal] = {}
        #: (fees, reference, the network fee in quote units) of the last conversion
        self._network: tuple[object, float, Decimal] | None = None
        if wallet is not None:
            self.use_wallet(wallet)

    # wiring ---------------------------------------------------------------------------------------
    @property
    def base_decimals(self) -> int:
        """Decimals of the base balance (the ledger holds base in units of 10**-base_decimals)."""
        return self._bd

    @property
    def quote_decimals(self) -> int:
        """Decimals of the quote balance."""
        return self._qd

    @property
    def wallet(self) -> SolanaWallet | None:
        """The shared Solana wallet the account is a view of, or None when the venue keeps its own."""
        acct = self.ledger.account
        return acct.wallet if isinstance(acct, MappingView) else None

    def use_wallet(self, wallet: SolanaWallet) -> None:
        """Trade from `wallet` from now on: the balances the account held are credited to it and the
        account becomes a view of it. Nothing happens when the account already is a view of it."""
        if self.wallet is wallet:
            return
        pair = (self._base, self._quote)
        for sym in pair:
            wallet.credit(sym, self.ledger.account.get(sym, 0))
        self.ledger.account = wallet.mapping(pair)

    # ccxt-style surface ---------------------------------------------------------------------------
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {self.instrument.id: self.instrument}

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return {}

    def fetch_balance(self) -> Mapping[str, Decimal]:
        """Total balances (free + locked in open orders)."""
        return {a: self._dec(a, v) for a, v in self.ledger.account.items()}

    def free_balance(self) -> Mapping[str, Decimal]:
        """Balances not locked by open orders."""
        return {a: self._dec(a, self.ledger.free(a)) for a in self.ledger.account}

    def fetch_order_book(self, limit: int | None = None) -> dict[str, list[tuple[Decimal, Decimal]]]:
        """ccxt's order book structure: bids and asks as [price, amount], best first."""
        self.ensure_quoted()
        return {
            key: [(self._price(p), self._qty(q)) for p, q in self.book.depth(is_bid, limit)]
            for key, is_bid in (("bids", True), ("asks", False))
        }

    def liquidity(self, instrument: InstrumentId, levels: int | None = None) -> BookLiquidity | None:
        """The book as the router sees it: every price level a side (or the best `levels`), the taker
        fee, and, on chain, the network fee of one order transaction at the reference price: a market
        order walks exactly these levels, so the router's price for any size is the fill's."""
        if instrument != self.instrument.id:
            return None
        self.ensure_quoted()
        ppm = int(getattr(self.fees, "taker_ppm", 0) or getattr(self.fees, "taker_rate", 0) or 0)
        network = Decimal(0)
        if self.solana_fees is not None and self._ref is not None:
            held = self._network
            if held is not None and held[0] is self.solana_fees and held[1] == self._ref:
                network = held[2]  # the same fee at the same reference
            else:
                n = int(self.solana_fees.in_quote_native(Decimal(repr(self._ref)), self._qd))
                network = self._dec(self._quote, n)
                self._network = (self.solana_fees, self._ref, network)
        key = (levels, self.book.version, self._now, ppm, network)
        if self._liquidity is not None and self._liquidity[0] == key:
            return self._liquidity[1]  # nothing it is made of changed: the same snapshot
        out = self._snapshot(instrument, levels, ppm, network)
        self._liquidity = (key, out)
        return out

    def _snapshot(
        self, instrument: InstrumentId, levels: int | None, ppm: int, network: Decimal
    ) -> BookLiquidity | None:
        bids_int, asks_int = self.book.depth(True, levels), self.book.depth(False, levels)
        if not bids_int or not asks_int:
            return None
        tick, lot = self.instrument.tick_size, Decimal(self._lot_atoms).scaleb(-self._bd)
        qty_of, qty = self._qty_of, self._qty  # (`_price` and `_qty` inline)
        return BookLiquidity(
            instrument=instrument,
            ts_ns=self._now,
            fee_bps=Decimal(ppm) / 100,
            lot=self.instrument.lot_size,
            min_size=self.instrument.min_size,
            network_fee=network,
            bids=tuple([(p * tick, qty_of[q] if q in qty_of else qty(q)) for p, q in bids_int]),
            asks=tuple([(p * tick, qty_of[q] if q in qty_of else qty(q)) for p, q in asks_int]),
            float_bids=FloatLevels.of_ints(bids_int, tick, lot),
            float_asks=FloatLevels.of_ints(asks_int, tick, lot),
        )

    def deposit(self, asset: str, amount: Decimal) -> None:
        """Credit the account (and the conservation baseline) with `amount` of `asset`."""
        dec = self._bd if asset == self._base else self._qd
        units = _exact_int(amount.scaleb(dec), f"{asset} deposit")
        self.ledger.account[asset] += units
        self.ledger.initial[asset] += units

    def fetch_open_orders(self) -> Sequence[Order]:
        """Snapshots of our resting orders as the venue sees them (filled, cost, fee, status)."""
        out = []
        for own in self._own.values():
            o = own.order
            snap = Order(
                o.client_order_id, o.instrument, o.side, o.amount, o.ts_ns,
                order_type=o.order_type, price=o.price, tif=o.tif, reduce_only=o.reduce_only,
            )  # fmt: skip
            snap.transition(OrderStatus.SUBMITTED)
            snap.transition(OrderStatus.ACCEPTED)
            snap.venue_order_id = own.venue_order_id
            for qty, price, fee in own.fills:
                snap.apply_fill(qty, price, fee)
            out.append(snap)
        return out

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        """Cancel one of our resting orders; unknown (or already closed) ids are harmless: no events."""
        own = self._own.get(client_order_id)
        if own is None:
            return []
        self.book.cancel(own.resting.order_id)
        self._close(own)
        return [OrderCanceled(self._now, client_order_id, "canceled")]

    # driving by the backtest ----------------------------------------------------------------------
    def set_cursor(self, bars: BarArrays, j: int) -> None:
        """At bar `j`'s close: the reference price becomes that close."""
        ts = int(bars.ts_ns[j])
        self._now = ts + int(bars.interval_ns)
        self._bars, self._cursor = bars, j
        self.set_reference(float(bars.close[j]), ts)

    def set_reference(self, price: float, ts_ns: int) -> None:
        """Move the reference price (paper/live feeds); the book is re-quoted before its next use."""
        key = (ts_ns, price)
        if key != self._ref_key:
            self._ref, self._ref_key, self._quoted = price, key, False

    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        if not self._own:
            return hi  # no resting order of ours for the path to reach
        orders = ((o.resting.is_bid, o.resting.price, o.since_ts) for o in self._own.values())
        return first_reach(bars, lo, hi, self._tick_f, orders)

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        """Fill our resting orders that bar `j`'s path reaches, as maker at their limit price.

        The bar's low sells into the bids and its high buys from the asks, in price-time priority:
        everything priced better than the extreme trades (an order the path trades through fills
        entirely); at the extreme itself a uniformly random share of that level's lots trades, front of
        the queue first, so an order fills there with a probability set by the lots ahead of it."""
        ts = int(bars.ts_ns[j])
        self._now = ts
        if not self._own:
            return []
        low, high = bar_ticks(bars, j, j + 1, self._tick_f)
        waiting = frozenset(o.resting.order_id for o in self._own.values() if o.since_ts > ts)
        events: list[VenueEvent] = []
        for is_bid, extreme in ((True, int(low[0])), (False, int(high[0]))):
            mine = [
                o.resting
                for o in self._own.values()
                if o.resting.is_bid is is_bid
                and o.resting.order_id not in waiting
                and (o.resting.price >= extreme if is_bid else o.resting.price <= extreme)
            ]
            if not mine:
                continue
            volume = self.book.volume_better(is_bid, extreme, exclude=waiting)
            if any(r.price == extreme for r in mine):
                at = sum(o.qty for o in self.book.level(is_bid, extreme) if o.order_id not in waiting)
                volume += self._rng.randint(0, at)
            if volume == 0:
                continue
            sub = self.book.submit(
                TAPE, not is_bid, volume, limit=extreme, tif=TimeInForce.IOC, exclude=waiting
            )
            assert sub.plan is not None
            for m in sub.plan.matches:
                if m.maker.owner == ACCOUNT:
                    events.append(self._maker_fill(m, ts, reference=to_decimal(float(bars.open[j]))))
        return events

    # orders ---------------------------------------------------------------------------------------
    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        """Match, rest or reject `order`, then charge the network fee of the transaction if on chain.
        With latency, the order meets the book re-quoted where the price has gone while it waited."""
        self._land()
        events = self.match_order(order)
        if self.solana_fees is None or self._ref is None:
            return events
        if not any(isinstance(e, OrderFilled) for e in events):
            # refused, or resting unfilled: the fee is reported with a fill, so this model charges the
            # transaction that takes liquidity and leaves posting free (documented simplification)
            return events
        n = int(self.solana_fees.in_quote_native(Decimal(repr(self._ref)), self._qd))
        if n > self.ledger.free(self._quote):
            return events  # a wallet this empty cannot pay; the fill stands, the fee is waived (documented)
        self.ledger.trade(self._quote, -n, 0, n)
        out = list(events)
        k = next(i for i, e in enumerate(out) if isinstance(e, OrderFilled))
        first = out[k]
        assert isinstance(first, OrderFilled)
        out[k] = dataclasses.replace(first, fee=first.fee + self._dec(self._quote, n))
        return out

    def match_order(self, order: Order) -> Sequence[VenueEvent]:
        """Match, rest or reject `order` without the network fee: `create_order` is this plus the fee,
        and an aggregator whose transaction carries this order as one instruction pays the fee once
        itself. See the module docstring for the events it returns."""
        ts = order.ts_ns
        checked = self._validate(order)
        if isinstance(checked, OrderRejected):
            return [checked]
        lots, limit = checked
        self.ensure_quoted()
        is_bid = order.side is Side.BUY

        def approve(plan: MatchPlan, rest: int) -> str | None:
            return self._refusal(is_bid, plan, rest, limit)

        sub = self.book.submit(
            ACCOUNT, is_bid, lots, limit=limit, tif=order.tif, stp=self.self_trade,
            tag=order.client_order_id, approve=approve,
        )  # fmt: skip
        cid = order.client_order_id
        if sub.reason is not None and sub.reason != "fok_unfillable":
            return [
                OrderRejected(ts, cid, order.instrument, sub.reason, _MESSAGES.get(sub.reason, sub.reason))
            ]
        self._n_orders += 1
        vid = f"{self.name}-{self._n_orders}"
        events: list[VenueEvent] = [OrderAccepted(ts, cid, vid)]
        if sub.reason == "fok_unfillable":
            return [*events, OrderCanceled(ts, cid, "fok_unfillable")]
        plan = sub.plan
        assert plan is not None
        for o in plan.cancels:
            own = self._by_rest[o.order_id]
            self._close(own)
            events.append(OrderCanceled(ts, own.order.client_order_id, "self_trade_prevention"))
        taken = self._taker_fills(order, plan, ts)
        events.extend(taken)
        if sub.rested is not None:
            own = self._rest(order, sub.rested, vid)
            own.fills = [(f.qty, f.price, f.fee) for f in taken if f.client_order_id == cid]
        elif plan.remaining > 0:
            reason = "no_liquidity" if limit is None else "ioc_remainder"
            events.append(OrderCanceled(ts, cid, reason))
        return events

    def _validate(self, order: Order) -> tuple[int, int | None] | OrderRejected:
        inst = self.instrument

        def reject(reason: str, message: str) -> OrderRejected:
            return OrderRejected(order.ts_ns, order.client_order_id, order.instrument, reason, message)

        if order.instrument != inst.id:
            return reject("unknown_instrument", f"{self.name} does not list {order.instrument}")
        if order.order_type is OrderType.STOP_MARKET:
            return reject("unsupported_order_type", f"{self.name} takes market and limit orders")
        if order.order_type is OrderType.MARKET and order.tif is TimeInForce.POST_ONLY:
            return reject("invalid_time_in_force", "a market order cannot be post-only")
        if order.amount < inst.min_size:
            return reject("below_min_size", f"size {order.amount} is below the minimum {inst.min_size}")
        lots = order.amount / inst.lot_size
        if lots != lots.to_integral_value():
            return reject("off_lot", f"size {order.amount} is not a multiple of the lot {inst.lot_size}")
        limit = None
        if order.order_type is OrderType.LIMIT:
            assert order.price is not None
            if order.price <= 0:
                return reject("invalid_price", f"price must be positive, got {order.price}")
            ticks = order.price / inst.tick_size
            if ticks != ticks.to_integral_value():
                return reject("off_tick", f"price {order.price} is not a multiple of {inst.tick_size}")
            limit = int(ticks)
        if order.client_order_id in self._own:
            return reject("duplicate_client_order_id", f"order {order.client_order_id} is already open")
        return int(lots), limit

    def _rest(self, order: Order, resting: RestingOrder, vid: str) -> OwnOrder:
        since = max(order.ts_ns, self._now)
        own = OwnOrder(order, resting, vid, since)
        if resting.is_bid:
            own.lock_quote = resting.qty * resting.price * self._qpl
            own.lock_fee = self.fees.bid_lock(own.lock_quote)
            self.ledger.locked[self._quote] += own.lock_quote + own.lock_fee
        else:
            own.lock_base = resting.qty * self._lot_atoms
            self.ledger.locked[self._base] += own.lock_base
        self._own[order.client_order_id] = own
        self._by_rest[resting.order_id] = own
        return own

    def _close(self, own: OwnOrder) -> None:
        """Forget a resting order that is gone from the book and unlock what it still holds."""
        self.ledger.locked[self._quote] -= own.lock_quote + own.lock_fee
        self.ledger.locked[self._base] -= own.lock_base
        own.lock_quote = own.lock_fee = own.lock_base = 0
        del self._own[own.order.client_order_id]
        del self._by_rest[own.resting.order_id]

    def _land(self) -> None:
        if self.latency is None or self._move_rng is None or self._bars is None or self._ref_key is None:
            return
        slots = self.latency.next_slots()
        z = self._move_rng.gauss(0.0, 1.0)
        if slots:
            price = latency_price(self._bars, self._cursor, self.latency.delay_ns(slots), z)
            self.set_reference(price, self._ref_key[0])

    def ensure_quoted(self) -> None:
        """Re-quote the rest of the book around the reference if it moved since the book was last used
        (done before every use of the book; an aggregator calls it before it walks the levels)."""
        if self._quoted or self._ref is None:
            return
        bids, asks = self.profile.quotes(self._ref, self._tick_f, self._level_lots)
        self.book.requote(PARTICIPANTS, bids, asks)
        self._quoted = True

    def _qty(self, lots: int) -> Decimal:
        q = self._qty_of.get(lots)
        if q is None:  # a level's lots repeat at every re-quote: each size converted once
            q = self._qty_of[lots] = Decimal(lots * self._lot_atoms).scaleb(-self._bd)
        return q

    def _price(self, ticks: int) -> Decimal:
        return ticks * self.instrument.tick_size

    def _dec(self, asset: str, units: int) -> Decimal:
        return Decimal(units).scaleb(-(self._bd if asset == self._base else self._qd))


_MESSAGES = {
    "post_only_would_cross": "a post-only order would have crossed the book",
    "no_liquidity": "no resting liquidity on the other side of the book",
    "insufficient_funds": "the account cannot pay for what this order would execute or post",
    "would_self_trade": "the order would trade with our own resting order (abort mode)",
    "too_many_open_orders": "the account already holds the most open orders the venue allows",
}


def _exact_int(value: Decimal, what: str) -> int:
    if value != value.to_integral_value():
        raise UserError(f"{what} must be a whole number of smallest units, got {value}")
    return int(value)


class SimClob(BookVenue):
    """A CEX-style order-book venue: fees in bps of the quote notional (negative maker = rebate),
    self-trade prevention that cancels the resting order (Binance EXPIRE_MAKER), balances kept to
    10**-8 of each asset."""

    def __init__(
        self,
        instrument: Spot,
        *,
        name: str = "CEX",
        taker_fee_bps: Decimal = Decimal(10),
        maker_fee_bps: Decimal = Decimal(10),
        profile: DepthProfile | None = None,
        balances: Mapping[str, Decimal] | None = None,
        base_decimals: int = 8,
        quote_decimals: int = 8,
        self_trade: SelfTradeMode = SelfTradeMode.CANCEL_MAKER,
        seed: int = 0,
        max_open_orders: int | None = 200,
    ) -> None:
        super().__init__(
            instrument,
            name=name,
            fees=BpsFees(taker_fee_bps, maker_fee_bps),
            profile=profile if profile is not None else DepthProfile(),
            balances=balances,
            base_decimals=base_decimals,
            quote_decimals=quote_decimals,
            self_trade=self_trade,
            seed=seed,
            max_open_orders=max_open_orders,
        )
