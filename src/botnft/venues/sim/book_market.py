"""The market around a simulated order book: the depth profile the other participants quote around the
reference price, the helpers that calibrate it on real L2 samples, and the bar path that reaches our
resting orders.

Depth profile (defaults for SOL, per side):
  cumulative depth within d bps of the reference = ``depth_1pct * (d / 100) ** shape``.
* ``shape = 1.18`` is the log-log slope of cumulative depth against distance, fitted on the one wide real
  book we have, Bybit ``orderbook.500.XRPUSDT`` (2024-12-01, ±2.5 %, in ``shared/data/microstructure``):
  1.183 over 2-200 bps, 1.179 over 5-100 bps; depth(100 bps) / depth(5 bps) = 35.0.
* ``depth_1pct = 45_000`` SOL: the two Binance BTCUSDT-perp books hold, per side, 4.1e-4 (snapshot of
  2022-11-01, 129 BTC within 5 bps, 24 h volume 314,676 BTC) and 3.9e-4 (Tardis snapshot of 2020-09-01,
  16.9 BTC within 1.94 bps scaled to 5 bps with the slope above, 24 h volume 136,546 BTC) of a day's
  volume within 5 bps: about 4.0e-4. Times 35 gives 1.4 % of daily volume within 1 %. Binance spot
  SOLUSDT traded a median 3.19 M SOL a day over its last 365 days (bundled 1 h candles), so
  0.014 x 3.19 M ≈ 44,700 SOL, rounded to 45,000 SOL per side within ±1 %.
* ``spread_bps = 1``: the XRP book's spread is 0.51 bps and Binance's SOLUSDT tick (0.01) is 0.7 bps at
  $143; one basis point is the cautious round figure.
* ``levels = 200`` at ``level_spacing_bps = 1`` reach ±2 % (about 101,700 SOL per side); an order that
  needs more finds the book empty beyond that.
* On this profile a market buy pays, against the reference: 100 SOL 0.64 bps, 1,000 SOL 2.66 bps,
  10,000 SOL 15.6 bps (0.0001 tick; half-spread included).
Sizes are in base units, so the book's dollar depth moves with the price. This default is the CEX's book
(`CEX_PROFILE`); OpenBook gets its own, `OPENBOOK_PROFILE`.

OpenBook v2 SOL/USDC (`OPENBOOK_PROFILE`): ``depth_1pct = 1_500`` SOL per side within ±1 % (1/30 of the
CEX's) and ``spread_bps = 5``, same shape and spacing. These are assumptions, not measurements: neither the
shared notes nor the bundled data hold an OpenBook depth figure; venues.md §4 says only "Liquidity on
OpenBook v2 is thin. In practice it reaches Jupiter routes more than it serves direct quoting." Configure
them in ``[liquidity.openbook]`` (``depth_1pct``, ``spread_bps``, ``depth_scale``). On this profile a
market buy of 100 SOL pays 6.1 bps, 1,000 SOL 38.9 bps against the reference, before the taker fee, on a
0.000001 USDC tick (the book holds 3,429 SOL a side within ±2 %; the CEX's: 0.67 / 2.69 bps, 101,659 SOL)."""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np

from botnft.domain.errors import UserError
from botnft.ports import BarArrays

__all__ = [
    "CEX_PROFILE",
    "OPENBOOK_PROFILE",
    "DepthProfile",
    "bar_ticks",
    "cumulative_depth",
    "first_reach",
    "fit_shape",
]


