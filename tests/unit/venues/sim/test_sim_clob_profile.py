"""The depth profile of the simulated book: its SOL defaults, their derivation from real L2 samples
(``shared/data/microstructure``, skipped when absent), and the slippage it gives a market order."""

from __future__ import annotations

import csv
import itertools
import json
import math
import zipfile
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from botnft.data import bundle
from botnft.data.loader import load_candles
from botnft.domain.events import OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.domain.orders import Order, Side
from botnft.venues.sim.book_market import DepthProfile, cumulative_depth, fit_shape
from botnft.venues.sim.book_replay import SimClob

SHARED = Path(__file__).resolve().parents[4].parent / "shared" / "data"
MICRO = SHARED / "microstructure"
needs_samples = pytest.mark.skipif(not MICRO.exists(), reason="shared L2 samples not present")


def test_the_default_profile_quotes_45_000_sol_within_one_percent_and_about_100_000_within_two():
    p = DepthProfile()
    lots = p.level_lots(D("0.001"))
    assert len(lots) == 200 and all(q > 0 for q in lots)
    within_1pct = sum(q for k, q in enumerate(lots) if p.distance_bps(k) <= 100) * D("0.001")
    assert D(44_000) < within_1pct <= D(45_000)
    assert 101_000 < sum(lots) / 1000 < 102_000
    assert all(b >= a for a, b in itertools.pairwise(lots))  # sizes grow with distance


def test_quotes_sit_on_the_tick_grid_around_the_reference_best_first_and_uncrossed():
    p = DepthProfile(levels=5)
    bids, asks = p.quotes(100.0, 0.01, [3, 4, 5, 6, 7])
    assert bids == [(9_999, 3), (9_998, 4), (9_997, 5), (9_996, 6), (9_995, 7)]
    assert asks == [(10_001, 3), (10_002, 4), (10_003, 5), (10_004, 6), (10_005, 7)]
    coarse_bids, coarse_asks = p.quotes(100.0, 1.0, [3, 4, 5, 6, 7])
    assert coarse_bids == [(99, 25)] and coarse_asks == [(101, 25)]  # levels on one tick merge


def test_a_scaled_profile_keeps_its_shape():
    p = DepthProfile().scaled(0.1)
    assert p.depth_1pct == pytest.approx(4_500) and p.shape == DepthProfile().shape


@needs_samples
def test_the_profile_shape_is_the_slope_of_the_real_xrp_book():
    with zipfile.ZipFile(MICRO / "nautilus_bybit_XRPUSDT_ob500.data.zip") as z:
        snap = json.loads(z.read(z.namelist()[0]).decode().splitlines()[0])["data"]
    bids = [(float(p), float(q)) for p, q in snap["b"]]
    asks = [(float(p), float(q)) for p, q in snap["a"]]
    mid = (bids[0][0] + asks[0][0]) / 2
    ds = [2, 5, 10, 20, 50, 100, 200]
    cum = (np.array(cumulative_depth(bids, mid, ds)) + np.array(cumulative_depth(asks, mid, ds))) / 2
    shape, _ = fit_shape(ds, cum)
    assert shape == pytest.approx(DepthProfile().shape, abs=0.01)
    assert cum[5] / cum[1] == pytest.approx(35.0, abs=0.1)


@needs_samples
def test_the_profile_depth_is_real_btc_depth_per_daily_volume_scaled_to_sol_volume():
    rows = list(csv.DictReader((MICRO / "nautilus_binance_usdm_BTCUSDT_depth_snapshot.csv").open()))
    bids = [(float(r["price"]), float(r["qty"])) for r in rows]
    mid = bids[0][0] + 0.05  # bid side only; Binance's BTCUSDT perp tick is 0.1
    within_5bps = cumulative_depth(bids, mid, [5])[0]
    perp = pd.read_csv(SHARED / "binance_usdm_BTCUSDT_1h.csv.gz", parse_dates=[0])
    t = pd.Timestamp(int(rows[0]["timestamp"]), unit="ms", tz="UTC")
    day = perp[(perp.open_time > t - pd.Timedelta("24h")) & (perp.open_time <= t)]
    ratio = within_5bps / day.volume.sum()
    assert ratio == pytest.approx(4.1e-4, rel=0.02)
    sol = load_candles(bundle.get("sol-spot-1h").path)
    daily = pd.Series(sol.volume, index=pd.to_datetime(sol.ts_ns)).resample("D").sum()
    median = daily[daily.index >= daily.index[-1] - pd.Timedelta("365D")].median()
    assert median == pytest.approx(3.19e6, rel=0.01)
    derived = 4.0e-4 * 35.0 * median
    assert derived == pytest.approx(DepthProfile().depth_1pct, rel=0.02)


