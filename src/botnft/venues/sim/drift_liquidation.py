"""Drift's liquidation engine on a SimDrift account: when to liquidate, and one ``liquidate_perp``.

``check_liquidation`` runs at every instant of the bar timeline: an account below its maintenance
requirement enters liquidation (its open orders are cancelled first), and one that is being liquidated
stays so until total collateral is back above maintenance plus the liquidation buffer (or the step
covered the whole shortage). ``liquidation_scan`` finds, vectorised over bars, the first bar whose
adverse extremes could breach, so the node wakes the venue there.

One ``liquidate_perp`` call is one liquidator transaction against one market: the shortage is measured
with the liquidation buffer, the liquidator fee ramps with the time since the account entered liquidation
(``liquidation_fee``), the insurance-fund fee takes what margin is left (``perp_if_fee``), the base
needed to cover the shortage (``base_to_cover_margin_shortage``, rounded up to the step) is throttled
by ``max_pct_to_liquidate``, and the position moves at the oracle price; the account pays both fees.
The liquidator is assumed to take any size (``liquidator_max_base_asset_amount`` unbounded) and the
quote oracle (USDC) is 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from botnft.domain.events import BankruptcyResolved, OrderCanceled, PositionLiquidated
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_account import DriftAccount, MarketQuote, position_margin_ratio
from botnft.venues.sim.drift_core import DriftCore, dec
from botnft.venues.sim.drift_math import BASE_PRECISION, LIQUIDATION_FEE_PRECISION, LIQUIDATION_PCT_PRECISION
from botnft.venues.sim.drift_oracle import slot_of
from botnft.venues.sim.drift_params import DriftStateParams
from botnft.venues.sim.intmath import U64_MAX

QUOTE_ORACLE = dm.PRICE_PRECISION
SMALL_POSITION = 50 * dm.QUOTE_PRECISION  # "if position is less than $50, liquidator can liq all of it"


@dataclass(frozen=True, slots=True)
class Liquidation:
    """What one ``liquidate_perp`` did, with the inputs it used (native units)."""

    market_index: int
    base_asset_amount: int  # size taken over (unsigned)
    direction_closed: int  # +1 the account was long (sold), -1 short (bought back)
    oracle_price: int
    margin_shortage: int
    margin_ratio_with_buffer: int
    liquidator_fee_rate: int
    if_fee_rate: int
    base_to_cover: int
    max_pct: int
    quote_amount: int
    liquidator_fee: int
    if_fee: int
    realized_pnl: int

    @property
    def fee(self) -> int:
        return self.liquidator_fee + self.if_fee


def ceil_to_step(base: int, step: int) -> int:
    """``math/orders.rs::standardize_base_asset_amount_ceil``."""
    rem = base % step
    return base if rem == 0 else base + step - rem


def liquidate_perp(
    account: DriftAccount,
    market_index: int,
    quotes: Mapping[int, MarketQuote],
    state: DriftStateParams,
    slot: int,
) -> Liquidation | None:
    """Liquidate (part of) the account's position in ``market_index``; None when nothing is taken.

    The caller has already entered liquidation (``last_active_slot``) and cancelled the open orders.
    """
    pos = account.positions.get(market_index)
    if pos is None or pos.base_asset_amount == 0:
        return None
    q = quotes[market_index]
    p = q.params
    price = q.oracle_price
    buffer = state.liquidation_margin_buffer_ratio
    mc = account.margin(quotes, "maintenance", buffer=buffer, track=market_index)
    user_base = abs(pos.base_asset_amount)
    ratio_with_buffer = position_margin_ratio(p, user_base, "maintenance", account.high_leverage) + buffer
    shortage = mc.margin_shortage
    base_fee = dm.base_liquidator_fee(
        p.liquidator_fee,
        high_leverage=account.high_leverage,
        hlm_mmr=p.high_leverage_margin_ratio_maintenance,
    )
    liq_fee = dm.liquidation_fee(
        base_fee,
        dm.max_liquidation_fee(p.liquidator_fee, p.margin_ratio_maintenance),
        account.last_active_slot,
        slot,
    )
    if_fee = dm.perp_if_fee(
        mc.tracked_shortage(shortage),
        user_base,
        ratio_with_buffer,
        liq_fee,
        price,
        QUOTE_ORACLE,
        p.if_liquidation_fee,
    )
    to_cover = dm.base_to_cover_margin_shortage(
        shortage, ratio_with_buffer, liq_fee, if_fee, price, QUOTE_ORACLE
    )
    if to_cover != U64_MAX:
        to_cover = ceil_to_step(to_cover, p.order_step_size)
    max_pct = dm.max_pct_to_liquidate(
        shortage,
        slot=slot,
        last_active_slot=account.last_active_slot,
        initial_pct=state.initial_pct_to_liquidate,
        duration=state.liquidation_duration,
        margin_freed=account.liquidation_margin_freed,
    )
    max_allowed = to_cover * max_pct // LIQUIDATION_PCT_PRECISION
    if max_allowed == 0:
        return None
    full_value = user_base * price // BASE_PRECISION
    min_base = 0 if full_value > SMALL_POSITION else user_base
    base = ceil_to_step(min(user_base, max(max_allowed, min_base)), p.order_step_size)
    value = base * price // BASE_PRECISION
    liquidator_fee = value * liq_fee // LIQUIDATION_FEE_PRECISION
    insurance_fee = value * if_fee // LIQUIDATION_FEE_PRECISION
    direction = 1 if pos.base_asset_amount > 0 else -1
    cumulative = (q.cumulative_funding_rate_long, q.cumulative_funding_rate_short)
    pnl = account.trade(market_index, -direction * base, value, cumulative)
    account.charge(market_index, liquidator_fee, "counterparty")
    account.charge(market_index, insurance_fee, "insurance_fund")
    account.liquidator_fees += liquidator_fee
    after = account.margin(quotes, "maintenance", buffer=buffer)
    account.liquidation_margin_freed += max(0, shortage - after.margin_shortage)
    if base >= to_cover:
        account.being_liquidated = False
    return Liquidation(
        market_index,
        base,
        direction,
        price,
        shortage,
        ratio_with_buffer,
        liq_fee,
        if_fee,
        to_cover,
        max_pct,
        value,
        liquidator_fee,
        insurance_fee,
        pnl,
    )


def check_liquidation(core: DriftCore, t: int, *, at_open: bool = False) -> list[VenueEvent]:
    """Liquidate the account at ``t`` if it is (still) liquidatable; the events it caused."""
    a = core.account
    held = {i for i, p in a.positions.items() if p.base_asset_amount}
    if not held:
        a.being_liquidated = False
        return []
    quotes = core.quotes(t, held | core.held(), action="margin", at_open=at_open)
    if quotes is None:
        return []  # an oracle not valid for margin blocks liquidation
    limit = core.state.guard_rails.max_oracle_twap_5min_percent_divergence
    for idx in held:
        twap5 = core.markets[idx].oracle_twap_5min
        if twap5 and abs(quotes[idx].oracle_price - twap5) * 1_000_000 // twap5 >= limit:
            return []  # PriceBandsBreached: the oracle is too far from its 5-minute TWAP
    buffer = core.state.liquidation_margin_buffer_ratio
    mc = a.margin(quotes, "maintenance", buffer=buffer)
    if not a.being_liquidated:
        if mc.meets:
            return []
        a.being_liquidated = True
        a.last_active_slot = slot_of(t)
        a.liquidation_margin_freed = 0
    elif mc.can_exit_liquidation:
        a.being_liquidated = False
        return []
    out: list[VenueEvent] = []
    if core.orders:
        for rec in list(core.orders.values()):
            core.close(rec)
            out.append(OrderCanceled(t, rec.order.client_order_id, "liquidation"))
        after = a.margin(quotes, "maintenance", buffer=buffer)
        a.liquidation_margin_freed += max(0, mc.margin_shortage - after.margin_shortage)
        if after.can_exit_liquidation:
            a.being_liquidated = False
            return out
    # a liquidator takes the largest liability first (market index breaks ties)
    by_size = sorted(held, key=lambda i: (-abs(a.positions[i].base_asset_amount) * quotes[i].oracle_price, i))
    for idx in by_size:
        liq = liquidate_perp(a, idx, quotes, core.state, slot_of(t))
        if liq is None:
            continue
        a.settle_pnl()
        core.liquidations.append(liq)
        inst = core.params[idx].instrument_id
        out.append(
            PositionLiquidated(
                t, inst, dec(liq.base_asset_amount, 9), dec(liq.oracle_price, 6), dec(liq.fee, 6)
            )
        )
        if not a.being_liquidated:
            break
    if not any(p.base_asset_amount for p in a.positions.values()):
        a.being_liquidated = False
        covered = a.resolve_bankruptcy()
        liquidated = [e for e in out if isinstance(e, PositionLiquidated)]
        if covered and liquidated:
            out.append(BankruptcyResolved(t, liquidated[-1].instrument, dec(covered, 6)))
    return out


def _excess(
    px: Any, base: float, quote: float, worst: float, ratio: float, weight: float, fixed: float
) -> Any:
    """One position's weighted PnL minus its (buffered) maintenance requirement at prices ``px``
    (a float, or an array of them)."""
    upnl = base * px + quote
    weighted = (
        np.where(upnl > 0, upnl * weight, upnl)
        if isinstance(upnl, np.ndarray)
        else (upnl * weight if upnl > 0 else upnl)
    )
    return weighted - worst * px * ratio - fixed


def liquidation_scan(core: DriftCore, bars: BarArrays, lo: int, hi: int, *, headroom: float = 0.0) -> int:
    """First bar in [lo, hi) whose adverse extremes could put the account under maintenance (plus the
    buffer while it is being liquidated), with ``headroom`` (a share of the notional) to spare; else
    ``hi``. Float with a safety margin: it may wake early, never late. Each position's excess is
    concave in its price, so its minimum over a bar is at the bar's low or high, and the account's
    minimum is the sum of the positions' minima. (One bar is scanned in plain Python: it is the
    common case inside ``process`` and numpy's overhead would dominate.)"""
    a = core.account
    one = hi - lo == 1
    if one:
        fast = _scan_bar(core, bars, lo, headroom)
        if fast is not None:
            return lo if fast else hi
    if not any(p.base_asset_amount for p in a.positions.values()):
        return hi
    ts = np.asarray(bars.ts_ns[lo:hi], dtype=np.int64)
    interval = int(bars.interval_ns)
    buffer = core.state.liquidation_margin_buffer_ratio if a.being_liquidated else 0
    total: Any = a.usdc / 1e6 if one else np.full(len(ts), a.usdc / 1e6)
    notional = 0.0
    for idx, pos in a.positions.items():
        if pos.is_empty:
            continue
        params = core.params[idx]
        tape = core.tapes[idx]
        if idx == core.primary:
            lows, highs = tape.batch_extremes(bars)
            low: Any = lows[lo:hi]
            high: Any = highs[lo:hi]
        else:
            low, high = tape.extremes_between(ts, ts + interval)
            last = core.markets[idx].last_oracle
            fallback = (last.price if last else 0) / 1e6
            low = np.where(np.isfinite(low), low, fallback)
            high = np.where(np.isfinite(high), high, fallback)
        if one:
            low, high = float(low[0]), float(high[0])
        worst = abs(pos.worst_case_base())
        ratio = (position_margin_ratio(params, worst, "maintenance", a.high_leverage) + buffer) / 1e4
        terms = (
            pos.base_asset_amount / 1e9,
            pos.quote_asset_amount / 1e6,
            worst / 1e9,
            ratio,
            params.unrealized_pnl_maintenance_asset_weight / 1e4,
            pos.open_orders * dm.OPEN_ORDER_MARGIN_REQUIREMENT / 1e6,
        )
        at_low, at_high = _excess(low, *terms), _excess(high, *terms)
        total = total + (min(at_low, at_high) if one else np.minimum(at_low, at_high))
        notional += worst / 1e9 * (high if one else float(np.max(high)))
    limit = 0.01 + (1e-7 + headroom) * notional
    if one:
        return lo if total < limit else hi
    hit = np.flatnonzero(total < limit)
    return lo + int(hit[0]) if hit.size else hi


