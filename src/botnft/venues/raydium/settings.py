"""Settings of the Raydium adapter and the markets it trades, read from a mapping (the ``[live.raydium]``
table of ``bot.toml``) with one-line `UserError`s for bad values.

Keys: ``base_url`` (data API v3, default ``https://api-v3.raydium.io``), ``trade_url`` (trade API, default
``https://transaction-v1.raydium.io``), ``slippage_bps`` (0..10000, default 50), ``priority_fee``
(``"auto"``: the API's ``/main/auto-fee`` at ``priority_level``; ``"none"``; or a fixed compute-unit price
in micro-lamports), ``priority_level`` (``vh``, ``h`` or ``m``; default ``h``),
``max_priority_micro_lamports`` (cap of the automatic price, default 1 000 000),
``foreign_blockhash_margin`` (blocks added to our own ``lastValidBlockHeight`` when the API's transaction
carries another signer's signature, so its blockhash cannot be replaced; default 150), ``timeout_s``
(HTTP, default 10), ``poll_interval_s`` (default 0.5), ``markets`` (a
list of tables ``symbol``, ``base_mint``, ``quote_mint``, ``base_decimals``, ``quote_decimals``,
``min_size``; default SOL/USDC on mainnet mints).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botnft.domain.errors import UserError
from botnft.venues.raydium.api import RaydiumApiSettings
from botnft.venues.solana.settings import (
    check_known,
    int_setting,
    markets_setting,
    priority_fee_setting,
    seconds_setting,
)
from botnft.venues.swap_market import SOL_USDC, SwapMarket

__all__ = ["SOL_USDC", "RaydiumSettings"]

LEVELS = ("vh", "h", "m")


def _url(cfg: Mapping[str, Any], key: str, default: str) -> str:
    v = cfg.get(key, default)
    if not isinstance(v, str) or not v.startswith(("http://", "https://")):
        raise UserError(f"raydium.{key} must be an http(s) URL, got {v!r}")
    return v


@dataclass(frozen=True, slots=True)
class RaydiumSettings:
    base_url: str = "https://api-v3.raydium.io"
    trade_url: str = "https://transaction-v1.raydium.io"
    slippage_bps: int = 50
    priority_fee: str | int = "auto"
    priority_level: str = "h"
    max_priority_micro_lamports: int = 1_000_000
    foreign_blockhash_margin: int = 150
    timeout_s: float = 10.0
    poll_interval_s: float = 0.5
    markets: tuple[SwapMarket, ...] = (SOL_USDC,)

    @property
    def api(self) -> RaydiumApiSettings:
        return RaydiumApiSettings(self.base_url, self.trade_url, self.timeout_s)

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> RaydiumSettings:
        venue = "raydium"
        check_known(cfg, cls.__dataclass_fields__, venue)
        pf = priority_fee_setting(cfg, venue)
        level = cfg.get("priority_level", "h")
        if level not in LEVELS:
            raise UserError(f"raydium.priority_level must be one of {', '.join(LEVELS)}, got {level!r}")
        parsed = markets_setting(cfg, venue)
        return cls(
            base_url=_url(cfg, "base_url", "https://api-v3.raydium.io"),
            trade_url=_url(cfg, "trade_url", "https://transaction-v1.raydium.io"),
            slippage_bps=int_setting(cfg, "slippage_bps", 50, 0, 10_000, venue),
            priority_fee=pf,
            priority_level=level,
            max_priority_micro_lamports=int_setting(
                cfg, "max_priority_micro_lamports", 1_000_000, 0, 10**12, venue
            ),
            foreign_blockhash_margin=int_setting(cfg, "foreign_blockhash_margin", 150, 0, 10_000, venue),
            timeout_s=seconds_setting(cfg, "timeout_s", 10.0, venue),
            poll_interval_s=seconds_setting(cfg, "poll_interval_s", 0.5, venue),
            markets=parsed,
        )
