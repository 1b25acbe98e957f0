"""A loopback fake of Raydium's data API v3 and trade API, backed by the project's simulated pools.

Data API (``/pools/info/list-v2``, ``/pools/info/ids``, ``/pools/key/ids``, ``/main/auto-fee``, ``/mint/ids``)
answers in the shapes of ``raydium-sdk-V2`` ``src/api/type.ts`` (checked by
``tests/fixtures/raydium/raydium_api.schema.json``), with prices, amounts and fee rates read from the sim
pools (`botnft.venues.sim.raydium_pools`: AMM v4, CPMM and CLMM program math). The trade API's
``GET /compute/swap-base-in|out`` routes through the one pool that gives the best amount (``routePlan`` of
one step), priced by the same math; ``POST /transaction/swap-base-in|out`` checks its body against the
documented request and answers ``data: [{transaction: base64}]`` with whatever `build_transaction`
(set by the test) makes of the compute answer: a real transaction for the local chain the test runs.
``feeRate`` in a route step is the pool's fee in millionths (an assumption: the SDK types it as a number).

`swap(...)` applies a swap to a pool (what a landed transaction does). Faults for tests: `inject(kind)`
makes the next trade-API request meet a 429 with Retry-After, a 503, a delay past the client's timeout
(executed first) or a dropped connection after execution.

`ChainSwaps` is the transaction builder for the local chain of `solana_rpc.LocalSolana` (the pattern of
`jupiter_api.FakeJupiter`): [compute-unit price] [when SOL goes in with ``wrapSol`` or out with ``unwrapSol``:
the user's wrapped-SOL account, created when missing (idempotent)] [wrap: SOL to it + SyncNative, when SOL
goes in and ``wrapSol``] [user -> pool authority: input] [pool authority -> user: output] [the slippage check]
[unwrap: the wrapped-SOL account closed to the user, returning its SOL and rent as native SOL], as the SDK's
swap transactions do: bought SOL arrives native, sold SOL leaves from the native balance, no wrapped SOL is
left behind. The amounts are re-quoted on the sim pool when the transaction is built (the pool may have moved
since the compute answer); the check is an SPL Token self-transfer on the user's output account (base in) of
its balance plus ``otherAmountThreshold`` (base out: on the input account, of its balance minus the maximum
input), so the transaction lands failed (``InstructionError(i, Custom(1))``: the token program's
InsufficientFunds, not a Raydium slippage code) exactly when the user would get less than the threshold.
`fail_next_slippage()` delivers one unit short. By default the user is the only signer, as with the real API:
the pool authority's output account names the user as its delegate for the output amount (set on the local
chain when the transaction is built), so the client may replace the blockhash; ``co_sign=True`` has the pool
authority sign instead. The sim pool moves only when the transaction lands (a chain listener), so a dropped or
expired swap leaves it as it was.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from aiohttp import web

from botnft.venues.raydium.api import AMM_V4_PROGRAM, CLMM_PROGRAM, CPMM_PROGRAM
from botnft.venues.raydium.layouts import b58encode
from botnft.venues.sim.raydium_config import AmmV4Terms, ClmmTerms, CpmmTerms, PoolConfig, PoolKind
from botnft.venues.sim.raydium_math import FEE_RATE_DENOMINATOR_VALUE, RaydiumMathError
from botnft.venues.sim.raydium_pools import PoolEngine, SwapQuote, make_engine

WSOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
FAULTS = ("rate_limit", "server_error", "timeout", "lost_response")
PROGRAMS: Mapping[PoolKind, str] = {"amm_v4": AMM_V4_PROGRAM, "cpmm": CPMM_PROGRAM, "clmm": CLMM_PROGRAM}


def derived_key(*parts: str) -> str:
    """A deterministic public key (base58 of a hash): the fake's pool, vault and config accounts."""
    return b58encode(hashlib.sha256("/".join(parts).encode()).digest())


@dataclass(frozen=True, slots=True)
class FakeToken:
    address: str
    symbol: str
    name: str
    decimals: int

    def json(self) -> dict[str, Any]:
        return {
            "chainId": 101,
            "address": self.address,
            "programId": TOKEN_PROGRAM,
            "logoURI": f"https://img-v1.raydium.io/icon/{self.address}.png",
            "symbol": self.symbol,
            "name": self.name,
            "decimals": self.decimals,
            "tags": [],
            "extensions": {},
        }


