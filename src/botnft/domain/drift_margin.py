"""Drift v2 margin: the one size-premium margin function and the one table of market parameters.

SimDrift, the router's vehicle check and the candle perp all read these (stdlib-only integer math in
the program's precisions: base 1e9, margin ratios 1e4, IMF and liquidation fees 1e6).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from botnft.domain.errors import UserError

BASE_PRECISION: Final = 1_000_000_000
MARGIN_PRECISION: Final = 10_000
SPOT_IMF_PRECISION: Final = 1_000_000
PERCENTAGE_PRECISION: Final = 1_000_000
U64_MAX: Final = 2**64 - 1
KINDS: Final = ("initial", "maintenance", "fill")


def get_proportion(value: int, numerator: int, denominator: int) -> int:
    """``math/helpers.rs::get_proportion_u128``: ``value * numerator / denominator``, rounded down."""
    if value < 0 or numerator < 0 or denominator <= 0:
        raise ValueError("get_proportion takes value, numerator >= 0 and denominator > 0")
    if numerator == denominator:
        return value
    if value >= U64_MAX or numerator >= U64_MAX:
        return value * numerator // denominator
    if denominator // 2 < numerator < denominator:
        product = value * (denominator - numerator)
        remainder = product % denominator
        return value - (product - remainder) // denominator - (1 if remainder else 0)
    return value * numerator // denominator


def size_premium_liability_weight(
    size: int,
    imf_factor: int,
    liability_weight: int,
    precision: int = MARGIN_PRECISION,
    *,
    bounded: bool = True,
) -> int:
    """``math/margin.rs::calculate_size_premium_liability_weight`` (size 1e9, imf 1e6)::

    premium = w - w/5 + isqrt(size*10 + 1) * imf_factor / (100_000 * 1e6 / precision)

    ``bounded`` returns ``max(w, premium)``; unbounded returns ``premium`` (used for HLM).
    """
    if imf_factor == 0:
        return liability_weight
    size_sqrt = math.isqrt(size * 10 + 1)
    premium = liability_weight - liability_weight // 5
    premium += size_sqrt * imf_factor // (100_000 * SPOT_IMF_PRECISION // precision)
    return max(liability_weight, premium) if bounded else premium


def size_discount_asset_weight(size: int, imf_factor: int, asset_weight: int) -> int:
    """``math/margin.rs::calculate_size_discount_asset_weight``:
    ``min(w, 1.1e6 * 1e4 / (1e6 + isqrt(size*10+1) * imf_factor / 100_000))``, size in 1e9."""
    if imf_factor == 0:
        return asset_weight
    size_sqrt = math.isqrt(size * 10 + 1)
    numerator = SPOT_IMF_PRECISION + SPOT_IMF_PRECISION // 10
    return min(
        asset_weight, numerator * MARGIN_PRECISION // (SPOT_IMF_PRECISION + size_sqrt * imf_factor // 100_000)
    )


def hlm_initial_margin_ratio_from_size(pre_size_adj: int, size_adj: int, default: int) -> int:
    """``math/margin.rs::calc_high_leverage_mode_initial_margin_ratio_from_size``."""
    if size_adj < pre_size_adj:
        discount = max(
            0, PERCENTAGE_PRECISION - (pre_size_adj - size_adj) * PERCENTAGE_PRECISION // (pre_size_adj // 5)
        )
        delta = max(1, pre_size_adj - default)
        return get_proportion(delta, discount, PERCENTAGE_PRECISION) + default
    if size_adj == pre_size_adj:
        return default
    return size_adj


def margin_ratio(
    size: int,
    *,
    imr: int,
    mmr: int,
    imf_factor: int = 0,
    hlm_imr: int = 0,
    hlm_mmr: int = 0,
    kind: str = "initial",
    high_leverage: bool = False,
) -> int:
    """``state/perp_market.rs::PerpMarket::get_margin_ratio`` at ``size`` (|base|, 1e9), in 1e4.

    ``kind``: ``"initial"``, ``"maintenance"`` or ``"fill"`` (``(initial+maintenance)/2``). High leverage
    applies only with ``high_leverage`` and both HLM ratios set.
    """
    k = kind.lower()
    if k not in KINDS:
        raise ValueError(f"unknown margin requirement kind {kind!r}; expected one of {KINDS}")
    is_hlm = high_leverage and hlm_imr > 0 and hlm_mmr > 0
    initial, maintenance = (hlm_imr, hlm_mmr) if is_hlm else (imr, mmr)
    default = {"initial": initial, "fill": (initial + maintenance) // 2, "maintenance": maintenance}[k]
    if is_hlm and k != "maintenance":
        pre = imr if k == "initial" else (imr + mmr) // 2
        adj = size_premium_liability_weight(size, imf_factor, pre, MARGIN_PRECISION, bounded=False)
        return hlm_initial_margin_ratio_from_size(pre, adj, default)
    return max(
        default, size_premium_liability_weight(size, imf_factor, default, MARGIN_PRECISION, bounded=True)
    )


# --------------------------------------------------------------------------------------------------
# The market table. Each field: (value, where it comes from). venues.md §1.3 explains why mainnet
# values are not in the program's repository (they live in PerpMarketAccount, fetched from
# https://mainnet-beta.api.drift.trade/stats/perpMarketAccounts); refresh them when online.
# --------------------------------------------------------------------------------------------------
_DOCS = "drift-protocol-v2-docs"
_IMR = f"{_DOCS} content/developers/concepts/program-structure.mdx ('5% for BTC-PERP = 20x')"
_MMR_SOL = f"{_DOCS} content/protocol/trading/liquidations/index.mdx (SOL-PERP maintenance 3%)"
_MMR = f"{_DOCS} program-structure.mdx ('2.5% maintenance if 5% initial')"
_IMF = "protocol-v2 programs/drift/src/controller/liquidation/tests.rs markets (imf_factor 1000)"
_LIQ = "protocol-v2 controller/liquidation/tests.rs markets (liquidator_fee, if_liquidation_fee = 1%)"
_TIER = f"{_DOCS} market-specs.mdx (A = BTC-PERP; B = SOL-PERP, ETH-PERP)"
_GRID = "Drift UI grids (0.01 SOL, 0.0001 BTC, 0.001 ETH; $0.0001, $0.1, $0.01); step*tick a multiple of 1e9"
_HLM = f"{_DOCS} content/protocol/index.mdx (up to 101x on SOL/BTC/ETH; maintenance at half)"

FIELDS: Final = (
    "market_index",
    "margin_ratio_initial",
    "margin_ratio_maintenance",
    "imf_factor",
    "liquidator_fee",
    "if_liquidation_fee",
    "order_step_size",
    "order_tick_size",
    "min_order_size",
    "high_leverage_margin_ratio_initial",
    "high_leverage_margin_ratio_maintenance",
)

_B = BASE_PRECISION
PERP_MARKET_TABLE: Final[Mapping[str, Mapping[str, tuple[int | str, str]]]] = {
    "SOL-PERP": {
        "contract_tier": ("B", _TIER),
        "market_index": (0, "driftpy constants/perp_markets.py (index 0 = SOL-PERP)"),
        "margin_ratio_initial": (500, _IMR),
        "margin_ratio_maintenance": (300, _MMR_SOL),
        "imf_factor": (1_000, _IMF),
        "liquidator_fee": (10_000, _LIQ),
        "if_liquidation_fee": (10_000, _LIQ),
        "order_step_size": (_B // 100, _GRID),
        "order_tick_size": (100, _GRID),
        "min_order_size": (_B // 100, _GRID),
        "high_leverage_margin_ratio_initial": (100, _HLM),
        "high_leverage_margin_ratio_maintenance": (50, _HLM),
    },
    "BTC-PERP": {
        "contract_tier": ("A", _TIER),
        "market_index": (1, "driftpy constants/perp_markets.py (index 1 = BTC-PERP)"),
        "margin_ratio_initial": (500, _IMR),
        "margin_ratio_maintenance": (250, _MMR),
        "imf_factor": (1_000, _IMF),
        "liquidator_fee": (10_000, _LIQ),
        "if_liquidation_fee": (10_000, _LIQ),
        "order_step_size": (_B // 10_000, _GRID),
        "order_tick_size": (100_000, _GRID),
        "min_order_size": (_B // 10_000, _GRID),
        "high_leverage_margin_ratio_initial": (100, _HLM),
        "high_leverage_margin_ratio_maintenance": (50, _HLM),
    },
    "ETH-PERP": {
        "contract_tier": ("B", _TIER),
        "market_index": (2, "driftpy constants/perp_markets.py (index 2 = ETH-PERP)"),
        "margin_ratio_initial": (500, _IMR + " (set like BTC)"),
        "margin_ratio_maintenance": (250, _MMR),
        "imf_factor": (1_000, _IMF),
        "liquidator_fee": (10_000, _LIQ),
        "if_liquidation_fee": (10_000, _LIQ),
        "order_step_size": (_B // 1_000, _GRID),
        "order_tick_size": (10_000, _GRID),
        "min_order_size": (_B // 1_000, _GRID),
        "high_leverage_margin_ratio_initial": (100, _HLM),
        "high_leverage_margin_ratio_maintenance": (50, _HLM),
    },
}

PERP_FEE_TIERS: Final = (
    # (30-day volume below, USD; taker bps; maker rebate bps). Source: drift-protocol-v2-docs
    # content/protocol/trading/trading-fees/index.mdx ("Rookie", no stake) = protocol-v2
    # math/fees/tests.rs::test_calc_taker_tiers. Taker fees are charged as fee_numerator / 100_000.
    (2_000_000, "3.50", "0.25"),
    (10_000_000, "3.00", "0.25"),
    (20_000_000, "2.75", "0.25"),
    (80_000_000, "2.50", "0.25"),
    (200_000_000, "2.25", "0.25"),
    (None, "2.00", "0.25"),
)

SPOT_COLLATERAL: Final = {
    # asset: (initial asset weight, maintenance asset weight, imf_factor), 1e4 / 1e6.
    # USDC: quote market, weight 1 (protocol-v2 state/spot_market.rs SpotMarket::default_quote_market).
    # SOL: 80% / 90% (protocol-v2 test_utils initialize_spot_market_data "values for SOL market", and
    # SpotMarket::default_base_market).
    "USDC": (10_000, 10_000, 0),
    "SOL": (8_000, 9_000, 0),
}


@dataclass(frozen=True, slots=True)
class PerpMarketSpec:
    """One row of the table, checked."""

    symbol: str
    contract_tier: str
    market_index: int
    margin_ratio_initial: int
    margin_ratio_maintenance: int
    imf_factor: int
    liquidator_fee: int
    if_liquidation_fee: int
    order_step_size: int
    order_tick_size: int
    min_order_size: int
    high_leverage_margin_ratio_initial: int
    high_leverage_margin_ratio_maintenance: int

    def margin_ratio(self, size: int, kind: str = "initial", *, high_leverage: bool = False) -> int:
        """The market's ratio (1e4) at ``size`` (|base|, 1e9), size premium included."""
        return margin_ratio(
            size,
            imr=self.margin_ratio_initial,
            mmr=self.margin_ratio_maintenance,
            imf_factor=self.imf_factor,
            hlm_imr=self.high_leverage_margin_ratio_initial,
            hlm_mmr=self.high_leverage_margin_ratio_maintenance,
            kind=kind,
            high_leverage=high_leverage,
        )

    def margin_fraction(self, size_base: float, kind: str = "initial") -> float:
        """The same ratio as a fraction, for a size in base units (floored to the native 1e-9)."""
        return self.margin_ratio(int(abs(size_base) * BASE_PRECISION), kind) / MARGIN_PRECISION


