"""The router's price is the fill's: for random market orders from 0.1 to 1,000,000 SOL, both sides, on every
simulated spot venue, the average price the router predicts from the venue's snapshot equals the average
price the venue then fills at, to 0.01 bp, partial fills included (latency and MEV off: they move the price
on purpose)."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest

from botnft.backtest.spec import BacktestSpec
from botnft.data.bars import MarketData
from botnft.domain.events import OrderFilled
from botnft.domain.orders import Order, Side
from botnft.route_quote import route_data
from botnft.routing.costs import CostConfig, split_cost
from botnft.venue_builders import VENUE_BUILDERS, BuildContext

#: latency and MEV off, as in a world where the price the router sees is the one the order meets
STILL = {"solana": {"latency_slots": 0, "jitter_slots": 0, "mev": False}}
VENUES = ("raydium", "raydium_cpmm", "raydium_clmm", "openbook", "cex", "jupiter")
POOLS = ("raydium", "raydium_cpmm", "raydium_clmm", "jupiter")  # all or nothing
ORDERS_PER_VENUE = 1_000  # on every venue, both sides (issue 9: >= 1,000 orders per venue)
TOL_BP = 0.01


def venue_at(name: str, j: int):
    data = route_data()
    md = data.md
    bars = md.bars.slice(0, j + 200 + 2 * ORDERS_PER_VENUE)  # each order may move on a bar or two
    ctx = BuildContext(
        MarketData(md.name, md.market, md.base, bars, md.funding), BacktestSpec(liquidity=STILL)
    )
    build = VENUE_BUILDERS[name](ctx)
    venue = build.venue
    if name == "cex":
        venue.deposit("USDT", Decimal(10**12))
        venue.deposit("SOL", Decimal(10**8))
    else:
        ctx.solana.fund(Decimal(10**12))
        ctx.solana.wallet.credit("SOL", 10**8 * 10**9)
    venue.set_cursor(bars, j)
    return venue, build.instrument, bars


def amounts(rng: random.Random, lot: Decimal) -> list[Decimal]:
    """Log-uniform sizes from 0.1 to 1,000,000 SOL on the venue's grid."""
    out = []
    for _ in range(ORDERS_PER_VENUE):
        x = Decimal(repr(10 ** rng.uniform(-1.0, 6.0)))
        out.append(max((x / lot).to_integral_value() * lot, Decimal("0.1")))
    return out


def fill_average(events, side: Side, network: Decimal) -> tuple[Decimal, Decimal]:
    """(base filled, quote per base with the venue's fee, without the one network fee)."""
    fills = [e for e in events if isinstance(e, OrderFilled)]
    qty = sum((f.qty for f in fills), Decimal(0))
    if not qty:
        return Decimal(0), Decimal(0)
    notional = sum((f.notional for f in fills), Decimal(0))
    fee = sum((f.fee for f in fills), Decimal(0)) - network
    paid = notional + fee if side is Side.BUY else notional - fee
    return qty, paid / qty


@pytest.mark.parametrize("name", VENUES)
def test_the_routers_average_price_is_the_venues_fill_for_any_size_either_way(name):
    rng = random.Random(f"consistency:{name}")
    j = 8_000
    venue, inst, bars = venue_at(name, j)
    worst = 0.0
    checked = partial = refused = 0
    for k, amount in enumerate(amounts(rng, inst.lot_size)):
        side = Side.BUY if k % 2 == 0 else Side.SELL
        snap = venue.liquidity(inst.id)
        if snap is None:  # a book we emptied on one side: the next bar re-quotes it
            j += 1
            venue.set_cursor(bars, j)
            snap = venue.liquidity(inst.id)
        ref = float(bars.close[j])
        split = split_cost([snap], side.value, float(amount), 0.0, ref, CostConfig(), now_ns=snap.ts_ns)
        events = venue.create_order(Order(f"C-{k}", inst.id, side, amount, int(bars.ts_ns[j])))
        qty, avg = fill_average(events, side, snap.network_fee)
        if not split.legs or (split.reason and name in POOLS):
            # the router says the venue cannot fill it (a pool's swap is all or nothing): nor does the venue
            assert qty == 0, (name, amount, side, split.reason)
            refused += 1
            continue
        leg = split.legs[0]
        predicted_qty = Decimal(repr(leg.base))
        # the same size: the order's on a pool (the router's float may sit a lamport off), the book's depth
        assert abs(qty - predicted_qty) <= max(inst.lot_size, qty * Decimal("1e-11")), (name, qty, leg.base)
        partial += qty < amount
        predicted = leg.quote / leg.base
        err = abs(float(avg) / predicted - 1.0) * 1e4
        worst = max(worst, err)
        assert err <= TOL_BP, (name, str(amount), side, float(avg), predicted)
        checked += 1
        if k % 20 == 19:  # a new bar now and then: the pools are arbitraged back, the books re-quoted
            j += 1
            venue.set_cursor(bars, j)
    assert checked >= ORDERS_PER_VENUE // 2
    print(f"{name}: {checked} fills ({partial} partial), {refused} refused; max error {worst:.2e} bp")
    assert math.isfinite(worst)