SOL_TOKEN = FakeToken(WSOL, "WSOL", "Wrapped SOL", 9)
USDC_TOKEN = FakeToken(USDC, "USDC", "USD Coin", 6)


class FakePool:
    """One sim pool with its public identity: id, mints (A = base = token 0), vaults, config."""

    def __init__(self, name: str, config: PoolConfig, base: FakeToken, quote: FakeToken) -> None:
        self.name = name
        self.config = config
        self.kind: PoolKind = config.kind
        self.engine: PoolEngine = make_engine(config)
        self.base, self.quote = base, quote
        self.id = derived_key("pool", name)
        self.vault_a, self.vault_b = derived_key("vault", name, "A"), derived_key("vault", name, "B")
        self.config_id = derived_key("config", self.kind)
        self.open_time = 1_700_000_000

    @property
    def program_id(self) -> str:
        return PROGRAMS[self.kind]

    def fee_rate_millionths(self) -> int:
        t = self.config.terms
        if isinstance(t, AmmV4Terms):
            return t.fee_numerator * FEE_RATE_DENOMINATOR_VALUE // t.fee_denominator
        if isinstance(t, CpmmTerms):
            return t.trade_fee_rate + t.creator_fee_rate
        assert isinstance(t, ClmmTerms)
        return t.trade_fee_rate

    def ui_price(self) -> Decimal:
        """Token B per token A in UI units."""
        p = self.engine.price() * Fraction(10**self.base.decimals, 10**self.quote.decimals)
        return Decimal(p.numerator) / Decimal(p.denominator)

    def ui_amounts(self) -> tuple[Decimal, Decimal]:
        b, q = self.engine.reserves()
        return Decimal(b).scaleb(-self.base.decimals), Decimal(q).scaleb(-self.quote.decimals)

    def info_json(self) -> dict[str, Any]:
        a, b = self.ui_amounts()
        price = self.ui_price()
        count = {
            "volume": 0,
            "volumeQuote": 0,
            "volumeFee": 0,
            "apr": 0,
            "feeApr": 0,
            "priceMin": price,
            "priceMax": price,
            "rewardApr": [],
        }
        item: dict[str, Any] = {
            "type": "Concentrated" if self.kind == "clmm" else "Standard",
            "programId": self.program_id,
            "id": self.id,
            "mintA": self.base.json(),
            "mintB": self.quote.json(),
            "rewardDefaultInfos": [],
            "rewardDefaultPoolInfos": "Clmm" if self.kind == "clmm" else "Raydium",
            "price": price,
            "mintAmountA": a,
            "mintAmountB": b,
            "feeRate": Decimal(self.fee_rate_millionths()) / FEE_RATE_DENOMINATOR_VALUE,
            "openTime": str(self.open_time),
            "tvl": (a * price + b).quantize(Decimal("0.01")),
            "day": count,
            "week": count,
            "month": count,
            "pooltype": ["OpenBookMarket"] if self.kind == "amm_v4" else [],
            "farmUpcomingCount": 0,
            "farmOngoingCount": 0,
            "farmFinishedCount": 0,
            "burnPercent": 0,
            "feeOn": "",
            "hasDynamicFee": False,
            "launchMigratePool": False,
            "tips": [],
        }
        t = self.config.terms
        lp = FakeToken(derived_key("lp", self.name), "LP", f"{self.name} LP", self.base.decimals)
        if isinstance(t, ClmmTerms):
            item["config"] = self.clmm_config_json(t)
        elif isinstance(t, CpmmTerms):
            item.update(lpMint=lp.json(), lpPrice=0, lpAmount=0, config=self.cpmm_config_json(t))
        else:
            item.update(
                marketId=derived_key("market", self.name),
                configId=self.config_id,
                lpPrice=0,
                lpAmount=0,
                lpMint=lp.json(),
            )
        return item

    def clmm_config_json(self, t: ClmmTerms) -> dict[str, Any]:
        return {
            "id": self.config_id,
            "index": 0,
            "protocolFeeRate": t.protocol_fee_rate,
            "tradeFeeRate": t.trade_fee_rate,
            "tickSpacing": t.tick_spacing,
            "fundFeeRate": t.fund_fee_rate,
            "description": "",
            "defaultRange": Decimal("0.1"),
            "defaultRangePoint": [Decimal("0.01"), Decimal("0.05"), Decimal("0.1")],
        }

    def cpmm_config_json(self, t: CpmmTerms) -> dict[str, Any]:
        return {
            "id": self.config_id,
            "index": 0,
            "protocolFeeRate": t.protocol_fee_rate,
            "tradeFeeRate": t.trade_fee_rate,
            "fundFeeRate": t.fund_fee_rate,
            "createPoolFee": "150000000",
        }

    def keys_json(self) -> dict[str, Any]:
        base = {
            "programId": self.program_id,
            "id": self.id,
            "mintA": self.base.json(),
            "mintB": self.quote.json(),
            "lookupTableAccount": derived_key("alt", self.name),
            "openTime": str(self.open_time),
            "vault": {"A": self.vault_a, "B": self.vault_b},
        }
        t = self.config.terms
        lp = FakeToken(derived_key("lp", self.name), "LP", f"{self.name} LP", self.base.decimals).json()
        if isinstance(t, ClmmTerms):
            return base | {
                "config": self.clmm_config_json(t),
                "rewardInfos": [],
                "observationId": derived_key("observation", self.name),
                "exBitmapAccount": derived_key("bitmap", self.name),
            }
        if isinstance(t, CpmmTerms):
            return base | {
                "authority": derived_key("authority", "cpmm"),
                "mintLp": lp,
                "config": self.cpmm_config_json(t),
                "observationId": derived_key("observation", self.name),
            }
        market = {
            k: derived_key(k, self.name)
            for k in (
                "marketId",
                "marketAuthority",
                "marketBaseVault",
                "marketQuoteVault",
                "marketBids",
                "marketAsks",
                "marketEventQueue",
            )
        }
        return (
            base
            | market
            | {
                "authority": derived_key("authority", "amm_v4"),
                "openOrders": derived_key("openOrders", self.name),
                "targetOrders": derived_key("targetOrders", self.name),
                "mintLp": lp,
                "marketProgramId": "srmqPvymJeFKQ4zGQed1GFppgkRHL9kaELCbyksJtPX",
            }
        )

    def quote_swap(self, input_mint: str, amount: int, base_in: bool) -> SwapQuote:
        sell_base = input_mint == self.base.address
        return self.engine.quote_swap(amount, sell_base=sell_base, exact_in=base_in)


