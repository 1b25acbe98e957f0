"""Live liquidity of the on-chain order venues for the router, read from their accounts.

Drift: the perp's taker curve is built exactly as SimDrift publishes it (``drift_curve.taker_curve`` after
``start_auction`` from the oracle, the market's tick and step, the auction end as the limit), with the sim's
market parameters taken from the live ``PerpMarket`` account (``snapshot.apply.drift_market``: margin terms,
grids, vAMM reserves, peg and long/short spreads). The oracle is the market's last oracle price
(``amm.historical_oracle_data``). What the chain holds no state for is left out rather than modelled: no
JIT makers, and resting orders only from a DLOB server (``dlob_url``: its ``/l2`` levels, merged with the
vAMM bands in price order up to the same limit); without one the curve is the vAMM alone. Taker fee: the
sim's default tier; funding: the market's last rate over its oracle TWAP, per hour.

OpenBook: the market's ``BookSide`` accounts as book levels (prices and sizes from lots), taker fee from
the market account.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from botnft.domain.errors import DataError, Retryable
from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import BookLiquidity, PerpLiquidity

#: reads one account's data (None when it does not exist): `SolanaRpc.account_data`
AccountData = Callable[[Any], Awaitable[bytes | None]]
#: ``(price 1e6, base 1e9)`` levels of one side, best first, from a DLOB server
DlobLevels = tuple[list[tuple[int, int]], list[tuple[int, int]]]

DRIFT_PROGRAM = "dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH"


def perp_market_address(market_index: int, program: str = DRIFT_PROGRAM) -> Any:
    """The PerpMarket PDA: seeds ``b"perp_market"`` and the index as u16 little-endian."""
    from solders.pubkey import Pubkey

    seeds = [b"perp_market", market_index.to_bytes(2, "little")]
    return Pubkey.find_program_address(seeds, Pubkey.from_string(program))[0]


def drift_curve_levels(
    data: bytes, dlob: DlobLevels | None = None, now_ns: int = 0
) -> tuple[Any, dict[int, list[tuple[int, int]]], Any]:
    """``(decoded market, {+1: ask levels, -1: bid levels} as (price 1e6, base 1e9), state params)``."""
    from botnft.snapshot.apply import drift_market
    from botnft.snapshot.drift import decode_perp_market
    from botnft.venues.sim import drift_math as dm
    from botnft.venues.sim.drift_curve import taker_curve
    from botnft.venues.sim.drift_orders import DriftOrder, start_auction
    from botnft.venues.sim.drift_params import DriftStateParams

    m = decode_perp_market(data)
    if m.last_oracle_price <= 0:
        raise Retryable(f"{m.symbol}: the market has no oracle price yet")
    params = drift_market(m)
    liq = dataclasses.replace(params.taker_liquidity, jit_max_base=0, dlob_levels=())
    state = DriftStateParams()
    oracle = m.last_oracle_price
    sides: dict[int, list[tuple[int, int]]] = {}
    for direction in (1, -1):
        probe = _probe(direction, m.symbol)
        rec = DriftOrder(probe, "", m.market_index, direction, 0)
        start_auction(rec, oracle, now_ns, params, state)
        _, levels = taker_curve(
            direction, oracle, start=rec.auction_start, end=rec.auction_end, limit=rec.auction_end,
            duration=state.auction_duration, jit_spread_bps=state.jit_spread_bps, liq=liq,
            tick=params.order_tick_size, step=params.order_step_size,
        )  # fmt: skip
        out = [(p, b) for p, b, _ in levels]
        if dlob is not None:
            limit = rec.auction_end
            for price, base in dlob[0 if direction > 0 else 1]:
                p = dm.standardize_price(price, params.order_tick_size, "short" if direction > 0 else "long")
                b = base // params.order_step_size * params.order_step_size
                if b > 0 and p > 0 and (p <= limit if direction > 0 else p >= limit):
                    out.append((p, b))
            out.sort(key=lambda lv: direction * lv[0])
        sides[direction] = out
    return m, sides, state


def _probe(direction: int, symbol: str) -> Any:
    """A market order that only derives the curve (its auction prices and limit), as SimDrift's."""
    from botnft.domain.orders import Order, Side

    side = Side.BUY if direction > 0 else Side.SELL
    return Order("probe", InstrumentId(symbol, "DRIFT"), side, Decimal(1), 0)


def _merge(levels: Sequence[tuple[int, int]]) -> tuple[tuple[Decimal, Decimal], ...]:
    """Native levels as Decimals, equal prices merged (a DLOB order at a vAMM band's price)."""
    out: list[tuple[Decimal, Decimal]] = []
    for p, b in levels:
        price, base = Decimal(p).scaleb(-6), Decimal(b).scaleb(-9)
        if out and out[-1][0] == price:
            out[-1] = (price, out[-1][1] + base)
        else:
            out.append((price, base))
    return tuple(out)


