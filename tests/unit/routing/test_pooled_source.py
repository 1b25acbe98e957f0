"""An aggregator's source is the best split across its parts: closed forms for pools at one price and a
pool beside a book level, the split solver over the parts at random sizes, and the snapshot adapter."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import BookLiquidity, CpmmLiquidity, PooledLiquidity
from botnft.routing import BookSource, ClmmSource, CpmmSource, optimal_split
from botnft.routing.adapt import SOURCE_CACHE, depth_base, to_source
from botnft.routing.curves import Curve, pooled_curve
from botnft.routing.sources import PooledSource, pooled_segments


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_two_pools_at_one_price_pool_into_one_pool_with_their_reserves(side):
    pooled = PooledSource((CpmmSource(100.0, 15_000.0, 25.0), CpmmSource(300.0, 45_000.0, 25.0)))
    for x in (0.5, 10.0, 1_000.0, 1e6):
        # out = R_out·x·g / (R_in + x·g) with the summed reserves 400 SOL / 60,000 USDC
        g = 1 - 25 / 10_000
        r_in, r_out = (60_000.0, 400.0) if side == "buy" else (400.0, 60_000.0)
        assert pooled.output(side, x) == pytest.approx(r_out * x * g / (r_in + x * g), rel=1e-13)


def test_a_pool_is_used_up_to_the_book_level_then_the_level_then_the_pool_again():
    pool, level_px, level_size = CpmmSource(100.0, 10_000.0, 0.0), 101.0, 5.0
    pooled = PooledSource((pool, BookSource([(level_px, level_size)], [(99.0, 1.0)], 0.0)))
    y1 = math.sqrt(101.0 * 10_000.0 * 100.0) - 10_000.0  # the pool's price reaches 101: (Rq+y)^2/k = 101
    out1 = 100.0 * y1 / (10_000.0 + y1)
    rb, rq = 100.0 - out1, 10_000.0 + y1
    more = 100.0
    expected = out1 + level_size + rb * more / (rq + more)
    assert pooled.output("buy", y1 + level_px * level_size + more) == pytest.approx(expected, rel=1e-13)
    # inside the level: the pool's part is y1 and the rest buys at 101
    assert pooled.output("buy", y1 + 202.0) == pytest.approx(out1 + 2.0, rel=1e-13)


def test_the_pooled_curve_gives_what_the_split_solver_gives_across_the_parts():
    rng = random.Random(7)
    asks = [(150.01 + 0.02 * i, 20.0 + 3 * i) for i in range(30)]
    bids = [(149.99 - 0.02 * i, 20.0 + 3 * i) for i in range(30)]
    worst = 0.0
    for _ in range(100):
        parts = (
            CpmmSource(1e5 * rng.uniform(0.5, 2), 1.5e7 * rng.uniform(0.5, 2), rng.choice([25.0, 4.0])),
            ClmmSource(150.0 * rng.uniform(0.999, 1.001), [(140.0, 149.0, 3e5), (148.0, 152.0, 8e5)], 5.0),
            BookSource(asks, bids, 5.0),
        )
        pooled = PooledSource(parts)
        for side in ("buy", "sell"):
            x = 10 ** rng.uniform(-1, 6) * (150.0 if side == "buy" else 1.0)
            split = optimal_split(parts, side, x)
            worst = max(worst, abs(pooled.output(side, x - split.remainder) / split.filled - 1))
            y = split.filled / 2  # exact output: the input the split needs for half of it
            half = optimal_split(parts, side, y, amount_in="base" if side == "buy" else "quote")
            worst = max(worst, abs(pooled.input_for(side, y) / half.spent - 1))
    assert worst < 1e-12


def test_an_aggregators_snapshot_becomes_the_pooled_source_of_its_parts_with_their_fees():
    zero = Decimal(0)
    pool = CpmmLiquidity(
        instrument=InstrumentId("SOL/USDC", "P"), ts_ns=0, fee_bps=Decimal(25), lot=zero, min_size=zero,
        base_reserve=Decimal(100), quote_reserve=Decimal(15_000),
    )  # fmt: skip
    book = BookLiquidity(
        instrument=InstrumentId("SOL/USDC", "B"), ts_ns=0, fee_bps=Decimal(5), lot=zero, min_size=zero,
        bids=((Decimal(149), Decimal(1)),), asks=((Decimal(151), Decimal(2)),),
    )  # fmt: skip
    snap = PooledLiquidity(
        instrument=InstrumentId("SOL/USDC", "J"), ts_ns=0, fee_bps=zero, lot=zero, min_size=zero,
        parts=(pool, book),
    )  # fmt: skip
    src = to_source(snap, "sell")
    assert isinstance(src, PooledSource)
    # 0.1 SOL: the pool's first marginal 150·(1 − 25 bp) beats the bid's 149·(1 − 5 bp), still at 0.1 SOL
    g = 1 - 25 / 10_000
    assert src.output("sell", 0.1) == pytest.approx(15_000 * 0.1 * g / (100 + 0.1 * g), rel=1e-13)
    fee_free = to_source(snap, "sell", fee_bps=0.0)
    assert fee_free.output("sell", 0.1) == pytest.approx(15_000 * 0.1 / 100.1, rel=1e-13)
    assert snap.mid == Decimal(150)


def test_a_pooled_source_needs_parts():
    with pytest.raises(ValueError, match="parts"):
        PooledSource(())


def _lotted_parts(rng: random.Random) -> tuple[CpmmSource, ClmmSource, BookSource]:
    asks = [(150.01 + 0.02 * i, 2.0 + 0.3 * i) for i in range(40)]
    bids = [(149.99 - 0.02 * i, 2.0 + 0.3 * i) for i in range(40)]
    return (
        CpmmSource(1e4 * rng.uniform(0.5, 2), 1.5e6 * rng.uniform(0.5, 2), rng.choice([25.0, 0.0])),
        ClmmSource(150.0 * rng.uniform(0.999, 1.001), [(140.0, 149.0, 3e4), (148.0, 152.0, 8e4)], 5.0),
        BookSource(asks, bids, rng.choice([5.0, 0.0])),
    )


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_a_pooled_curve_cut_at_a_marginal_is_the_whole_curves_first_segments(side):
    rng = random.Random(11)
    for _ in range(30):
        curves = [p.curve(side) for p in _lotted_parts(rng)]
        whole = pooled_segments(curves)
        top = whole[0][1]
        for stop in (top * 2.0, top, top * 0.999, top * 0.99, top * 0.9, whole[-1][1], 0.0):
            cut = pooled_segments(curves, stop_below=stop)
            assert cut == whole[: len(cut)]  # the same segments, bit for bit
            rest = whole[len(cut) :]
            assert all(s[1] < stop for s in rest)  # and every segment left out starts below it
        assert pooled_segments(curves, stop_below=0.0) == whole


def test_a_pooled_source_with_lots_gives_the_same_input_before_and_after_its_curve_is_built():
    """`input_for` answers an amount well in reach without building the pooled curve: the same number as
    with the curve built, and out of reach (inf) the same as the curve says."""
    rng = random.Random(3)
    for _ in range(30):
        parts = _lotted_parts(rng)
        for side in ("buy", "sell"):
            total = sum(p.curve(side).total_out for p in parts)
            amounts = [total * f for f in (1e-6, 0.01, 0.3, 0.9, 0.99, 1.001, 2.0)]
            fresh = [PooledSource(parts, (None, None, 0.1)).input_for(side, y) for y in amounts]
            built = PooledSource(parts, (None, None, 0.1))
            built.curve(side)  # the slow path: the pooled curve says whether it is in reach
            assert fresh == [built.input_for(side, y) for y in amounts]
            assert math.isinf(fresh[-1]) and math.isfinite(fresh[0])


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_an_aggregators_depth_is_measured_on_its_pooled_curve_without_building_all_of_it(side):
    zero = Decimal(0)
    pool = CpmmLiquidity(
        instrument=InstrumentId("SOL/USDC", "P"), ts_ns=0, fee_bps=Decimal(25), lot=zero, min_size=zero,
        base_reserve=Decimal(1000), quote_reserve=Decimal(150_000),
    )  # fmt: skip
    levels = [(Decimal("150.05") + Decimal("0.1") * i, Decimal(3)) for i in range(30)]
    book = BookLiquidity(
        instrument=InstrumentId("SOL/USDC", "B"), ts_ns=0, fee_bps=Decimal(5), lot=Decimal("0.1"),
        min_size=zero, bids=tuple((Decimal(300) - p, q) for p, q in levels), asks=tuple(levels),
    )  # fmt: skip
    snap = PooledLiquidity(
        instrument=InstrumentId("SOL/USDC", "J"), ts_ns=0, fee_bps=zero, lot=zero, min_size=zero,
        parts=(pool, book),
    )  # fmt: skip
    for band in (1.0, 30.0, 100.0, 500.0):
        SOURCE_CACHE.clear()
        measured = depth_base(snap, side, band)
        assert to_source(snap, side, fee_bps=0.0)._curves.get(side) is None  # the pooled curve: not built
        SOURCE_CACHE.clear()
        to_source(snap, side, fee_bps=0.0).curve(side)  # built first: the depth walks the whole curve
        assert depth_base(snap, side, band) == measured
        # and the depth is the pooled fee-free curve's: the sum of what each part gives up to the band
        m = float(snap.mid)
        lam = 1.0 / (m * (1 + band / 1e4)) if side == "buy" else m * (1 - band / 1e4)
        parts = [to_source(p, side, fee_bps=0.0) for p in snap.parts]
        expected = 0.0
        for src in parts:  # each part alone, up to the same marginal (the pooled curve's λ)
            x = 0.0
            for kind, m0, m1, a, b, _r, cap, out_cap in src.segments(side):
                if m0 < lam:
                    break
                if m1 >= lam:
                    x += out_cap if side == "buy" else cap
                    continue
                if kind == 0:
                    d = math.sqrt(a * b / lam) - b
                    x += a * d / (b + d) if side == "buy" else d
                break
            expected += x
        assert measured == pytest.approx(expected, rel=1e-9)


def _reference_pooled_segments(curves):
    """The pooled sweep as it was written segment by segment (before the curve was made from its events),
    kept here to check the events-first sweep against, bit for bit."""
    from botnft.routing.curves import CURVE, EV_FLAT, EV_START, FLAT, INF, curve_segment

    events, owner = [], []
    for i, c in enumerate(curves):
        events += c.events
        owner += [i] * len(c.events)
    keys = [e[0] for e in events]
    order = sorted(range(len(keys)), key=keys.__getitem__, reverse=True)
    out, active, roots, lam, last_flat = [], {}, 0.0, INF, None
    for j in order:
        e = events[j]
        rate = e[0]
        if rate < lam:
            if roots > 0.0:
                s_lam = math.sqrt(lam)
                b = roots / s_lam
                out.append(curve_segment(roots * s_lam, b, roots / math.sqrt(rate) - b))
                last_flat = None
            lam = rate
        if e[1] == EV_FLAT:
            if last_flat is not None and last_flat == rate:
                prev = out.pop()
                out.append((FLAT, rate, rate, rate, 0.0, 0.0, prev[6] + e[6], prev[7] + e[7]))
            else:
                out.append((FLAT, rate, rate, rate, 0.0, 0.0, e[6], e[7]))
                last_flat = rate
            continue
        if e[1] == EV_START:
            active[owner[j], e[2]] = e[5]
        else:
            del active[owner[j], e[2]]
        roots = math.fsum(active.values())
    if roots > 0.0:
        out.append(curve_segment(roots * math.sqrt(lam), roots / math.sqrt(lam), INF))
    assert all(s[0] in (CURVE, FLAT) for s in out)
    return out


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_the_pooled_curve_made_from_its_events_is_the_segment_by_segment_one_bit_for_bit(side):
    rng = random.Random(5)
    for n in range(40):
        parts = list(_lotted_parts(rng))
        if n % 4 == 1:  # two books with levels at the same prices: their flat levels merge
            parts.append(BookSource([(p + 0.02, q) for p, q in parts[2].asks], parts[2].bids, 5.0))
        if n % 4 == 2:  # a level of no capacity among them: dropped, as Curve drops it
            parts.append(BookSource([(150.03, 1.0)], [(149.97, 1.0)], 0.0))
            parts[-1].curve(side)
            c = parts[-1]._curves[side]
            e = c.events[0]
            c.events[0] = (*e[:6], 0.0, 0.0)
        curves = [p.curve(side) for p in parts]
        reference = Curve(_reference_pooled_segments(curves))
        made = pooled_curve(curves)
        assert made.events == reference.events and made.keys == reference.keys
        assert (made.total_in, made.total_out) == (reference.total_in, reference.total_out)
        assert made.segments == reference.segments
        assert pooled_segments(curves) == list(reference.segments)
        for x in (1e-3, 1.0, 1e3, 1e5):
            assert made.output(x) == reference.output(x) and made.input_for(x) == reference.input_for(x)


def test_an_aggregators_settlement_reuses_its_parts_sweep_and_a_changed_venue_is_read_anew():
    """A pooled source keeps its parts' breakpoints in order for its settlements; the next snapshot of the
    aggregator, with one venue's pool moved by a trade, is a new source that sweeps its own parts: its
    answers are those of a source built from nothing, not the first snapshot's."""
    zero = Decimal(0)

    def pool(quote: str) -> CpmmLiquidity:
        return CpmmLiquidity(
            instrument=InstrumentId("SOL/USDC", "P"), ts_ns=0, fee_bps=Decimal(25), lot=zero, min_size=zero,
            base_reserve=Decimal(1000), quote_reserve=Decimal(quote),
        )  # fmt: skip

    levels = tuple((Decimal("150.05") + Decimal("0.1") * i, Decimal(3)) for i in range(20))
    book = BookLiquidity(
        instrument=InstrumentId("SOL/USDC", "B"), ts_ns=0, fee_bps=Decimal(5), lot=Decimal("0.1"),
        min_size=zero, bids=tuple((Decimal(300) - p, q) for p, q in levels), asks=levels,
    )  # fmt: skip

    def jup(p: CpmmLiquidity) -> PooledLiquidity:
        return PooledLiquidity(
            instrument=InstrumentId("SOL/USDC", "J"), ts_ns=0, fee_bps=zero, lot=zero, min_size=zero,
            parts=(p, book),
        )  # fmt: skip

    amounts = (0.5, 5.0, 40.0, 90.0)
    SOURCE_CACHE.clear()
    before = jup(pool("150000"))
    first = [to_source(before, "buy").input_for("buy", y) for y in amounts]
    assert first == [to_source(before, "buy").input_for("buy", y) for y in amounts]  # its sweep, kept
    after = jup(pool("151500"))  # the pool's price moved up 1 %: the aggregator's next snapshot
    again = [to_source(after, "buy").input_for("buy", y) for y in amounts]
    SOURCE_CACHE.clear()
    fresh = [to_source(after, "buy").input_for("buy", y) for y in amounts]
    assert again == fresh
    # the book's levels go first, then the pool, now dearer: the same input while the book fills it
    assert again[0] == first[0] and again[-1] > first[-1]
