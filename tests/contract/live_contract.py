"""The contract every live venue adapter (an `ExecutionClient` talking to a real API) passes, run against the
venue's loopback fake.

An adapter joins by registering a subject factory in its own module `tests/contract/live_<name>.py`:

    from live_contract import LiveSubject, register

    @contextlib.asynccontextmanager
    async def my_subject() -> AsyncIterator[LiveSubject]:
        ...start the fake, build and connect the client...
        yield LiveSubject(...)
        ...close the client, stop the fake...

    register("my_venue", my_subject)

`test_live_venues.py` imports every `live_*.py` here and runs each check below once per registered subject,
each on a fresh fake (so checks never see each other's orders). Everything is bounded in time: a check that
waits for an event gives up after `EVENT_TIMEOUT_S`.

What the subject must provide:
- `client`: the adapter under test. Besides the `ExecutionClient` port it has `stream()`, an async iterator of
  the venue events it learns of (`OrderAccepted`, `OrderFilled`, `OrderCanceled`, ...), as the node reads it.
- `control`: the fake venue's test handle (`VenueControl`): inject a fault into the next request(s), count
  the create requests that reached the venue and the orders it holds per client order id, and trade against
  a resting order as another participant would.
- `market_qty`: a size that a market order fills at once; `rest_price(side)`: a limit price far enough from
  the market that the order rests (None if the venue has no resting orders: a swap venue skips those checks).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from botnft.domain.errors import InvalidOrder, OrderNotFound, Rejected, Retryable
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.orders import Order, OrderStatus, OrderType, Side

EVENT_TIMEOUT_S = 10.0

#: fault names every fake understands (a fake may add its own)
RATE_LIMIT = "rate_limit"  # 429 with Retry-After, the request is not executed
SERVER_ERROR = "server_error"  # 5xx, the request is not executed
TIMEOUT = "timeout"  # the request is executed, the answer comes after the client's timeout
LOST_RESPONSE = "lost_response"  # the request is executed, the connection drops before the answer


class VenueControl(Protocol):
    """The fake venue's handle for tests."""

    def inject(self, fault: str, count: int = 1) -> None:
        """The next `count` order-entry requests meet `fault`."""

    def creates_received(self, client_order_id: str) -> int:
        """How many create requests for this client order id reached the venue (whatever their outcome)."""

    def orders_held(self, client_order_id: str) -> int:
        """How many orders (or landed transactions) the venue holds under this client order id."""

    async def take(self, instrument: InstrumentId, side: Side, price: Decimal, qty: Decimal) -> None:
        """Another participant trades `qty` on `side` at `price` (through our resting order there)."""


@dataclass
class LiveSubject:
    client: Any
    instrument: InstrumentId
    control: VenueControl
    market_qty: Decimal
    rest_price: Callable[[Side], Decimal | None]
    #: assets whose balance may also drop by costs no fill reports (a network fee): checked as an upper bound
    unreported_cost_assets: frozenset[str] = frozenset()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> Instrument:
        spec: Instrument = self.client.instruments()[self.instrument]
        return spec


SubjectFactory = Callable[[], contextlib.AbstractAsyncContextManager[LiveSubject]]
LIVE_FACTORIES: dict[str, SubjectFactory] = {}


def register(name: str, factory: SubjectFactory) -> None:
    """Add a subject factory to the suite (name unique)."""
    if name in LIVE_FACTORIES and LIVE_FACTORIES[name] is not factory:
        raise ValueError(f"live subject {name!r} is registered twice")
    LIVE_FACTORIES[name] = factory


_ids = itertools.count(1)


def new_id(tag: str) -> str:
    return f"ct-{tag}-{next(_ids)}"


class EventLog:
    """Reads the client's stream in the background; `wait` returns once a predicate holds (bounded)."""

    def __init__(self, client: Any) -> None:
        self.events: list[Any] = []
        self._client = client
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> EventLog:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        async for ev in self._client.stream():
            self.events.append(ev)
            self._changed.set()

    def of(self, cid: str, kind: type | tuple[type, ...] = object) -> list[Any]:
        return [e for e in self.events if getattr(e, "client_order_id", None) == cid and isinstance(e, kind)]

    def filled(self, cid: str) -> Decimal:
        return sum((e.qty for e in self.of(cid, OrderFilled)), Decimal(0))

    async def wait(self, pred: Callable[[], bool], what: str, timeout: float = EVENT_TIMEOUT_S) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not pred():
            left = end - loop.time()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; events: {self.events}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))


