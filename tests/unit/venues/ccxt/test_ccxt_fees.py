"""A Binance spot trade's commission as the ccxt adapter reports it (ccxt's ``fee.currency`` from Binance's
``commissionAsset``): a buy pays in the asset bought, a sell in the quote received; booked by the portfolio
in that asset, the ledger equals the exchange's balances. Figures by hand from the fake's book (asks from
150.05, bids from 149.95, 0.1 % commission)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from test_ccxt_client import SPOT, settings

from botnft.domain.events import OrderFilled
from botnft.domain.instruments import Spot
from botnft.domain.orders import Order, OrderType, Side
from botnft.domain.portfolio import Portfolio
from botnft.domain.reports import FillReport
from botnft.venues.ccxt.client import CcxtExecutionClient
from fakes.binance import FakeBinance

MARKET = OrderType.MARKET


def event(f: FillReport) -> OrderFilled:
    return OrderFilled(f.ts_ns, f.client_order_id, f.instrument, f.side, f.qty, f.price, f.fee, f.fee_asset,
                       f.liquidity, trade_id=f.trade_id)  # fmt: skip


def test_spot_commissions_are_reported_in_their_asset_and_the_ledger_matches_the_exchange() -> None:
    async def main() -> None:
        fake = FakeBinance(balances={"USDT": Decimal(1000), "SOL": Decimal(0)})
        url = await fake.start()
        client = CcxtExecutionClient(settings(url))
        try:
            await client.connect()
            pf = Portfolio(
                {SPOT: Spot(SPOT, "SOL", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"))}
            )
            pf.deposit("BINANCE", "USDT", Decimal(1000))
            await client.create_order(
                Order("b-1", SPOT, Side.BUY, Decimal(1), 0, order_type=OrderType.MARKET)
            )
            (buy,) = await client.fetch_my_trades()
            assert (buy.qty, buy.price, buy.fee, buy.fee_asset) == (Decimal(1), Decimal("150.05"),
                                                                    Decimal("0.001"), "SOL")  # fmt: skip
            pf.apply_fill(event(buy))
            assert fake.balances["SOL"] == pf.balance("BINANCE", "SOL") == Decimal("0.999")
            assert fake.balances["USDT"] == pf.balance("BINANCE", "USDT") == Decimal("849.95")
            await client.create_order(Order("s-1", SPOT, Side.SELL, Decimal("0.999"), 0,
                                            order_type=OrderType.MARKET))  # fmt: skip
            sell = next(t for t in await client.fetch_my_trades() if t.client_order_id == "s-1")
            # 0.999 at 149.95 = 149.80005 USDT, 0.1 % of it kept
            assert (sell.price, sell.fee, sell.fee_asset) == (
                Decimal("149.95"),
                Decimal("0.14980005"),
                "USDT",
            )
            pf.apply_fill(event(sell))
            assert fake.balances["SOL"] == pf.balance("BINANCE", "SOL") == 0
            assert fake.balances["USDT"] == pf.balance("BINANCE", "USDT") == Decimal("999.60024995")
        finally:
            await client.close()
            await fake.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