@dataclass(frozen=True, slots=True)
class DepthProfile:
    """How much the rest of the market quotes around the reference price (see the module docstring)."""

    spread_bps: float = 1.0
    levels: int = 200
    level_spacing_bps: float = 1.0
    depth_1pct: float = 45_000.0
    shape: float = 1.18

    def __post_init__(self) -> None:
        if not (self.spread_bps > 0 and self.level_spacing_bps > 0 and self.depth_1pct >= 0):
            raise UserError(f"depth profile needs positive spread, spacing and depth: {self}")
        if self.levels < 1 or self.shape <= 0:
            raise UserError(f"depth profile needs at least one level and a positive shape: {self}")

    def distance_bps(self, k: int) -> float:
        """Distance of level `k` (0 = the touch) from the reference, in bps."""
        return self.spread_bps / 2 + k * self.level_spacing_bps

    def cumulative(self, distance_bps: float) -> float:
        """Base units quoted on one side within `distance_bps` of the reference."""
        return float(self.depth_1pct * (distance_bps / 100.0) ** self.shape)

    def level_lots(self, lot_size: Decimal) -> tuple[int, ...]:
        """Lots per level, from the cumulative curve floored to whole lots (so they sum exactly)."""
        lot = float(lot_size)
        out: list[int] = []
        prev = 0
        for k in range(self.levels):
            cum = math.floor(self.cumulative(self.distance_bps(k)) / lot + 1e-9)
            out.append(cum - prev)
            prev = cum
        return tuple(out)

    def quotes(
        self, reference: float, tick: float, lots: Sequence[int]
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(price in ticks, lots) levels around `reference`, best first: bids rounded down, asks up, levels
        that land on the same tick merged, and asks kept at least one tick above the best bid."""
        rows, qs, downs, ups = _factors(self, lots)
        floor, ceil = math.floor, math.ceil
        # every level's ticks first; when no two levels of a side share a tick and every bid is above 0
        # (the usual fine tick) there is nothing to merge or drop and the levels are the pairs as they are
        bs = [floor(reference * down / tick + 1e-9) for down in downs]
        as_ = [ceil(reference * up / tick - 1e-9) for up in ups]
        if bs and bs[-1] > 0 and all(map(operator.gt, bs, bs[1:])) and all(map(operator.lt, as_, as_[1:])):
            return _uncross(list(zip(bs, qs, strict=True)), list(zip(as_, qs, strict=True)))
        bids: list[tuple[int, int]] = []
        asks: list[tuple[int, int]] = []
        bp = ap = None  # the last bid and ask price: a level on the same tick merges into it
        for (q, _, _), b, a in zip(rows, bs, as_, strict=True):
            if b > 0:
                if b == bp:
                    bids[-1] = (b, bids[-1][1] + q)
                else:
                    bids.append((b, q))
                    bp = b
            if a == ap:
                asks[-1] = (a, asks[-1][1] + q)
            else:
                asks.append((a, q))
                ap = a
        return _uncross(bids, asks)

    def scaled(self, factor: float) -> DepthProfile:
        """The same shape with `factor` times the depth."""
        return replace(self, depth_1pct=self.depth_1pct * factor)


CEX_PROFILE = DepthProfile()
"""A CEX's SOL book: the Binance-calibrated defaults (module docstring)."""

OPENBOOK_PROFILE = DepthProfile(spread_bps=5.0, depth_1pct=1_500.0)
"""OpenBook v2's SOL/USDC book: thin next to a CEX (assumed figures; module docstring)."""


Factors = tuple[tuple[tuple[int, float, float], ...], list[int], list[float], list[float]]
#: (profile, lots) -> the levels with lots as rows (lots, 1 - d, 1 + d), d the level's distance, and the
#: same as columns: the same per profile
_FACTORS: dict[tuple[DepthProfile, tuple[int, ...]], Factors] = {}


def _factors(profile: DepthProfile, lots: Sequence[int]) -> Factors:
    key = (profile, tuple(lots))
    out = _FACTORS.get(key)
    if out is None:
        rows = []
        for k, q in enumerate(lots):
            if q > 0:
                d = profile.distance_bps(k) / 1e4
                rows.append((q, 1 - d, 1 + d))
        if len(_FACTORS) >= 32:
            _FACTORS.clear()
        out = (tuple(rows), [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
        _FACTORS[key] = out
    return out


def _uncross(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Asks at or below the best bid move to one tick above it, merged into one level."""
    if bids and asks and asks[0][0] <= bids[0][0]:
        floor_ = bids[0][0] + 1
        moved = sum(q for p, q in asks if p <= floor_)
        asks = [(floor_, moved)] + [(p, q) for p, q in asks if p > floor_]
    return bids, asks


# --------------------------------------------------------------------------------------------------
# Calibration helpers (used to derive and test the defaults against real L2 samples)
# --------------------------------------------------------------------------------------------------


def cumulative_depth(
    levels: Iterable[tuple[float, float]], mid: float, distances_bps: Sequence[float]
) -> list[float]:
    """Size quoted on one side within each distance (bps) of `mid`; `levels` are (price, size)."""
    dist = [(abs(p - mid) / mid * 1e4, q) for p, q in levels]
    return [sum(q for x, q in dist if x <= d) for d in distances_bps]


def fit_shape(distances_bps: Sequence[float], cumulative: Sequence[float]) -> tuple[float, float]:
    """Least-squares fit of ``cum = depth_1pct * (d/100) ** shape`` in log-log: (shape, depth_1pct)."""
    x = np.log(np.asarray(distances_bps, dtype=np.float64) / 100.0)
    y = np.log(np.asarray(cumulative, dtype=np.float64))
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(np.exp(intercept))


# --------------------------------------------------------------------------------------------------
# The bar path
# --------------------------------------------------------------------------------------------------


def bar_ticks(bars: BarArrays, lo: int, hi: int, tick: float) -> tuple[Any, Any]:
    """Bar lows and highs of [lo, hi) on the tick grid (nearest tick; candle prices sit on the grid)."""
    low = np.rint(np.asarray(bars.low[lo:hi], dtype=np.float64) / tick)
    high = np.rint(np.asarray(bars.high[lo:hi], dtype=np.float64) / tick)
    return low, high


def first_reach(
    bars: BarArrays, lo: int, hi: int, tick: float, orders: Iterable[tuple[bool, int, int]]
) -> int:
    """First bar in [lo, hi) whose low reaches a bid or whose high reaches an ask, among `orders` given as
    (is_bid, price in ticks, active from ts_ns); bars that open before an order's time do not count."""
    orders = list(orders)
    if not orders or lo >= hi:
        return hi
    ts = np.asarray(bars.ts_ns[lo:hi])
    low, high = bar_ticks(bars, lo, hi, tick)
    best = hi - lo
    for is_bid, price, since in orders:
        start = int(np.searchsorted(ts, since, "left"))
        if start >= best:
            continue
        seg = low[start:best] <= price if is_bid else high[start:best] >= price
        hit = np.flatnonzero(seg)
        if hit.size:
            best = start + int(hit[0])
    return lo + best
