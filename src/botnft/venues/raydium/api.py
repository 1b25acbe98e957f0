"""An httpx client for Raydium's data API v3 and its trade API, with answers in native integers and
``Decimal`` and the API's failures mapped onto the bot's error tree.

Sources: ``raydium-io/raydium-sdk-V2`` @ 124c625e ``src/api/url.ts`` (paths, ``SWAP_HOST``),
``src/api/api.ts`` (query parameters), ``src/api/type.ts`` (``ApiV3PoolInfoItem``, ``ApiV3Token``,
``PoolKeys``). The trade API's shapes come from ``raydium-io/raydium-sdk-V2-demo`` @ 1bd5cd5a
``src/api/swap.ts``: the ``SwapCompute`` answer, and the ``POST /transaction/swap-base-in`` body
``computeUnitPriceMicroLamports`` (a string), ``swapResponse`` (the compute answer, echoed whole),
``txVersion`` (``"V0"`` or ``"LEGACY"``), ``wallet``, ``wrapSol``, ``unwrapSol``, ``inputAccount?``,
``outputAccount?``, answered by ``data: [{transaction: base64}]``.

Every answer is wrapped as ``{"id", "success", "data"}``; ``success: false`` is `RaydiumApiRefused` (a
`Rejected`). Transport: a timeout is `RequestTimeout`, no connection or HTTP 5xx `NetworkError`, HTTP 429
`RaydiumRateLimited` (``Retry-After`` seconds in ``retry_after_s``), any other 4xx `Rejected`. An answer that
is not the documented shape is `RaydiumDecodeError` (corrupt data fails fast). JSON numbers are read as
``Decimal``, never as binary floats.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import httpx

from botnft.domain.errors import NetworkError, RateLimited, Rejected, RequestTimeout
from botnft.venues.raydium.layouts import RaydiumDecodeError

AMM_V4_PROGRAM = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"
CPMM_PROGRAM = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
CLMM_PROGRAM = "CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK"
"""Mainnet program ids (``raydium-sdk-V2`` ``src/common/programId.ts``: AMM_V4, CREATE_CPMM_POOL_PROGRAM,
CLMM_PROGRAM_ID)."""
PROGRAM_KINDS: Mapping[str, str] = {AMM_V4_PROGRAM: "amm_v4", CPMM_PROGRAM: "cpmm", CLMM_PROGRAM: "clmm"}

TxVersion = Literal["V0", "LEGACY"]


@dataclass(frozen=True, slots=True)
class RaydiumApiSettings:
    """Where the APIs live (a setting, so tests point them at a loopback fake) and the request timeout."""

    base_url: str = "https://api-v3.raydium.io"
    trade_url: str = "https://transaction-v1.raydium.io"
    timeout_s: float = 10.0


class RaydiumRateLimited(RateLimited):
    """HTTP 429 from a Raydium API; `retry_after_s` is its ``Retry-After`` (None if it gave none)."""

    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RaydiumApiRefused(Rejected):
    """The API answered ``success: false`` (``msg`` says why: no route, amount too small, ...)."""

    reason = "raydium_refused"


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds form; an HTTP date or garbage gives None)."""
    if value is None:
        return None
    try:
        s = float(value)
    except ValueError:
        return None
    return s if math.isfinite(s) and s >= 0 else None


# --------------------------------------------------------------------------------------------------
# Parsed answers
# --------------------------------------------------------------------------------------------------


