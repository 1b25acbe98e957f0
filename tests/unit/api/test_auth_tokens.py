"""Access tokens are refused unless signed by the server's Ed25519 key with alg EdDSA and every claim
right: the forged tokens here are built independently (PyJWT or by hand), never by the server's code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from api_testkit import Clock, bearer, login, make_user
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from botnft.api.auth import Principal, ReadPrincipal, require_scopes
from botnft.api.auth.keys import GENERATED_KEY_NAME
from botnft.api.settings import ApiSettings

probe = APIRouter(prefix="/v1/probe")


@probe.get("/read")
def read_probe(principal: ReadPrincipal) -> dict[str, str]:
    return {"who": principal.subject}


@probe.post("/trade", dependencies=[require_scopes("trade")])
def trade_probe() -> dict[str, str]:
    return {"ok": "yes"}


@probe.post("/admin")
def admin_probe(principal: Principal = require_scopes("admin")) -> dict[str, str]:  # noqa: B008
    return {"who": principal.subject}


@pytest.fixture
def app(api_app: FastAPI) -> FastAPI:
    api_app.include_router(probe)
    return api_app


@pytest.fixture
def web(app: FastAPI) -> Any:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def server_key(app: FastAPI) -> Ed25519PrivateKey:
    settings: ApiSettings = app.state.settings
    pem = (settings.key_dir() / GENERATED_KEY_NAME).read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def kid_of(app: FastAPI) -> str:
    return str(app.state.tokens_keys.signing_kid)


def claims(clock: Clock, **changes: Any) -> dict[str, Any]:
    now = int(clock.now)
    base: dict[str, Any] = {
        "iss": "botnft",
        "aud": "botnft-api",
        "sub": "user:mallory",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "forged-1",
        "scope": "read trade admin",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(app: FastAPI, payload: dict[str, Any], key: Ed25519PrivateKey | None = None) -> str:
    return jwt.encode(payload, key or server_key(app), algorithm="EdDSA", headers={"kid": kid_of(app)})


def assert_refused(response: Any, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_signed_by_the_server_key_with_right_claims_is_accepted(
    app: FastAPI, web: Any, clock: Clock
) -> None:
    response = web.get("/v1/probe/read", headers=bearer(sign(app, claims(clock))))
    assert response.status_code == 200
    assert response.json() == {"who": "user:mallory"}


def test_no_token_or_a_garbage_token_is_401_with_a_bearer_challenge(web: Any) -> None:
    assert_refused(web.get("/v1/probe/read"))
    assert_refused(web.get("/v1/probe/read", headers=bearer("not.a.jwt")))
    assert_refused(web.get("/v1/probe/read", headers={"Authorization": "Basic dXNlcjpwYXNz"}))


def test_alg_none_is_refused(app: FastAPI, web: Any, clock: Clock) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid_of(app)}).encode())
    payload = b64(json.dumps(claims(clock)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        assert_refused(web.get("/v1/probe/read", headers=bearer(token)))


def test_hs256_signed_with_the_public_key_is_refused(app: FastAPI, web: Any, clock: Clock) -> None:
    public_pem = (
        server_key(app)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid_of(app)}).encode())
        + "."
        + b64(json.dumps(claims(clock)).encode())
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert_refused(web.get("/v1/probe/read", headers=bearer(f"{signing_input}.{b64(mac)}")))


def test_a_token_signed_by_another_key_is_refused_even_with_the_server_kid(
    app: FastAPI, web: Any, clock: Clock
) -> None:
    token = sign(app, claims(clock), key=Ed25519PrivateKey.generate())
    assert_refused(web.get("/v1/probe/read", headers=bearer(token)))


def test_an_unknown_kid_is_refused(app: FastAPI, web: Any, clock: Clock) -> None:
    token = jwt.encode(claims(clock), server_key(app), algorithm="EdDSA", headers={"kid": "other"})
    assert_refused(web.get("/v1/probe/read", headers=bearer(token)))


def test_a_tampered_payload_is_refused(app: FastAPI, web: Any) -> None:
    make_user(app, "reader", "read")
    issued = login(web, "reader").json()["access_token"]
    assert web.get("/v1/probe/read", headers=bearer(issued)).status_code == 200
    header, payload, signature = issued.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert body["scope"] == "read"
    body["scope"] = "read trade admin"
    forged = f"{header}.{b64(json.dumps(body).encode())}.{signature}"
    assert_refused(web.post("/v1/probe/admin", headers=bearer(forged)))
    # and the untouched token is still only a reader
    assert web.post("/v1/probe/admin", headers=bearer(issued)).status_code == 403


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("expired", {"exp": -60, "iat": -700, "nbf": -700}),
        ("not yet valid", {"nbf": 600}),
        ("issued in the future", {"iat": 600, "nbf": 600}),
        ("wrong audience", {"aud": "someone-else"}),
        ("audience list", {"aud": ["botnft-api", "x"]}),
        ("wrong issuer", {"iss": "evil"}),
        ("no exp", {"exp": None}),
        ("no jti", {"jti": None}),
        ("no scope", {"scope": None}),
        ("no sub", {"sub": None}),
        ("bad sub", {"sub": "root"}),
        ("unknown scope", {"scope": "read root"}),
        ("string exp", {"exp": "9999999999"}),
    ],
)
def test_a_token_with_a_bad_claim_is_refused(
    app: FastAPI, web: Any, clock: Clock, name: str, changes: dict[str, Any]
) -> None:
    now = int(clock.now)
    shifted = {
        k: (now + v if k in ("exp", "iat", "nbf") and isinstance(v, int) else v) for k, v in changes.items()
    }
    assert_refused(web.get("/v1/probe/read", headers=bearer(sign(app, claims(clock, **shifted)))))


def test_a_token_expires_after_its_lifetime_on_the_server_clock(app: FastAPI, web: Any, clock: Clock) -> None:
    make_user(app, "reader", "read")
    issued = login(web, "reader").json()
    assert issued["expires_in"] == 900
    token = issued["access_token"]
    clock.advance(900 - 10)
    assert web.get("/v1/probe/read", headers=bearer(token)).status_code == 200
    clock.advance(10 + 5)  # past exp and the 5 s leeway
    assert_refused(web.get("/v1/probe/read", headers=bearer(token)))


def test_a_missing_scope_is_403_naming_it_and_the_right_scope_passes(
    app: FastAPI, web: Any, clock: Clock
) -> None:
    reader = sign(app, claims(clock, scope="read"))
    refused = web.post("/v1/probe/trade", headers=bearer(reader))
    assert_refused(refused, 403)
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert "trade" in refused.json()["detail"]
    assert_refused(web.post("/v1/probe/admin", headers=bearer(reader)), 403)
    trader = sign(app, claims(clock, scope="trade"))
    assert web.post("/v1/probe/trade", headers=bearer(trader)).status_code == 200
    assert_refused(web.get("/v1/probe/read", headers=bearer(trader)), 403)  # scopes do not imply each other


def test_issued_tokens_carry_every_claim_and_verify_with_the_published_jwks(
    app: FastAPI, web: Any, clock: Clock
) -> None:
    make_user(app, "trader", "read trade")
    token = login(web, "trader").json()["access_token"]
    jwks = web.get("/v1/auth/jwks").json()
    assert [k["kid"] for k in jwks["keys"]] == [jwt.get_unverified_header(token)["kid"]]
    assert all("d" not in k for k in jwks["keys"])
    public = jwt.PyJWK(jwks["keys"][0]).key
    decoded = jwt.decode(
        token,
        public,
        algorithms=["EdDSA"],
        audience="botnft-api",
        issuer="botnft",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    now = int(clock.now)
    assert decoded["sub"] == "user:trader"
    assert decoded["scope"] == "read trade"
    assert (decoded["iat"], decoded["nbf"], decoded["exp"]) == (now, now, now + 900)
    assert len(decoded["jti"]) >= 16
