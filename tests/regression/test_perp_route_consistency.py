"""The router's prediction for a SimDrift market order is the fill the venue then makes.

SimDrift publishes its finite taker curve (``liquidity()``); the router reads it through
``routing.adapt.to_source``. For 1,000 random market orders from 0.1 to 1,000,000 SOL (log-uniform,
both sides, random oracle), the predicted filled size and average price (before the fee) must equal
the venue's fills: size exactly, price to 0.01 bp, including orders larger than the curve.
"""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np

from botnft.data.bars import BarBatch
from botnft.domain.events import OrderExpired, OrderFilled
from botnft.domain.orders import Order, OrderType, Side
from botnft.routing.adapt import to_source
from botnft.venues.sim.drift import SimDrift
from botnft.venues.sim.drift_params import SOL_PERP

HOUR = 3_600 * 10**9
T0 = 1_735_689_600 * 10**9
ORDERS = 1_000


def _bars(price: float) -> BarBatch:
    c = np.full(4, price)
    ts = T0 + HOUR * np.arange(4, dtype=np.int64)
    return BarBatch(ts, c, c, c, c, np.full(4, 1e9), HOUR, None, None)


def _fill(price: float, side: Side, qty: Decimal) -> tuple[list[OrderFilled], bool, object]:
    """Place a market order at bar 1's close, run bar 2; the fills, whether it expired, the snapshot."""
    venue = SimDrift([SOL_PERP], collateral=Decimal(10) ** 12)
    bars = _bars(price)
    venue.set_cursor(bars, 1)
    snap = venue.liquidity(SOL_PERP.instrument_id)
    venue.create_order(Order("O-1", SOL_PERP.instrument_id, side, qty, 0, order_type=OrderType.MARKET))
    events: list[object] = []
    for j in (2, 3):
        events.extend(venue.process(bars, j))
    fills = [e for e in events if isinstance(e, OrderFilled)]
    expired = any(isinstance(e, OrderExpired) for e in events)
    return fills, expired, snap


def test_the_routers_predicted_average_price_is_simdrifts_fill_for_a_thousand_random_orders() -> None:
    rng = random.Random(9)
    worst_bp = 0.0
    partial = 0
    for _ in range(ORDERS):
        price = round(rng.uniform(20.0, 300.0), 2)
        side = rng.choice((Side.BUY, Side.SELL))
        qty = Decimal(round(10 ** rng.uniform(-1.0, 6.0), 2)).quantize(Decimal("0.01"))
        fills, expired, snap = _fill(price, side, qty)
        src = to_source(snap, "buy" if side is Side.BUY else "sell", fee_bps=0)  # type: ignore[arg-type]
        capacity = src.curve("buy").total_out if side is Side.BUY else src.capacity("sell")
        predicted_qty = min(float(qty), capacity)
        if side is Side.BUY:
            predicted_avg = src.input_for("buy", predicted_qty) / predicted_qty
        else:
            predicted_avg = src.output("sell", predicted_qty) / predicted_qty
        filled = sum((f.qty for f in fills), Decimal(0))
        assert abs(float(filled) - predicted_qty) < 1e-6, (price, side, qty)
        actual_avg = float(sum(f.qty * f.price for f in fills) / filled)
        worst_bp = max(worst_bp, abs(actual_avg / predicted_avg - 1) * 1e4)
        if filled < qty:
            partial += 1
            assert expired  # the rest of an oversized market order expires, as on chain
    print(f"perp route consistency: {ORDERS} orders, worst {worst_bp:.2e} bp, {partial} partly filled")
    assert worst_bp <= 0.01
    assert partial > 100  # the sample does reach beyond the curve