def _int(raw: Any, what: str) -> int:
    """A native amount the API sends as a decimal string (or an integral JSON number)."""
    if isinstance(raw, bool):
        raise RaydiumDecodeError(f"{what}: expected an integer amount, got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    if isinstance(raw, Decimal) and raw == raw.to_integral_value():
        return int(raw)
    raise RaydiumDecodeError(f"{what}: expected an integer amount, got {raw!r}")


def _dec(raw: Any, what: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        raise RaydiumDecodeError(f"{what}: expected a number, got {raw!r}")
    try:
        value = Decimal(raw)
    except ArithmeticError as exc:
        raise RaydiumDecodeError(f"{what}: expected a number, got {raw!r}") from exc
    if not value.is_finite():
        raise RaydiumDecodeError(f"{what}: expected a finite number, got {raw!r}")
    return value


def _field(obj: Mapping[str, Any], key: str, what: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise RaydiumDecodeError(f"{what}: missing {key!r}")
    return obj[key]


@dataclass(frozen=True, slots=True)
class ApiToken:
    """``ApiV3Token`` (the fields the bot reads)."""

    address: str
    program_id: str
    symbol: str
    decimals: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any], what: str = "token") -> ApiToken:
        decimals = _int(_field(raw, "decimals", what), f"{what}.decimals")
        return cls(
            str(_field(raw, "address", what)),
            str(_field(raw, "programId", what)),
            str(_field(raw, "symbol", what)),
            decimals,
        )


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """One ``ApiV3PoolInfoItem``. ``kind`` follows from the program id (None for a program the bot does not
    price); ``price`` is token B per token A in UI units; ``fee_rate`` a fraction (0.0025 = 25 bps)."""

    id: str
    program_id: str
    kind: str | None
    type: str
    mint_a: ApiToken
    mint_b: ApiToken
    price: Decimal
    mint_amount_a: Decimal
    mint_amount_b: Decimal
    fee_rate: Decimal
    tvl: Decimal
    open_time: int
    config: Mapping[str, Any] | None
    raw: Mapping[str, Any]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> PoolInfo:
        pid = str(_field(raw, "id", "pool"))
        what = f"pool {pid}"
        program = str(_field(raw, "programId", what))
        config = raw.get("config")
        return cls(
            id=pid,
            program_id=program,
            kind=PROGRAM_KINDS.get(program),
            type=str(_field(raw, "type", what)),
            mint_a=ApiToken.parse(_field(raw, "mintA", what), f"{what}.mintA"),
            mint_b=ApiToken.parse(_field(raw, "mintB", what), f"{what}.mintB"),
            price=_dec(_field(raw, "price", what), f"{what}.price"),
            mint_amount_a=_dec(_field(raw, "mintAmountA", what), f"{what}.mintAmountA"),
            mint_amount_b=_dec(_field(raw, "mintAmountB", what), f"{what}.mintAmountB"),
            fee_rate=_dec(_field(raw, "feeRate", what), f"{what}.feeRate"),
            tvl=_dec(_field(raw, "tvl", what), f"{what}.tvl"),
            open_time=_int(_field(raw, "openTime", what), f"{what}.openTime"),
            config=config if isinstance(config, Mapping) else None,
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class PoolPage:
    """A page of ``/pools/info/list-v2``; ``next_page_id`` continues it (None on the last page)."""

    count: int
    has_next_page: bool
    pools: tuple[PoolInfo, ...]
    next_page_id: str | None


@dataclass(frozen=True, slots=True)
class PriorityFees:
    """``/main/auto-fee`` ``data.default``: compute-unit prices in micro-lamports (vh, h, m)."""

    very_high: int
    high: int
    medium: int


@dataclass(frozen=True, slots=True)
class RouteStep:
    pool_id: str
    input_mint: str
    output_mint: str
    fee_mint: str
    fee_rate: int
    fee_amount: int


@dataclass(frozen=True, slots=True)
class SwapCompute:
    """``GET /compute/swap-base-in|out``: amounts in native units. ``other_amount_threshold`` is the minimum
    output (base in) or maximum input (base out) after slippage. ``raw`` is the whole answer, which the
    transaction request echoes back unchanged."""

    swap_type: str
    input_mint: str
    input_amount: int
    output_mint: str
    output_amount: int
    other_amount_threshold: int
    slippage_bps: int
    price_impact_pct: Decimal
    route_plan: tuple[RouteStep, ...]
    raw: Mapping[str, Any]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> SwapCompute:
        d = _field(raw, "data", "swap compute")
        w = "swap compute"
        plan = tuple(
            RouteStep(
                str(_field(s, "poolId", w)),
                str(_field(s, "inputMint", w)),
                str(_field(s, "outputMint", w)),
                str(_field(s, "feeMint", w)),
                _int(_field(s, "feeRate", w), f"{w}.feeRate"),
                _int(_field(s, "feeAmount", w), f"{w}.feeAmount"),
            )
            for s in _field(d, "routePlan", w)
        )
        return cls(
            swap_type=str(_field(d, "swapType", w)),
            input_mint=str(_field(d, "inputMint", w)),
            input_amount=_int(_field(d, "inputAmount", w), f"{w}.inputAmount"),
            output_mint=str(_field(d, "outputMint", w)),
            output_amount=_int(_field(d, "outputAmount", w), f"{w}.outputAmount"),
            other_amount_threshold=_int(_field(d, "otherAmountThreshold", w), f"{w}.otherAmountThreshold"),
            slippage_bps=_int(_field(d, "slippageBps", w), f"{w}.slippageBps"),
            price_impact_pct=_dec(_field(d, "priceImpactPct", w), f"{w}.priceImpactPct"),
            route_plan=plan,
            raw=raw,
        )


# --------------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------------


class RaydiumApi:
    """The data API v3 and the trade API over one `httpx.AsyncClient` (close it with `aclose`)."""

    def __init__(
        self, settings: RaydiumApiSettings | None = None, *, client: httpx.AsyncClient | None = None
    ):
        self.settings = settings or RaydiumApiSettings()
        self._http = client or httpx.AsyncClient(timeout=self.settings.timeout_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> RaydiumApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _request(self, method: str, url: str, what: str, **kw: Any) -> Any:
        try:
            r = await self._http.request(method, url, **kw)
        except httpx.TimeoutException as exc:
            raise RequestTimeout(f"{what}: Raydium did not answer in time") from exc
        except httpx.TransportError as exc:
            raise NetworkError(f"{what}: cannot reach Raydium ({type(exc).__name__})") from exc
        if r.status_code == 429:
            raise RaydiumRateLimited(
                f"{what}: Raydium rate-limits us (HTTP 429)", retry_after(r.headers.get("Retry-After"))
            )
        if r.status_code >= 500:
            raise NetworkError(f"{what}: Raydium failed (HTTP {r.status_code})")
        if r.status_code >= 400:
            raise Rejected(
                f"{what}: Raydium refused the request (HTTP {r.status_code})", reason="http_refused"
            )
        try:
            body = json.loads(r.content, parse_float=Decimal)
        except ValueError as exc:
            raise RaydiumDecodeError(f"{what}: the answer is not JSON") from exc
        if not isinstance(body, dict) or "success" not in body:
            raise RaydiumDecodeError(f"{what}: the answer has no 'success' field")
        if body["success"] is not True:
            raise RaydiumApiRefused(f"{what}: Raydium says {body.get('msg') or 'no success'}")
        return body

    async def _data(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        url = self.settings.base_url.rstrip("/") + path
        body = await self._request("GET", url, path, params=params)
        return _field(body, "data", path)

    # ---- data API v3 ------------------------------------------------------------------------------

    async def pool_list(
        self,
        *,
        pool_type: str | None = None,
        sort_field: str = "liquidity",
        sort_type: str = "desc",
        size: int = 100,
        next_page_id: str | None = None,
        mint1: str | None = None,
        mint2: str | None = None,
    ) -> PoolPage:
        """``/pools/info/list-v2``: the pools (of two mints, if given; sorted lexically as the SDK does)."""
        params: dict[str, Any] = {"size": size, "sortField": sort_field, "sortType": sort_type}
        if pool_type:
            params["poolType"] = pool_type
        if next_page_id:
            params["nextPageId"] = next_page_id
        if mint1 and mint2 and mint1 > mint2:
            mint1, mint2 = mint2, mint1
        if mint1:
            params["mint1"] = mint1
        if mint2:
            params["mint2"] = mint2
        d = await self._data("/pools/info/list-v2", params)
        pools = tuple(PoolInfo.parse(p) for p in _field(d, "data", "pool list"))
        nxt = d.get("nextPageId") if isinstance(d, Mapping) else None
        return PoolPage(
            _int(_field(d, "count", "pool list"), "count"),
            bool(_field(d, "hasNextPage", "pool list")),
            pools,
            str(nxt) if nxt else None,
        )

    async def pools_by_ids(self, ids: Sequence[str]) -> list[PoolInfo]:
        """``/pools/info/ids``: pools by id (an unknown id comes back as null and is left out)."""
        d = await self._data("/pools/info/ids", {"ids": ",".join(ids)})
        return [PoolInfo.parse(p) for p in d if p is not None]

    async def pool_keys(self, ids: Sequence[str]) -> list[Mapping[str, Any]]:
        """``/pools/key/ids``: each pool's accounts (``vault.A/B``, ``mintA/B``, config, market keys, ...)."""
        d = await self._data("/pools/key/ids", {"ids": ",".join(ids)})
        return [k for k in d if k is not None]

    async def auto_fee(self) -> PriorityFees:
        """``/main/auto-fee``: the compute-unit prices Raydium suggests."""
        d = _field(await self._data("/main/auto-fee"), "default", "auto-fee")
        return PriorityFees(
            _int(_field(d, "vh", "auto-fee"), "vh"),
            _int(_field(d, "h", "auto-fee"), "h"),
            _int(d.get("m"), "m"),
        )

    async def mints(self, mints: Sequence[str]) -> list[ApiToken]:
        """``/mint/ids``: token info by mint."""
        d = await self._data("/mint/ids", {"mints": ",".join(mints)})
        return [ApiToken.parse(t) for t in d if t is not None]

    # ---- trade API --------------------------------------------------------------------------------

    async def compute_swap(
        self,
        input_mint: str,
        output_mint: str,
        amount: int,
        slippage_bps: int,
        *,
        base_in: bool = True,
        tx_version: TxVersion = "V0",
    ) -> SwapCompute:
        """``GET /compute/swap-base-in`` (``amount`` the exact input) or ``swap-base-out`` (exact output)."""
        path = "/compute/swap-base-in" if base_in else "/compute/swap-base-out"
        params = {
            "inputMint": input_mint,
            "outputMint": output_mint,
            "amount": str(amount),
            "slippageBps": slippage_bps,
            "txVersion": tx_version,
        }
        body = await self._request("GET", self.settings.trade_url.rstrip("/") + path, path, params=params)
        return SwapCompute.parse(body)

    async def swap_transactions(
        self,
        compute: SwapCompute,
        wallet: str,
        *,
        compute_unit_price_micro_lamports: int,
        wrap_sol: bool,
        unwrap_sol: bool,
        input_account: str | None = None,
        output_account: str | None = None,
        tx_version: TxVersion = "V0",
    ) -> list[bytes]:
        """``POST /transaction/swap-base-in|out``: the unsigned serialized transactions for `compute`."""
        path = "/transaction/swap-base-in" if compute.swap_type == "BaseIn" else "/transaction/swap-base-out"
        payload: dict[str, Any] = {
            "computeUnitPriceMicroLamports": str(compute_unit_price_micro_lamports),
            "swapResponse": compute.raw,
            "txVersion": tx_version,
            "wallet": wallet,
            "wrapSol": wrap_sol,
            "unwrapSol": unwrap_sol,
        }
        if input_account is not None:
            payload["inputAccount"] = input_account
        if output_account is not None:
            payload["outputAccount"] = output_account
        content = json.dumps(payload, default=_json_default).encode()
        body = await self._request(
            "POST",
            self.settings.trade_url.rstrip("/") + path,
            path,
            content=content,
            headers={"content-type": "application/json"},
        )
        out = []
        for item in _field(body, "data", path):
            tx = _field(item, "transaction", path)
            try:
                out.append(base64.b64decode(tx, validate=True))
            except (ValueError, TypeError) as exc:
                raise RaydiumDecodeError(f"{path}: transaction is not base64") from exc
        if not out:
            raise RaydiumDecodeError(f"{path}: no transaction in the answer")
        return out


def _json_default(value: object) -> object:
    """Echo the compute answer as it came: its Decimals back to JSON numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")
