"""Binance's JSON shapes for the fake exchange (tests/fakes/binance.py): markets, orders, klines.

Field names and formats follow Binance's API docs (see tests/fixtures/binance/schema.json for the sources).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botnft.domain.orders import Side
from botnft.venues.sim.clob import OrderBook

API_KEY = "fake-api-key"  # the fake account's key and secret
SECRET = "fake-secret"


def plain(d: Decimal) -> str:
    """Binance prints decimals with 8 places: '150.00000000'."""
    return f"{d:.8f}"


@dataclass
class Market:
    symbol: str  # SOLUSDT
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    perp: bool
    book: OrderBook = field(default_factory=OrderBook)

    def ticks(self, price: Decimal) -> int:
        return int(price / self.tick)

    def lots(self, qty: Decimal) -> int:
        return int(qty / self.step)


@dataclass
class FakeOrder:
    order_id: int
    client_id: str
    market: Market
    side: Side
    type: str
    tif: str
    price: Decimal
    qty: Decimal
    time: int
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)
    status: str = "NEW"
    resting_id: int | None = None
    reduce_only: bool = False


def order_json(kind: str, o: FakeOrder) -> dict[str, Any]:
    """An order in the spot (`/api/v3`) or USDⓈ-M (`/fapi/v1`) shape."""
    common = {
        "symbol": o.market.symbol,
        "orderId": o.order_id,
        "clientOrderId": o.client_id,
        "price": plain(o.price),
        "origQty": plain(o.qty),
        "executedQty": plain(o.executed),
        "status": o.status,
        "timeInForce": o.tif or "GTC",
        "type": o.type,
        "side": "BUY" if o.side is Side.BUY else "SELL",
        "stopPrice": plain(Decimal(0)),
        "time": o.time,
        "updateTime": o.time,
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    if kind == "fapi":
        avg = o.quote / o.executed if o.executed else Decimal(0)
        common.update(
            {
                "avgPrice": plain(avg),
                "cumQty": plain(o.executed),
                "cumQuote": plain(o.quote),
                "reduceOnly": o.reduce_only,
                "closePosition": False,
                "positionSide": "BOTH",
                "workingType": "CONTRACT_PRICE",
                "priceProtect": False,
                "origType": o.type,
                "priceMatch": "NONE",
                "goodTillDate": 0,
            }
        )
    else:
        common.update(
            {
                "orderListId": -1,
                "cummulativeQuoteQty": plain(o.quote),
                "icebergQty": "0.00000000",
                "isWorking": o.status in ("NEW", "PARTIALLY_FILLED"),
                "workingTime": o.time,
                "origQuoteOrderQty": "0.00000000",
                "transactTime": o.time,
            }
        )
    return common


def bundled_klines(n: int = 300) -> list[list[Any]]:
    """The last `n` hours of the package's real SOL/USDT candles, as Binance kline rows."""
    from botnft.data import bundle
    from botnft.data.loader import load_candles

    b = load_candles(bundle.get("sol-spot-1h").path)
    step = b.interval_ns // 1_000_000
    rows = []
    for i in range(len(b) - n, len(b)):
        t = int(b.ts_ns[i]) // 1_000_000
        o, h, lo, c, v = (repr(float(a[i])) for a in (b.open, b.high, b.low, b.close, b.volume))
        rows.append([t, o, h, lo, c, v, t + step - 1, "0", 0, "0", "0", "0"])
    return rows


def exchange_info_json(m: Market, now_ms: int) -> dict[str, Any]:
    price_filter = {
        "filterType": "PRICE_FILTER",
        "minPrice": plain(m.tick),
        "maxPrice": "1000000.00000000",
        "tickSize": plain(m.tick),
    }
    lot = {
        "filterType": "LOT_SIZE",
        "minQty": plain(m.min_qty),
        "maxQty": "9000000.00000000",
        "stepSize": plain(m.step),
    }
    market_lot = dict(lot, filterType="MARKET_LOT_SIZE")
    limits = [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    ]
    if m.perp:
        sym = {
            "symbol": m.symbol,
            "pair": m.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": m.base,
            "quoteAsset": m.quote,
            "marginAsset": m.quote,
            "pricePrecision": 2,
            "quantityPrecision": 2,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": ["Layer-1"],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "maxMoveOrderLimit": 10000,
            "filters": [
                price_filter,
                lot,
                market_lot,
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": plain(m.min_notional)},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        }
        return {
            "timezone": "UTC",
            "serverTime": now_ms,
            "futuresType": "U_MARGINED",
            "rateLimits": limits,
            "exchangeFilters": [],
            "assets": [{"asset": m.quote, "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [sym],
        }
    sym = {
        "symbol": m.symbol,
        "status": "TRADING",
        "baseAsset": m.base,
        "baseAssetPrecision": 8,
        "quoteAsset": m.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "amendAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            price_filter,
            lot,
            market_lot,
            {
                "filterType": "NOTIONAL",
                "minNotional": plain(m.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "rateLimits": limits,
        "exchangeFilters": [],
        "symbols": [sym],
    }


def futures_account_json(wallet: Decimal, avail: Decimal, now_ms: int) -> dict[str, Any]:
    """GET /fapi/v2/account: one USDT asset, cross margin, no unrealized profit."""
    upnl = Decimal(0)
    asset = {
        "asset": "USDT",
        "walletBalance": plain(wallet),
        "unrealizedProfit": plain(upnl),
        "marginBalance": plain(wallet),
        "maintMargin": "0.00000000",
        "initialMargin": plain(wallet - avail),
        "positionInitialMargin": plain(wallet - avail),
        "openOrderInitialMargin": "0.00000000",
        "crossWalletBalance": plain(wallet),
        "crossUnPnl": "0.00000000",
        "availableBalance": plain(avail),
        "maxWithdrawAmount": plain(avail),
        "marginAvailable": True,
        "updateTime": now_ms,
    }
    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "totalInitialMargin": asset["initialMargin"],
        "totalMaintMargin": "0.00000000",
        "totalWalletBalance": plain(wallet),
        "totalUnrealizedProfit": "0.00000000",
        "totalMarginBalance": plain(wallet),
        "totalPositionInitialMargin": asset["initialMargin"],
        "totalOpenOrderInitialMargin": "0.00000000",
        "totalCrossWalletBalance": plain(wallet),
        "totalCrossUnPnl": "0.00000000",
        "availableBalance": plain(avail),
        "maxWithdrawAmount": plain(avail),
        "assets": [asset],
        "positions": [],
    }


def futures_balance_json(wallet: Decimal, avail: Decimal, now_ms: int) -> list[dict[str, Any]]:
    """GET /fapi/v2/balance."""
    return [
        {
            "accountAlias": "SgsR",
            "asset": "USDT",
            "balance": plain(wallet),
            "crossWalletBalance": plain(wallet),
            "crossUnPnl": "0.00000000",
            "availableBalance": plain(avail),
            "maxWithdrawAmount": plain(avail),
            "marginAvailable": True,
            "updateTime": now_ms,
        }
    ]


def leverage_bracket_json(symbol: str) -> list[dict[str, Any]]:
    """GET /fapi/v1/leverageBracket: two notional brackets."""
    return [
        {
            "symbol": symbol,
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": 75,
                    "notionalCap": 10000,
                    "notionalFloor": 0,
                    "maintMarginRatio": 0.005,
                    "cum": 0.0,
                },
                {
                    "bracket": 2,
                    "initialLeverage": 50,
                    "notionalCap": 1000000,
                    "notionalFloor": 10000,
                    "maintMarginRatio": 0.01,
                    "cum": 50.0,
                },
            ],
        }
    ]
