"""SimDrift's taker liquidity: one finite curve that both fills orders and is published to the router.

A taker meets, in price order (best first; at equal prices JIT, then resting orders, then the vAMM):

* **JIT makers** (``math/amm_jit.rs``; venues.md §1.7): they take the order at the first auction slot
  whose price reaches oracle ± ``jit_spread_bps``, at that auction price, for at most ``jit_max_base``.
* **resting orders** (the DLOB): ``dlob_levels`` of ``(offset_bps, base)`` around the oracle, each at
  its own price (the maker's price), snapped to the tick against the taker.
* **the vAMM** (``math/amm.rs``; venues.md §1.8): ``x·y = k`` with reserves ``amm_base_reserve`` (B) and
  ``amm_quote_reserve`` (Q, balanced = B by default) and a peg at the oracle (or at the oracle scaled by a
  snapshot's ``peg_multiplier / last oracle price``, ``amm_peg``), moved out on each side by Drift's
  long/short spread (``amm_spreads`` in 1e6, else ``amm_half_spread_bps``). Its reserve price is
  ``peg·Q/B``; its curve is cut into bands ``amm_band_bps`` wide in marginal price from there; a band
  fills at the vAMM's exact average price over the band (``peg·B·Q/((B∓x0)(B∓x1))``) snapped to the tick
  against the taker.

Everything stops at the order's limit: its own limit price, or for a market order the auction's end
price (oracle ± 0.5 %, ``calculate_auction_prices``). An order larger than the curve is partly filled,
as on chain. Sizes are on the market's step and prices on its tick, so every fill's ``base · price``
is a whole quote unit and the router, reading the same levels, predicts the average price exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from botnft.venues.sim import drift_math as dm

Level = tuple[int, int, str]  # (price 1e6, base 1e9, source "jit" | "dlob" | "amm")


@dataclass(frozen=True, slots=True)
class DriftLiquidityParams:
    """One market's taker liquidity model (native units; assumptions, see ``drift_params``)."""

    jit_max_base: int
    dlob_levels: tuple[tuple[int, int], ...]
    amm_base_reserve: int
    amm_half_spread_bps: int = 5
    amm_band_bps: int = 5
    #: quote reserve (1e9, as Drift's ``quote_asset_reserve``); 0: balanced, equal to the base reserve
    amm_quote_reserve: int = 0
    #: ``(peg_multiplier, oracle price)`` of a snapshot (both 1e6): the peg follows the oracle scaled by
    #: their ratio (the vAMM is repegged as the oracle moves); None: the peg is the oracle
    amm_peg: tuple[int, int] | None = None
    #: ``(long_spread, short_spread)`` in 1e6 (Drift's BID_ASK_SPREAD_PRECISION); None: amm_half_spread_bps
    amm_spreads: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for name in ("jit_max_base", "amm_base_reserve", "amm_half_spread_bps", "amm_quote_reserve"):
            if getattr(self, name) < 0:
                raise ValueError(f"liquidity {name} must be >= 0")
        if self.amm_peg is not None and min(self.amm_peg) <= 0:
            raise ValueError("liquidity amm_peg needs a positive peg and oracle price")
        if self.amm_spreads is not None and not all(0 <= s < 1_000_000 for s in self.amm_spreads):
            raise ValueError("liquidity amm_spreads must be in [0, 1e6)")
        if self.amm_band_bps <= 0:
            raise ValueError("liquidity amm_band_bps must be > 0")
        for off, base in self.dlob_levels:
            if off < 0 or base < 0:
                raise ValueError("liquidity dlob_levels need offsets and sizes >= 0")


def jit_slot(
    direction: int, oracle: int, start: int, end: int, duration: int, tick: int, spread_bps: int
) -> tuple[int, int] | None:
    """``(slot, price)``: the first auction slot whose price reaches oracle ± ``spread_bps``, or None."""
    side = "long" if direction > 0 else "short"
    spread = oracle * spread_bps // 10_000
    quote = oracle + spread if direction > 0 else oracle - spread
    for k in range(duration + 1):
        p = dm.auction_price(
            side, start_price=start, end_price=end, order_slot=0, slot=k, duration=duration, tick_size=tick
        )
        if (direction > 0 and p >= quote) or (direction < 0 and p <= quote):
            return k, p
    return None


