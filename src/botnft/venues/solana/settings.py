"""Checks of the settings keys the Solana swap venues share (integers in a range, positive seconds, the
priority fee, the ``markets`` list, unknown keys), each failing with a one-line `UserError` that names the
venue's setting (``<venue>.<key> ...``). Plain data, no SDK: a venue's settings are checked before any
Solana library is imported."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from botnft.domain.errors import UserError
from botnft.venues.swap_market import SOL_USDC, SwapMarket, parse_market

__all__ = ["check_known", "int_setting", "markets_setting", "priority_fee_setting", "seconds_setting"]


def check_known(cfg: Mapping[str, Any], known: Iterable[str], venue: str) -> None:
    unknown = sorted(set(cfg) - set(known))
    if unknown:
        raise UserError(f"{venue}: unknown setting(s) {', '.join(unknown)}")


def int_setting(cfg: Mapping[str, Any], key: str, default: int, lo: int, hi: int, venue: str) -> int:
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise UserError(f"{venue}.{key} must be an integer in [{lo}, {hi}], got {v!r}")
    return v


def seconds_setting(cfg: Mapping[str, Any], key: str, default: float, venue: str) -> float:
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 1e6:
        raise UserError(f"{venue}.{key} must be a positive number of seconds, got {v!r}")
    return float(v)


def priority_fee_setting(cfg: Mapping[str, Any], venue: str) -> str | int:
    """``"auto"``, ``"none"`` or a compute-unit price in micro-lamports (default ``"auto"``)."""
    pf: str | int = cfg.get("priority_fee", "auto")
    if not (pf in ("auto", "none") or (isinstance(pf, int) and not isinstance(pf, bool) and pf >= 0)):
        raise UserError(f"{venue}.priority_fee must be 'auto', 'none' or micro-lamports >= 0, got {pf!r}")
    return pf


def markets_setting(cfg: Mapping[str, Any], venue: str) -> tuple[SwapMarket, ...]:
    """The ``markets`` list of tables (`parse_market`), SOL/USDC when absent or empty; no symbol twice."""
    markets: Sequence[Any] = cfg.get("markets", ())
    if not isinstance(markets, Sequence) or isinstance(markets, str):
        raise UserError(f"{venue}.markets must be a list of tables")
    parsed = tuple(parse_market(m, venue) for m in markets) or (SOL_USDC,)
    if len({m.symbol for m in parsed}) != len(parsed):
        raise UserError(f"{venue}.markets: a symbol is listed twice")
    return parsed
