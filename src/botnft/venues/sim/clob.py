"""A central limit order book with price-time priority: the pure matching engine of the simulated venues.

Integer prices in ticks and sizes in lots; sorted price levels with FIFO queues; matching with partial
fills; GTC / IOC / FOK / POST_ONLY; self-trade prevention; cancel; and a re-quote of one owner's liquidity
that keeps every other order's place in its queue. After every operation the book is uncrossed (`check()`
verifies it). No money and no clock here: the venues on top (`SimClob` in `book_replay.py`, `SimOpenBook`
in `openbook.py`) own balances, fees and events.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from botnft.domain.orders import TimeInForce

__all__ = [
    "BookError",
    "Match",
    "MatchPlan",
    "OrderBook",
    "RestingOrder",
    "SelfTradeMode",
    "Submission",
]


class BookError(RuntimeError):
    """An operation that would corrupt the book: a bug in the caller, never a user's mistake."""


class SelfTradeMode(StrEnum):
    """What happens when an incoming order meets a resting order of the same owner.

    CANCEL_MAKER cancels the resting order and matches on (Binance ``EXPIRE_MAKER``; OpenBook v2
    ``SelfTradeBehavior::CancelProvide``). DECREMENT_TAKE matches both sides as a normal trade but
    without fees (OpenBook v2's default, ``#[default] DecrementTake`` in ``orderbook/order_type.rs``).
    ABORT refuses the whole order (OpenBook ``AbortTransaction`` -> ``WouldSelfTrade``).
    """

    CANCEL_MAKER = "cancel_maker"
    DECREMENT_TAKE = "decrement_take"
    ABORT = "abort"


@dataclass(slots=True, eq=False)
class RestingOrder:
    """An order on the book. `qty` (lots) is what remains; identity, not value, makes two orders equal."""

    order_id: int
    owner: str
    is_bid: bool
    price: int
    qty: int
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """The incoming order took `qty` lots from `maker` at the maker's `price` (ticks)."""

    maker: RestingOrder
    price: int
    qty: int
    self_trade: bool = False


@dataclass(frozen=True, slots=True)
class MatchPlan:
    """What matching an incoming order would do, computed without touching the book.

    `execute` applies it only if the book has not changed since (`version`)."""

    is_bid: bool
    qty: int
    matches: tuple[Match, ...]
    cancels: tuple[RestingOrder, ...]
    aborted: bool
    version: int

    @property
    def filled(self) -> int:
        return sum(m.qty for m in self.matches)

    @property
    def remaining(self) -> int:
        return self.qty - self.filled


@dataclass(frozen=True, slots=True)
class Submission:
    """The outcome of `OrderBook.submit`. `reason` is set when nothing happened (a rejection or a kill);
    otherwise `plan` was executed and `rested` is the posted remainder, if any."""

    plan: MatchPlan | None
    rested: RestingOrder | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


Approve = Callable[[MatchPlan, int], str | None]
"""Called with the plan and the lots that would rest, before anything changes; a string refuses."""


