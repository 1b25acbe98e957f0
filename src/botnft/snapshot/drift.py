"""Drift ``PerpMarket`` and ``SpotMarket`` accounts, decoded with driftpy's IDL (``driftpy/idl/drift.json``)
by anchorpy's account coder, the coder driftpy itself decodes with. Imported lazily: only a snapshot that
holds Drift accounts loads anchorpy (the IDL file is read without importing driftpy's package).

A wrong size, a wrong discriminator, a foreign owner or a market the simulator does not list (index and
name checked against ``domain.drift_margin.PERP_MARKET_TABLE``) is a one-line `DataError`.
"""

from __future__ import annotations

import functools
from typing import Any, Final

from botnft.domain.drift_margin import PERP_MARKET_TABLE
from botnft.domain.errors import DataError
from botnft.snapshot.model import DriftPerpState, DriftSpotState
from botnft.venues.raydium.layouts import anchor_discriminator  # sha256("account:<Name>")[:8]

DRIFT_PROGRAM: Final = "dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH"
PERP_MARKET_LEN: Final = 1216  # 8-byte discriminator + PerpMarket (state/perp_market.rs PerpMarket::SIZE)
SPOT_MARKET_LEN: Final = 776  # 8-byte discriminator + SpotMarket (state/spot_market.rs SpotMarket::SIZE)
SPOT_SYMBOLS: Final = {0: "USDC", 1: "SOL"}  # driftpy constants/spot_markets.py mainnet indexes


@functools.cache
def _coder() -> Any:
    import importlib.util
    from pathlib import Path

    from anchorpy.coder.accounts import AccountsCoder
    from anchorpy_core.idl import Idl

    spec = importlib.util.find_spec("driftpy")
    if spec is None or spec.origin is None:
        raise DataError("decoding Drift accounts needs driftpy (install the `drift` extra)")
    idl = Path(spec.origin).parent / "idl" / "drift.json"
    return AccountsCoder(Idl.from_json(idl.read_text()))


def _decode(data: bytes, name: str, size: int, pubkey: str, owner: str | None) -> Any:
    what = f"account {pubkey}"
    if owner is not None and owner != DRIFT_PROGRAM:
        raise DataError(f"{what} is owned by {owner}, not the Drift program {DRIFT_PROGRAM}")
    if len(data) != size:
        raise DataError(f"{what} is {len(data)} bytes; a Drift {name} is {size}")
    if data[:8] != anchor_discriminator(name):
        raise DataError(f"{what} is not a Drift {name} (its discriminator is another account type's)")
    try:
        return _coder().decode(data)
    except Exception as exc:  # construct's errors: corrupt bytes
        raise DataError(f"{what}: Drift {name} bytes do not decode: {' '.join(str(exc).split())}") from None


def _name(raw: Any) -> str:
    return bytes(raw).decode("utf-8", "replace").strip("\0 ").strip()


def _enum(value: Any) -> str:
    return type(value).__name__


