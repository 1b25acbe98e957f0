"""The Raydium API client against the loopback fake (`tests/fakes/raydium_api.py`): data API and trade API
round trips, amounts equal to the sim pools' program math, the documented transaction request, and every
failure mapped onto the error tree. Each test runs its own event loop and stops the fake by itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jsonschema
import pytest

from botnft.domain.errors import NetworkError, Rejected, RequestTimeout
from botnft.venues.raydium.api import (
    AMM_V4_PROGRAM,
    CLMM_PROGRAM,
    CPMM_PROGRAM,
    RaydiumApi,
    RaydiumApiRefused,
    RaydiumApiSettings,
    RaydiumRateLimited,
)
from botnft.venues.raydium.layouts import RaydiumDecodeError
from fakes.raydium_api import USDC, WSOL, FakeRaydiumApi, record_answers

T = TypeVar("T")
SCHEMA = json.loads(
    (Path(__file__).parents[3] / "fixtures" / "raydium" / "raydium_api.schema.json").read_text()
)


def run(fake: FakeRaydiumApi, body: Callable[[RaydiumApi], Awaitable[T]], timeout_s: float = 5.0) -> T:
    async def main() -> T:
        url = await fake.start()
        api = RaydiumApi(RaydiumApiSettings(base_url=url, trade_url=url, timeout_s=timeout_s))
        try:
            return await asyncio.wait_for(body(api), 30)
        finally:
            await api.aclose()
            await fake.stop()

    return asyncio.run(main())


def fake_tx(body: Mapping[str, Any], data: Mapping[str, Any]) -> bytes:
    """A stand-in transaction: the bytes name what was asked, so the test sees them come back unchanged."""
    return f"{body['wallet']}:{data['inputAmount']}:{data['outputAmount']}".encode()


def test_pools_by_mints_come_back_with_their_kind_and_the_sim_pools_price() -> None:
    fake = FakeRaydiumApi()

    async def body(api: RaydiumApi) -> None:
        page = await api.pool_list(mint1=USDC, mint2=WSOL, size=2)
        assert page.count == 3 and page.has_next_page and page.next_page_id
        rest = await api.pool_list(mint1=WSOL, mint2=USDC, size=2, next_page_id=page.next_page_id)
        pools = page.pools + rest.pools
        assert not rest.has_next_page and rest.next_page_id is None
        assert sorted(p.kind or "" for p in pools) == ["amm_v4", "clmm", "cpmm"]
        by_kind = {p.kind: p for p in pools}
        assert {by_kind[k].program_id for k in ("amm_v4", "cpmm", "clmm")} == {
            AMM_V4_PROGRAM,
            CPMM_PROGRAM,
            CLMM_PROGRAM,
        }
        for kind, info in by_kind.items():
            assert kind is not None
            sim = fake.pool(kind)  # type: ignore[arg-type]
            # quote native per base native, times 10^(9-6): UI price
            want = sim.engine.price() * 1000
            assert abs(info.price - Decimal(want.numerator) / want.denominator) < Decimal("1e-9")
            assert (info.mint_a.address, info.mint_a.decimals, info.mint_b.address) == (WSOL, 9, USDC)
            assert info.type == ("Concentrated" if kind == "clmm" else "Standard")
        assert by_kind["amm_v4"].fee_rate == Decimal("0.0025")
        assert by_kind["clmm"].config is not None and by_kind["clmm"].config["tickSpacing"] == 10
        ids = [by_kind["cpmm"].id, "11111111111111111111111111111111"]
        got = await api.pools_by_ids(ids)
        assert [p.id for p in got] == [by_kind["cpmm"].id]
        keys = await api.pool_keys([by_kind["clmm"].id])
        assert keys[0]["vault"] == {"A": fake.pool("clmm").vault_a, "B": fake.pool("clmm").vault_b}
        fees = await api.auto_fee()
        assert (fees.very_high, fees.high, fees.medium) == (30_000, 20_000, 10_000)
        tokens = await api.mints([USDC, WSOL])
        assert [(t.address, t.decimals) for t in tokens] == [(USDC, 6), (WSOL, 9)]

    run(fake, body)


def test_compute_quotes_the_best_pool_by_the_program_math_with_the_slippage_threshold() -> None:
    fake = FakeRaydiumApi()
    amount = 25 * 10**9  # 25 SOL in

    async def body(api: RaydiumApi) -> None:
        c = await api.compute_swap(WSOL, USDC, amount, 50)
        outs = {
            p.id: p.engine.quote_swap(amount, sell_base=True, exact_in=True).amount_out
            for p in fake.pools.values()
        }
        best = max(outs, key=lambda k: outs[k])
        assert (c.swap_type, c.input_mint, c.output_mint, c.input_amount) == ("BaseIn", WSOL, USDC, amount)
        assert c.output_amount == outs[best] and c.route_plan[0].pool_id == best
        assert c.other_amount_threshold == outs[best] * 9950 // 10_000
        assert c.slippage_bps == 50 and c.raw["success"] is True
        out_usdc = 1_000 * 10**6  # buy exactly 1000 USDC with SOL
        c2 = await api.compute_swap(WSOL, USDC, out_usdc, 100, base_in=False)
        ins = {
            p.id: p.engine.quote_swap(out_usdc, sell_base=True, exact_in=False).amount_in
            for p in fake.pools.values()
        }
        assert c2.swap_type == "BaseOut" and c2.output_amount == out_usdc
        assert c2.input_amount == min(ins.values())
        assert c2.other_amount_threshold == -(-min(ins.values()) * 10_100 // 10_000)
        with pytest.raises(RaydiumApiRefused, match="ROUTE_NOT_FOUND"):
            await api.compute_swap(WSOL, "11111111111111111111111111111111", amount, 50)

    run(fake, body)


def test_transaction_request_is_the_documented_body_and_its_transactions_come_back() -> None:
    fake = FakeRaydiumApi(build_transaction=fake_tx)
    wallet = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"

    async def body(api: RaydiumApi) -> list[bytes]:
        c = await api.compute_swap(WSOL, USDC, 10**9, 30)
        return await api.swap_transactions(
            c,
            wallet,
            compute_unit_price_micro_lamports=20_000,
            wrap_sol=True,
            unwrap_sol=False,
            output_account=wallet,
        )

    txs = run(fake, body)
    sent = fake.tx_requests[0]
    jsonschema.validate(sent, {**SCHEMA, "$ref": "#/$defs/SwapTransactionRequest"})
    assert sent["computeUnitPriceMicroLamports"] == "20000" and sent["txVersion"] == "V0"
    assert (sent["wallet"], sent["wrapSol"], sent["unwrapSol"], sent["outputAccount"]) == (
        wallet,
        True,
        False,
        wallet,
    )
    assert "inputAccount" not in sent
    data = sent["swapResponse"]["data"]
    assert txs == [f"{wallet}:{data['inputAmount']}:{data['outputAmount']}".encode()]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("rate_limit", RaydiumRateLimited),
        ("server_error", NetworkError),
        ("timeout", RequestTimeout),
        ("lost_response", NetworkError),
    ],
)
def test_trade_api_faults_map_onto_the_error_tree(fault: str, error: type[Exception]) -> None:
    fake = FakeRaydiumApi(delay_s=2.0)
    fake.inject(fault)

    async def body(api: RaydiumApi) -> None:
        with pytest.raises(error) as info:
            await api.compute_swap(WSOL, USDC, 10**9, 50)
        if fault == "rate_limit":
            assert isinstance(info.value, RaydiumRateLimited) and info.value.retry_after_s == 1.0
        c = await api.compute_swap(WSOL, USDC, 10**9, 50)  # the next request is served
        assert c.input_amount == 10**9

    run(fake, body, timeout_s=0.5)
    assert sum(1 for m, p, _ in fake.requests if p == "/compute/swap-base-in") == 2


def test_unreachable_api_is_a_network_error() -> None:
    async def main() -> None:
        api = RaydiumApi(RaydiumApiSettings(base_url="http://127.0.0.1:9", trade_url="http://127.0.0.1:9"))
        try:
            with pytest.raises(NetworkError):
                await api.auto_fee()
        finally:
            await api.aclose()

    asyncio.run(main())


def _served(status: int, content: bytes) -> RaydiumApi:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=content))
    return RaydiumApi(
        RaydiumApiSettings("http://raydium.test", "http://raydium.test"),
        client=httpx.AsyncClient(transport=transport),
    )


@pytest.mark.parametrize(
    ("status", "content", "error", "match"),
    [
        (200, b"<html>", RaydiumDecodeError, "not JSON"),
        (200, b'{"data": []}', RaydiumDecodeError, "success"),
        (
            200,
            b'{"id": "x", "success": true, "data": {"default": {"vh": "fast", "h": 1, "m": 1}}}',
            RaydiumDecodeError,
            "vh",
        ),
        (
            200,
            b'{"id": "x", "success": false, "msg": "REQ_AMOUNT_ERROR"}',
            RaydiumApiRefused,
            "REQ_AMOUNT_ERROR",
        ),
        (404, b"", Rejected, "HTTP 404"),
    ],
)
def test_malformed_or_refused_answers(
    status: int, content: bytes, error: type[Exception], match: str
) -> None:
    async def main() -> None:
        api = _served(status, content)
        try:
            with pytest.raises(error, match=match):
                await api.auto_fee()
        finally:
            await api.aclose()

    asyncio.run(main())


def test_compute_amounts_must_be_integers_and_json_numbers_are_read_as_decimals() -> None:
    compute = {
        "id": "x",
        "success": True,
        "version": "V1",
        "data": {
            "swapType": "BaseIn",
            "inputMint": WSOL,
            "inputAmount": "1000000000",
            "outputMint": USDC,
            "outputAmount": "149.5",
            "otherAmountThreshold": "148000000",
            "slippageBps": 50,
            "priceImpactPct": 0.1,
            "routePlan": [],
        },
    }

    async def main() -> None:
        api = _served(200, json.dumps(compute).encode())
        try:
            with pytest.raises(RaydiumDecodeError, match="outputAmount"):
                await api.compute_swap(WSOL, USDC, 10**9, 50)
            compute["data"]["outputAmount"] = "149500000"  # type: ignore[index]
            api2 = _served(200, json.dumps(compute).encode())
            c = await api2.compute_swap(WSOL, USDC, 10**9, 50)
            assert c.price_impact_pct == Decimal("0.1") and c.output_amount == 149_500_000
            await api2.aclose()
        finally:
            await api.aclose()

    asyncio.run(main())


# --------------------------------------------------------------------------------------------------
# shapes: the fixtures and the fake's answers against the schema written from the SDK types
# --------------------------------------------------------------------------------------------------

FIXTURES = Path(__file__).parents[3] / "fixtures" / "raydium"
SHAPES = {
    "pool_list.json": "PoolListResponse",
    "pools_by_ids.json": "PoolsByIdsResponse",
    "pool_keys.json": "PoolKeysResponse",
    "auto_fee.json": "AutoFeeResponse",
    "mint_ids.json": "MintIdsResponse",
    "compute_swap_base_in.json": "SwapCompute",
    "transaction_swap_base_in_request.json": "SwapTransactionRequest",
    "transaction_swap_base_in.json": "SwapTransactionResponse",
}


def _validator(definition: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{definition}"})


@pytest.mark.parametrize(("name", "definition"), sorted(SHAPES.items()))
def test_recorded_fixture_matches_the_sdk_schema(name: str, definition: str) -> None:
    doc = json.loads((FIXTURES / name).read_text())
    errors = sorted(_validator(definition).iter_errors(doc), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_schema_catches_a_missing_or_mistyped_field() -> None:
    doc = json.loads((FIXTURES / "pool_list.json").read_text())
    v = _validator("PoolListResponse")
    del doc["data"]["data"][0]["mintA"]["decimals"]
    assert any("decimals" in e.message for e in v.iter_errors(doc))
    doc = json.loads((FIXTURES / "compute_swap_base_in.json").read_text())
    doc["data"]["outputAmount"] = 1.5
    assert not _validator("SwapCompute").is_valid(doc)


def test_the_fakes_answers_match_the_sdk_schema() -> None:
    """Every endpoint of the fake answers in the documented shape (the fixtures are these answers)."""
    fake = FakeRaydiumApi(build_transaction=lambda body, data: bytes(64))

    async def body(api: RaydiumApi) -> dict[str, Any]:
        return await record_answers(fake, "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM")

    answers = run(fake, body)
    assert set(answers) == set(SHAPES)
    for name, doc in answers.items():
        errors = list(_validator(SHAPES[name]).iter_errors(doc))
        assert not errors, (name, [f"{list(e.absolute_path)}: {e.message}" for e in errors])
