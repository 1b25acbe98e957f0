"""The ccxt adapter against the loopback fake Binance: what it sends, what it refuses to send, reconciliation
after a restart, perps, and one-line errors for unknown markets and bad keys."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from botnft.domain.errors import InvalidOrder, RateLimited, Rejected, Retryable, UserError
from botnft.domain.events import OrderAccepted, OrderCanceled, OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, OrderType, Side
from botnft.venues.ccxt.client import CcxtExecutionClient
from botnft.venues.ccxt.settings import CcxtSettings
from fakes.binance import API_KEY, SECRET, FakeBinance

SPOT = InstrumentId("SOL/USDT", "BINANCE")
PERP = InstrumentId("SOL-PERP", "BINANCE")


def settings(url: str, market_type: str = "spot", **kw: Any) -> CcxtSettings:
    raw: dict[str, Any] = {
        "exchange": "binance",
        "market_type": market_type,
        "symbols": ["SOL/USDT" if market_type == "spot" else "SOL/USDT:USDT"],
        "api_key": API_KEY,
        "secret": SECRET,
        "api_urls": url,
        "timeout_ms": 1000,
        "poll_interval_s": 0.02,
        "enable_rate_limit": False,
    }
    raw.update(kw)
    return CcxtSettings.from_mapping(raw)


@contextlib.asynccontextmanager
async def running(
    market_type: str = "spot", **kw: Any
) -> AsyncIterator[tuple[FakeBinance, CcxtExecutionClient]]:
    fake = FakeBinance()
    url = await fake.start()
    client = CcxtExecutionClient(settings(url, market_type, **kw))
    try:
        await client.connect()
        yield fake, client
    finally:
        await client.close()
        await fake.stop()


def run(fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(fn(), 30))


def bodies(fake: FakeBinance, path: str) -> list[dict[str, str]]:
    return [p for (m, pth, p) in fake.log if pth == path and m == "POST"]


def test_an_order_goes_out_with_our_client_id_and_its_exact_size() -> None:
    async def main() -> None:
        async with running() as (fake, client):
            await client.create_order(
                Order(
                    "bot-1",
                    SPOT,
                    Side.BUY,
                    Decimal("1.234"),
                    0,
                    order_type=OrderType.LIMIT,
                    price=Decimal("140.05"),
                )
            )
            (sent,) = bodies(fake, "/api/v3/order")
            assert sent["newClientOrderId"] == "bot-1"
            assert (sent["symbol"], sent["side"], sent["type"]) == ("SOLUSDT", "BUY", "LIMIT")
            assert Decimal(sent["quantity"]) == Decimal("1.234") and Decimal(sent["price"]) == Decimal(
                "140.05"
            )

    run(main)


def test_markets_come_from_exchange_info() -> None:
    async def main() -> None:
        async with running() as (_, client):
            (inst,) = client.instruments().values()
            assert (inst.id, inst.tick_size, inst.lot_size, inst.min_size) == (
                SPOT,
                Decimal("0.01"),
                Decimal("0.001"),
                Decimal("0.001"),
            )
        async with running("swap") as (_, client):
            (inst,) = client.instruments().values()
            assert inst.id == PERP and inst.is_perp and inst.lot_size == Decimal("0.01")

    run(main)


@pytest.mark.parametrize(
    ("amount", "price", "reason"),
    [("1.2345", "140", "off_size_grid"), ("1.234", "140.005", "off_price_grid"), ("0", "140", "")],
)
def test_off_grid_orders_are_refused_and_never_sent(amount: str, price: str, reason: str) -> None:
    async def main() -> None:
        async with running() as (fake, client):
            with pytest.raises(InvalidOrder) as e:
                order = Order(
                    "bot-2",
                    SPOT,
                    Side.BUY,
                    Decimal(amount),
                    0,
                    order_type=OrderType.LIMIT,
                    price=Decimal(price),
                )
                await client.create_order(order)
            if reason:
                assert e.value.reason == reason
            assert bodies(fake, "/api/v3/order") == []

    run(main)


def test_an_unknown_symbol_is_a_one_line_user_error() -> None:
    async def main() -> None:
        fake = FakeBinance()
        url = await fake.start()
        client = CcxtExecutionClient(settings(url, symbols=["DOGE/USDT"]))
        try:
            with pytest.raises(UserError, match="binance has no spot market 'DOGE/USDT'"):
                await client.connect()
        finally:
            await client.close()
            await fake.stop()

    run(main)


@pytest.mark.parametrize(("key", "secret", "code"), [(API_KEY, "wrong", "-1022"), ("wrong", SECRET, "-2015")])
def test_a_bad_signature_or_key_is_refused_by_the_venue_and_rejected(
    key: str, secret: str, code: str
) -> None:
    async def main() -> None:
        async with running(api_key=key, secret=secret) as (fake, client):
            with pytest.raises(Rejected) as e:
                await client.fetch_balance()
            assert e.value.reason == "authentication" and code in str(e.value)
            assert fake.balances["USDT"] == Decimal(100_000)

    run(main)


def test_a_rate_limit_carries_the_venues_answer() -> None:
    async def main() -> None:
        async with running() as (fake, client):
            fake.inject("rate_limit")
            with pytest.raises(RateLimited, match="429"):
                await client.create_order(Order("bot-3", SPOT, Side.BUY, Decimal("0.5"), 0))
            assert fake.orders_held("bot-3") == 0

    run(main)


def test_a_perp_opened_and_closed_realizes_the_price_move() -> None:
    async def main() -> None:
        async with running("swap") as (_, client):
            await client.create_order(Order("open-1", PERP, Side.BUY, Decimal("2"), 0))
            (pos,) = await client.fetch_positions()
            assert pos.qty == Decimal(2) and pos.entry_price == Decimal("150.05")  # best ask: mid + 5 ticks
            await client.create_order(Order("close-1", PERP, Side.SELL, Decimal("2"), 0))
            (pos,) = await client.fetch_positions()
            assert pos.qty == 0
            bal = await client.fetch_balance()
            # bought 2 at 150.05, sold 2 at 149.95: -0.20, fees 0.1% of 300.10 and of 299.90
            assert bal["USDT"] == Decimal(100_000) - Decimal("0.20") - Decimal("0.30010") - Decimal("0.29990")

    run(main)


def test_after_a_restart_mass_status_names_every_order_by_our_client_id() -> None:
    async def main() -> None:
        async with running() as (_, client):
            await client.create_order(Order("r-1", SPOT, Side.BUY, Decimal("1"), 0))
            await client.create_order(
                Order(
                    "r-2", SPOT, Side.BUY, Decimal("1"), 0, order_type=OrderType.LIMIT, price=Decimal("140")
                )
            )
            fresh = CcxtExecutionClient(client.settings)  # a new process: knows none of them
            await fresh.connect()
            try:
                ms = await fresh.mass_status()
            finally:
                await fresh.close()
            assert {f.client_order_id for f in ms.fills} == {"r-1"}
            assert sum(f.qty for f in ms.fills) == Decimal(1)
            assert ms.order("r-2") is not None and ms.order("r-2").status is OrderStatus.ACCEPTED
            assert ms.order("r-1") is not None and ms.order("r-1").status is OrderStatus.FILLED
            assert dict(ms.balances)["SOL"] == Decimal(100) + Decimal(1) - Decimal("0.001")
            assert [p.qty for p in ms.positions] == [dict(ms.balances)["SOL"]]

    run(main)


def test_the_stream_reports_each_fill_once_and_the_cancel() -> None:
    async def main() -> None:
        async with running() as (fake, client):
            events: list[Any] = []

            async def read() -> None:
                async for ev in client.stream():
                    events.append(ev)

            task = asyncio.create_task(read())
            await client.create_order(
                Order(
                    "s-1", SPOT, Side.SELL, Decimal("3"), 0, order_type=OrderType.LIMIT, price=Decimal("151")
                )
            )
            await fake.take(SPOT, Side.BUY, Decimal("151"), Decimal("1"))
            await asyncio.sleep(0.2)
            await client.cancel_order("s-1")
            for _ in range(100):
                if any(isinstance(e, OrderCanceled) for e in events):
                    break
                await asyncio.sleep(0.02)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            kinds = [type(e) for e in events]
            assert kinds == [OrderAccepted, OrderFilled, OrderCanceled]
            fill = events[1]
            assert (fill.qty, fill.price, fill.fee, fill.fee_asset, fill.liquidity) == (
                Decimal(1),
                Decimal(151),
                Decimal("0.151"),
                "USDT",
                "maker",
            )
            assert fake.balances["SOL"] == Decimal(99) and fake.locked.get("SOL", 0) == 0

    run(main)


def test_trades_are_read_page_by_page_and_each_kept_once() -> None:
    async def main() -> None:
        async with running() as (fake, client):
            for i in range(5):
                await client.create_order(Order(f"p-{i}", SPOT, Side.BUY, Decimal("0.5"), 0))
            paged = CcxtExecutionClient(client.settings, trades_page=2)
            await paged.connect()
            try:
                fills = await paged.fetch_my_trades()
            finally:
                await paged.close()
            assert sorted(f.client_order_id for f in fills) == [f"p-{i}" for i in range(5)]
            assert len({f.trade_id for f in fills}) == 5
            assert len([1 for m, p, _ in fake.log if p == "/api/v3/myTrades"]) >= 3

    run(main)


def test_after_a_restart_an_order_from_before_is_asked_for_not_sent_again() -> None:
    async def main() -> None:
        async with running() as (fake, client):
            before = client.now_ns()
            fake.inject("lost_response")
            with pytest.raises(Retryable):
                await client.create_order(Order("k-1", SPOT, Side.BUY, Decimal("1"), before))
            fresh = CcxtExecutionClient.from_config(
                {
                    "exchange": "binance",
                    "symbols": ["SOL/USDT"],
                    "api_key": API_KEY,
                    "secret": SECRET,
                    "api_urls": fake.url,
                    "enable_rate_limit": False,
                }
            )
            await fresh.connect()  # the new process: it never saw k-1
            try:
                ack = await fresh.create_order(Order("k-1", SPOT, Side.BUY, Decimal("1"), before))
                new = await fresh.create_order(Order("k-2", SPOT, Side.BUY, Decimal("1"), fresh.now_ns()))
            finally:
                await fresh.close()
            assert ack.venue_order_id is not None
            assert (fake.creates_received("k-1"), fake.orders_held("k-1")) == (1, 1)
            assert (fake.creates_received("k-2"), new.client_order_id) == (1, "k-2")
            lookups = [p for m, path, p in fake.log if path == "/api/v3/order" and m == "GET"]
            assert [p.get("origClientOrderId") for p in lookups] == ["k-1"]  # a new order is not looked up

    run(main)


def test_the_stream_polls_working_orders_in_one_request_per_instrument() -> None:
    async def main() -> None:
        async with running() as (fake, client):
            for i in range(6):
                price = Decimal(140) - i
                await client.create_order(
                    Order(
                        f"w-{i}",
                        SPOT,
                        Side.BUY,
                        Decimal("0.1"),
                        client.now_ns(),
                        order_type=OrderType.LIMIT,
                        price=price,
                    )
                )
            n0 = len(fake.log)
            await client.tracker.poll()
            paths = [path for _, path, _ in fake.log[n0:]]
            assert paths.count("/api/v3/openOrders") == 1
            assert paths.count("/api/v3/order") == 0  # no per-order lookups while all six are working

    run(main)


def test_no_key_or_secret_in_an_error_message() -> None:
    async def main() -> None:
        async with running() as (fake, client):
            msgs = []
            for fault in ("timeout", "server_error", "rate_limit", "lost_response"):
                fake.inject(fault)
                with pytest.raises(Retryable) as e:
                    await client.create_order(
                        Order(f"e-{fault}", SPOT, Side.BUY, Decimal("1"), client.now_ns())
                    )
                msgs.append(str(e.value))
            with pytest.raises(InvalidOrder) as e2:
                await client.create_order(Order("e-x", SPOT, Side.BUY, Decimal("1.00001"), client.now_ns()))
            msgs.append(str(e2.value))
            for m in msgs:
                assert API_KEY not in m and SECRET not in m

    run(main)


def test_a_clock_outside_the_receive_window_is_refused_and_retryable() -> None:
    async def main() -> None:
        async with running() as (fake, client):
            fake.clock_skew_ms = 60_000  # the venue runs a minute ahead: our timestamps look stale
            with pytest.raises(Retryable, match="-1021"):
                await client.fetch_balance()
            fake.clock_skew_ms = 0
            assert (await client.fetch_balance())["USDT"] == Decimal(100_000)

    run(main)