def decode_perp_market(data: bytes, pubkey: str = "?", owner: str | None = None) -> DriftPerpState:
    m = _decode(data, "PerpMarket", PERP_MARKET_LEN, pubkey, owner)
    symbol = _name(m.name)
    known = {int(row["market_index"][0]): s for s, row in PERP_MARKET_TABLE.items()}
    if m.market_index not in known:
        raise DataError(
            f"Drift perp market index {m.market_index} ({symbol or 'unnamed'}) is not one the simulator "
            f"lists ({', '.join(f'{i} {s}' for i, s in sorted(known.items()))})"
        )
    expected = known[m.market_index]
    if symbol != expected:
        raise DataError(f"Drift perp market {m.market_index} is named {symbol!r}, expected {expected!r}")
    a = m.amm
    if a.base_asset_reserve <= 0 or a.quote_asset_reserve <= 0 or a.peg_multiplier <= 0:
        raise DataError(f"{symbol}: the vAMM needs positive reserves and peg (account {pubkey})")
    k2, bq = a.sqrt_k * a.sqrt_k, a.base_asset_reserve * a.quote_asset_reserve
    if abs(bq - k2) * 1_000 > k2:
        raise DataError(
            f"{symbol}: base x quote reserves differ from sqrt_k^2 by more than 0.1% (account {pubkey})"
        )
    return DriftPerpState(
        symbol=symbol,
        pubkey=pubkey,
        market_index=m.market_index,
        contract_tier=_enum(m.contract_tier),
        status=_enum(m.status),
        margin_ratio_initial=m.margin_ratio_initial,
        margin_ratio_maintenance=m.margin_ratio_maintenance,
        imf_factor=m.imf_factor,
        liquidator_fee=m.liquidator_fee,
        if_liquidation_fee=m.if_liquidation_fee,
        order_step_size=a.order_step_size,
        order_tick_size=a.order_tick_size,
        min_order_size=a.min_order_size,
        high_leverage_margin_ratio_initial=m.high_leverage_margin_ratio_initial,
        high_leverage_margin_ratio_maintenance=m.high_leverage_margin_ratio_maintenance,
        unrealized_pnl_initial_asset_weight=m.unrealized_pnl_initial_asset_weight,
        unrealized_pnl_maintenance_asset_weight=m.unrealized_pnl_maintenance_asset_weight,
        funding_period=a.funding_period,
        base_asset_reserve=a.base_asset_reserve,
        quote_asset_reserve=a.quote_asset_reserve,
        sqrt_k=a.sqrt_k,
        peg_multiplier=a.peg_multiplier,
        base_spread=a.base_spread,
        max_spread=a.max_spread,
        long_spread=a.long_spread,
        short_spread=a.short_spread,
        last_oracle_price=a.historical_oracle_data.last_oracle_price,
        base_asset_amount_long=a.base_asset_amount_long,
        base_asset_amount_short=a.base_asset_amount_short,
        base_asset_amount_with_amm=a.base_asset_amount_with_amm,
    )


def perp_market_funding(data: bytes, pubkey: str = "?", owner: str | None = None) -> tuple[int, int]:
    """``(last_funding_rate, last_oracle_price_twap)`` of a PerpMarket account's AMM, in the program's
    integer units, after the same size, discriminator and owner checks as `decode_perp_market`."""
    a = _decode(data, "PerpMarket", PERP_MARKET_LEN, pubkey, owner).amm
    return int(a.last_funding_rate), int(a.historical_oracle_data.last_oracle_price_twap)


def decode_spot_market(data: bytes, pubkey: str = "?", owner: str | None = None) -> DriftSpotState:
    m = _decode(data, "SpotMarket", SPOT_MARKET_LEN, pubkey, owner)
    symbol = _name(m.name)
    if m.market_index not in SPOT_SYMBOLS:
        raise DataError(
            f"Drift spot market index {m.market_index} ({symbol or 'unnamed'}) is not one the simulator "
            f"lists ({', '.join(f'{i} {s}' for i, s in SPOT_SYMBOLS.items())})"
        )
    if symbol != SPOT_SYMBOLS[m.market_index]:
        raise DataError(
            f"Drift spot market index {m.market_index} is named {symbol!r}, "
            f"expected {SPOT_SYMBOLS[m.market_index]!r}"
        )
    return DriftSpotState(
        symbol=symbol,
        pubkey=pubkey,
        market_index=m.market_index,
        decimals=m.decimals,
        initial_asset_weight=m.initial_asset_weight,
        maintenance_asset_weight=m.maintenance_asset_weight,
        initial_liability_weight=m.initial_liability_weight,
        maintenance_liability_weight=m.maintenance_liability_weight,
        imf_factor=m.imf_factor,
        liquidator_fee=m.liquidator_fee,
        if_liquidation_fee=m.if_liquidation_fee,
        order_step_size=m.order_step_size,
        order_tick_size=m.order_tick_size,
        min_order_size=m.min_order_size,
        last_oracle_price=m.historical_oracle_data.last_oracle_price,
    )
