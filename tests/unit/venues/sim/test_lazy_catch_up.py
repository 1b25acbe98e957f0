"""Venues catch up when they are read or sent an order, not at every bar: a book re-quoted only when read
after the reference moved bar after bar is the book re-quoted at every bar, and a pool caught up once is
the pool caught up at every read."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import numpy as np

from botnft.data.bars import BarBatch
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.domain.orders import Order, Side
from botnft.venues.sim.book_replay import SimClob
from botnft.venues.sim.raydium import SimRaydium
from botnft.venues.sim.raydium_config import from_price

INST = Spot(InstrumentId("SOL/USDT", "CEX"), "SOL", "USDT", D("0.01"), D("0.001"), D("0.01"))
HOUR = 3_600_000_000_000


def walk(n: int, seed: int) -> BarBatch:
    rng = np.random.default_rng(seed)
    close = np.round(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n))), 2)
    ts = np.arange(n, dtype=np.int64) * HOUR
    return BarBatch(ts, close, close, close, close, np.ones(n), HOUR)


def book_state(v: SimClob) -> tuple[object, ...]:
    snap = v.liquidity(INST.id)
    return v.book.depth(True), v.book.depth(False), v.book.version, len(v.book), snap.bids, snap.asks


def test_a_book_read_only_at_the_end_is_the_book_re_quoted_at_every_bar():
    bars = walk(200, seed=3)
    lazy, eager = SimClob(INST, balances={}), SimClob(INST, balances={})
    for j in range(len(bars)):
        lazy.set_cursor(bars, j)
        eager.set_cursor(bars, j)
        eager.ensure_quoted()
    lazy_state, eager_state = book_state(lazy), book_state(eager)
    assert lazy_state[:2] == eager_state[:2] and lazy_state[4:] == eager_state[4:]
    assert len(lazy_state[0]) > 100  # the whole profile is quoted
    lazy.book.check()


def pool_state(v: SimRaydium) -> tuple[object, ...]:
    return v.ledger(), v.arbitrages, v.liquidity(v.instrument.id)


def test_a_pool_read_many_times_is_the_pool_caught_up_once():
    bars = walk(60, seed=4)
    for kind in ("amm_v4", "cpmm", "clmm"):
        once = SimRaydium(from_price(100.0, kind=kind), balances={"USDC": D(100_000), "SOL": D(100)})
        often = SimRaydium(from_price(100.0, kind=kind), balances={"USDC": D(100_000), "SOL": D(100)})
        for j in range(len(bars)):
            once.set_cursor(bars, j)
            often.set_cursor(bars, j)
            for _ in range(3):
                often.liquidity(often.instrument.id)
            if j % 10 == 9:  # an order moves the pool away from the reference; the next read catches up
                for v in (once, often):
                    v.create_order(Order(f"o{j}", v.instrument.id, Side.BUY, D("5"), int(bars.ts_ns[j])))
                    v.liquidity(v.instrument.id)
                    if kind != "clmm":  # a constant-product pool is back inside the fee band at once
                        ref, gamma = Fraction(float(bars.close[j])), v.engine.fee_factor
                        assert ref * gamma <= v.marginal_price() <= ref / gamma
        assert pool_state(once)[:2] == pool_state(often)[:2]
        assert pool_state(once)[2] == pool_state(often)[2]
        assert once.arbitrages > 5
