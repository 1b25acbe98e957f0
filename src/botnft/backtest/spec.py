"""What a backtest is asked to do: a small frozen config object, validated before anything runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from botnft.domain.errors import UserError

FILLS = ("close", "next-open")
VENUES = ("sim", "perp", "drift")
FLAT_FEE_VENUES = ("sim", "perp", "cex")  # venues that charge --fee-bps; the others charge their own schedule
FILL_MODEL_VENUES = ("sim", "perp")  # candle venues: the only ones a --fill model drives
PERP_VENUES = ("perp", "drift")
MAX_CASH = Decimal(10) ** 12  # beyond a trillion nothing is a realistic account, and the ledgers stay exact
MAX_SIZE = Decimal(10) ** 9
MAX_SEED = 2**31 - 1  # the database's INTEGER column
CASH_DECIMALS = 6  # USDC and USDT are 6-decimal tokens


@dataclass(frozen=True, slots=True)
class BacktestSpec:
    data: str = "sol-spot-1h"
    strategy: str = "ema_cross"
    params: Mapping[str, str] = field(default_factory=dict)
    venue: str | None = None  # sim (spot) | drift (SimDrift) | perp (candle perp); default from the data
    fee_bps: Decimal | None = None  # default: the venue's
    size: Decimal | None = None
    cash_fraction: Decimal | None = None
    fill: str = "next-open"
    cash: Decimal = Decimal(100_000)
    start: datetime | None = None
    end: datetime | None = None
    seed: int = 0
    batch_bars: int = 250_000
    venues: tuple[str, ...] = ()  # routed mode: trade across these venues (see `bot backtest --venues`)
    route: str | None = None  # split (default) | single:<VENUE>; only with venues
    vehicle: str | None = None  # auto (default) | spot | perp; only with venues
    #: the simulated venues' liquidity model by venue (see `botnft.config.LiquiditySettings`)
    liquidity: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def route_mode(self) -> str:
        return self.route or "split"

    @property
    def vehicle_choice(self) -> str:
        return self.vehicle or "auto"

    def check(self) -> None:
        if self.size is not None and self.cash_fraction is not None:
            raise UserError("give --size or --cash-fraction, not both")
        if self.size is not None and self.size <= 0:
            raise UserError(f"--size must be positive, got {self.size}")
        if self.size is not None and self.size > MAX_SIZE:
            raise UserError(f"--size {self.size} is more than {MAX_SIZE:,} base units")
        if self.cash_fraction is not None and not (0 < self.cash_fraction <= 1):
            raise UserError(f"--cash-fraction must be in (0, 1], got {self.cash_fraction}")
        if self.cash <= 0:
            raise UserError(f"--cash must be positive, got {self.cash}")
        if self.cash > MAX_CASH:
            raise UserError(f"--cash {self.cash} is more than {MAX_CASH:,}")
        if self.cash.as_tuple().exponent < -CASH_DECIMALS:  # type: ignore[operator]
            raise UserError(f"--cash {self.cash} has more than {CASH_DECIMALS} decimal places")
        if not 0 <= self.seed <= MAX_SEED:
            raise UserError(f"--seed must be in [0, {MAX_SEED}], got {self.seed}")
        if self.fee_bps is not None and not (0 <= self.fee_bps < 10_000):
            raise UserError(f"--fee-bps must be in [0, 10000), got {self.fee_bps}")
        if self.fill not in FILLS:
            raise UserError(f"unknown fill model {self.fill!r}; choose {' or '.join(FILLS)}")
        if self.venue is not None and self.venue not in VENUES:
            raise UserError(f"unknown venue {self.venue!r}; choose one of: {', '.join(VENUES)}")
        if self.start and self.end and self.start >= self.end:
            raise UserError(
                f"--start {self.start:%Y-%m-%d %H:%M} is not before --end {self.end:%Y-%m-%d %H:%M}"
            )
        if self.route is not None and self.route != "split" and not self.route.startswith("single:"):
            raise UserError(f"unknown route {self.route!r}; use split or single:VENUE")
        if self.route == "single:":
            raise UserError("--route single: needs a venue, e.g. single:openbook")
        if self.vehicle is not None and self.vehicle not in ("auto", "spot", "perp"):
            raise UserError(f"unknown vehicle {self.vehicle!r}; use auto, spot or perp")
        if not self.venues:
            for flag, value in (("--route", self.route), ("--vehicle", self.vehicle)):
                if value is not None:
                    raise UserError(f"{flag} applies to routed runs only; add --venues")
        if self.venues and self.venue is not None:
            raise UserError("give --venue (one venue) or --venues (routed across several), not both")
        if self.batch_bars < 1:
            raise UserError("batch size must be at least 1 bar")

    def check_applies(self, venue_names: tuple[str, ...], fill_given: bool) -> None:
        """Refuse flags that the chosen venues would ignore (`venue_names`: the venues actually built)."""
        if self.fee_bps is not None and not set(venue_names) & set(FLAT_FEE_VENUES):
            raise UserError(
                f"--fee-bps applies only to the {', '.join(FLAT_FEE_VENUES)} venues, "
                f"not to {', '.join(venue_names)} (own fee schedule)"
            )
        if fill_given and not set(venue_names) & set(FILL_MODEL_VENUES):
            raise UserError(
                f"--fill applies only to the candle venues ({', '.join(FILL_MODEL_VENUES)}), "
                f"not to {', '.join(venue_names)} (own matching)"
            )
        if self.vehicle == "perp" and not set(venue_names) & set(PERP_VENUES):
            raise UserError("--vehicle perp needs a perp venue in --venues (drift or perp)")
        if self.vehicle == "spot" and not set(venue_names) - set(PERP_VENUES):
            raise UserError("--vehicle spot needs a spot venue in --venues")
