"""The unmodified driftpy client (its own transaction sending, its cached subscriber: driftpy 0.8.89's
polling subscriber decodes no Pyth pull or Lazer oracle) against the local Drift chain: subscribe, create the
user, deposit, place, fill (a keeper's crank), cancel, funding, liquidation. What its `DriftUser` reads equals
SimDrift's state; the events its parser reads from the logs equal SimDrift's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import numpy as np
from solders.keypair import Keypair

from botnft.data.bars import BarBatch
from botnft.domain.events import FundingApplied, PositionLiquidated
from botnft.venues.sim.drift import SimDrift
from fakes.drift_chain import USDC_MINT, DriftChain
from fakes.drift_world import T0, minute_bars
from fakes.solana_rpc import LocalSolana

MINUTE = 60 * 10**9


def run(fn: Callable[..., Awaitable[None]], bars: BarBatch) -> None:
    async def main() -> None:
        from driftpy.account_subscription_config import AccountSubscriptionConfig
        from driftpy.drift_client import DriftClient
        from driftpy.types import OracleInfo, OracleSource
        from solana.rpc.async_api import AsyncClient
        from solana.rpc.commitment import Confirmed

        chain = LocalSolana()
        drift = DriftChain(chain, SimDrift(), bars, bar=0)
        kp = Keypair()
        chain.airdrop(kp.pubkey(), 10**10)
        ata = chain.set_token(kp.pubkey(), USDC_MINT, 10_000 * 10**6)
        async with chain.serve() as url:
            conn = AsyncClient(url, commitment=Confirmed)
            client = DriftClient(
                conn, kp, env="mainnet", perp_market_indexes=[0], spot_market_indexes=[0],
                oracle_infos=[OracleInfo(drift.oracles[0], OracleSource.PythPull())],
                account_subscription=AccountSubscriptionConfig("cached"),
                market_lookup_tables=[],
            )  # fmt: skip
            try:
                await client.subscribe()
                await client.initialize_user()
                await client.add_user(0)
                await client.get_user().account_subscriber.update_cache()
                await client.deposit(2_000 * 10**6, 0, ata)
                await asyncio.wait_for(fn(client, drift), 60)
            finally:
                await client.unsubscribe()
                await conn.close()

    asyncio.run(main())


async def fresh(client: Any) -> Any:
    """The user as driftpy sees it once its subscriber has read the chain again."""
    user = client.get_user()
    await user.account_subscriber.update_cache()
    await client.account_subscriber.update_cache()
    return user


def params(kind: str, qty: int, direction: str, *, price: int = 0, uid: int = 0) -> Any:
    from driftpy import types as T

    return T.OrderParams(
        order_type=getattr(T.OrderType, kind)(), market_type=T.MarketType.Perp(), base_asset_amount=qty,
        market_index=0, direction=getattr(T.PositionDirection, direction)(), price=price, user_order_id=uid,
    )  # fmt: skip


def test_place_fill_cancel_and_the_account_driftpy_reads_equals_simdrifts() -> None:
    async def go(client: Any, drift: DriftChain) -> None:
        from driftpy.events.parse import parse_logs
        from driftpy.math.margin import MarginCategory

        user = await fresh(client)
        assert user.get_token_amount(0) == 2_000 * 10**6 == drift.sim.account.usdc
        await client.place_perp_order(params("Limit", 10**9, "Long", price=140_000_000, uid=5))
        user = await fresh(client)
        (o,) = user.get_open_orders()
        assert (o.user_order_id, o.price, o.base_asset_amount) == (5, 140_000_000, 10**9)
        assert list(drift.sim.core.orders) == [str(o.order_id)]
        sig = await client.cancel_order_by_user_id(5)
        assert not drift.sim.core.orders
        logs = drift.chain.landed[str(sig)].logs
        assert [e.name for e in parse_logs(client.program, logs)] == ["OrderActionRecord"]
        await client.place_perp_order(params("Market", 4 * 10**9, "Short"))
        drift.crank(2)
        user = await fresh(client)
        pos = user.get_perp_position(0)
        sim_pos = drift.sim.account.position(0)
        assert (pos.base_asset_amount, pos.quote_asset_amount, pos.quote_entry_amount) == (
            sim_pos.base_asset_amount, sim_pos.quote_asset_amount, sim_pos.quote_entry_amount) == (
            -4 * 10**9, sim_pos.quote_asset_amount, sim_pos.quote_entry_amount)  # fmt: skip
        want = drift.sim.margin("maintenance")
        assert user.get_margin_requirement(MarginCategory.MAINTENANCE) == want.margin_requirement
        assert user.get_total_collateral(MarginCategory.MAINTENANCE) == want.total_collateral
        fills = [
            e
            for r in drift.chain.landed.values()
            for e in parse_logs(client.program, r.logs)
            if e.name == "OrderActionRecord" and str(type(e.data.action).__name__).upper() == "FILL"
        ]
        assert sum(f.data.base_asset_amount_filled for f in fills) == 4 * 10**9

    run(go, minute_bars())


def funding_then_crash() -> BarBatch:
    """Flat to past the 01:00 funding update (mark 1 % over the oracle), then a crash to $100."""
    c = np.concatenate([np.full(20, 150.0), np.linspace(150.0, 100.0, 25), np.full(5, 100.0)])
    o = np.concatenate([[c[0]], c[:-1]])
    ts = T0 - 15 * MINUTE + MINUTE * np.arange(len(c), dtype=np.int64)
    return BarBatch(ts, o, np.maximum(o, c) + 0.01, np.minimum(o, c) - 0.01, c, np.full(len(c), 1e7), MINUTE,
                    o * 1.01, c * 1.01)  # fmt: skip


def test_funding_and_liquidation_records_equal_simdrifts_events() -> None:
    async def go(client: Any, drift: DriftChain) -> None:
        from driftpy.events.parse import parse_logs

        await client.place_perp_order(params("Market", 120 * 10**9, "Long"))  # $18k on $2k: 9x
        drift.crank(45)
        events = [e for r in drift.chain.landed.values() for e in parse_logs(client.program, r.logs)]
        funding = [e.data for e in events if e.name == "FundingPaymentRecord"]
        want_f = [e for e in drift.history if isinstance(e, FundingApplied)]
        assert want_f and [-Decimal(f.funding_payment).scaleb(-6) for f in funding] == [  # > 0: received
            w.payment for w in want_f
        ]
        liq = [e.data for e in events if e.name == "LiquidationRecord"]
        want_l = [e for e in drift.history if isinstance(e, PositionLiquidated)]
        assert want_l and [Decimal(x.liquidate_perp.base_asset_amount).scaleb(-9) for x in liq] == [
            w.qty for w in want_l]  # fmt: skip
        user = await fresh(client)
        pos = user.get_perp_position(0)
        assert (pos.base_asset_amount if pos else 0) == drift.sim.account.position(0).base_asset_amount

    run(go, funding_then_crash())
