"""The process's source cache (`routing.adapt.SOURCE_CACHE`): a decision's snapshots are converted once and
read again from it, by identity; the oldest snapshot leaves it first."""

from __future__ import annotations

from decimal import Decimal

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import BookLiquidity, CpmmLiquidity
from botnft.routing.adapt import SOURCE_CACHE, depth_base, to_source


def _pool(k: int) -> CpmmLiquidity:
    return CpmmLiquidity(
        instrument=InstrumentId("SOL/USDC", f"P{k}"), ts_ns=k, fee_bps=Decimal(25), lot=Decimal(0),
        min_size=Decimal(0), base_reserve=Decimal(1_000 + k), quote_reserve=Decimal(150_000 + 7 * k),
    )  # fmt: skip


def _book(k: int) -> BookLiquidity:
    return BookLiquidity(
        instrument=InstrumentId("SOL/USDC", f"B{k}"), ts_ns=k, fee_bps=Decimal(5), lot=Decimal("0.01"),
        min_size=Decimal("0.05"), bids=((Decimal(149), Decimal(3 + k)),), asks=((Decimal(151), Decimal(2)),),
    )  # fmt: skip


def _convert(snaps):
    """What one decision reads of each snapshot: both sides, own fee and fee-free, and the depth."""
    out = []
    for s in snaps:
        for side in ("buy", "sell"):
            out += [to_source(s, side), to_source(s, side, fee_bps=0.0), depth_base(s, side)]
    return out


def test_a_decisions_snapshots_are_read_again_from_the_cache_and_the_oldest_leaves_first():
    SOURCE_CACHE.clear()
    size = SOURCE_CACHE.size
    snaps = [f(k) for k in range(8) for f in (_pool, _book)]  # a wide decision: 16 venues
    first = _convert(snaps)
    hits, misses = SOURCE_CACHE.hits, SOURCE_CACHE.misses
    again = _convert(snaps)  # the chooser's snapshots, read again by the leg
    assert SOURCE_CACHE.misses == misses  # nothing built again
    assert SOURCE_CACHE.hits - hits == len(first)
    assert all(a is b for a, b in zip(first[::3] + first[1::3], again[::3] + again[1::3], strict=True))
    newer = [_pool(100 + k) for k in range(size - len(snaps) + 1)]  # one more than there is room for
    _convert(newer)
    hits = SOURCE_CACHE.hits
    assert to_source(snaps[1], "buy") is first[6]  # the second oldest is still held
    assert SOURCE_CACHE.hits == hits + 1
    assert to_source(snaps[0], "buy") is not first[0]  # the oldest left first: built anew
    SOURCE_CACHE.clear()


def test_a_venue_whose_state_changed_is_read_anew():
    SOURCE_CACHE.clear()
    before = _pool(1)
    moved = CpmmLiquidity(
        instrument=before.instrument, ts_ns=before.ts_ns, fee_bps=before.fee_bps, lot=before.lot,
        min_size=before.min_size, base_reserve=before.base_reserve - 10, quote_reserve=before.quote_reserve,
    )  # fmt: skip
    src = to_source(before, "sell")
    assert to_source(before, "sell") is src
    fresh = to_source(moved, "sell")  # a new snapshot object: converted, not taken from the cache
    assert fresh is not src
    assert fresh.output("sell", 5.0) > src.output("sell", 5.0)  # fewer base in the pool: base sells higher
    SOURCE_CACHE.clear()
