"""Settings of the Jupiter adapter and the markets it trades, read from a mapping (a ``[venues.jupiter]``
table of ``bot.toml``) with one-line `UserError`s for bad values.

Keys: ``base_url`` (default: ``lite-api.jup.ag/swap/v1``, or ``api.jup.ag/swap/v1`` with a key), ``api_key``,
``slippage_bps`` (0..10000, default 50), ``priority_fee`` (``"auto"``: a percentile of the node's
`getRecentPrioritizationFees`, ``"none"``, or a fixed compute-unit price in micro-lamports),
``priority_percentile`` (default 75), ``max_priority_micro_lamports`` (default 1 000 000), ``timeout_s``
(HTTP, default 10), ``confirm_timeout_s`` (default 60), ``poll_interval_s`` (default 0.5),
``wrap_and_unwrap_sol`` (default true), ``markets`` (a list of tables ``symbol``, ``base_mint``,
``quote_mint``, ``base_decimals``, ``quote_decimals``, ``min_size``; default SOL/USDC on mainnet mints).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botnft.domain.errors import UserError
from botnft.venues.solana.settings import (
    check_known,
    int_setting,
    markets_setting,
    priority_fee_setting,
    seconds_setting,
)
from botnft.venues.swap_market import SOL_USDC, SwapMarket

__all__ = ["SOL_USDC", "JupiterSettings"]


@dataclass(frozen=True, slots=True)
class JupiterSettings:
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    slippage_bps: int = 50
    priority_fee: str | int = "auto"
    priority_percentile: int = 75
    max_priority_micro_lamports: int = 1_000_000
    timeout_s: float = 10.0
    confirm_timeout_s: float = 60.0
    poll_interval_s: float = 0.5
    wrap_and_unwrap_sol: bool = True
    markets: tuple[SwapMarket, ...] = (SOL_USDC,)

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> JupiterSettings:
        venue = "jupiter"
        check_known(cfg, cls.__dataclass_fields__, venue)
        pf = priority_fee_setting(cfg, venue)
        base_url, key = cfg.get("base_url"), cfg.get("api_key")
        for name, v in (("base_url", base_url), ("api_key", key)):
            if v is not None and (not isinstance(v, str) or not v):
                raise UserError(f"jupiter.{name} must be a non-empty string")
        if isinstance(base_url, str) and not base_url.startswith(("http://", "https://")):
            raise UserError(f"jupiter.base_url must be an http(s) URL, got {base_url!r}")
        wrap = cfg.get("wrap_and_unwrap_sol", True)
        if not isinstance(wrap, bool):
            raise UserError("jupiter.wrap_and_unwrap_sol must be true or false")
        parsed = markets_setting(cfg, venue)
        return cls(
            base_url=base_url,
            api_key=key,
            slippage_bps=int_setting(cfg, "slippage_bps", 50, 0, 10_000, venue),
            priority_fee=pf,
            priority_percentile=int_setting(cfg, "priority_percentile", 75, 0, 100, venue),
            max_priority_micro_lamports=int_setting(
                cfg, "max_priority_micro_lamports", 1_000_000, 0, 10**12, venue
            ),
            timeout_s=seconds_setting(cfg, "timeout_s", 10.0, venue),
            confirm_timeout_s=seconds_setting(cfg, "confirm_timeout_s", 60.0, venue),
            poll_interval_s=seconds_setting(cfg, "poll_interval_s", 0.5, venue),
            wrap_and_unwrap_sol=wrap,
            markets=parsed,
        )
