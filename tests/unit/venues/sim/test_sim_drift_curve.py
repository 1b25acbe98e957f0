"""SimDrift's finite taker curve: capped JIT makers, resting orders and the vAMM, best price first.

Default SOL-PERP liquidity (``drift_params.DEFAULT_LIQUIDITY``): JIT 2,000 SOL at the first auction slot
(oracle 100 → 100.05), resting orders 3,000 / 5,000 / 8,000 SOL at 10 / 20 / 35 bps, a vAMM of 1M SOL
balanced reserves pegged 5 bps out in 5-bps bands, everything up to the auction end (oracle ± 0.5 %).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from botnft.data.bars import BarBatch
from botnft.domain.events import OrderExpired, OrderFilled
from botnft.domain.orders import Order, OrderType, Side
from botnft.venues.sim.drift import SimDrift
from botnft.venues.sim.drift_params import SOL_PERP

HOUR = 3_600 * 10**9
T0 = 1_735_689_600 * 10**9
B = 1_000_000.0  # vAMM base reserve, SOL


def _run(side: Side, qty: str) -> list[object]:
    c = np.full(4, 100.0)
    bars = BarBatch(T0 + HOUR * np.arange(4, dtype=np.int64), c, c, c, c, np.full(4, 1e9), HOUR)
    venue = SimDrift([SOL_PERP], collateral=Decimal(10) ** 10)
    venue.set_cursor(bars, 1)
    venue.create_order(
        Order("O-1", SOL_PERP.instrument_id, side, Decimal(qty), 0, order_type=OrderType.MARKET)
    )
    return [e for j in (2, 3) for e in venue.process(bars, j)]


def _fills(events: list[object]) -> list[tuple[Decimal, Decimal]]:
    return [(e.qty, e.price) for e in events if isinstance(e, OrderFilled)]


def test_a_buy_beyond_the_jit_cap_takes_the_vamms_first_band_at_its_average_price() -> None:
    # band 1 of x·y=k from the peg 100.05 ends where (B/(B−x))² = 1.0005: x = B(1 − 1/√1.0005) ≈ 249.9;
    # its average 100.05·B/(B − x) ≈ 100.07501, rounded up to the tick
    x1 = math.floor(B * (1 - 1 / math.sqrt(1.0005)) * 100) / 100
    avg = math.ceil(100.05 * B / (B - x1) * 1e4) / 1e4
    assert _fills(_run(Side.BUY, "2100")) == [
        (Decimal("2000"), Decimal("100.05")),
        (Decimal("100"), Decimal(repr(avg))),
    ]


def test_a_sell_mirrors_it_below_the_oracle() -> None:
    x1 = math.floor(B * (1 / math.sqrt(0.9995) - 1) * 100) / 100
    avg = math.floor(99.95 / (1 + x1 / B) * 1e4) / 1e4
    assert _fills(_run(Side.SELL, "2100")) == [
        (Decimal("2000"), Decimal("99.95")),
        (Decimal("100"), Decimal(repr(avg))),
    ]


def test_fills_come_best_price_first_and_include_each_resting_level_at_its_own_price() -> None:
    fills = _fills(_run(Side.BUY, "10000"))
    prices = [p for _, p in fills]
    assert prices == sorted(prices)
    assert (Decimal("3000"), Decimal("100.10")) in fills
    assert (
        Decimal("5000"),
        Decimal("100.20"),
    ) not in fills  # only 10,000 SOL: the 20-bps level is partly taken
    assert sum(q for q, _ in fills) == Decimal("10000")


def test_an_oversized_market_order_is_partly_filled_up_to_the_auction_end_and_the_rest_expires() -> None:
    # JIT 2,000 + resting 16,000 + the vAMM from its peg 100.05 to the auction end 100.50:
    # x = B(1 − √(100.05/100.50)) ≈ 2,241.31 SOL
    amm = B * (1 - math.sqrt(100.05 / 100.50))
    events = _run(Side.BUY, "50000")
    fills = _fills(events)
    filled = sum(q for q, _ in fills)
    assert abs(float(filled) - (18_000 + amm)) < 0.02
    assert max(p for _, p in fills) <= Decimal("100.50")
    assert any(isinstance(e, OrderExpired) for e in events)