def default_pools(price: str = "150") -> list[FakePool]:
    """A SOL/USDC pool of each kind at `price`, as the sim builds them (``PoolConfig.from_price``)."""
    return [
        FakePool(f"sol-usdc-{k}", PoolConfig.from_price(price, kind=k), SOL_TOKEN, USDC_TOKEN)
        for k in ("amm_v4", "cpmm", "clmm")
    ]


TransactionBuilder = Callable[[Mapping[str, Any], Mapping[str, Any]], bytes]
"""(the POST body, the compute answer's ``data``) -> one serialized transaction."""


class FakeRaydiumApi:
    """The data API and the trade API on one loopback port (`url` serves both base URLs)."""

    def __init__(
        self,
        pools: list[FakePool] | None = None,
        *,
        build_transaction: TransactionBuilder | None = None,
        auto_fee: tuple[int, int, int] = (30_000, 20_000, 10_000),
        delay_s: float = 3.0,
    ) -> None:
        self.pools = {p.id: p for p in (pools if pools is not None else default_pools())}
        self.tokens = {t.address: t for p in self.pools.values() for t in (p.base, p.quote)}
        self.build_transaction = build_transaction
        self.auto_fee = auto_fee
        self.delay_s = delay_s
        self.faults: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.tx_requests: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def inject(self, fault: str, count: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
        self.faults.extend([fault] * count)

    def pool(self, kind: PoolKind) -> FakePool:
        return next(p for p in self.pools.values() if p.kind == kind)

    def swap(self, pool_id: str, input_mint: str, amount: int, base_in: bool) -> SwapQuote:
        """Apply a swap to the pool (a landed transaction); returns what the program paid and charged."""
        pool = self.pools[pool_id]
        q = pool.quote_swap(input_mint, amount, base_in)
        pool.engine.apply(q)
        return q

    # --- HTTP ------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        params = dict(request.query)
        self.requests.append((request.method, path, params))
        route = ROUTES.get((request.method, path))
        if route is None:
            return web.json_response({"id": self._id(), "success": False, "msg": "NOT_FOUND"}, status=404)
        handler, trade = route
        fault = self.faults.pop(0) if trade and self.faults else None
        if fault == "rate_limit":
            return web.Response(status=429, headers={"Retry-After": "1"}, text="Too Many Requests")
        if fault == "server_error":
            return web.Response(status=503, text="Service Unavailable")
        body: Any = None
        if request.method == "POST":
            try:
                body = json.loads(await request.read(), parse_float=Decimal)
            except ValueError:
                return self._fail("REQ_BODY_NOT_JSON", 400)
        result = handler(self, params, body)
        if fault == "timeout":
            await asyncio.sleep(self.delay_s)
        if fault == "lost_response":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        return result

    def _id(self) -> str:
        return str(uuid.UUID(int=next(self._ids)))

    def _ok(self, data: Any, **extra: Any) -> web.Response:
        return web.Response(
            text=json.dumps({"id": self._id(), "success": True, **extra, "data": data}, default=_num),
            content_type="application/json",
        )

    def _fail(self, msg: str, status: int = 200) -> web.Response:
        body = {"id": self._id(), "success": False, "version": "V1", "msg": msg}
        return web.Response(text=json.dumps(body), status=status, content_type="application/json")

    # --- data API ----------------------------------------------------------------------------------
    def pool_list(self, params: dict[str, str], _: Any) -> web.Response:
        pools = list(self.pools.values())
        mints = {params[k] for k in ("mint1", "mint2") if params.get(k)}
        if mints:
            pools = [p for p in pools if mints <= {p.base.address, p.quote.address}]
        kind = params.get("poolType", "all").lower()
        if kind in ("concentrated", "standard"):
            pools = [p for p in pools if (p.kind == "clmm") == (kind == "concentrated")]
        pools.sort(key=lambda p: p.ui_amounts()[1] * 2, reverse=params.get("sortType", "desc") == "desc")
        size = int(params.get("size", "100"))
        start = int(params.get("nextPageId") or 0)
        page = pools[start : start + size]
        data: dict[str, Any] = {
            "count": len(pools),
            "hasNextPage": start + size < len(pools),
            "data": [p.info_json() for p in page],
        }
        if data["hasNextPage"]:
            data["nextPageId"] = str(start + size)
        return self._ok(data)

    def pools_by_ids(self, params: dict[str, str], _: Any) -> web.Response:
        ids = [i for i in params.get("ids", "").split(",") if i]
        return self._ok([self.pools[i].info_json() if i in self.pools else None for i in ids])

    def pool_keys(self, params: dict[str, str], _: Any) -> web.Response:
        ids = [i for i in params.get("ids", "").split(",") if i]
        return self._ok([self.pools[i].keys_json() if i in self.pools else None for i in ids])

    def auto_fee_json(self, params: dict[str, str], _: Any) -> web.Response:
        vh, h, m = self.auto_fee
        return self._ok({"default": {"vh": vh, "h": h, "m": m}})

    def mint_ids(self, params: dict[str, str], _: Any) -> web.Response:
        mints = [m for m in params.get("mints", "").split(",") if m]
        return self._ok([self.tokens[m].json() if m in self.tokens else None for m in mints])

    # --- trade API ---------------------------------------------------------------------------------
    def compute(self, params: dict[str, str], _: Any, *, base_in: bool) -> web.Response:
        try:
            input_mint, output_mint = params["inputMint"], params["outputMint"]
            amount, slippage = int(params["amount"]), int(params["slippageBps"])
        except (KeyError, ValueError):
            return self._fail("REQ_PARAMS_ERROR")
        if amount <= 0 or not 0 <= slippage <= 10_000:
            return self._fail("REQ_AMOUNT_ERROR")
        best: tuple[int, FakePool, SwapQuote] | None = None
        for p in self.pools.values():
            if {input_mint, output_mint} != {p.base.address, p.quote.address} or input_mint == output_mint:
                continue
            try:
                q = p.quote_swap(input_mint, amount, base_in)
            except RaydiumMathError:
                continue
            score = q.amount_out if base_in else -q.amount_in
            if best is None or score > best[0]:
                best = (score, p, q)
        if best is None:
            return self._fail("ROUTE_NOT_FOUND")
        _, pool, q = best
        if base_in:
            threshold = q.amount_out * (10_000 - slippage) // 10_000
        else:
            threshold = -(-q.amount_in * (10_000 + slippage) // 10_000)
        sell_base = input_mint == pool.base.address
        fee_in = q.fee[0] if sell_base else q.fee[1]
        mid = pool.engine.price() if sell_base else 1 / pool.engine.price()
        ideal = Fraction(q.amount_in) * mid
        impact = max(Fraction(0), 1 - Fraction(q.amount_out) / ideal) * 100 if ideal else Fraction(0)
        data = {
            "swapType": "BaseIn" if base_in else "BaseOut",
            "inputMint": input_mint,
            "inputAmount": str(q.amount_in),
            "outputMint": output_mint,
            "outputAmount": str(q.amount_out),
            "otherAmountThreshold": str(threshold),
            "slippageBps": slippage,
            "priceImpactPct": round(float(impact), 6),
            "referrerAmount": "0",
            "routePlan": [
                {
                    "poolId": pool.id,
                    "inputMint": input_mint,
                    "outputMint": output_mint,
                    "feeMint": input_mint,
                    "feeRate": pool.fee_rate_millionths(),
                    "feeAmount": str(fee_in),
                    "remainingAccounts": [],
                }
            ],
        }
        return self._ok(data, version="V1")

    def transaction(self, params: dict[str, str], body: Any, *, base_in: bool) -> web.Response:
        problem = _check_tx_request(body)
        if problem:
            return self._fail(problem)
        self.tx_requests.append(body)
        data = body["swapResponse"]["data"]
        if (data["swapType"] == "BaseIn") != base_in:
            return self._fail("REQ_SWAP_TYPE_ERROR")
        if self.build_transaction is None:
            return self._fail("TX_BUILDER_NOT_SET")
        raw = self.build_transaction(body, data)
        return self._ok([{"transaction": base64.b64encode(raw).decode()}], version="V0")


def _check_tx_request(body: Any) -> str | None:
    """The documented body of ``POST /transaction/swap-base-in``; the first problem found, or None."""
    if not isinstance(body, dict):
        return "REQ_BODY_ERROR"
    types = {
        "computeUnitPriceMicroLamports": str,
        "swapResponse": dict,
        "txVersion": str,
        "wallet": str,
        "wrapSol": bool,
        "unwrapSol": bool,
    }
    for k, t in types.items():
        if not isinstance(body.get(k), t):
            return f"REQ_{k.upper()}_ERROR"
    if not body["computeUnitPriceMicroLamports"].isdigit() or body["txVersion"] not in ("V0", "LEGACY"):
        return "REQ_PARAMS_ERROR"
    extra = set(body) - set(types) - {"inputAccount", "outputAccount"}
    if extra:
        return f"REQ_UNKNOWN_FIELD {sorted(extra)}"
    if body["swapResponse"].get("success") is not True or "data" not in body["swapResponse"]:
        return "REQ_SWAP_RESPONSE_ERROR"
    return None


def _num(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


Handler = Callable[[FakeRaydiumApi, dict[str, str], Any], web.Response]
ROUTES: dict[tuple[str, str], tuple[Handler, bool]] = {
    ("GET", "/pools/info/list-v2"): (FakeRaydiumApi.pool_list, False),
    ("GET", "/pools/info/ids"): (FakeRaydiumApi.pools_by_ids, False),
    ("GET", "/pools/key/ids"): (FakeRaydiumApi.pool_keys, False),
    ("GET", "/main/auto-fee"): (FakeRaydiumApi.auto_fee_json, False),
    ("GET", "/mint/ids"): (FakeRaydiumApi.mint_ids, False),
    ("GET", "/compute/swap-base-in"): (lambda s, p, b: s.compute(p, b, base_in=True), True),
    ("GET", "/compute/swap-base-out"): (lambda s, p, b: s.compute(p, b, base_in=False), True),
    ("POST", "/transaction/swap-base-in"): (lambda s, p, b: s.transaction(p, b, base_in=True), True),
    ("POST", "/transaction/swap-base-out"): (lambda s, p, b: s.transaction(p, b, base_in=False), True),
}


async def record_answers(fake: FakeRaydiumApi, wallet: str) -> dict[str, Any]:
    """One answer of every endpoint of a started fake, by file name of `tests/fixtures/raydium/` (the POST
    body of the transaction request too), as plain JSON."""
    import httpx  # the client side of the recording only

    url, ids = fake.url, ",".join(fake.pools)
    async with httpx.AsyncClient() as http:

        async def get(path: str, **params: Any) -> Any:
            return (await http.get(url + path, params=params)).json()

        out = {
            "pool_list.json": await get(
                "/pools/info/list-v2", size=100, sortField="liquidity", sortType="desc"
            ),
            "pools_by_ids.json": await get("/pools/info/ids", ids=ids),
            "pool_keys.json": await get("/pools/key/ids", ids=ids),
            "auto_fee.json": await get("/main/auto-fee"),
            "mint_ids.json": await get("/mint/ids", mints=f"{WSOL},{USDC}"),
            "compute_swap_base_in.json": await get(
                "/compute/swap-base-in",
                inputMint=WSOL,
                outputMint=USDC,
                amount=10**9,
                slippageBps=50,
                txVersion="V0",
            ),
        }
        request = {
            "computeUnitPriceMicroLamports": "20000",
            "swapResponse": out["compute_swap_base_in.json"],
            "txVersion": "V0",
            "wallet": wallet,
            "wrapSol": True,
            "unwrapSol": False,
        }
        out["transaction_swap_base_in_request.json"] = request
        out["transaction_swap_base_in.json"] = (
            await http.post(url + "/transaction/swap-base-in", json=request)
        ).json()
    return out


# --------------------------------------------------------------------------------------------------
# transactions for the local chain
# --------------------------------------------------------------------------------------------------

CU_LIMIT = 200_000


class ChainSwaps:
    """The `TransactionBuilder` of a `FakeRaydiumApi` for a `LocalSolana` chain (module docstring)."""

    def __init__(self, chain: Any, api: FakeRaydiumApi, *, co_sign: bool = False) -> None:
        from solders.keypair import Keypair
        from solders.pubkey import Pubkey

        self.chain, self.api, self.co_sign = chain, api, co_sign
        self.authority = Keypair()
        self.built: list[dict[str, Any]] = []
        self.applied: list[str] = []
        self._short = 0
        self._intents: dict[bytes, tuple[str, str, int, bool]] = {}
        chain.airdrop(self.authority.pubkey(), 10 * 10**9)
        for token in api.tokens.values():
            mint = Pubkey.from_string(token.address)
            if chain.svm.get_account(mint) is None:
                chain.create_mint(mint, token.decimals)
            chain.set_token(self.authority.pubkey(), mint, 10**6 * 10**token.decimals)
        chain.listeners.append(self._landed)
        api.build_transaction = self

    def fund_user(self, owner: Any, *, sol: int, tokens: Mapping[str, int]) -> None:
        """Give `owner` lamports and token accounts holding `tokens` (mint -> native amount)."""
        from solders.pubkey import Pubkey

        self.chain.airdrop(owner, sol)
        for mint, amount in tokens.items():
            self.chain.set_token(owner, Pubkey.from_string(mint), amount)

    def fail_next_slippage(self, n: int = 1) -> None:
        self._short += n

    @staticmethod
    def _key(message: Any) -> bytes:
        """What identifies a swap whatever its blockhash: its accounts and instructions."""
        parts = [bytes(k) for k in message.account_keys]
        for ix in message.instructions:
            parts += [bytes([ix.program_id_index]), bytes(ix.accounts), bytes(ix.data)]
        return hashlib.sha256(b"|".join(parts)).digest()

    def _landed(self, rec: Any) -> None:
        intent = self._intents.pop(self._key(rec.tx.message), None)
        if intent is not None and rec.err is None:
            pool_id, input_mint, amount, base_in = intent
            self.api.swap(pool_id, input_mint, amount, base_in)
            self.applied.append(rec.signature)

    def __call__(self, body: Mapping[str, Any], data: Mapping[str, Any]) -> bytes:
        from solders.account import Account
        from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
        from solders.instruction import Instruction
        from solders.message import MessageV0, to_bytes_versioned
        from solders.pubkey import Pubkey
        from solders.signature import Signature
        from solders.system_program import TransferParams, transfer
        from solders.token.associated import get_associated_token_address as ata
        from solders.token.state import TokenAccount, TokenAccountState
        from solders.transaction import VersionedTransaction
        from spl.token.constants import TOKEN_PROGRAM_ID as TOK
        from spl.token.instructions import (
            CloseAccountParams,
            SyncNativeParams,
            TransferCheckedParams,
            close_account,
            create_idempotent_associated_token_account,
            sync_native,
            transfer_checked,
        )

        user = Pubkey.from_string(body["wallet"])
        pool = self.api.pools[data["routePlan"][0]["poolId"]]
        base_in = data["swapType"] == "BaseIn"
        tin, tout = Pubkey.from_string(data["inputMint"]), Pubkey.from_string(data["outputMint"])
        threshold = int(data["otherAmountThreshold"])
        amount = int(data["inputAmount"] if base_in else data["outputAmount"])
        try:
            q = pool.quote_swap(data["inputMint"], amount, base_in)
            amount_in, amount_out = q.amount_in, q.amount_out
            ok = amount_out >= threshold if base_in else amount_in <= threshold
        except RaydiumMathError:
            amount_in, amount_out, ok = amount, 0, False
        if self._short:
            self._short -= 1
            ok = False
        if not ok:  # one unit short of what the threshold allows: the check fails on chain
            amount_in = amount if base_in else threshold + 1
            amount_out = max(0, threshold - 1) if base_in else amount
        auth = self.authority.pubkey()
        u_in, u_out, p_in, p_out = ata(user, tin), ata(user, tout), ata(auth, tin), ata(auth, tout)
        dec_in, dec_out = self.chain.decimals(tin), self.chain.decimals(tout)
        ixs: list[Instruction] = [set_compute_unit_limit(CU_LIMIT)]
        price = int(body["computeUnitPriceMicroLamports"])
        if price:
            ixs.append(set_compute_unit_price(price))
        sol = Pubkey.from_string(WSOL)
        wrap = tin == sol and bool(body["wrapSol"])
        unwrap = wrap or (tout == sol and bool(body["unwrapSol"]))
        if unwrap:  # setup: the wrapped-SOL account, created when missing
            ixs.append(create_idempotent_associated_token_account(user, user, sol))
        if wrap:
            ixs.append(transfer(TransferParams(from_pubkey=user, to_pubkey=u_in, lamports=amount_in)))
            ixs.append(sync_native(SyncNativeParams(TOK, u_in)))
        ixs.append(transfer_checked(TransferCheckedParams(TOK, u_in, tin, p_in, user, amount_in, dec_in)))
        out_signer = auth if self.co_sign else user
        ixs.append(
            transfer_checked(TransferCheckedParams(TOK, p_out, tout, u_out, out_signer, amount_out, dec_out))
        )
        if base_in:  # the user's output account must have grown by at least the threshold
            check = self.chain.token_amount(user, tout) + threshold
            ixs.append(transfer_checked(TransferCheckedParams(TOK, u_out, tout, u_out, user, check, dec_out)))
        else:  # the user's input account must not have shrunk by more than the threshold
            have = self.chain.token_amount(user, tin) + (amount_in if wrap else 0)
            check = max(0, have - threshold)
            ixs.append(transfer_checked(TransferCheckedParams(TOK, u_in, tin, u_in, user, check, dec_in)))
        if unwrap:  # cleanup: all of it (and its rent) back to native SOL
            ixs.append(close_account(CloseAccountParams(TOK, ata(user, sol), user, user)))
        if not self.co_sign:  # the user may move the output from the authority's account, and only that
            acc = self.chain.svm.get_account(p_out)
            state = TokenAccount.from_bytes(bytes(acc.data))
            initialized = TokenAccountState.Initialized
            delegated = TokenAccount(
                state.mint, state.owner, state.amount, user, initialized, state.is_native, amount_out
            )
            self.chain.svm.set_account(p_out, Account(acc.lamports, bytes(delegated), acc.owner, False, 0))
        blockhash, _ = self.chain.latest_blockhash()
        msg = MessageV0.try_compile(user, ixs, [], blockhash)
        signers = list(msg.account_keys[: msg.header.num_required_signatures])
        sigs = [Signature.default() for _ in signers]
        if self.co_sign:
            sigs[signers.index(auth)] = self.authority.sign_message(to_bytes_versioned(msg))
        self._intents[self._key(msg)] = (pool.id, data["inputMint"], amount, base_in)
        self.built.append(
            {"user": str(user), "in": amount_in, "out": amount_out, "ok": ok, "pool": pool.kind}
        )
        return bytes(VersionedTransaction.populate(msg, sigs))
