"""A snapshot as the simulated venues' parameters: SimDrift's market (margin terms and vAMM) and the
Raydium sims' pool configurations. The venue builders call these with the snapshot's JSON form (what
`bot route --snapshot` / `bot backtest --snapshot` put in the run's liquidity settings under ``snapshot``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from botnft.domain.errors import DataError
from botnft.snapshot.model import DriftPerpState, RaydiumPoolState, Snapshot
from botnft.venues.sim.drift_params import DEFAULT_LIQUIDITY, DriftMarketParams
from botnft.venues.sim.raydium_config import (
    AmmV4Terms,
    ClmmPosition,
    ClmmTerms,
    CpmmTerms,
    PoolConfig,
    from_price,
)


def snapshot_of(cfg: Mapping[str, Any] | None) -> Snapshot | None:
    """The snapshot in a run's liquidity settings (``liquidity["snapshot"]``), or None."""
    if not cfg:
        return None
    return Snapshot.from_json(cfg, f"snapshot {cfg.get('name', '?')!r}")


def drift_market(m: DriftPerpState) -> DriftMarketParams:
    """SimDrift's market from a decoded ``PerpMarket``: its margin terms, grids and funding period, and a
    vAMM with its reserves, its peg relative to its oracle and its long/short spreads. The JIT and DLOB
    parts of the taker curve stay the simulator's model (the chain holds no such state)."""
    base = DEFAULT_LIQUIDITY[m.symbol]
    peg = (m.peg_multiplier, m.last_oracle_price) if m.last_oracle_price > 0 else None
    liquidity = replace(
        base,
        amm_base_reserve=m.base_asset_reserve,
        amm_quote_reserve=m.quote_asset_reserve,
        amm_peg=peg,
        amm_spreads=(m.long_spread, m.short_spread),
    )
    oi = max(m.base_asset_amount_long, -m.base_asset_amount_short)
    extra = {"background_open_interest": oi} if oi > 0 else {}
    try:
        return DriftMarketParams(
            symbol=m.symbol,
            market_index=m.market_index,
            contract_tier=m.contract_tier,
            margin_ratio_initial=m.margin_ratio_initial,
            margin_ratio_maintenance=m.margin_ratio_maintenance,
            order_step_size=m.order_step_size,
            order_tick_size=m.order_tick_size,
            min_order_size=m.min_order_size,
            liquidator_fee=m.liquidator_fee,
            if_liquidation_fee=m.if_liquidation_fee,
            imf_factor=m.imf_factor,
            high_leverage_margin_ratio_initial=m.high_leverage_margin_ratio_initial,
            high_leverage_margin_ratio_maintenance=m.high_leverage_margin_ratio_maintenance,
            unrealized_pnl_initial_asset_weight=m.unrealized_pnl_initial_asset_weight,
            unrealized_pnl_maintenance_asset_weight=m.unrealized_pnl_maintenance_asset_weight,
            funding_period=m.funding_period,
            liquidity=liquidity,
            **extra,
        )
    except ValueError as exc:
        raise DataError(f"snapshot market {m.symbol} ({m.pubkey}): {exc}") from None


def pool_config(p: RaydiumPoolState) -> PoolConfig:
    """The Raydium sim's pool: reserves and fee terms (AMM v4, CPMM), or sqrt price and the liquidity
    between the initialized ticks read (CLMM; no re-centering: the pool is the chain's), or for an API
    CLMM the sim's CLMM liquidity model at the API's price and TVL."""
    if p.kind == "amm_v4":
        return PoolConfig(AmmV4Terms(p.fee_numerator, p.fee_denominator), p.base_reserve, p.quote_reserve)
    if p.kind == "cpmm":
        cpmm = CpmmTerms(p.trade_fee_rate, p.protocol_fee_rate, p.fund_fee_rate, p.creator_fee_rate)
        return PoolConfig(cpmm, p.base_reserve, p.quote_reserve)
    if p.kind == "clmm" and p.origin == "api":
        assert p.price is not None and p.tvl_usd is not None
        terms = ClmmTerms(trade_fee_rate=p.trade_fee_rate)
        return from_price(Decimal(p.price), Decimal(p.tvl_usd), kind="clmm", terms=terms)
    if p.kind == "clmm":
        from botnft.snapshot.raydium import clmm_segments

        terms = ClmmTerms(p.trade_fee_rate, p.tick_spacing, p.protocol_fee_rate, p.fund_fee_rate, p.fee_on)
        positions = tuple(ClmmPosition(lo, hi, liq) for lo, hi, liq in clmm_segments(p))
        return PoolConfig(terms, sqrt_price_x64=p.sqrt_price_x64, positions=positions)
    raise DataError(f"unknown Raydium pool kind {p.kind!r} in the snapshot")


def openbook_terms(snapshot: Snapshot) -> dict[str, Any] | None:
    """SimOpenBook's keyword arguments from the snapshot's market (module ``snapshot.openbook``): lot sizes,
    fees and the depth profile calibrated to its book; None when the snapshot holds no OpenBook market."""
    if not snapshot.openbook_markets:
        return None
    from botnft.snapshot.openbook import calibration
    from botnft.venues.sim.book_market import OPENBOOK_PROFILE

    m = snapshot.openbook_markets[0]
    spread_bps, depth_1pct = calibration(m)
    return {
        "base_lot_size": m.base_lot_size,
        "quote_lot_size": m.quote_lot_size,
        "taker_fee": m.taker_fee,
        "maker_fee": m.maker_fee,
        "profile": replace(OPENBOOK_PROFILE, spread_bps=spread_bps, depth_1pct=depth_1pct),
    }