async def drift_liquidity(
    account_data: AccountData,
    inst_id: InstrumentId,
    market_index: int,
    now_ns: int,
    *,
    dlob: Callable[[str], Awaitable[DlobLevels]] | None = None,
) -> PerpLiquidity | None:
    """The live Drift market `market_index` as the router's perp snapshot (module docstring); its lot and
    minimum size are the market's step and minimum order size."""
    from botnft.venues.sim import drift_math as dm

    data = await account_data(perp_market_address(market_index))
    if data is None:
        raise DataError(f"no Drift PerpMarket account for market index {market_index}")
    book = await dlob(inst_id.symbol) if dlob is not None else None
    m, sides, state = drift_curve_levels(data, book, now_ns)
    if not sides[1] or not sides[-1]:
        return None
    fee = Decimal(state.fee_tier.fee_numerator * 10_000) / state.fee_tier.fee_denominator
    rate, twap = _funding(data)
    hourly = Decimal(0)
    if twap > 0:
        period_h = Decimal(m.funding_period or 3600) / 3600
        hourly = Decimal(rate) / dm.FUNDING_RATE_PRECISION / (Decimal(twap) / dm.PRICE_PRECISION)
        hourly = hourly / period_h if period_h != 1 else hourly
    return PerpLiquidity(
        instrument=inst_id, ts_ns=now_ns, fee_bps=fee, lot=Decimal(m.order_step_size).scaleb(-9),
        min_size=Decimal(m.min_order_size).scaleb(-9),
        oracle_price=Decimal(m.last_oracle_price).scaleb(-6), funding_rate_hourly=hourly,
        initial_margin=Decimal(m.margin_ratio_initial) / dm.MARGIN_PRECISION,
        bids=_merge(sides[-1]), asks=_merge(sides[1]),
    )  # fmt: skip


def _funding(data: bytes) -> tuple[int, int]:
    """``(last_funding_rate, last_oracle_price_twap)`` of a PerpMarket's AMM."""
    from botnft.snapshot.drift import perp_market_funding

    return perp_market_funding(data)


async def dlob_l2(base_url: str, symbol: str, *, depth: int = 20, timeout_s: float = 5.0) -> DlobLevels:
    """A DLOB server's resting orders of `symbol` (``GET /l2?marketName=..&depth=..&includeVamm=false``;
    prices 1e6 and sizes 1e9 as decimal strings), bids and asks best first."""
    import httpx

    params: dict[str, str | int] = {"marketName": symbol, "depth": depth, "includeVamm": "false"}
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as http:
            r = await http.get(base_url.rstrip("/") + "/l2", params=params)
    except httpx.HTTPError as exc:
        raise Retryable(f"DLOB server {base_url}: {type(exc).__name__}") from None
    if r.status_code != 200:
        raise Retryable(f"DLOB server {base_url}: HTTP {r.status_code}")
    try:
        raw = r.json()
        sides = tuple([(int(lv["price"]), int(lv["size"])) for lv in raw[k]] for k in ("asks", "bids"))
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"DLOB server {base_url}: malformed /l2 answer ({type(exc).__name__})") from None
    asks, bids = sides
    return sorted(asks), sorted(bids, reverse=True)


async def openbook_liquidity(
    account_data: AccountData, market_key: Any, inst_id: InstrumentId, now_ns: int, *, min_lots: int = 1
) -> BookLiquidity | None:
    """An OpenBook v2 market's book from its BookSide accounts (prices per base, sizes in base)."""
    from botnft.venues.openbook.layouts import decode_book_side, decode_market

    raw = await account_data(market_key)
    if raw is None:
        raise DataError(f"no OpenBook market account at {market_key}")
    m = decode_market(raw)
    sides = []
    for key, want_bids in ((m.bids, True), (m.asks, False)):
        data = await account_data(key)
        if data is None:
            raise DataError(f"OpenBook market {market_key}: its book side {key} does not exist")
        side = decode_book_side(data)
        if side.is_bids != want_bids:
            raise DataError(f"OpenBook market {market_key}: account {key} is the wrong book side")
        sides.append(side.levels())
    if not sides[0] or not sides[1]:
        return None
    shift = m.base_decimals - m.quote_decimals

    def level(price_lots: int, base_lots: int) -> tuple[Decimal, Decimal]:
        price = (Decimal(price_lots * m.quote_lot_size) / m.base_lot_size).scaleb(shift)
        return price, Decimal(base_lots * m.base_lot_size).scaleb(-m.base_decimals)

    lot = Decimal(m.base_lot_size).scaleb(-m.base_decimals)
    fee_bps = Decimal(m.taker_fee) / 100  # millionths -> bps
    return BookLiquidity(
        instrument=inst_id, ts_ns=now_ns, fee_bps=fee_bps, lot=lot, min_size=lot * min_lots,
        bids=tuple(level(*lv) for lv in sides[0]), asks=tuple(level(*lv) for lv in sides[1]),
    )  # fmt: skip
