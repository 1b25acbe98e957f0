"""Settings of the Drift adapter, read from a mapping (the ``[live.drift]`` table of ``bot.toml``) with
one-line `UserError`s for bad values. Importing this module does not import driftpy.

Keys: ``markets`` (perp symbols, default ``["SOL-PERP"]``; each market's index from the project's Drift
table ``domain.drift_margin``, or ``market_indexes = {"X-PERP" = n}`` for one it does not list),
``sub_account_id`` (default 0), ``market_orders`` (``"place_and_take"``: a market order takes in its own
transaction, default; ``"place"``: it waits for a keeper's fill), ``compute_unit_limit`` (default 600 000),
``compute_unit_price`` (micro-lamports, default 0: no price instruction), ``poll_interval_s`` (default 0.5),
``confirm_timeout_s`` (how long an order-entry call waits for its transaction, default 20),
``margin_tolerance`` (quote native units the venue's margin figures may differ from ours before it counts
as a mismatch, default 1: driftpy reads oracle prices through floats), ``initialize_user`` (create the
Drift user account at start when it does not exist, default false).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botnft.domain.drift_margin import PERP_MARKETS
from botnft.domain.errors import UserError

__all__ = ["TABLE_KEYS", "DriftSettings"]

#: keys of a ``[live.drift]`` table that are not `DriftSettings` keys (read by `drift_from_table`)
TABLE_KEYS = frozenset(
    {"rpc_url", "keypair_file", "keypair_env", "journal", "skip_preflight", "rpc_timeout_s"}
)
_KEYS = frozenset(
    {
        "markets",
        "market_indexes",
        "sub_account_id",
        "market_orders",
        "compute_unit_limit",
        "compute_unit_price",
        "poll_interval_s",
        "confirm_timeout_s",
        "margin_tolerance",
        "initialize_user",
    }
)


def _num(cfg: Mapping[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
        raise UserError(f"drift.{key} must be a number in [{lo}, {hi}], got {v!r}")
    return float(v)


def _int(cfg: Mapping[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise UserError(f"drift.{key} must be an integer in [{lo}, {hi}], got {v!r}")
    return v


@dataclass(frozen=True, slots=True)
class DriftSettings:
    markets: Mapping[str, int] = field(default_factory=lambda: {"SOL-PERP": 0})
    sub_account_id: int = 0
    market_orders: str = "place_and_take"
    compute_unit_limit: int = 600_000
    compute_unit_price: int = 0
    poll_interval_s: float = 0.5
    confirm_timeout_s: float = 20.0
    margin_tolerance: int = 1
    initialize_user: bool = False

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> DriftSettings:
        unknown = sorted(set(cfg) - _KEYS - TABLE_KEYS)
        if unknown:
            raise UserError(f"drift: unknown setting(s) {', '.join(unknown)}")
        symbols = cfg.get("markets", ["SOL-PERP"])
        if isinstance(symbols, str) or not isinstance(symbols, Sequence) or not symbols:
            raise UserError('drift.markets must be a non-empty list of perp symbols like ["SOL-PERP"]')
        given = cfg.get("market_indexes", {})
        if not isinstance(given, Mapping):
            raise UserError("drift.market_indexes must be a table of symbol = market index")
        markets: dict[str, int] = {}
        for sym in symbols:
            if not isinstance(sym, str) or not sym.endswith("-PERP"):
                raise UserError(f"drift.markets: {sym!r} is not a perp symbol like SOL-PERP")
            if sym in given:
                idx = given[sym]
            elif sym in PERP_MARKETS:
                idx = PERP_MARKETS[sym].market_index
            else:
                raise UserError(f"drift.markets: no market index known for {sym}; set drift.market_indexes")
            if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < 2**16:
                raise UserError(f"drift.market_indexes.{sym} must be an integer in [0, 65535], got {idx!r}")
            markets[sym] = idx
        if len(set(markets.values())) != len(markets):
            raise UserError("drift.markets: two symbols share a market index")
        mode = cfg.get("market_orders", "place_and_take")
        if mode not in ("place_and_take", "place"):
            raise UserError(f"drift.market_orders must be place_and_take or place, got {mode!r}")
        init = cfg.get("initialize_user", False)
        if not isinstance(init, bool):
            raise UserError("drift.initialize_user must be true or false")
        return cls(
            markets=markets,
            sub_account_id=_int(cfg, "sub_account_id", 0, 0, 65535),
            market_orders=mode,
            compute_unit_limit=_int(cfg, "compute_unit_limit", 600_000, 1_000, 1_400_000),
            compute_unit_price=_int(cfg, "compute_unit_price", 0, 0, 10**9),
            poll_interval_s=_num(cfg, "poll_interval_s", 0.5, 0.01, 60),
            confirm_timeout_s=_num(cfg, "confirm_timeout_s", 20.0, 0.1, 600),
            margin_tolerance=_int(cfg, "margin_tolerance", 1, 0, 10**12),
            initialize_user=init,
        )