def parse_perp_markets(table: Mapping[str, Mapping[str, object]]) -> dict[str, PerpMarketSpec]:
    """Check a table shaped like :data:`PERP_MARKET_TABLE` (values bare or ``(value, source)``).

    A missing, non-integer or negative field, or inconsistent ratios, is a ``UserError`` naming it.
    """
    out: dict[str, PerpMarketSpec] = {}
    for symbol, row in table.items():
        if not symbol.endswith("-PERP"):
            raise UserError(f"Drift market {symbol!r}: a perp symbol ends with -PERP")
        vals: dict[str, int] = {}
        for name in FIELDS:
            if name not in row:
                raise UserError(f"Drift market {symbol}: field {name} is missing")
            raw = row[name]
            v = raw[0] if isinstance(raw, tuple) else raw
            if isinstance(v, bool) or not isinstance(v, int):
                raise UserError(f"Drift market {symbol}: field {name} must be an integer, got {v!r}")
            if v < 0:
                raise UserError(f"Drift market {symbol}: field {name} must be >= 0, got {v}")
            vals[name] = v
        for name in ("order_step_size", "order_tick_size", "min_order_size", "margin_ratio_maintenance"):
            if vals[name] == 0:
                raise UserError(f"Drift market {symbol}: field {name} must be > 0")
        if not vals["margin_ratio_maintenance"] < vals["margin_ratio_initial"] <= MARGIN_PRECISION:
            raise UserError(
                f"Drift market {symbol}: field margin_ratio_initial must exceed maintenance, <= 1e4"
            )
        tier = row.get("contract_tier", ("B", ""))
        tier_v = tier[0] if isinstance(tier, tuple) else tier
        out[symbol] = PerpMarketSpec(symbol, str(tier_v), **vals)
    return out


PERP_MARKETS: Final = parse_perp_markets(PERP_MARKET_TABLE)


def perp_market(symbol: str) -> PerpMarketSpec:
    """The table's row for ``symbol`` (``SOL-PERP``, ``BTC-PERP``, ``ETH-PERP``); unknown: ``UserError``."""
    spec = PERP_MARKETS.get(symbol)
    if spec is None:
        raise UserError(f"unknown Drift market {symbol!r}; known: {', '.join(PERP_MARKETS)}")
    return spec