def _snap(price: int, tick: int, direction: int) -> int:
    """Snap against the taker: up for a buy, down for a sell."""
    return dm.standardize_price(price, tick, "short" if direction > 0 else "long")


def _floor(x: int, step: int) -> int:
    return x // step * step


def amm_levels(
    direction: int, oracle: int, limit: int, liq: DriftLiquidityParams, tick: int, step: int
) -> list[Level]:
    """The vAMM's bands up to ``limit`` (see the module docstring)."""
    big_b = liq.amm_base_reserve
    big_q = liq.amm_quote_reserve or big_b
    if big_b <= 0:
        return []
    base_peg = oracle if liq.amm_peg is None else oracle * liq.amm_peg[0] // liq.amm_peg[1]
    if liq.amm_spreads is None:
        half = base_peg * liq.amm_half_spread_bps // 10_000
    else:
        half = base_peg * liq.amm_spreads[0 if direction > 0 else 1] // 1_000_000
    peg = base_peg + half if direction > 0 else base_peg - half
    start = peg * big_q // big_b  # the reserve price, peg·Q/B
    if start <= 0 or (direction > 0 and start >= limit) or (direction < 0 and start <= limit):
        return []
    out: list[Level] = []
    x0 = 0
    i = 1
    band = liq.amm_band_bps
    bq = big_b * big_q
    num = peg * bq
    cap = (big_b - 1) // step * step  # a buy never takes the whole reserve
    # _floor and _snap (``standardize_price`` against the taker) inlined: the loop runs once per band
    while True:
        edge = start * (10_000 + direction * i * band) // 10_000
        last = (direction > 0 and edge >= limit) or (direction < 0 and (edge <= limit or edge <= 0))
        if last:
            edge = limit
        # base traded when the marginal price peg·B·Q/(B∓x)² reaches the edge
        root = isqrt(num // edge)  # num = peg·B·Q
        if direction > 0:
            x1 = (big_b - root) // step * step
            x1 = cap if x1 > cap else x1
            if x1 > x0:
                price = -(-num // ((big_b - x0) * (big_b - x1)))
                rem = price % tick if price else 0
                if rem:
                    price += tick - rem  # up for a buy
                if price <= limit:
                    out.append((price, x1 - x0, "amm"))
                x0 = x1
        else:
            x1 = (root - big_b) // step * step
            if x1 > x0:
                price = num // ((big_b + x0) * (big_b + x1))
                rem = price % tick if price else 0
                if rem:
                    price -= rem  # down for a sell
                if 0 < price >= limit:
                    out.append((price, x1 - x0, "amm"))
                x0 = x1
        if last:
            return out
        i += 1


def taker_curve(
    direction: int,
    oracle: int,
    *,
    start: int,
    end: int,
    limit: int,
    duration: int,
    jit_spread_bps: int,
    liq: DriftLiquidityParams,
    tick: int,
    step: int,
) -> tuple[int, list[Level]]:
    """``(slot of the fill, levels best first)`` for a taker whose auction runs ``start`` → ``end``."""
    levels: list[Level] = []
    hit = jit_slot(direction, oracle, start, end, duration, tick, jit_spread_bps)
    slot = duration
    if hit is not None:
        slot, jit_price = hit
        jit_base = _floor(liq.jit_max_base, step)
        if jit_base > 0:
            levels.append((jit_price, jit_base, "jit"))
    for off, base in liq.dlob_levels:
        price = _snap(oracle + direction * oracle * off // 10_000, tick, direction)
        size = _floor(base, step)
        if size > 0 and price > 0:
            levels.append((price, size, "dlob"))
    levels.extend(amm_levels(direction, oracle, limit, liq, tick, step))
    rank = {"jit": 0, "dlob": 1, "amm": 2}
    levels = [lv for lv in levels if (lv[0] <= limit if direction > 0 else lv[0] >= limit)]
    levels.sort(key=lambda lv: (direction * lv[0], rank[lv[2]]))
    return slot, levels


def take(levels: list[Level], size: int) -> list[Level]:
    """The part of ``levels`` a taker of ``size`` (base) fills, best first."""
    out: list[Level] = []
    left = size
    for price, base, source in levels:
        if left <= 0:
            break
        b = min(base, left)
        out.append((price, b, source))
        left -= b
    return out
