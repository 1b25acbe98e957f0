"""Recorded Jupiter request/response fixtures (recorded from the fake with the adapter), and what the adapter
and the fake exchange live, checked field by field against a JSON Schema written from Jupiter's OpenAPI
"Swap API" (source in the schema's $comment)."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from solders.keypair import Keypair
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, Side
from botnft.venues.jupiter import JupiterSettings, build_jupiter
from botnft.venues.solana import SendJournal, WalletKey
from fakes.jupiter_api import FakeJupiter
from fakes.solana_rpc import LocalSolana

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "jupiter"
SCHEMA = json.loads((FIXTURES / "swap_api.schema.json").read_text())


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]})


def errors(name: str, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(name).iter_errors(doc)]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_schema_is_valid_and_names_its_source() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert "@jup-ag/api 6.0.48" in SCHEMA["$comment"] and "Swap API" in SCHEMA["$comment"]


@pytest.mark.parametrize("name", ["quote_exact_in.json", "quote_exact_out.json"])
def test_quote_fixtures(name: str) -> None:
    fx = load(name)
    assert fx["status"] == 200
    assert errors("QuoteRequest", fx["request"]["query"]) == []
    assert errors("QuoteResponse", fx["response"]) == []
    q, r = fx["request"]["query"], fx["response"]
    assert (r["inputMint"], r["outputMint"], r["swapMode"]) == (
        q["inputMint"],
        q["outputMint"],
        q["swapMode"],
    )
    given = "inAmount" if q["swapMode"] == "ExactIn" else "outAmount"
    assert r[given] == q["amount"]
    legs = r["routePlan"]
    assert sum(int(s["swapInfo"]["inAmount"]) for s in legs) == int(r["inAmount"])
    assert sum(int(s["swapInfo"]["outAmount"]) for s in legs) == int(r["outAmount"])
    assert sum(s["percent"] for s in legs) == 100


def test_error_fixture() -> None:
    fx = load("quote_error.json")
    assert fx["status"] == 400 and errors("ErrorResponse", fx["response"]) == []
    assert fx["response"]["errorCode"] == "CIRCULAR_ARBITRAGE_IS_DISABLED"


def test_swap_fixture_and_its_transaction() -> None:
    fx = load("swap.json")
    body, resp = fx["request"]["body"], fx["response"]
    assert fx["status"] == 200
    assert errors("SwapRequest", body) == [] and errors("SwapResponse", resp) == []
    tx = VersionedTransaction.from_bytes(base64.b64decode(resp["swapTransaction"]))
    signers = [str(k) for k in tx.message.account_keys[: tx.message.header.num_required_signatures]]
    assert signers[0] == body["userPublicKey"]  # the user pays and signs first
    assert tx.signatures[0] == Signature.default()  # left for the user
    assert all(s != Signature.default() for s in tx.signatures[1:])  # the pool's is filled in


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.pop("inAmount"), "'inAmount' is a required property"),
        (lambda d: d.update(inAmount=1000), "is not of type 'string'"),
        (lambda d: d.update(outAmount="1.5"), "does not match"),
        (lambda d: d.update(swapMode="Both"), "is not one of"),
        (lambda d: d.update(surprise=1), "Additional properties"),
        (lambda d: d["routePlan"][0]["swapInfo"].pop("ammKey"), "'ammKey' is a required property"),
        (lambda d: d["routePlan"][0].update(percent=101), "greater than the maximum"),
    ],
)
def test_the_schema_catches_a_wrong_field(mutate: Any, needle: str) -> None:
    doc = copy.deepcopy(load("quote_exact_in.json")["response"])
    mutate(doc)
    found = errors("QuoteResponse", doc)
    assert any(needle in e for e in found), found


def test_what_the_adapter_sends_and_the_fake_answers_match_the_schema() -> None:
    async def main() -> None:
        chain = LocalSolana()
        fake = FakeJupiter(chain)
        kp = Keypair()
        fake.fund_user(kp.pubkey(), sol=Decimal(10), usdc=Decimal(1_000))
        answers: list[tuple[str, int, Any]] = []

        async def hook(r: httpx.Response) -> None:
            await r.aread()
            answers.append((r.url.path.rsplit("/", 1)[-1], r.status_code, r.json()))

        async with chain.serve() as rpc_url, fake.serve() as jup_url:
            s = JupiterSettings.from_mapping({"base_url": jup_url, "poll_interval_s": 0.02})
            c = build_jupiter(s, key=WalletKey(kp, "t"), rpc_url=rpc_url, journal=SendJournal(":memory:"))
            c.api.http.event_hooks["response"].append(hook)
            async with c:
                for i, side in enumerate((Side.BUY, Side.SELL)):
                    await c.create_order(
                        Order(f"s{i}", InstrumentId("SOL/USDC", "JUPITER"), side, Decimal(1), 0)
                    )
        kinds = {"quote": "QuoteRequest", "swap": "SwapRequest"}
        assert [k for k, _ in fake.requests] == ["quote", "swap", "quote", "swap"]
        for kind, doc in fake.requests:
            assert errors(kinds[kind], doc) == [], (kind, doc)
        assert [(k, st) for k, st, _ in answers] == [("quote", 200), ("swap", 200)] * 2
        for kind, _, doc in answers:
            assert errors({"quote": "QuoteResponse", "swap": "SwapResponse"}[kind], doc) == []

    asyncio.run(asyncio.wait_for(main(), 30))
