"""Settings of one ccxt exchange connection: exchange id, market type, symbols, keys (never shown),
sandbox.

A mistake in them (unknown exchange, unknown market type, a key without its secret) is a `UserError` in one
line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botnft.domain.errors import UserError

#: exchanges whose spot and USDⓈ-M perp markets the adapter has a client order id parameter for
CLIENT_ID_PARAM = {
    "binance": "newClientOrderId",
    "binanceusdm": "newClientOrderId",
    "bybit": "orderLinkId",
    "okx": "clOrdId",
}
MARKET_TYPES = ("spot", "swap")


@dataclass(frozen=True, slots=True)
class CcxtSettings:
    """`exchange` is a ccxt id (binance, bybit, okx, ...); `market_type` spot or swap (USDⓈ-M linear perps);
    `symbols` ccxt symbols (`SOL/USDT`, `SOL/USDT:USDT`). `websocket`: market data through `ccxt.pro`
    streams where the exchange has them (else polled). `api_urls` overrides entries of the exchange's
    `urls['api']` (a loopback fake; a string replaces every entry's scheme and host). Keys are kept out of
    `repr`."""

    exchange: str
    market_type: str = "spot"
    symbols: tuple[str, ...] = ()
    venue: str = ""
    api_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    sandbox: bool = False
    timeout_ms: int = 10_000
    poll_interval_s: float = 1.0
    enable_rate_limit: bool = True
    websocket: bool = True
    api_urls: str | Mapping[str, str] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def venue_name(self) -> str:
        return (self.venue or self.exchange).upper()

    @property
    def client_id_param(self) -> str:
        return CLIENT_ID_PARAM.get(self.exchange, "clientOrderId")

    def __repr__(self) -> str:
        key = "***" if self.api_key else "''"
        return (
            f"CcxtSettings(exchange={self.exchange!r}, market_type={self.market_type!r}, "
            f"symbols={self.symbols!r}, venue={self.venue_name!r}, api_key={key}, secret=***, "
            f"sandbox={self.sandbox})"
        )

    __str__ = __repr__

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> CcxtSettings:
        """Build from a config table, e.g. `{"exchange": "binance", "market_type": "swap",
        "symbols": ["SOL/USDT:USDT"], "api_key": ..., "secret": ..., "sandbox": true}`."""
        import ccxt.async_support as ccxt_async

        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise UserError(f"ccxt settings: unknown key(s) {', '.join(unknown)}")
        exchange = str(raw.get("exchange", "")).strip().lower()
        if exchange not in ccxt_async.exchanges:
            raise UserError(f"unknown ccxt exchange {exchange!r} (e.g. binance, bybit, okx)")
        market_type = str(raw.get("market_type", "spot")).lower()
        if market_type not in MARKET_TYPES:
            raise UserError(f"ccxt market_type {market_type!r}: expected one of {', '.join(MARKET_TYPES)}")
        symbols = raw.get("symbols", ())
        if isinstance(symbols, str) or not all(isinstance(s, str) for s in symbols):
            raise UserError("ccxt symbols: expected a list of ccxt symbols such as 'SOL/USDT'")
        api_key, secret = str(raw.get("api_key", "")), str(raw.get("secret", ""))
        if bool(api_key) != bool(secret):
            raise UserError(f"ccxt {exchange}: api_key and secret go together (one of them is missing)")
        try:
            timeout_ms = int(raw.get("timeout_ms", 10_000))
            poll = float(raw.get("poll_interval_s", 1.0))
        except (TypeError, ValueError):
            raise UserError("ccxt timeout_ms and poll_interval_s must be numbers") from None
        if timeout_ms <= 0 or poll <= 0:
            raise UserError("ccxt timeout_ms and poll_interval_s must be positive")
        return cls(
            exchange=exchange,
            market_type=market_type,
            symbols=tuple(symbols),
            venue=str(raw.get("venue", "")),
            api_key=api_key,
            secret=secret,
            password=str(raw.get("password", "")),
            sandbox=bool(raw.get("sandbox", False)),
            timeout_ms=timeout_ms,
            poll_interval_s=poll,
            enable_rate_limit=bool(raw.get("enable_rate_limit", True)),
            websocket=bool(raw.get("websocket", True)),
            api_urls=raw.get("api_urls"),
            options=dict(raw.get("options", {})),
        )
