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
    route: str = "split"  # split | single:<VENUE>
    vehicle: str = "auto"  # auto | spot | perp
    #: the simulated venues' liquidity model by venue (see `botnft.config.LiquiditySettings`)
    liquidity: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def check(self) -> None:
        if self.size is not None and self.cash_fraction is not None:
            raise UserError("give --size or --cash-fraction, not both")
        if self.size is not None and self.size <= 0:
            raise UserError(f"--size must be positive, got {self.size}")
        if self.cash_fraction is not None and not (0 < self.cash_fraction <= 1):
            raise UserError(f"--cash-fraction must be in (0, 1], got {self.cash_fraction}")
        if self.cash <= 0:
            raise UserError(f"--cash must be positive, got {self.cash}")
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
        if self.route != "split" and not self.route.startswith("single:"):
            raise UserError(f"unknown route {self.route!r}; use split or single:VENUE")
        if self.vehicle not in ("auto", "spot", "perp"):
            raise UserError(f"unknown vehicle {self.vehicle!r}; use auto, spot or perp")
        if self.venues and self.venue is not None:
            raise UserError("give --venue (one venue) or --venues (routed across several), not both")
        if self.batch_bars < 1:
            raise UserError("batch size must be at least 1 bar")
