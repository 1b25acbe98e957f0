"""DriftVenue's other instructions on the local chain: modify (the program cancels and re-places under the
same user order id: one open order for the node, its new price on chain, no cancel event), cancel once,
settle PnL, withdraw; and `drift_from_table` mistakes in one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from solders.token.associated import get_associated_token_address

from botnft.domain.errors import OrderNotFound, UserError
from botnft.domain.events import OrderAccepted, OrderCanceled
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, OrderType, Side
from botnft.venues.drift import drift_from_table
from fakes.drift_chain import USDC_MINT, DriftChain
from fakes.drift_world import drift_world, funded_venue

SOL = InstrumentId("SOL-PERP", "DRIFT")


def run(fn: Callable[..., Awaitable[None]]) -> None:
    async def main() -> None:
        async with drift_world() as (chain, drift, kp, journal, url):
            venue = await funded_venue(kp, journal, url, deposit=1_000)
            try:
                await asyncio.wait_for(fn(chain, drift, kp, venue), 60)
            finally:
                await venue.close()

    asyncio.run(main())


def test_modify_keeps_one_open_order_under_its_client_id() -> None:
    async def go(chain: Any, drift: DriftChain, kp: Any, venue: Any) -> None:
        events: list[Any] = []

        async def read() -> None:
            async for ev in venue.stream():
                events.append(ev)

        reader = asyncio.create_task(read())
        try:
            order = Order(
                "lim", SOL, Side.BUY, Decimal("2"), 0, order_type=OrderType.LIMIT, price=Decimal("140")
            )
            await venue.create_order(order)
            first = await venue.fetch_order("lim")
            sig = await venue.modify_order("lim", price=Decimal("141.5"))
            assert (await venue.sender.confirm(sig, timeout_s=5)).state == "landed"
            rep = await venue.fetch_order("lim")
            assert rep.status is OrderStatus.ACCEPTED and rep.venue_order_id != first.venue_order_id
            (rec,) = drift.sim.core.orders.values()
            assert rec.price == 141_500_000 and rec.base == 2 * 10**9
            assert [r.client_order_id for r in await venue.fetch_open_orders()] == ["lim"]
            await venue.refresh()
            (o,) = [o for o in venue._account().orders if o.order_id]
            assert (o.price, o.user_order_id) == (141_500_000, venue.ids.get("lim").user_order_id)
            await venue.cancel_order("lim")
            for _ in range(100):
                if any(isinstance(e, OrderCanceled) for e in events):
                    break
                await asyncio.sleep(0.05)
            mine = [type(e).__name__ for e in events if getattr(e, "client_order_id", "") == "lim"]
            assert mine == ["OrderAccepted", "OrderCanceled"]
            assert not drift.sim.core.orders
            assert (await venue.fetch_order("lim")).status is OrderStatus.CANCELED
            with pytest.raises(OrderNotFound):
                await venue.cancel_order("lim")
            assert not venue.ids.get("lim").open
            assert isinstance(events[0], OrderAccepted)
        finally:
            reader.cancel()

    run(go)


def test_settle_pnl_and_withdraw_move_what_simdrift_moves() -> None:
    async def go(chain: Any, drift: DriftChain, kp: Any, venue: Any) -> None:
        await venue.create_order(Order("r1", SOL, Side.BUY, Decimal("3"), 0))
        await venue.create_order(Order("r2", SOL, Side.SELL, Decimal("3"), 0))
        sig = await venue.settle_pnl(SOL, "settle-1")
        assert (await venue.sender.confirm(sig, timeout_s=5)).state == "landed"
        ata = get_associated_token_address(kp.pubkey(), USDC_MINT)
        before_wallet, before_usdc = chain.token_amount(kp.pubkey(), USDC_MINT), drift.sim.account.usdc
        sig = await venue.withdraw(Decimal("100.5"), "wd-1", ata)
        assert (await venue.sender.confirm(sig, timeout_s=5)).state == "landed"
        assert chain.token_amount(kp.pubkey(), USDC_MINT) == before_wallet + 100_500_000
        assert drift.sim.account.usdc == before_usdc - 100_500_000
        assert (await venue.fetch_balance())["USDC"] == drift.sim.fetch_balance()["USDC"]
        sig = await venue.withdraw(Decimal(10**6), "wd-2", ata)  # more than the account holds
        out = await venue.sender.status(sig)
        assert out.state == "failed" and '"Custom": 6003' in (out.err or "")

    run(go)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "drift.rpc_url must be the http(s) URL of a Solana RPC node"),
        ({"rpc_url": "http://127.0.0.1:1"}, "drift needs a wallet: keypair_file or keypair_env"),
        ({"rpc_url": "http://127.0.0.1:1", "keypair_file": "KEY"}, "drift needs a send journal"),
        (
            {"rpc_url": "http://127.0.0.1:1", "keypair_file": "KEY", "journal": "J", "skip_preflight": "no"},
            "drift.skip_preflight must be true or false",
        ),
        (
            {"rpc_url": "http://127.0.0.1:1", "keypair_file": "KEY", "journal": "J", "markets": ["X"]},
            "drift.markets: 'X' is not a perp symbol like SOL-PERP",
        ),
    ],
)
def test_table_mistakes_are_one_line(tmp_path: Path, table: dict[str, Any], message: str) -> None:
    import json

    from solders.keypair import Keypair

    key = tmp_path / "k.json"
    key.write_text(json.dumps(list(bytes(Keypair()))))
    key.chmod(0o600)
    t = {
        k: (str(key) if v == "KEY" else str(tmp_path / "j.sqlite") if v == "J" else v)
        for k, v in table.items()
    }
    with pytest.raises(UserError) as e:
        drift_from_table(t)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_a_live_drift_table_trades_on_the_fakes_with_the_keeper_running(tmp_path: Path) -> None:
    from fakes.drift_world import drift_fakes

    async def go() -> None:
        async with drift_fakes(collateral=3_000, keeper_s=0.05) as fakes:
            table = fakes.table(fakes.keypair_file(tmp_path / "w.json"), tmp_path / "sends.sqlite")
            venue = drift_from_table(table)
            await venue.start()
            try:
                assert (await venue.fetch_balance())["USDC"] == Decimal(3_000)
                await venue.create_order(Order("t1", SOL, Side.SELL, Decimal("1.5"), 0))
                rep = await venue.fetch_order("t1")
                assert rep is not None and rep.status is OrderStatus.FILLED
                start = fakes.drift.j
                for _ in range(100):
                    if fakes.drift.j >= start + 3:
                        break
                    await asyncio.sleep(0.05)
                assert fakes.drift.j >= start + 3  # the keeper runs the candles
                pos = {p.instrument: p.qty for p in await venue.fetch_positions()}
                assert pos == {SOL: Decimal("-1.5")}
                assert (await venue.fetch_balance())["USDC"] == fakes.drift.sim.fetch_balance()["USDC"]
            finally:
                await venue.close()

    asyncio.run(asyncio.wait_for(go(), 60))
