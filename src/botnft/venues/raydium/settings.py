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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botnft.domain.errors import UserError
from botnft.venues.raydium.api import RaydiumApiSettings
from botnft.venues.swap_market import SOL_USDC, SwapMarket, parse_market

__all__ = ["SOL_USDC", "RaydiumSettings"]

LEVELS = ("vh", "h", "m")


def _int(cfg: Mapping[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise UserError(f"raydium.{key} must be an integer in [{lo}, {hi}], got {v!r}")
    return v


def _pos(cfg: Mapping[str, Any], key: str, default: float) -> float:
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 1e6:
        raise UserError(f"raydium.{key} must be a positive number of seconds, got {v!r}")
    return float(v)


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
        unknown = sorted(set(cfg) - set(cls.__dataclass_fields__))
        if unknown:
            raise UserError(f"raydium: unknown setting(s) {', '.join(unknown)}")
        pf = cfg.get("priority_fee", "auto")
        if not (pf in ("auto", "none") or (isinstance(pf, int) and not isinstance(pf, bool) and pf >= 0)):
            raise UserError(f"raydium.priority_fee must be 'auto', 'none' or micro-lamports >= 0, got {pf!r}")
        level = cfg.get("priority_level", "h")
        if level not in LEVELS:
            raise UserError(f"raydium.priority_level must be one of {', '.join(LEVELS)}, got {level!r}")
        markets: Sequence[Any] = cfg.get("markets", ())
        if not isinstance(markets, Sequence) or isinstance(markets, str):
            raise UserError("raydium.markets must be a list of tables")
        parsed = tuple(parse_market(m, "raydium") for m in markets) or (SOL_USDC,)
        if len({m.symbol for m in parsed}) != len(parsed):
            raise UserError("raydium.markets: a symbol is listed twice")
        return cls(
            base_url=_url(cfg, "base_url", "https://api-v3.raydium.io"),
            trade_url=_url(cfg, "trade_url", "https://transaction-v1.raydium.io"),
            slippage_bps=_int(cfg, "slippage_bps", 50, 0, 10_000),
            priority_fee=pf,
            priority_level=level,
            max_priority_micro_lamports=_int(cfg, "max_priority_micro_lamports", 1_000_000, 0, 10**12),
            foreign_blockhash_margin=_int(cfg, "foreign_blockhash_margin", 150, 0, 10_000),
            timeout_s=_pos(cfg, "timeout_s", 10.0),
            poll_interval_s=_pos(cfg, "poll_interval_s", 0.5),
            markets=parsed,
        )