def market(s: LiveSubject, side: Side, cid: str, qty: Decimal | None = None) -> Order:
    return Order(cid, s.instrument, side, qty if qty is not None else s.market_qty, 0)


def limit(s: LiveSubject, side: Side, cid: str, price: Decimal, qty: Decimal | None = None) -> Order:
    amount = qty if qty is not None else s.market_qty
    return Order(cid, s.instrument, side, amount, 0, order_type=OrderType.LIMIT, price=price)


async def fetch_settled(s: LiveSubject, cid: str, tries: int = 40) -> Any:
    """fetch_order, retrying while the venue cannot tell yet (Retryable), bounded."""
    for _ in range(tries):
        try:
            return await s.client.fetch_order(cid)
        except Retryable:
            await asyncio.sleep(0.1)
    raise AssertionError(f"fetch_order({cid}) stayed Retryable")


async def fetch_filled(s: LiveSubject, cid: str, qty: Decimal) -> Any:
    """fetch_order until it reports `qty` filled (a venue may list an order before its fill), bounded;
    the last report is returned either way (None if the venue never found it)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + EVENT_TIMEOUT_S
    rep = await fetch_settled(s, cid)
    while rep is not None and rep.filled != qty and loop.time() < end:
        await asyncio.sleep(0.1)
        rep = await fetch_settled(s, cid)
    return rep


def rest_or_skip(s: LiveSubject, side: Side) -> Decimal:
    import pytest

    price = s.rest_price(side)
    if price is None:
        pytest.skip("the venue has no resting orders")
    return price


# ---------------------------------------------------------------------------------------------- checks
async def check_instrument_has_grids(s: LiveSubject) -> None:
    spec = s.spec
    assert spec.id == s.instrument
    assert spec.tick_size > 0 and spec.lot_size > 0
    assert spec.min_size >= spec.lot_size
    assert s.market_qty % spec.lot_size == 0 and s.market_qty >= spec.min_size


async def check_market_order_acks_then_fills(s: LiveSubject) -> None:
    cid = new_id("mkt")
    async with EventLog(s.client) as log:
        ack = await s.client.create_order(market(s, Side.BUY, cid))
        assert ack.client_order_id == cid
        await log.wait(lambda: log.filled(cid) == s.market_qty, f"fills of {cid}")
    assert log.filled(cid) == s.market_qty  # never more than the order
    rep = await fetch_filled(s, cid, s.market_qty)
    assert rep is not None and rep.status is OrderStatus.FILLED and rep.filled == s.market_qty
    trades = [t for t in await s.client.fetch_my_trades() if t.client_order_id == cid]
    assert sum((t.qty for t in trades), Decimal(0)) == s.market_qty
    assert s.control.orders_held(cid) == 1


async def check_balances_move_by_the_fills(s: LiveSubject) -> None:
    spec = s.spec
    before = dict(await s.client.fetch_balance())
    pos_before = {p.instrument: p.qty for p in await s.client.fetch_positions()}
    cid = new_id("bal")
    async with EventLog(s.client) as log:
        await s.client.create_order(market(s, Side.BUY, cid))
        await log.wait(lambda: log.filled(cid) == s.market_qty, f"fills of {cid}")
    fills = log.of(cid, OrderFilled)
    expected: dict[str, Decimal] = {}
    if spec.is_perp:
        pos_after = {p.instrument: p.qty for p in await s.client.fetch_positions()}
        moved = pos_after.get(s.instrument, Decimal(0)) - pos_before.get(s.instrument, Decimal(0))
        assert moved == s.market_qty
    else:
        expected[spec.base] = sum((f.qty for f in fills), Decimal(0))
        expected[spec.quote] = -sum((f.notional for f in fills), Decimal(0))
    for f in fills:
        expected[f.fee_asset] = expected.get(f.fee_asset, Decimal(0)) - f.fee
    after = dict(await s.client.fetch_balance())
    for asset in set(before) | set(after) | set(expected):
        delta = after.get(asset, Decimal(0)) - before.get(asset, Decimal(0))
        want = expected.get(asset, Decimal(0))
        if asset in s.unreported_cost_assets:
            assert delta <= want, f"{asset}: moved {delta}, fills say at most {want}"
        else:
            assert delta == want, f"{asset}: moved {delta}, fills say {want}"


async def check_create_is_idempotent_on_the_client_id(s: LiveSubject) -> None:
    cid = new_id("idem")
    order = market(s, Side.BUY, cid)
    first = await s.client.create_order(order)
    second = await s.client.create_order(market(s, Side.BUY, cid))
    assert second.client_order_id == cid
    if first.venue_order_id is not None:
        assert second.venue_order_id == first.venue_order_id
    assert s.control.orders_held(cid) == 1
    rep = await fetch_filled(s, cid, s.market_qty)
    assert rep is not None and rep.filled == s.market_qty


async def check_resting_order_is_found_by_client_id(s: LiveSubject) -> None:
    price = rest_or_skip(s, Side.BUY)
    cid = new_id("rest")
    async with EventLog(s.client) as log:
        ack = await s.client.create_order(limit(s, Side.BUY, cid, price))
        await log.wait(lambda: bool(log.of(cid, OrderAccepted)), f"accept of {cid}")
    rep = await fetch_settled(s, cid)
    assert rep is not None
    assert rep.status is OrderStatus.ACCEPTED and rep.filled == 0 and rep.amount == s.market_qty
    assert rep.instrument == s.instrument and rep.side is Side.BUY
    if ack.venue_order_id is not None:
        assert rep.venue_order_id == ack.venue_order_id
    open_ids = [r.client_order_id for r in await s.client.fetch_open_orders(s.instrument)]
    assert open_ids.count(cid) == 1


async def check_resting_order_fills_when_the_market_trades_through_it(s: LiveSubject) -> None:
    price = rest_or_skip(s, Side.BUY)
    cid = new_id("take")
    async with EventLog(s.client) as log:
        await s.client.create_order(limit(s, Side.BUY, cid, price))
        await log.wait(lambda: bool(log.of(cid, OrderAccepted)), f"accept of {cid}")
        half = s.spec.size_down(s.market_qty / 2) or s.market_qty
        await s.control.take(s.instrument, Side.SELL, price, half)
        await log.wait(lambda: log.filled(cid) == half, f"partial fill of {cid}")
        rep = await fetch_settled(s, cid)
        assert rep is not None and rep.filled == half
        if half < s.market_qty:
            assert rep.status is OrderStatus.PARTIALLY_FILLED
            await s.control.take(s.instrument, Side.SELL, price, s.market_qty - half)
            await log.wait(lambda: log.filled(cid) == s.market_qty, f"full fill of {cid}")
    assert all(f.price == price for f in log.of(cid, OrderFilled))
    rep = await fetch_settled(s, cid)
    assert rep is not None and rep.status is OrderStatus.FILLED


async def check_cancel_closes_a_resting_order(s: LiveSubject) -> None:
    price = rest_or_skip(s, Side.BUY)
    cid = new_id("cxl")
    async with EventLog(s.client) as log:
        await s.client.create_order(limit(s, Side.BUY, cid, price))
        await log.wait(lambda: bool(log.of(cid, OrderAccepted)), f"accept of {cid}")
        ack = await s.client.cancel_order(cid)
        assert ack.client_order_id == cid
        await log.wait(lambda: bool(log.of(cid, OrderCanceled)), f"cancel of {cid}")
    rep = await fetch_settled(s, cid)
    assert rep is not None and rep.status is OrderStatus.CANCELED
    assert cid not in [r.client_order_id for r in await s.client.fetch_open_orders()]


async def check_unknown_order_is_none(s: LiveSubject) -> None:
    assert await fetch_settled(s, new_id("never-sent")) is None


async def check_cancel_of_unknown_order_is_rejected(s: LiveSubject) -> None:
    if not s.client.has.get("cancelOrder", True):
        import pytest

        pytest.skip("the venue has no cancel")
    try:
        await s.client.cancel_order(new_id("never-sent"))
    except OrderNotFound:
        return
    raise AssertionError("cancel of an unknown order did not raise OrderNotFound")


async def check_off_grid_size_is_rejected_before_sending(s: LiveSubject) -> None:
    spec = s.spec
    cid = new_id("grid")
    off = s.market_qty + spec.lot_size / 2
    try:
        await s.client.create_order(market(s, Side.BUY, cid, off))
    except InvalidOrder:
        pass
    else:
        raise AssertionError(f"size {off} off the lot grid {spec.lot_size} was accepted")
    assert s.control.creates_received(cid) == 0
    below = spec.min_size - spec.lot_size
    if below > 0:
        cid2 = new_id("min")
        try:
            await s.client.create_order(market(s, Side.BUY, cid2, below))
        except InvalidOrder:
            pass
        else:
            raise AssertionError(f"size {below} below the minimum {spec.min_size} was accepted")


async def check_off_tick_price_is_rejected_before_sending(s: LiveSubject) -> None:
    price = rest_or_skip(s, Side.BUY)
    cid = new_id("tick")
    try:
        await s.client.create_order(limit(s, Side.BUY, cid, price + s.spec.tick_size / 2))
    except InvalidOrder:
        pass
    else:
        raise AssertionError("a price off the tick grid was accepted")
    assert s.control.creates_received(cid) == 0


async def check_unaffordable_order_is_rejected(s: LiveSubject) -> None:
    cid = new_id("poor")
    huge = s.market_qty * 10**9
    price = s.rest_price(Side.BUY)  # a resting order must be funded in full, whatever the book holds
    order = market(s, Side.BUY, cid, huge) if price is None else limit(s, Side.BUY, cid, price, huge)
    try:
        await s.client.create_order(order)
    except Rejected:
        pass
    else:
        raise AssertionError("an order far beyond the balance was accepted")
    assert s.control.orders_held(cid) == 0


async def _refused_then_sent_once(s: LiveSubject, fault: str) -> None:
    cid = new_id(fault)
    s.control.inject(fault)
    try:
        await s.client.create_order(market(s, Side.BUY, cid))
    except Retryable:
        pass
    else:
        raise AssertionError(f"{fault}: create_order did not raise Retryable")
    assert s.control.orders_held(cid) == 0, f"{fault}: a refused request left an order at the venue"
    ack = await s.client.create_order(market(s, Side.BUY, cid))  # the engine's retry, same client id
    assert ack.client_order_id == cid
    held = s.control.orders_held(cid)
    assert held == 1, f"{fault}: the venue holds {held} orders under {cid} after the retry"
    rep = await fetch_filled(s, cid, s.market_qty)
    assert rep is not None and rep.filled == s.market_qty, f"{fault}: the retried order reports {rep}"


async def check_rate_limit_is_retryable_and_the_retry_is_sent_once(s: LiveSubject) -> None:
    await _refused_then_sent_once(s, RATE_LIMIT)


async def check_server_error_is_retryable_and_the_retry_is_sent_once(s: LiveSubject) -> None:
    await _refused_then_sent_once(s, SERVER_ERROR)


async def _executed_without_answer(s: LiveSubject, fault: str) -> None:
    """The order reached the venue but its answer did not reach us: Retryable, then resolved by asking,
    and a retry of create_order does not send it a second time."""
    cid = new_id(fault)
    s.control.inject(fault)
    try:
        await s.client.create_order(market(s, Side.BUY, cid))
    except Retryable:
        pass
    else:
        raise AssertionError(f"{fault}: create_order did not raise Retryable")
    rep = await fetch_filled(s, cid, s.market_qty)
    assert rep is not None, f"{fault}: the executed order was not found by its client id"
    assert rep.filled == s.market_qty, f"{fault}: the venue reports {rep.filled} of {s.market_qty} filled"
    ack = await s.client.create_order(market(s, Side.BUY, cid))
    assert ack.client_order_id == cid
    held = s.control.orders_held(cid)
    assert held == 1, f"{fault}: the venue holds {held} orders under {cid}"
    assert s.control.creates_received(cid) == 1, "the order was sent twice"


async def check_timeout_is_retryable_and_resolved_by_client_id(s: LiveSubject) -> None:
    await _executed_without_answer(s, TIMEOUT)


async def check_lost_response_is_resolved_by_client_id(s: LiveSubject) -> None:
    await _executed_without_answer(s, LOST_RESPONSE)


async def check_mass_status_reports_orders_fills_and_balances(s: LiveSubject) -> None:
    cid = new_id("mass")
    await s.client.create_order(market(s, Side.BUY, cid))
    await fetch_settled(s, cid)
    ms = await s.client.mass_status()
    assert any(f.client_order_id == cid for f in ms.fills)
    assert sum((f.qty for f in ms.fills if f.client_order_id == cid), Decimal(0)) == s.market_qty
    assert dict(ms.balances)


CHECKS: dict[str, Callable[[LiveSubject], Awaitable[None]]] = {
    name.removeprefix("check_"): fn
    for name, fn in sorted(globals().items())
    if name.startswith("check_") and callable(fn)
}


def run_check(factory: SubjectFactory, check: Callable[[LiveSubject], Awaitable[None]]) -> None:
    """Build a fresh subject and run one check on it, in a new event loop, bounded in time."""

    async def main() -> None:
        async with factory() as subject:
            await asyncio.wait_for(check(subject), 60)

    asyncio.run(main())


__all__ = [
    "CHECKS",
    "LIVE_FACTORIES",
    "LOST_RESPONSE",
    "RATE_LIMIT",
    "SERVER_ERROR",
    "TIMEOUT",
    "EventLog",
    "LiveSubject",
    "VenueControl",
    "register",
    "run_check",
]
