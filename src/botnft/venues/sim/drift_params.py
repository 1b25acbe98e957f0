"""SimDrift configuration: per-market Drift parameters in native units, and the state-level knobs.

Native units as the program stores them: base 1e9, price and quote 1e6, margin ratios 1e4, fees and
liquidation fees 1e6. Mainnet values are not in the program's repository (they live in the on-chain
``PerpMarketAccount`` / ``State`` accounts), so every default below says where it comes from; refresh
them from ``https://mainnet-beta.api.drift.trade/stats/perpMarketAccounts`` when online.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp
from botnft.venues.sim.drift_math import (
    BASE_PRECISION,
    LIQUIDATION_FEE_PRECISION,
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


# Defaults. Sources:
# * tiers: docs market-specs.mdx (A = BTC-PERP; B = SOL-PERP, ETH-PERP) via venues.md §1.3;
# * margin: venues.md §1.3 "for the simulator": SOL IMR 500 / MMR 250-300 (we take 300, the docs'
#   liquidation text), BTC IMR 500 / MMR 250 ("5% for BTC-PERP = 20x", "2.5% maintenance"); ETH is set
#   like BTC (approximation, same docs sentence);
# * imf_factor 1000 and liquidator / IF fees of 1% (LIQUIDATION_FEE_PRECISION / 100): the markets used by
#   upstream ``controller/liquidation/tests.rs`` (placeholders, not mainnet facts);
# * high-leverage ratios 100 / 50 (1% / 0.5%): "High Leverage Mode gives up to 101x on SOL/BTC/ETH"
#   (docs protocol/index.mdx), maintenance at half, approximation;
# * step / tick / min size: the grids Drift's UI shows (0.01 SOL, 0.0001 BTC, 0.001 ETH; $0.0001,
#   $0.1, $0.01), chosen so that step * tick is a multiple of 1e9 (approximation).
SOL_PERP: Final = DriftMarketParams(
    symbol="SOL-PERP",
    market_index=0,
    contract_tier="B",
    margin_ratio_initial=500,
    margin_ratio_maintenance=300,
    imf_factor=1_000,
    high_leverage_margin_ratio_initial=100,
    high_leverage_margin_ratio_maintenance=50,
    order_step_size=BASE_PRECISION // 100,
    order_tick_size=100,
    min_order_size=BASE_PRECISION // 100,
    liquidator_fee=LIQUIDATION_FEE_PRECISION // 100,
    if_liquidation_fee=LIQUIDATION_FEE_PRECISION // 100,
)
BTC_PERP: Final = DriftMarketParams(
    symbol="BTC-PERP",
    market_index=1,
    contract_tier="A",
    margin_ratio_initial=500,
    margin_ratio_maintenance=250,
    imf_factor=1_000,
    high_leverage_margin_ratio_initial=100,
    high_leverage_margin_ratio_maintenance=50,
    order_step_size=BASE_PRECISION // 10_000,
    order_tick_size=100_000,
    min_order_size=BASE_PRECISION // 10_000,
    liquidator_fee=LIQUIDATION_FEE_PRECISION // 100,
    if_liquidation_fee=LIQUIDATION_FEE_PRECISION // 100,
    background_open_interest=1_000 * BASE_PRECISION,
)
ETH_PERP: Final = DriftMarketParams(
    symbol="ETH-PERP",
    market_index=2,
    contract_tier="B",
    margin_ratio_initial=500,
    margin_ratio_maintenance=250,
    imf_factor=1_000,
    high_leverage_margin_ratio_initial=100,
    high_leverage_margin_ratio_maintenance=50,
    order_step_size=BASE_PRECISION // 1_000,
    order_tick_size=10_000,
    min_order_size=BASE_PRECISION // 1_000,
    liquidator_fee=LIQUIDATION_FEE_PRECISION // 100,
    if_liquidation_fee=LIQUIDATION_FEE_PRECISION // 100,
    background_open_interest=20_000 * BASE_PRECISION,
)
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