def slippage_bps(qty: int, tick: str = "0.0001", reference: float = 142.84) -> float:
    inst = Spot(InstrumentId("SOL/USDT", "CEX"), "SOL", "USDT", D(tick), D("0.001"), D("0.001"))
    v = SimClob(inst, balances={"USDT": D(100_000_000)}, taker_fee_bps=D(0))
    v.set_reference(reference, 0)
    fills = [
        e for e in v.create_order(Order("m", inst.id, Side.BUY, D(qty), 0)) if isinstance(e, OrderFilled)
    ]
    assert sum(f.qty for f in fills) == qty
    avg = sum(f.qty * f.price for f in fills) / qty
    return float((avg / D(repr(reference)) - 1) * 10_000)


@pytest.mark.parametrize(("qty", "bps"), [(100, 0.64), (1_000, 2.66), (10_000, 15.64)])
def test_a_market_buy_on_the_default_profile_pays_a_few_bps_growing_with_size(qty, bps):
    assert slippage_bps(qty) == pytest.approx(bps, abs=0.01)


def _quotes_by_level(profile: DepthProfile, reference: float, tick: float, lots) -> tuple[list, list]:
    """The definition, level by level: bids rounded down, asks up, a level on the last level's tick merged
    into it, asks at or below the best bid moved one tick above it."""
    bids: list[tuple[int, int]] = []
    asks: list[tuple[int, int]] = []
    for k, q in enumerate(lots):
        if q <= 0:
            continue
        d = profile.distance_bps(k) / 1e4
        b = math.floor(reference * (1 - d) / tick + 1e-9)
        a = math.ceil(reference * (1 + d) / tick - 1e-9)
        for levels, price, ok in ((bids, b, b > 0), (asks, a, True)):
            if not ok:
                continue
            if levels and levels[-1][0] == price:
                levels[-1] = (price, levels[-1][1] + q)
            else:
                levels.append((price, q))
    if bids and asks and asks[0][0] <= bids[0][0]:
        floor_ = bids[0][0] + 1
        asks = [(floor_, sum(q for p, q in asks if p <= floor_))] + [(p, q) for p, q in asks if p > floor_]
    return bids, asks


@pytest.mark.parametrize("seed", range(8))
def test_quotes_computed_for_every_level_at_once_are_the_level_by_level_quotes(seed):
    """Coarse ticks (levels merging on one tick, bids reaching zero), fine ticks and zero-lot levels: the
    same levels, prices and lots as the level-by-level definition, as Python ints."""
    rng = np.random.default_rng(seed)
    profile = DepthProfile(
        spread_bps=float(rng.uniform(0.1, 20.0)),
        levels=int(rng.integers(1, 400)),
        level_spacing_bps=float(rng.uniform(0.05, 80.0)),
        depth_1pct=float(rng.uniform(0.0, 5_000.0)),
    )
    lots = [int(x) for x in rng.integers(-1, 6, profile.levels)]
    for _ in range(40):
        reference = float(rng.uniform(0.001, 500.0))
        tick = float(10.0 ** rng.integers(-6, 1))
        got = profile.quotes(reference, tick, lots)
        want = _quotes_by_level(profile, reference, tick, lots)
        assert got == want
        assert all(type(p) is int and type(q) is int for side in got for p, q in side)
