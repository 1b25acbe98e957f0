"""What a snapshot holds: decoded venue state in native integer units, and its JSON form.

Every amount is the program's own integer (Drift: base and reserves 1e9, prices and peg 1e6, margin ratios
1e4, IMF and liquidation fees 1e6, spreads 1e6; Raydium: token native units, sqrt prices Q64.64). The JSON
form is what `store` writes and what `bot route --snapshot` hands to the venue builders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final

from botnft.domain.errors import DataError

FORMAT: Final = "botnft-snapshot/1"
NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class DriftPerpState:
    """One Drift ``PerpMarket``: its margin parameters and its vAMM (``AMM``) as decoded."""

    symbol: str
    pubkey: str
    market_index: int
    contract_tier: str
    status: str
    margin_ratio_initial: int
    margin_ratio_maintenance: int
    imf_factor: int
    liquidator_fee: int
    if_liquidation_fee: int
    order_step_size: int
    order_tick_size: int
    min_order_size: int
    high_leverage_margin_ratio_initial: int
    high_leverage_margin_ratio_maintenance: int
    unrealized_pnl_initial_asset_weight: int
    unrealized_pnl_maintenance_asset_weight: int
    funding_period: int
    base_asset_reserve: int
    quote_asset_reserve: int
    sqrt_k: int
    peg_multiplier: int
    base_spread: int
    max_spread: int
    long_spread: int
    short_spread: int
    last_oracle_price: int
    base_asset_amount_long: int
    base_asset_amount_short: int
    base_asset_amount_with_amm: int

    @property
    def reserve_price(self) -> int:
        """``quote_reserve · peg / base_reserve`` (1e6), the vAMM's price before spreads."""
        return self.quote_asset_reserve * self.peg_multiplier // self.base_asset_reserve


@dataclass(frozen=True, slots=True)
class DriftSpotState:
    """One Drift ``SpotMarket``: its collateral weights and grids (stored; not applied to SimDrift yet)."""

    symbol: str
    pubkey: str
    market_index: int
    decimals: int
    initial_asset_weight: int
    maintenance_asset_weight: int
    initial_liability_weight: int
    maintenance_liability_weight: int
    imf_factor: int
    liquidator_fee: int
    if_liquidation_fee: int
    order_step_size: int
    order_tick_size: int
    min_order_size: int
    last_oracle_price: int


@dataclass(frozen=True, slots=True)
class RaydiumPoolState:
    """One Raydium pool, token 0 the base (SOL) and token 1 the quote (USDC).

    ``amm_v4`` and ``cpmm``: ``base_reserve``/``quote_reserve`` as the program prices them (vaults less
    what is owed) and the fee terms (``fee_numerator/fee_denominator`` for AMM v4; millionth rates for
    CPMM). ``clmm``: ``sqrt_price_x64``, ``tick_current``, ``liquidity``, ``tick_spacing``, the fee rates
    and ``ticks`` (initialized tick -> liquidity_net), or, from the API, ``price`` and ``tvl_usd`` only.
    """

    kind: str
    pubkey: str
    origin: str  # "account" | "api"
    base_decimals: int
    quote_decimals: int
    base_reserve: int = 0
    quote_reserve: int = 0
    fee_numerator: int = 0
    fee_denominator: int = 0
    trade_fee_rate: int = 0
    protocol_fee_rate: int = 0
    fund_fee_rate: int = 0
    creator_fee_rate: int = 0
    sqrt_price_x64: int = 0
    tick_current: int = 0
    liquidity: int = 0
    tick_spacing: int = 0
    fee_on: int = 0
    ticks: Mapping[int, int] = field(default_factory=dict)
    price: str | None = None
    tvl_usd: str | None = None


@dataclass(frozen=True, slots=True)
class OpenBookState:
    """One OpenBook v2 market: lot sizes, fees (millionths; a negative maker fee is a rebate) and its two
    book sides as ``(price lots, base lots)`` levels, best first."""

    pubkey: str
    name: str
    base_decimals: int
    quote_decimals: int
    base_lot_size: int
    quote_lot_size: int
    taker_fee: int
    maker_fee: int
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    name: str
    slot: int | None
    taken_at: str | None
    imported_at: str
    source: str
    drift_perp_markets: tuple[DriftPerpState, ...] = ()
    drift_spot_markets: tuple[DriftSpotState, ...] = ()
    raydium_pools: tuple[RaydiumPoolState, ...] = ()
    openbook_markets: tuple[OpenBookState, ...] = ()

    def perp(self, symbol: str) -> DriftPerpState | None:
        return next((m for m in self.drift_perp_markets if m.symbol == symbol), None)

    def pool(self, kind: str) -> RaydiumPoolState | None:
        """The first pool of `kind` (the sims are one pool per kind)."""
        return next((p for p in self.raydium_pools if p.kind == kind), None)

    def summary(self) -> list[str]:
        out = [f"{m.symbol} (Drift perp #{m.market_index})" for m in self.drift_perp_markets]
        out += [f"{m.symbol} (Drift spot #{m.market_index})" for m in self.drift_spot_markets]
        out += [f"Raydium {p.kind} {p.pubkey} ({p.origin})" for p in self.raydium_pools]
        out += [
            f"OpenBook {m.name} {m.pubkey} ({len(m.bids)} bid, {len(m.asks)} ask levels)"
            for m in self.openbook_markets
        ]
        return out

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["format"] = FORMAT
        for p in d["raydium_pools"]:
            p["ticks"] = {str(k): v for k, v in p["ticks"].items()}
        return d

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], where: str = "snapshot") -> Snapshot:
        if not isinstance(raw, Mapping) or raw.get("format") != FORMAT:
            raise DataError(f"{where} is not a {FORMAT} document")
        try:
            perps = tuple(_build(DriftPerpState, m) for m in raw.get("drift_perp_markets", ()))
            spots = tuple(_build(DriftSpotState, m) for m in raw.get("drift_spot_markets", ()))
            pools = []
            for p in raw.get("raydium_pools", ()):
                q = dict(p)
                q["ticks"] = {int(k): int(v) for k, v in dict(q.get("ticks", {})).items()}
                pools.append(_build(RaydiumPoolState, q))
            books = []
            for m in raw.get("openbook_markets", ()):
                q = dict(m)
                for side in ("bids", "asks"):
                    q[side] = tuple((int(p), int(n)) for p, n in q.get(side, ()))
                books.append(_build(OpenBookState, q))
            return cls(
                name=str(raw["name"]),
                slot=None if raw.get("slot") is None else int(raw["slot"]),
                taken_at=raw.get("taken_at"),
                imported_at=str(raw["imported_at"]),
                source=str(raw.get("source", "")),
                drift_perp_markets=perps,
                drift_spot_markets=spots,
                raydium_pools=tuple(pools),
                openbook_markets=tuple(books),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where} is malformed: {exc}") from None


def _build(cls: Any, raw: Mapping[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields {sorted(unknown)}")
    return cls(**raw)
