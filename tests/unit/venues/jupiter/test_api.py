"""The Jupiter Swap API v1 client over an httpx mock transport: URLs, headers and parameters as the API
documents them, and every failure mapped (429 + Retry-After, 5xx, timeout, refusal with errorCode,
malformed answers); settings refused in one line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from botnft.domain.errors import NetworkError, RateLimited, Rejected, RequestTimeout, UserError
from botnft.venues.jupiter import KEYED_URL, KEYLESS_URL, JupiterApi, JupiterApiError, JupiterSettings
from botnft.venues.jupiter.api import JupiterRateLimited
from botnft.venues.jupiter.settings import SOL_USDC

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
QUOTE = {
    "inputMint": SOL,
    "inAmount": "1000000000",
    "outputMint": USDC,
    "outAmount": "149900000",
    "otherAmountThreshold": "149150500",
    "swapMode": "ExactIn",
    "slippageBps": 50,
    "priceImpactPct": "0.0001",
    "routePlan": [],
}


def api_with(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> JupiterApi:
    return JupiterApi(transport=httpx.MockTransport(handler), **kw)


def call(api: JupiterApi, coro_fn: Callable[[JupiterApi], Any]) -> Any:
    async def main() -> Any:
        try:
            return await coro_fn(api)
        finally:
            await api.close()

    return asyncio.run(asyncio.wait_for(main(), 10))


def test_base_url_and_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return httpx.Response(200, json=QUOTE)

    call(api_with(handler), lambda a: a.quote(SOL, USDC, 10**9, slippage_bps=50))
    call(api_with(handler, api_key="k-123"), lambda a: a.quote(SOL, USDC, 10**9, slippage_bps=50))
    keyless, keyed = seen
    assert str(keyless.url).startswith(KEYLESS_URL + "/quote?") and "x-api-key" not in keyless.headers
    assert str(keyed.url).startswith(KEYED_URL + "/quote?") and keyed.headers["x-api-key"] == "k-123"
    assert dict(keyless.url.params) == {
        "inputMint": SOL,
        "outputMint": USDC,
        "amount": "1000000000",
        "slippageBps": "50",
        "swapMode": "ExactIn",
    }
    assert "k-123" not in repr(api_with(handler, api_key="k-123"))


def test_swap_request_body() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(r: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(r.content))
        assert r.method == "POST" and r.url.path == "/x/swap/v1/swap"
        return httpx.Response(200, json={"swapTransaction": "AAAA", "lastValidBlockHeight": 7, "new": 1})

    out = call(api_with(handler, base_url="http://127.0.0.1:1/x/swap/v1/"),
               lambda a: a.swap(QUOTE, "User1111", compute_unit_price_micro_lamports=1500))  # fmt: skip
    assert out["lastValidBlockHeight"] == 7  # unknown keys are kept, not refused
    assert bodies == [
        {
            "userPublicKey": "User1111",
            "quoteResponse": QUOTE,
            "wrapAndUnwrapSol": True,
            "dynamicComputeUnitLimit": True,
            "computeUnitPriceMicroLamports": 1500,
        }
    ]


@pytest.mark.parametrize(
    ("response", "error", "check"),
    [
        (httpx.Response(429, headers={"Retry-After": "3"}, json={}), JupiterRateLimited,
         lambda e: e.retry_after_s == 3.0),
        (httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), JupiterRateLimited,
         lambda e: e.retry_after_s is None),
        (httpx.Response(503, text="down"), NetworkError, lambda e: "503" in str(e)),
        (httpx.Response(502, json={"error": "bad gateway"}), NetworkError, lambda e: True),
        (httpx.Response(400, json={"error": "no route", "errorCode": "COULD_NOT_FIND_ANY_ROUTE"}),
         JupiterApiError, lambda e: e.code == "COULD_NOT_FIND_ANY_ROUTE" and e.reason == "no_route"),
        (httpx.Response(400, json={"error": "bad", "errorCode": "INVALID_SLIPPAGE"}), JupiterApiError,
         lambda e: e.reason == "jupiter_refused" and e.status == 400),
        (httpx.Response(200, text="<html>"), NetworkError, lambda e: "unreadable" in str(e)),
        (httpx.Response(200, json={**QUOTE, "inAmount": "1.5"}), NetworkError, lambda e: True),
        (httpx.Response(200, json={**QUOTE, "outputMint": SOL}), NetworkError,
         lambda e: "other mints" in str(e)),
    ],
)  # fmt: skip
def test_quote_failures_are_mapped(
    response: httpx.Response, error: type[Exception], check: Callable[[Any], bool]
) -> None:
    with pytest.raises(error) as e:
        call(api_with(lambda r: response), lambda a: a.quote(SOL, USDC, 10**9, slippage_bps=50))
    assert check(e.value)
    if isinstance(e.value, JupiterRateLimited):
        assert isinstance(e.value, RateLimited)
    if isinstance(e.value, JupiterApiError):
        assert isinstance(e.value, Rejected)


def test_timeouts_and_transport_errors() -> None:
    def slow(r: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=r)

    def reset(r: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed", request=r)

    with pytest.raises(RequestTimeout):
        call(api_with(slow), lambda a: a.quote(SOL, USDC, 1, slippage_bps=0))
    with pytest.raises(NetworkError):
        call(api_with(reset), lambda a: a.swap(QUOTE, "u"))
    with pytest.raises(NetworkError, match="lastValidBlockHeight"):
        call(
            api_with(lambda r: httpx.Response(200, json={"swapTransaction": "AA"})),
            lambda a: a.swap(QUOTE, "u"),
        )


def test_settings_defaults_and_one_line_errors() -> None:
    s = JupiterSettings.from_mapping({})
    assert (s.base_url, s.slippage_bps, s.priority_fee, s.markets) == (None, 50, "auto", (SOL_USDC,))
    assert "secret-key" not in repr(JupiterSettings.from_mapping({"api_key": "secret-key"}))
    market = {"symbol": "jup/usdc", "base_mint": "J", "quote_mint": USDC, "base_decimals": 6,
              "quote_decimals": 6, "min_size": "0.01"}  # fmt: skip
    (m,) = JupiterSettings.from_mapping({"markets": [market]}).markets
    assert (m.symbol, m.base, m.quote, str(m.lot)) == ("JUP/USDC", "JUP", "USDC", "0.000001")
    for bad, needle in [
        ({"slippage_bps": 10_001}, "slippage_bps"),
        ({"slippage_bps": True}, "slippage_bps"),
        ({"priority_fee": "fast"}, "priority_fee"),
        ({"priority_fee": -1}, "priority_fee"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"api_key": ""}, "api_key"),
        ({"slipage_bps": 10}, "unknown setting"),
        ({"markets": [{"symbol": "SOL"}]}, "markets"),
        ({"markets": [{**market, "min_size": "0.0000001"}]}, "min_size"),
        ({"markets": [market, market]}, "twice"),
    ]:
        with pytest.raises(UserError, match=needle) as e:
            JupiterSettings.from_mapping(bad)
        assert "\n" not in str(e.value)