def _scan_terms(core: DriftCore, idx: int, pos: Any, buffer: int, key: tuple[int, ...]) -> tuple[float, ...]:
    """``liquidation_scan``'s float terms of one position (``_excess``'s arguments after the price,
    then the worst-case size in base units), computed once per position state ``key``."""
    a = core.account
    params = core.params[idx]
    worst = abs(pos.worst_case_base())
    ratio = (position_margin_ratio(params, worst, "maintenance", a.high_leverage) + buffer) / 1e4
    terms = (
        pos.base_asset_amount / 1e9,
        pos.quote_asset_amount / 1e6,
        worst / 1e9,
        ratio,
        params.unrealized_pnl_maintenance_asset_weight / 1e4,
        pos.open_orders * dm.OPEN_ORDER_MARGIN_REQUIREMENT / 1e6,
        worst / 1e9,
    )
    core.scan_terms[idx] = (key, terms)
    return terms


def _scan_bar(core: DriftCore, bars: BarArrays, j: int, headroom: float) -> bool | None:
    """``liquidation_scan`` of the one bar ``j`` when every open position is in the primary market
    (True: the bar could breach); None otherwise (the caller scans). The same float operations in the
    same order, on the position terms cached per position state and the batch's extremes as Python
    floats: the same answer without the per-bar numpy reads and margin-ratio math."""
    a = core.account
    primary = core.primary
    buffer = core.state.liquidation_margin_buffer_ratio if a.being_liquidated else 0
    cache = core.scan_terms
    total = a.usdc / 1e6
    notional = 0.0
    held = False
    for idx, pos in a.positions.items():
        base_amount = pos.base_asset_amount
        quote_amount = pos.quote_asset_amount
        orders = pos.open_orders
        if base_amount == 0 and quote_amount == 0 and orders == 0:
            continue  # PerpPosition.is_empty
        if idx != primary:
            return None
        if base_amount:
            held = True
        key = (base_amount, quote_amount, pos.open_bids, pos.open_asks, orders, a.high_leverage, buffer)
        hit = cache.get(idx)
        terms = hit[1] if hit is not None and hit[0] == key else _scan_terms(core, idx, pos, buffer, key)
        base, quote, worst, ratio, weight, fixed, worst_base = terms
        lows, highs = core.tapes[idx].batch_extremes_py(bars)
        low, high = lows[j], highs[j]
        # _excess at the low and at the high
        upnl = base * low + quote
        at_low = (upnl * weight if upnl > 0 else upnl) - worst * low * ratio - fixed
        upnl = base * high + quote
        at_high = (upnl * weight if upnl > 0 else upnl) - worst * high * ratio - fixed
        total = total + min(at_low, at_high)
        notional += worst_base * high
    if not held:
        return False  # no base held: liquidation_scan's first answer
    limit = 0.01 + (1e-7 + headroom) * notional
    return bool(total < limit)
