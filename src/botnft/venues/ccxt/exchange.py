"""Building the ccxt exchange object from settings: keys, timeout, sandbox, URL overrides, market loading.

Only this module and the client import ccxt, and only when called.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from botnft.domain.errors import UserError
from botnft.venues.ccxt.settings import CcxtSettings


@contextmanager
def ccxt_decimal() -> Iterator[None]:
    """Run a ccxt call in a decimal context of its own. ccxt's ``decimal_to_precision`` (used by
    ``amount_to_precision`` and friends inside ``create_order``) sets the *current* context's rounding to
    ROUND_HALF_UP and traps Underflow; in the caller's context that change would outlive the call and move
    every later ``Decimal.quantize`` in the process off the default half-even rounding."""
    with decimal.localcontext():
        yield


def override_urls(api: Any, target: Any) -> Any:
    """Point an exchange's `urls['api']` at `target`: a mapping replaces named entries, a string
    (`http://127.0.0.1:PORT`) replaces every REST entry's scheme and host and keeps its path; a websocket
    entry (`wss://stream.binance.com:9443/ws`) becomes `ws://127.0.0.1:PORT/stream/ws`: its host's first
    label leads the path, so one loopback server tells the streams apart."""
    if isinstance(target, dict):
        out = dict(api) if isinstance(api, dict) else {}
        out.update(target)
        return out
    base = str(target).rstrip("/")
    if isinstance(api, dict):
        return {k: override_urls(v, base) for k, v in api.items()}
    if isinstance(api, str):
        parts = urlsplit(api)
        if parts.scheme in ("ws", "wss"):
            target_parts = urlsplit(base)
            scheme = "wss" if target_parts.scheme == "https" else "ws"
            label = (parts.hostname or "").split(".")[0]
            return f"{scheme}://{target_parts.netloc}/{label}{parts.path}"
        return base + parts.path
    return api


def build_exchange(settings: CcxtSettings, *, pro: bool = False) -> Any:
    """A `ccxt.async_support` exchange configured from `settings` (not yet connected); with `pro`, the
    `ccxt.pro` class of the same exchange (REST and websocket streams), or None if ccxt.pro has none."""
    if pro:
        import ccxt.pro as ccxt_pro

        cls = getattr(ccxt_pro, settings.exchange, None)
        if cls is None:
            return None
    else:
        import ccxt.async_support as ccxt_async

        cls = getattr(ccxt_async, settings.exchange, None)
    if cls is None:
        raise UserError(f"unknown ccxt exchange {settings.exchange!r}")
    options: dict[str, Any] = {"defaultType": settings.market_type, "fetchCurrencies": False}
    if settings.exchange.startswith("binance"):
        types = ["spot"] if settings.market_type == "spot" else ["linear"]
        options.update(
            {
                "fetchMarkets": {"types": types},
                "fetchMargins": False,
                "fetchBalance": {"useV2": True},
                "fetchPositionsRisk": {"useV2": True},
            }
        )
    options.update(settings.options)
    config: dict[str, Any] = {
        "apiKey": settings.api_key,
        "secret": settings.secret,
        "timeout": settings.timeout_ms,
        "enableRateLimit": settings.enable_rate_limit,
        "options": options,
    }
    if settings.password:
        config["password"] = settings.password
    ex = cls(config)
    if settings.sandbox:
        ex.set_sandbox_mode(True)
    if settings.api_urls is not None:
        ex.urls["api"] = override_urls(ex.urls["api"], settings.api_urls)
    return ex
