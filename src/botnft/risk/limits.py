"""The guard's limits (`[risk]` in bot.toml, `BOT_RISK_*`, `--max-drawdown`): checked once, at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from botnft.domain.errors import UserError


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """``buffer``: collateral kept above this many maintenance requirements; ``atr_multiple``: the
    liquidation price kept this many ATRs away, and ``min_distance`` of the price at least (a gap no ATR
    foresees: SOL fell 22 % inside one hour on 2023-06-10); ``restore``: a de-lever restores these times
    this factor; ``max_drawdown``: the run's drawdown limit (REDUCING past half of it, HALTED and flat
    when only ``halt_share`` of it is left); ``stop_atr``: a stop-loss that many ATRs from the entry,
    held by the node (``trailing``: it follows the best close); ``take_profit_atr``: out once the price
    reaches that many entry ATRs in favour; ``time_stop_bars``: out at the close of that many bars held."""

    buffer: float = 2.0
    atr_multiple: float = 10.0
    min_distance: float = 0.3
    atr_period: int = 14
    restore: float = 1.25
    max_drawdown: float | None = None
    halt_share: float = 0.15
    stop_atr: float | None = None
    trailing: bool = False
    take_profit_atr: float | None = None
    time_stop_bars: int | None = None
    #: exits at the venue (trigger orders): the trailing stop is moved there once the guard's level has
    #: moved this many ATRs past the resting trigger
    trail_step_atr: float = 0.25

    def __post_init__(self) -> None:
        if not self.buffer >= 1.0:
            raise UserError(f"risk.buffer must be at least 1 (maintenance multiples), got {self.buffer}")
        if not self.atr_multiple >= 0.0:
            raise UserError(f"risk.atr_multiple must be >= 0, got {self.atr_multiple}")
        if not 0.0 <= self.min_distance < 1.0:
            raise UserError(f"risk.min_distance must be in [0, 1), got {self.min_distance}")
        if self.atr_period < 1:
            raise UserError(f"risk.atr_period must be at least 1, got {self.atr_period}")
        if not self.restore >= 1.0:
            raise UserError(f"risk.restore must be at least 1, got {self.restore}")
        if self.max_drawdown is not None and not 0.0 < self.max_drawdown < 1.0:
            raise UserError(f"risk.max_drawdown must be in (0, 1), got {self.max_drawdown}")
        if self.stop_atr is not None and not self.stop_atr > 0.0:
            raise UserError(f"risk.stop_atr must be positive, got {self.stop_atr}")
        if self.take_profit_atr is not None and not self.take_profit_atr > 0.0:
            raise UserError(f"risk.take_profit_atr must be positive, got {self.take_profit_atr}")
        if self.time_stop_bars is not None and self.time_stop_bars < 1:
            raise UserError(f"risk.time_stop_bars must be at least 1, got {self.time_stop_bars}")
        if not self.trail_step_atr >= 0.0:
            raise UserError(f"risk.trail_step_atr must be >= 0, got {self.trail_step_atr}")
        if not 0.0 <= self.halt_share < 1.0:
            raise UserError(f"risk.halt_share must be in [0, 1), got {self.halt_share}")
