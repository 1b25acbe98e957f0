"""SimDrift configuration: per-market Drift parameters in native units, and the state-level knobs.

Native units as the program stores them: base 1e9, price and quote 1e6, margin ratios 1e4, fees and
liquidation fees 1e6. The markets' margin, fee and grid values come from the one table in
``domain.drift_margin`` (each with its source); the taker-liquidity model below is an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from botnft.domain.drift_margin import FIELDS as MARGIN_FIELDS
from botnft.domain.drift_margin import perp_market
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp
from botnft.venues.sim.drift_curve import DriftLiquidityParams
from botnft.venues.sim.drift_math import (
    BASE_PRECISION,
    MAINNET_PERP_FEE_TIERS,
    MARGIN_PRECISION,
    PRICE_PRECISION,
    QUOTE_PRECISION,
    FeeTier,
)

SLOT_NS: Final = 400_000_000
"""Solana slot length used for every slot count (venues.md §5: model staleness at 400 ms a slot)."""

VENUE: Final = "DRIFT"


@dataclass(frozen=True, slots=True)
class DriftMarketParams:
    """One perp market's parameters (``state/perp_market.rs::PerpMarket`` fields, native units).

    ``background_open_interest`` (base, each side) and ``amm_fee_pool`` (quote) describe the rest of
    the market, which the simulator does not trade: they feed ``funding_rate_long_short``'s cap on
    what the AMM may pay out per period. The AMM is assumed to be the counterparty of the account's net
    position (``base_asset_amount_with_amm`` = the account's base: the users' net position it faces).
    """

    symbol: str
    market_index: int
    contract_tier: str
    margin_ratio_initial: int
    margin_ratio_maintenance: int
    order_step_size: int
    order_tick_size: int
    min_order_size: int
    liquidator_fee: int
    if_liquidation_fee: int
    imf_factor: int = 0
    high_leverage_margin_ratio_initial: int = 0
    high_leverage_margin_ratio_maintenance: int = 0
    unrealized_pnl_initial_asset_weight: int = MARGIN_PRECISION
    unrealized_pnl_maintenance_asset_weight: int = MARGIN_PRECISION
    funding_period: int = 3_600
    background_open_interest: int = 100_000 * BASE_PRECISION
    amm_fee_pool: int = 1_000_000 * QUOTE_PRECISION
    liquidity: DriftLiquidityParams | None = None  # None: DEFAULT_LIQUIDITY[symbol]

    def __post_init__(self) -> None:
        if not self.symbol.endswith("-PERP"):
            raise ValueError(f"perp market symbol must end with -PERP, got {self.symbol!r}")
        if not 0 < self.margin_ratio_maintenance < self.margin_ratio_initial <= MARGIN_PRECISION:
            raise ValueError(f"{self.symbol}: need 0 < maintenance < initial <= 1e4 margin ratios")
        for name in ("order_step_size", "order_tick_size", "min_order_size", "funding_period"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{self.symbol}: {name} must be positive")
        if (self.order_step_size * self.order_tick_size) % BASE_PRECISION:
            # base * price / 1e9 must be a whole quote unit for every fill on the grid, so the Decimal
            # events (qty * price) equal the integer ledger exactly.
            raise ValueError(f"{self.symbol}: step * tick must be a multiple of 1e9")

    @property
    def taker_liquidity(self) -> DriftLiquidityParams:
        """The taker curve's model: this market's own, else the default for its symbol."""
        if self.liquidity is not None:
            return self.liquidity
        if self.symbol not in DEFAULT_LIQUIDITY:
            raise ValueError(f"{self.symbol}: no default taker liquidity, pass liquidity=")
        return DEFAULT_LIQUIDITY[self.symbol]

    @property
    def base(self) -> str:
        return self.symbol[: -len("-PERP")]

    @property
    def instrument_id(self) -> InstrumentId:
        return InstrumentId(self.symbol, VENUE)

    def instrument(self) -> Perp:
        """The domain instrument: grids and margin fractions from the native parameters."""
        return Perp(
            self.instrument_id,
            self.base,
            "USDC",
            tick_size=Decimal(self.order_tick_size) / PRICE_PRECISION,
            lot_size=Decimal(self.order_step_size) / BASE_PRECISION,
            min_size=Decimal(self.min_order_size) / BASE_PRECISION,
            initial_margin=Decimal(self.margin_ratio_initial) / MARGIN_PRECISION,
            maintenance_margin=Decimal(self.margin_ratio_maintenance) / MARGIN_PRECISION,
            funding_period_s=self.funding_period,
        )


# Taker liquidity (drift_curve): assumptions, not measured. venues.md §1.8 says JIT makers and the DLOB
# are the main liquidity and the vAMM the backstop; the sizes put roughly $2-3M within Drift's 0.5 %
# auction band on SOL-PERP (JIT 2,000 SOL, resting 16,000 SOL at 10/20/35 bps, vAMM 1M SOL balanced
# reserves ≈ 2,200 SOL between its 5 bps spread and the band's end) and proportionally less on BTC/ETH.
_B = BASE_PRECISION
DEFAULT_LIQUIDITY: Final = {
    "SOL-PERP": DriftLiquidityParams(
        jit_max_base=2_000 * _B,
        dlob_levels=((10, 3_000 * _B), (20, 5_000 * _B), (35, 8_000 * _B)),
        amm_base_reserve=1_000_000 * _B,
    ),
    "BTC-PERP": DriftLiquidityParams(
        jit_max_base=3 * _B,
        dlob_levels=((10, 5 * _B), (20, 8 * _B), (35, 12 * _B)),
        amm_base_reserve=1_500 * _B,
    ),
    "ETH-PERP": DriftLiquidityParams(
        jit_max_base=80 * _B,
        dlob_levels=((10, 120 * _B), (20, 200 * _B), (35, 320 * _B)),
        amm_base_reserve=40_000 * _B,
    ),
}


def from_table(symbol: str, **overrides: object) -> DriftMarketParams:
    """A market's parameters from the one table (``domain.drift_margin.PERP_MARKET_TABLE``, with the
    source of each value); an unknown symbol is a ``UserError``."""
    spec = perp_market(symbol)
    fields_ = {f: getattr(spec, f) for f in MARGIN_FIELDS}
    fields_.update(overrides)
    return DriftMarketParams(symbol=symbol, contract_tier=spec.contract_tier, **fields_)


SOL_PERP: Final = from_table("SOL-PERP")
BTC_PERP: Final = from_table("BTC-PERP", background_open_interest=1_000 * BASE_PRECISION)
ETH_PERP: Final = from_table("ETH-PERP", background_open_interest=20_000 * BASE_PRECISION)
DEFAULT_MARKETS: Final = {m.symbol: m for m in (SOL_PERP, BTC_PERP, ETH_PERP)}


@dataclass(frozen=True, slots=True)
class OracleGuardRails:
    """``state/state.rs::ValidityGuardRails::default`` (venues.md §5)."""

    too_volatile_ratio: int = 5
    confidence_interval_max_size: int = 20_000  # 2% in 1e6
    slots_before_stale_for_margin: int = 120
    slots_before_stale_for_amm: int = 10
    max_oracle_twap_5min_percent_divergence: int = 500_000  # 50% in 1e6: liquidations blocked beyond


@dataclass(frozen=True, slots=True)
class DriftStateParams:
    """Program-wide (``State``) settings and the simulator's execution model.

    * ``liquidation_margin_buffer_ratio`` 200 (2%): venues.md §1.5 default.
    * ``liquidation_duration`` 25 slots: docs liquidation-engine.mdx ("set to 25 by default").
    * ``initial_pct_to_liquidate`` 1000 (10% of the shortage at once): an assumption, the mainnet value
      is not published; 10_000 liquidates a whole shortage in one step.
    * ``auction_duration`` 10 slots (``state.min_perp_auction_duration``; assumption).
    * ``jit_spread_bps``: a JIT maker takes a taker's auction at the first slot whose auction price is
      this far through the oracle (2 bps, assumption); 50 or more means "fills at the auction's end".
    * ``market_order_ttl_s`` 30: "for market orders, the Clearinghouse sets this at 30 seconds"
      (docs risk-parameters.mdx).
    * ``max_participation``: share of a bar's volume the account may trade in that bar (None: no cap).
    * ``oracle_conf_bps``: Pyth confidence attached to bar prices (2 bps, assumption).
    * ``oracle_delay_slots``: Pyth publishing latency added to every oracle read (0); above
      ``slots_before_stale_for_amm`` (10) the vAMM stops filling, above 120 margin and funding stop.
    """

    liquidation_margin_buffer_ratio: int = 200
    initial_pct_to_liquidate: int = 1_000
    liquidation_duration: int = 25
    fee_tier: FeeTier = MAINNET_PERP_FEE_TIERS[0]
    auction_duration: int = 10
    jit_spread_bps: int = 2
    market_order_ttl_s: int = 30
    max_participation: float | None = None
    max_open_orders: int = 32
    oracle_conf_bps: int = 2
    oracle_delay_slots: int = 0
    guard_rails: OracleGuardRails = field(default_factory=OracleGuardRails)
