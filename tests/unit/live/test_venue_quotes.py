"""The router's live Drift and OpenBook snapshots, read over RPC from the local chain: the Drift perp's asks
and bids cost what a constant product on the PerpMarket's reserves and peg (read from the fixture) costs,
within a tick per band; a DLOB server's orders join the curve in price order; the OpenBook book is the
BookSide accounts' orders at their prices."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("driftpy")

from aiohttp import web
from solders.pubkey import Pubkey

from botnft.domain.ids import InstrumentId
from botnft.live.venue_quotes import (
    dlob_l2,
    drift_liquidity,
    openbook_liquidity,
    perp_market_address,
)
from botnft.venues.sim.drift import SimDrift
from botnft.venues.solana import SolanaRpc
from fakes.drift_chain import DriftChain
from fakes.drift_world import minute_bars
from fakes.openbook_chain import OpenBookChain
from fakes.solana_rpc import LocalSolana

PERP = InstrumentId("SOL-PERP", "DRIFT")
SPOT = InstrumentId("SOL/USDC", "OPENBOOK")


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def _amm(chain: LocalSolana, key: Pubkey) -> Any:
    """The PerpMarket's AMM decoded by anchorpy with the IDL driftpy ships."""
    import importlib.resources

    from anchorpy.coder.accounts import AccountsCoder
    from anchorpy_core.idl import Idl

    idl = Idl.from_json((importlib.resources.files("driftpy") / "idl" / "drift.json").read_text())
    acc = chain.svm.get_account(key)
    assert acc is not None
    return AccountsCoder(idl).decode(bytes(acc.data)).amm


def test_the_pda_is_driftpys() -> None:
    from driftpy.addresses import get_perp_market_public_key
    from driftpy.constants.config import DRIFT_PROGRAM_ID

    for idx in (0, 1, 24):
        assert perp_market_address(idx) == get_perp_market_public_key(DRIFT_PROGRAM_ID, idx)


def _cp_cost(peg: int, b: int, q: int, x: Decimal, buy: bool) -> Decimal:
    """Quote (USDC) a constant product x·y=k with reserves b, q (1e9) and peg (1e6) moves for x SOL."""
    xb = x * 10**9
    reserve_q = Decimal(q) * xb / (Decimal(b) - xb) if buy else Decimal(q) * xb / (Decimal(b) + xb)
    return Decimal(peg) / 10**6 * reserve_q / 10**9


def test_drift_perp_curve_is_the_constant_product_on_the_accounts_reserves() -> None:
    async def main() -> None:
        chain = LocalSolana(slow_s=1.0)
        DriftChain(chain, SimDrift(), minute_bars(), bar=0)
        amm = _amm(chain, perp_market_address(0))
        b, q, peg = amm.base_asset_reserve, amm.quote_asset_reserve, amm.peg_multiplier
        oracle = amm.historical_oracle_data.last_oracle_price
        tick = Decimal(amm.order_tick_size) / 10**6
        async with chain.serve() as url:
            rpc = SolanaRpc(url, timeout_s=2)
            try:
                snap = await drift_liquidity(rpc.account_data, PERP, 0, 1)
            finally:
                await rpc.close()
        assert snap is not None
        assert snap.oracle_price == Decimal(oracle) / 10**6
        assert snap.lot == Decimal(amm.order_step_size) / 10**9
        for levels, buy in ((snap.asks, True), (snap.bids, False)):
            assert levels, "no levels"
            size = sum((s for _, s in levels), Decimal(0))
            paid = sum((p * s for p, s in levels), Decimal(0))
            expected = _cp_cost(peg, b, q, size, buy)
            # each band is its exact average snapped one tick at most against the taker
            assert abs(paid - expected) <= tick * size + Decimal("0.000001"), (paid, expected)
            assert (paid >= expected) if buy else (paid <= expected)
            # the curve stops at the auction's end: the oracle ± 0.5 %
            end = Decimal(oracle) / 10**6 * (Decimal("1.005") if buy else Decimal("0.995"))
            assert (levels[-1][0] <= end) if buy else (levels[-1][0] >= end)
            prices = [p for p, _ in levels]
            assert prices == sorted(prices, reverse=not buy)
        assert snap.mid == (snap.bids[0][0] + snap.asks[0][0]) / 2

    run(main())


@contextlib.asynccontextmanager
async def dlob_server(body: dict[str, Any]) -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def l2(request: web.Request) -> web.Response:
        seen.append(dict(request.query))
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/l2", l2)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


def test_dlob_orders_join_the_vamm_curve_in_price_order() -> None:
    async def main() -> None:
        chain = LocalSolana(slow_s=1.0)
        DriftChain(chain, SimDrift(), minute_bars(), bar=0)
        amm = _amm(chain, perp_market_address(0))
        oracle = amm.historical_oracle_data.last_oracle_price
        inside, outside = oracle + 10_000, oracle * 2  # +1 cent: taken first; 2x: past the auction's end
        body = {
            "asks": [
                {"price": str(outside), "size": str(5 * 10**9)},
                {"price": str(inside), "size": "3000000000"},
            ],
            "bids": [{"price": str(oracle - 10_000), "size": "2000000000"}],
        }
        async with chain.serve() as url, dlob_server(body) as (dlob_url, seen):
            rpc = SolanaRpc(url, timeout_s=2)

            async def dlob(symbol: str) -> Any:
                return await dlob_l2(dlob_url, symbol)

            try:
                plain = await drift_liquidity(rpc.account_data, PERP, 0, 1)
                snap = await drift_liquidity(rpc.account_data, PERP, 0, 1, dlob=dlob)
            finally:
                await rpc.close()
        assert plain is not None and snap is not None
        assert seen[-1]["marketName"] == "SOL-PERP" and seen[-1]["includeVamm"] == "false"
        p_in = Decimal(inside) / 10**6
        assert (p_in, Decimal(3)) in snap.asks
        assert all(p != Decimal(outside) / 10**6 for p, _ in snap.asks)
        assert sum(s for _, s in snap.asks) == sum(s for _, s in plain.asks) + 3
        assert sum(s for _, s in snap.bids) == sum(s for _, s in plain.bids) + 2
        assert [p for p, _ in snap.asks] == sorted(p for p, _ in snap.asks)

    run(main())


def test_openbook_book_is_its_book_sides() -> None:
    async def main() -> None:
        chain = LocalSolana(slow_s=1.0)
        ob = OpenBookChain(chain, taker_fee=1_000, maker_fee=-200)  # 10 bps taker
        maker = ob.participant()
        ob.place(maker, False, 150_500, 2_000)  # 2 SOL at 150.5
        ob.place(maker, False, 150_100, 1_000)
        ob.place(maker, False, 150_100, 500)  # two orders at one price: one level
        ob.place(maker, True, 149_900, 4_000)
        async with chain.serve() as url:
            rpc = SolanaRpc(url, timeout_s=2)
            try:
                snap = await openbook_liquidity(rpc.account_data, ob.market, SPOT, 7)
            finally:
                await rpc.close()
        assert snap is not None
        assert snap.asks == ((Decimal("150.1"), Decimal("1.5")), (Decimal("150.5"), Decimal(2)))
        assert snap.bids == ((Decimal("149.9"), Decimal(4)),)
        assert snap.fee_bps == 10 and snap.lot == Decimal("0.001") and snap.ts_ns == 7

    run(main())