class OrderBook:
    """Bids and asks as sorted price levels of FIFO queues. Ticks and lots are positive ints."""

    __slots__ = ("_by_owner", "_depth", "_levels", "_orders", "_pending", "_prices", "_seq", "_version")

    def __init__(self) -> None:
        # index 0 = asks, 1 = bids; prices ascending on both sides
        self._levels: tuple[dict[int, list[RestingOrder]], dict[int, list[RestingOrder]]] = ({}, {})
        self._prices: tuple[list[int], list[int]] = ([], [])
        self._orders: dict[int, RestingOrder] = {}
        self._by_owner: dict[str, dict[int, RestingOrder]] = {}
        self._seq = 0
        self._version = 0
        #: (version, bid depth, ask depth) as a whole-book re-quote built them: `depth` at that version
        self._depth: tuple[int, list[tuple[int, int]], list[tuple[int, int]]] | None = None
        #: (owner, bid levels, ask levels, the seq before their ids) of a whole-book re-quote whose orders
        #: are not built yet: the book is exactly those levels, one order each, ids in order, bids first.
        #: Reads of the depth, the touch, the size and the version need no orders; anything else builds
        #: them first (`_real`), with the ids and versions they would have had.
        self._pending: tuple[str, list[tuple[int, int]], list[tuple[int, int]], int] | None = None

    def _real(self) -> None:
        """Build the orders of a deferred whole-book re-quote (nothing else is on the book then)."""
        pend = self._pending
        if pend is None:
            return
        self._pending = None
        owner, bids, asks, seq = pend
        orders = self._orders
        mine: dict[int, RestingOrder] = {}
        new = RestingOrder
        for is_bid, ladder in ((True, bids), (False, asks)):
            levels = self._levels[is_bid]
            for price, qty in ladder:
                seq += 1
                o = new(seq, owner, is_bid, price, qty, None)
                levels[price] = [o]
                orders[seq] = o
                mine[seq] = o
            prices = [p for p, _ in ladder]
            if is_bid:
                prices.reverse()
            self._prices[is_bid][:] = prices
        self._by_owner[owner] = mine

    # queries --------------------------------------------------------------------------------------
    def best_bid(self) -> int | None:
        pend = self._pending
        if pend is not None:
            return pend[1][0][0] if pend[1] else None
        p = self._prices[1]
        return p[-1] if p else None

    def best_ask(self) -> int | None:
        pend = self._pending
        if pend is not None:
            return pend[2][0][0] if pend[2] else None
        p = self._prices[0]
        return p[0] if p else None

    @property
    def version(self) -> int:
        """Bumped by every change to the book: equal versions mean equal depth."""
        return self._version

    def __len__(self) -> int:
        pend = self._pending
        if pend is not None:
            return len(pend[1]) + len(pend[2])
        return len(self._orders)

    def get(self, order_id: int) -> RestingOrder | None:
        self._real()
        return self._orders.get(order_id)

    def orders_of(self, owner: str) -> list[RestingOrder]:
        """The owner's resting orders in time priority (oldest first)."""
        pend = self._pending
        if pend is not None:
            if pend[0] != owner:
                return []  # the deferred re-quote's owner holds the whole book
            self._real()
        return sorted(self._by_owner.get(owner, {}).values(), key=lambda o: o.order_id)

    def level(self, is_bid: bool, price: int) -> list[RestingOrder]:
        """The queue at one price, front first (a copy)."""
        self._real()
        return list(self._levels[is_bid].get(price, ()))

    def depth(self, is_bid: bool, n: int | None = None) -> list[tuple[int, int]]:
        """(price, total lots) per level, best first."""
        held = self._depth
        if held is not None and held[0] == self._version:  # the book as the last re-quote left it
            full = held[1] if is_bid else held[2]
            return full[:] if n is None else full[: max(n, 1)]
        self._real()
        out = []
        levels = self._levels[is_bid]
        for price in self._priority(is_bid):
            level = levels[price]
            out.append((price, level[0].qty if len(level) == 1 else sum([o.qty for o in level])))
            if n is not None and len(out) >= n:
                break
        return out

    def volume_better(self, is_bid: bool, price: int, *, exclude: frozenset[int] = frozenset()) -> int:
        """Lots on this side priced strictly better than `price` (bids above it, asks below it)."""
        self._real()
        total = 0
        for p in self._priority(is_bid):
            if (p <= price) if is_bid else (p >= price):
                break
            total += sum(o.qty for o in self._levels[is_bid][p] if o.order_id not in exclude)
        return total

    def would_cross(self, is_bid: bool, price: int) -> bool:
        """True if an order at `price` on this side would meet the other side."""
        other = self.best_ask() if is_bid else self.best_bid()
        return other is not None and (price >= other if is_bid else price <= other)

    # matching -------------------------------------------------------------------------------------
    def plan(
        self,
        is_bid: bool,
        qty: int,
        limit: int | None = None,
        *,
        owner: str = "",
        stp: SelfTradeMode = SelfTradeMode.CANCEL_MAKER,
        exclude: frozenset[int] = frozenset(),
    ) -> MatchPlan:
        """Match `qty` lots against the other side in price-time priority, up to `limit` (None = market),
        without changing the book. Orders in `exclude` are skipped as if absent."""
        if qty <= 0:
            raise BookError(f"order size must be a positive number of lots, got {qty}")
        self._real()
        left = qty
        matches: list[Match] = []
        cancels: list[RestingOrder] = []
        side = not is_bid
        levels = self._levels[side]
        for price in self._priority(side):
            if limit is not None and (price > limit if is_bid else price < limit):
                break
            for o in levels[price]:
                if left == 0:
                    break
                if o.order_id in exclude:
                    continue
                self_trade = o.owner == owner
                if self_trade and stp is SelfTradeMode.CANCEL_MAKER:
                    cancels.append(o)
                    continue
                if self_trade and stp is SelfTradeMode.ABORT:
                    return MatchPlan(is_bid, qty, (), (), True, self._version)
                take = min(left, o.qty)
                matches.append(Match(o, price, take, self_trade))
                left -= take
            if left == 0:
                break
        return MatchPlan(is_bid, qty, tuple(matches), tuple(cancels), False, self._version)

    def execute(self, plan: MatchPlan) -> None:
        """Apply a plan made on the current book."""
        self._real()
        if plan.version != self._version:
            raise BookError("the book changed since this plan was made")
        if plan.aborted:
            raise BookError("an aborted plan cannot be executed")
        for m in plan.matches:
            m.maker.qty -= m.qty
            if m.maker.qty == 0:
                self._remove(m.maker)
        for o in plan.cancels:
            self._remove(o)
        self._version += 1

    def submit(
        self,
        owner: str,
        is_bid: bool,
        qty: int,
        *,
        limit: int | None,
        tif: TimeInForce = TimeInForce.GTC,
        stp: SelfTradeMode = SelfTradeMode.CANCEL_MAKER,
        tag: str | None = None,
        exclude: frozenset[int] = frozenset(),
        approve: Approve | None = None,
    ) -> Submission:
        """An incoming order: match what crosses, then rest the remainder (GTC / POST_ONLY with a limit)
        or drop it (IOC, market). FOK executes only if it fills entirely; POST_ONLY only if nothing
        crosses. `approve` (a funds check) may refuse after planning and before any change."""
        self._real()
        if limit is None and tif is TimeInForce.POST_ONLY:
            return Submission(None, reason="post_only_needs_a_price")
        if tif is TimeInForce.POST_ONLY:
            assert limit is not None
            if self.would_cross(is_bid, limit):
                return Submission(None, reason="post_only_would_cross")
            plan = MatchPlan(is_bid, qty, (), (), False, self._version)
        else:
            plan = self.plan(is_bid, qty, limit, owner=owner, stp=stp, exclude=exclude)
        if plan.aborted:
            return Submission(plan, reason="would_self_trade")
        if tif is TimeInForce.FOK and plan.remaining > 0:
            return Submission(plan, reason="fok_unfillable")
        rests = limit is not None and tif in (TimeInForce.GTC, TimeInForce.POST_ONLY)
        rest_qty = plan.remaining if rests else 0
        if limit is None and not plan.matches:
            return Submission(plan, reason="no_liquidity")
        if approve is not None:
            refusal = approve(plan, rest_qty)
            if refusal is not None:
                return Submission(plan, reason=refusal)
        self.execute(plan)
        rested = None
        if rest_qty > 0:
            assert limit is not None
            rested = self.add(owner, is_bid, limit, rest_qty, tag)
        return Submission(plan, rested)

    # resting orders -------------------------------------------------------------------------------
    def add(
        self,
        owner: str,
        is_bid: bool,
        price: int,
        qty: int,
        tag: str | None = None,
        *,
        before: RestingOrder | None = None,
    ) -> RestingOrder:
        """Rest an order without matching (at the back of its queue, or just ahead of `before`)."""
        self._real()
        if qty <= 0 or price <= 0:
            raise BookError(f"a resting order needs positive price and size, got {price} x {qty}")
        if self.would_cross(is_bid, price):
            raise BookError(f"a {'bid' if is_bid else 'ask'} at {price} would cross the book")
        self._seq += 1
        o = RestingOrder(self._seq, owner, is_bid, price, qty, tag)
        level = self._levels[is_bid].get(price)
        if level is None:
            level = self._levels[is_bid][price] = []
            bisect.insort(self._prices[is_bid], price)
        if before is None:
            level.append(o)
        else:
            level.insert(level.index(before), o)
        self._orders[o.order_id] = o
        self._by_owner.setdefault(owner, {})[o.order_id] = o
        self._version += 1
        return o

    def cancel(self, order_id: int) -> RestingOrder | None:
        """Remove a resting order; None if it is not on the book."""
        self._real()
        o = self._orders.get(order_id)
        if o is not None:
            self._remove(o)
            self._version += 1
        return o

    def requote(self, owner: str, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> int:
        """Replace all of `owner`'s orders with new (price, lots) levels, keeping time priority honest.

        Every other order keeps its place: the owner's lots that were ahead of it at its price stay ahead,
        capped by the owner's new size there (cancellations ahead only move it forward); new lots join
        behind. Levels that would cross the remaining orders are dropped (those quotes would have traded)
        and counted in the return value."""
        if self._pending is not None and self._pending[0] != owner:
            self._real()
        if self._pending is not None or len(self._by_owner.get(owner, ())) == len(self._orders):
            bids, asks = list(bids), list(asks)
            if _strictly(bids, descending=True) and _strictly(asks, descending=False):
                return self._requote_alone(owner, bids, asks)
        self._real()
        ahead: dict[int, int] = {}
        for side in (0, 1):
            for level in self._levels[side].values():
                acc = 0
                for o in level:
                    if o.owner == owner:
                        acc += o.qty
                    else:
                        ahead[o.order_id] = acc
        self._remove_owner(owner)
        dropped = 0
        for is_bid, quotes in ((True, bids), (False, asks)):
            for price, qty in quotes:
                if qty <= 0:
                    continue
                if self.would_cross(is_bid, price):
                    dropped += 1
                    continue
                placed = 0
                for o in list(self._levels[is_bid].get(price, ())):
                    chunk = min(qty, ahead.get(o.order_id, 0)) - placed
                    if chunk > 0:
                        self.add(owner, is_bid, price, chunk, before=o)
                        placed += chunk
                if qty > placed:
                    self.add(owner, is_bid, price, qty - placed)
        return dropped

    def _requote_alone(self, owner: str, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> int:
        """`requote` when the owner's orders are the whole book and each side's prices are strictly in
        priority order (bids falling, asks rising): no queue to keep, so the levels are taken as they are,
        with the ids, versions and drops the general path gives (one order per positive level, bids
        first; an ask at or below the best bid is dropped). The orders themselves are built only when
        something needs them (`_pending`)."""
        self._depth = None
        if self._pending is not None:  # the owner's deferred orders (at least one) are the whole book
            self._pending = None
            self._version += 1
        elif self._by_owner.pop(owner, None):  # `_remove_owner` when the owner's orders are the whole book
            for side in (0, 1):
                self._levels[side].clear()
                self._prices[side].clear()
            self._orders.clear()
            self._version += 1
        # levels with lots, in the quotes' order; then the asks at or below the best bid are dropped (a
        # prefix: asks rise) and a level with lots at a price <= 0 is refused, the first one met in order
        bid_ladder = [lv if type(lv) is tuple else (lv[0], lv[1]) for lv in bids if lv[1] > 0]
        ask_ladder = [lv if type(lv) is tuple else (lv[0], lv[1]) for lv in asks if lv[1] > 0]
        if bid_ladder and bid_ladder[-1][0] <= 0:  # bids fall: the last is the lowest
            price, qty = next(lv for lv in bid_ladder if lv[0] <= 0)
            raise BookError(f"a resting order needs positive price and size, got {price} x {qty}")
        dropped = 0
        if bid_ladder and ask_ladder and ask_ladder[0][0] <= bid_ladder[0][0]:
            dropped = bisect.bisect_right(ask_ladder, bid_ladder[0][0], key=lambda lv: lv[0])
            ask_ladder = ask_ladder[dropped:]
        if ask_ladder and ask_ladder[0][0] <= 0:  # asks rise: the first is the lowest
            price, qty = ask_ladder[0]
            raise BookError(f"a resting order needs positive price and size, got {price} x {qty}")
        ladders = [bid_ladder, ask_ladder]
        placed = len(ladders[0]) + len(ladders[1])
        if placed:
            self._pending = (owner, ladders[0], ladders[1], self._seq)
        self._seq += placed
        self._version += placed
        # one order per level, in priority order (the quotes' order): the depth until the book changes
        self._depth = (self._version, ladders[0], ladders[1])
        return dropped

    def check(self) -> None:
        """Raise `BookError` unless the book is uncrossed and its indexes agree."""
        self._real()
        bb, ba = self.best_bid(), self.best_ask()
        if bb is not None and ba is not None and bb >= ba:
            raise BookError(f"crossed book: best bid {bb} >= best ask {ba}")
        seen = 0
        for side in (0, 1):
            if sorted(self._levels[side]) != self._prices[side]:
                raise BookError("price index out of order")
            for price, level in self._levels[side].items():
                if not level:
                    raise BookError(f"empty level at {price}")
                for o in level:
                    if o.qty <= 0 or o.price != price or o.is_bid != bool(side):
                        raise BookError(f"bad resting order {o}")
                    if self._orders.get(o.order_id) is not o:
                        raise BookError(f"order {o.order_id} missing from the index")
                    seen += 1
        if seen != len(self._orders) or seen != sum(len(v) for v in self._by_owner.values()):
            raise BookError("order index out of step with the levels")

    # internals ------------------------------------------------------------------------------------
    def _priority(self, is_bid: bool) -> Iterator[int]:
        prices = self._prices[is_bid]
        return reversed(prices) if is_bid else iter(prices)

    def _remove(self, o: RestingOrder) -> None:
        level = self._levels[o.is_bid][o.price]
        for i, x in enumerate(level):
            if x is o:
                del level[i]
                break
        if not level:
            del self._levels[o.is_bid][o.price]
            prices = self._prices[o.is_bid]
            del prices[bisect.bisect_left(prices, o.price)]
        del self._orders[o.order_id]
        mine = self._by_owner[o.owner]
        del mine[o.order_id]
        if not mine:
            del self._by_owner[o.owner]

    def _remove_owner(self, owner: str) -> None:
        mine = self._by_owner.pop(owner, None)
        if not mine:
            return
        for side in (0, 1):
            levels = self._levels[side]
            for price in [p for p, lv in levels.items() if any(o.owner == owner for o in lv)]:
                kept = [o for o in levels[price] if o.owner != owner]
                if kept:
                    levels[price] = kept
                else:
                    del levels[price]
            self._prices[side][:] = sorted(levels)
        for order_id in mine:
            del self._orders[order_id]
        self._version += 1


def _strictly(levels: list[tuple[int, int]], *, descending: bool) -> bool:
    """Whether the levels' prices are strictly falling (`descending`) or strictly rising."""
    prices = [p for p, _ in levels]
    return all(map(operator.gt if descending else operator.lt, prices, prices[1:]))
