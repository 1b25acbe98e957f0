"""Settings of the OpenBook v2 adapter, read from a mapping (the ``[live.openbook]`` table of ``bot.toml``)
with one-line `UserError`s for bad values.

Keys: ``market`` (the market account's address; default SOL/USDC
``CFSMrBssNG8Ud1edW59jNLnq2cwrQ9uY5cM3wXmqRJj3``), ``symbol`` (``BASE/QUOTE``, default ``SOL/USDC``),
``program_id`` (default ``opnb2LAf…``), ``account_num`` (the wallet's open-orders account number, default 1:
created with its indexer at start when missing), ``priority_fee`` (compute-unit price in micro-lamports,
default 0), ``market_slippage_bps`` (how far past the book's price a market bid may pay, default 100),
``poll_interval_s`` (default 0.5), ``min_lots`` (the smallest order in base lots, default 1), ``wrap_sol``
(default true: on a SOL market, orders pay from native SOL, wrapped in the same transaction, and SOL comes
back native; false: only the wallet's wrapped-SOL account is used).
Lot sizes, decimals, mints and fees are read from the market account, never configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botnft.domain.errors import UserError
from botnft.venues.openbook.idl import PROGRAM_ID

__all__ = ["SOL_USDC_MARKET", "OpenBookSettings"]

SOL_USDC_MARKET = "CFSMrBssNG8Ud1edW59jNLnq2cwrQ9uY5cM3wXmqRJj3"
KEYS = frozenset(
    {
        "market",
        "symbol",
        "program_id",
        "account_num",
        "priority_fee",
        "market_slippage_bps",
        "poll_interval_s",
        "min_lots",
        "wrap_sol",
    }
)


def _pubkey(value: Any, key: str) -> str:
    from solders.pubkey import Pubkey

    try:
        return str(Pubkey.from_string(str(value)))
    except ValueError:
        raise UserError(f"[live.openbook] {key} is not a Solana address: {value!r}") from None


def _int(cfg: Mapping[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise UserError(f"[live.openbook] {key} must be an integer in {lo}..{hi}, got {v!r}")
    return v


@dataclass(frozen=True, slots=True)
class OpenBookSettings:
    market: str = SOL_USDC_MARKET
    symbol: str = "SOL/USDC"
    program_id: str = PROGRAM_ID
    account_num: int = 1
    priority_fee: int = 0
    market_slippage_bps: int = 100
    poll_interval_s: float = 0.5
    min_lots: int = 1
    wrap_sol: bool = True

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> OpenBookSettings:
        unknown = set(cfg) - KEYS
        if unknown:
            raise UserError(f"[live.openbook] unknown keys: {', '.join(sorted(unknown))}")
        symbol = str(cfg.get("symbol", "SOL/USDC"))
        if symbol.count("/") != 1 or not all(symbol.split("/")):
            raise UserError(f"[live.openbook] symbol must be BASE/QUOTE, got {symbol!r}")
        poll = cfg.get("poll_interval_s", 0.5)
        if isinstance(poll, bool) or not isinstance(poll, int | float) or not 0 < poll <= 60:
            raise UserError(f"[live.openbook] poll_interval_s must be in (0, 60], got {poll!r}")
        wrap_sol = cfg.get("wrap_sol", True)
        if not isinstance(wrap_sol, bool):
            raise UserError(f"[live.openbook] wrap_sol must be true or false, got {wrap_sol!r}")
        return cls(
            market=_pubkey(cfg.get("market", SOL_USDC_MARKET), "market"),
            symbol=symbol,
            program_id=_pubkey(cfg.get("program_id", PROGRAM_ID), "program_id"),
            account_num=_int(cfg, "account_num", 1, 1, 2**32 - 1),
            priority_fee=_int(cfg, "priority_fee", 0, 0, 10**9),
            market_slippage_bps=_int(cfg, "market_slippage_bps", 100, 0, 10_000),
            poll_interval_s=float(poll),
            min_lots=_int(cfg, "min_lots", 1, 1, 2**62),
            wrap_sol=wrap_sol,
        )
