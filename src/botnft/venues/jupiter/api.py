"""A small httpx client for Jupiter's Swap API v1 (``GET /quote``, ``POST /swap``), no SDK.

Source of the shapes: npm ``@jup-ag/api`` 6.0.48, generated from Jupiter's OpenAPI "Swap API" 1.0.0
(live-and-ops §2.3). Base URL ``https://lite-api.jup.ag/swap/v1`` without a key, ``https://api.jup.ag/swap/v1``
with the ``x-api-key`` header; any other base (a loopback fake) is a setting.

Errors: HTTP 429 is `JupiterRateLimited` (``Retry-After`` seconds in `retry_after_s`), 5xx and transport
failures `NetworkError`, a timeout `RequestTimeout`; a 4xx refusal is `JupiterApiError` (a `Rejected`) with
the API's ``errorCode`` (``COULD_NOT_FIND_ANY_ROUTE``, ``TOKEN_NOT_TRADABLE``, ...). Nothing is retried here:
the caller decides (a quote or a swap build is safe to repeat; nothing is signed or sent by these calls).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

from botnft.domain.errors import NetworkError, RateLimited, Rejected, RequestTimeout

__all__ = ["KEYED_URL", "KEYLESS_URL", "JupiterApi", "JupiterApiError", "JupiterRateLimited"]

KEYLESS_URL = "https://lite-api.jup.ag/swap/v1"
KEYED_URL = "https://api.jup.ag/swap/v1"
_NO_ROUTE = frozenset(
    {
        "COULD_NOT_FIND_ANY_ROUTE",
        "NO_ROUTES_FOUND",
        "TOKEN_NOT_TRADABLE",
        "ROUTE_PLAN_DOES_NOT_CONSUME_ALL_THE_AMOUNT",
    }
)
_QUOTE_INTS = ("inAmount", "outAmount", "otherAmountThreshold")


class JupiterApiError(Rejected):
    """The API refused the request (4xx); `code` is its ``errorCode`` (None if it gave none)."""

    def __init__(self, message: str, *, code: str | None, status: int) -> None:
        reason = "no_route" if code in _NO_ROUTE else "jupiter_refused"
        super().__init__(message, reason=reason)
        self.code = code
        self.status = status


class JupiterRateLimited(RateLimited):
    """HTTP 429; `retry_after_s` is the ``Retry-After`` header in seconds (None if absent or unreadable)."""

    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _retry_after(value: str | None) -> float | None:
    try:
        s = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return s if math.isfinite(s) and s >= 0 else None


class JupiterApi:
    """``/quote`` and ``/swap`` of one base URL; `transport`: an httpx transport (tests), else network."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or (KEYED_URL if api_key else KEYLESS_URL)).rstrip("/")
        headers = {"accept": "application/json"}
        if api_key:
            headers["x-api-key"] = api_key
        self.http = httpx.AsyncClient(headers=headers, timeout=timeout_s, transport=transport)

    def __repr__(self) -> str:  # the key stays out of logs
        return f"JupiterApi({self.base_url})"

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        what = f"Jupiter {method} {path}"
        try:
            r = await self.http.request(method, f"{self.base_url}{path}", **kw)
        except httpx.TimeoutException:
            raise RequestTimeout(f"{what}: no answer in time") from None
        except httpx.HTTPError as exc:
            raise NetworkError(f"{what}: cannot reach the API ({type(exc).__name__})") from None
        if r.status_code == 429:
            raise JupiterRateLimited(
                f"{what}: rate limited (HTTP 429)", _retry_after(r.headers.get("Retry-After"))
            )
        if r.status_code >= 500:
            raise NetworkError(f"{what}: the API failed (HTTP {r.status_code})")
        try:
            body = r.json()
        except ValueError:
            raise NetworkError(f"{what}: unreadable answer (HTTP {r.status_code})") from None
        if r.status_code >= 400:
            code = body.get("errorCode") if isinstance(body, dict) else None
            msg = body.get("error", "") if isinstance(body, dict) else ""
            raise JupiterApiError(
                f"{what}: {code or r.status_code} {msg}".rstrip(), code=code, status=r.status_code
            )
        if not isinstance(body, dict):
            raise NetworkError(f"{what}: unreadable answer")
        return body

    async def quote(
        self,
        input_mint: str,
        output_mint: str,
        amount: int,
        *,
        slippage_bps: int,
        swap_mode: str = "ExactIn",
        extra: Mapping[str, str | int | bool] | None = None,
    ) -> dict[str, Any]:
        """A ``QuoteResponse`` (checked: its amounts are integers, its mints the ones asked for)."""
        params: dict[str, str | int] = {
            "inputMint": input_mint,
            "outputMint": output_mint,
            "amount": int(amount),
            "slippageBps": int(slippage_bps),
            "swapMode": swap_mode,
        }
        for k, v in (extra or {}).items():
            params[k] = str(v).lower() if isinstance(v, bool) else v
        q: dict[str, Any] = await self._call("GET", "/quote", params=params)
        try:
            for k in _QUOTE_INTS:
                if int(q[k]) < 0:
                    raise ValueError(k)
            ok = (
                q["inputMint"] == input_mint and q["outputMint"] == output_mint and q["swapMode"] == swap_mode
            )
        except (KeyError, TypeError, ValueError):
            raise NetworkError("Jupiter GET /quote: a QuoteResponse without integer amounts") from None
        if not ok:
            raise NetworkError(
                "Jupiter GET /quote: the QuoteResponse is for other mints or another swap mode"
            )
        return q

    async def swap(
        self,
        quote_response: Mapping[str, Any],
        user_public_key: str,
        *,
        wrap_and_unwrap_sol: bool = True,
        compute_unit_price_micro_lamports: int | None = None,
        dynamic_compute_unit_limit: bool = True,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A ``SwapResponse``: ``swapTransaction`` (base64 v0 transaction), ``lastValidBlockHeight``."""
        body: dict[str, Any] = {
            "userPublicKey": user_public_key,
            "quoteResponse": dict(quote_response),
            "wrapAndUnwrapSol": wrap_and_unwrap_sol,
            "dynamicComputeUnitLimit": dynamic_compute_unit_limit,
        }
        if compute_unit_price_micro_lamports is not None:
            body["computeUnitPriceMicroLamports"] = int(compute_unit_price_micro_lamports)
        body.update(extra or {})
        s: dict[str, Any] = await self._call("POST", "/swap", json=body)
        if not isinstance(s.get("swapTransaction"), str) or not isinstance(
            s.get("lastValidBlockHeight"), int
        ):
            raise NetworkError(
                "Jupiter POST /swap: a SwapResponse without swapTransaction/lastValidBlockHeight"
            )
        return s
