"""Settings: defaults, then a TOML file (`bot.toml` in the working directory, or `BOT_CONFIG`), then
`BOT_*` environment variables. Config is data; wiring is in `bootstrap`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from botnft.domain.errors import UserError

DEFAULT_RUNS_DIR = Path("runs")


STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
"""Every settings model: unknown keys, inf and nan are errors; each number has a realistic range."""


class PoolSettings(BaseModel):
    """A simulated pool's size; None keeps the documented default for its kind."""

    model_config = STRICT
    tvl_usd: float | None = Field(default=None, ge=1_000, le=1e12)


class BookSettings(BaseModel):
    """A simulated book's depth profile and fees; None keeps the venue's own (see venues/sim/book_market.py:
    OpenBook's and the CEX's profiles differ). ``depth_scale`` multiplies the depth."""

    model_config = STRICT
    depth_scale: float = Field(default=1.0, gt=0, le=1_000)
    depth_1pct: float | None = Field(default=None, gt=0, le=1e9)
    spread_bps: float | None = Field(default=None, gt=0, le=1_000)
    taker_fee_bps: float | None = Field(default=None, ge=0, le=1_000)
    maker_fee_bps: float | None = Field(default=None, ge=-1_000, le=1_000)


class DriftSettings(BaseModel):
    model_config = STRICT
    mark_basis_bps: float = Field(default=0.0, ge=-1_000, le=1_000)


class SolanaSettings(BaseModel):
    """How the simulated on-chain venues' transactions land (`[liquidity.solana]`): the ONE Solana fee
    (base fee per signature + one priority price × compute units, also what the router charges per
    transaction), the slots between decision and landing, sandwiching and the Jito-bundle alternative, and
    the CEX fee arbitrageurs pay to keep pools at the market. Defaults and their sources:
    `botnft.venues.sim.solana` (`SolanaFees`, `SolanaExecution`, `MevModel`, `ArbitrageTerms`)."""

    model_config = STRICT
    base_fee_lamports: int = Field(default=5_000, ge=0, le=1_000_000)
    compute_unit_price_micro_lamports: int = Field(default=50_000, ge=0, le=1_000_000_000)
    compute_units: int = Field(default=200_000, ge=1, le=1_400_000)
    latency_slots: int = Field(default=2, ge=0, le=150)
    jitter_slots: int = Field(default=2, ge=0, le=150)
    mev: bool = True
    sandwich_max_probability: float = Field(default=0.2, ge=0, le=1)
    sandwich_half_ratio: float = Field(default=0.01, gt=0, le=1)
    default_tolerance_bps: float = Field(default=50.0, ge=0, le=10_000)
    jito_tip_lamports: int = Field(default=0, ge=0, le=1_000_000_000)
    arbitrage_cex_fee_bps: float = Field(default=10.0, ge=0, le=1_000)


class LiquiditySettings(BaseModel):
    """The simulated venues' liquidity model (`[liquidity.*]` in bot.toml); defaults are SOL's."""

    model_config = STRICT
    raydium: PoolSettings = PoolSettings()
    raydium_cpmm: PoolSettings = PoolSettings()
    raydium_clmm: PoolSettings = PoolSettings()
    openbook: BookSettings = BookSettings()
    cex: BookSettings = BookSettings()
    drift: DriftSettings = DriftSettings()
    solana: SolanaSettings = SolanaSettings()


class RiskSettings(BaseModel):
    """The risk engine's limits (`[risk]` in bot.toml, `BOT_RISK_<FIELD>` in the environment, a few as
    `bot backtest` flags). Guard: collateral kept above ``buffer`` maintenance requirements, the
    liquidation price ``atr_multiple`` ATRs (over ``atr_period`` bars) and ``min_distance`` of the price
    away, a de-lever restoring these times ``restore``; ``max_drawdown`` moves the node to REDUCING then
    HALTED. Gate: leverage (no more than the venue allows, checked when the venue is known), order and
    position notional."""

    model_config = STRICT
    guard: bool = True
    buffer: float = Field(default=2.0, ge=1, le=100)
    atr_multiple: float = Field(default=10.0, ge=0, le=1_000)
    min_distance: float = Field(default=0.3, ge=0, lt=1)
    atr_period: int = Field(default=14, ge=1, le=10_000)
    restore: float = Field(default=1.25, ge=1, le=10)
    max_drawdown: float | None = Field(default=None, gt=0, lt=1)
    stop_atr: float | None = Field(default=None, gt=0, le=1_000)
    trailing: bool = False
    take_profit_atr: float | None = Field(default=None, gt=0, le=1_000)
    time_stop_bars: int | None = Field(default=None, ge=1, le=10_000_000)
    #: the stop-loss and take-profit rest at the venue as trigger orders where it has them (Drift); false:
    #: the node holds them (out at the close of the bar that reached them)
    stops_at_venue: bool = True
    #: a trailing stop resting at the venue is moved once the guard's level has moved this many ATRs
    trail_step_atr: float = Field(default=0.25, ge=0, le=1_000)
    #: USDC held in a reserve sub-account of the same authority (Drift sub-account 1), on top of the run's
    #: cash and outside its returns: the guard moves from it what restores the buffer before it de-levers
    #: (the guard's record says how much moved); None: no reserve
    reserve_collateral: float | None = Field(default=None, gt=0, le=1e15)
    max_leverage: float = Field(default=10.0, gt=0, le=1_000)
    max_order_notional: float | None = Field(default=None, gt=0, le=1e15)
    max_position_notional: float | None = Field(default=None, gt=0, le=1e15)
    #: an order that adds risk on data older than this (seconds) is refused as stale_data; None: no limit
    max_data_age_s: float | None = Field(default=None, gt=0, le=1e7)


RISK_ENV_PREFIX = "BOT_RISK_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOT_", extra="forbid", frozen=True, allow_inf_nan=False)

    database_url: str = f"sqlite:///{DEFAULT_RUNS_DIR}/bot.db"
    runs_dir: Path = DEFAULT_RUNS_DIR
    liquidity: LiquiditySettings = LiquiditySettings()
    risk: RiskSettings = RiskSettings()
    live: dict[str, Any] = Field(default_factory=dict)  # `bot live`'s venues: checked by botnft.live.config
    api: dict[str, Any] = Field(default_factory=dict)  # `bot serve`: checked by botnft.api.settings

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("BOT_CONFIG", "bot.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))


def load_settings(**overrides: Any) -> Settings:
    """Settings with CLI overrides on top; a bad file or value is a one-line `UserError`."""
    path = os.environ.get("BOT_CONFIG")
    if path and not Path(path).is_file():
        raise UserError(f"config file not found: {path}")
    toml_file = Path(path or "bot.toml")
    if toml_file.exists() and not toml_file.is_file():
        raise UserError(f"config {toml_file} is not a file")
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
        env = {
            k[len(RISK_ENV_PREFIX) :].lower(): v
            for k, v in os.environ.items()
            if k.startswith(RISK_ENV_PREFIX) and not k.startswith(RISK_ENV_PREFIX + "_")
        }
        if env:  # BOT_RISK_<FIELD> on top of the file's [risk] table
            risk = RiskSettings.model_validate({**settings.risk.model_dump(exclude_unset=True), **env})
            settings = settings.model_copy(update={"risk": risk})
        return settings
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "config"
        if exc.title == "RiskSettings":
            where = f"risk.{where}"
        raise UserError(f"bad setting {where}: {err['msg']}") from None
    except Exception as exc:  # malformed TOML
        raise UserError(f"cannot read config {toml_file}: {str(exc).splitlines()[0]}") from None
