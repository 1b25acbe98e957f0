"""No response and no log line (at DEBUG, SQLAlchemy's statements included) carries a password, a client
secret, an access or refresh token, or the signing key, through logins, refreshes, reuse, refusals and
errors. The key file is written 0600, and the settings never print the key."""

from __future__ import annotations

import base64
import logging
import stat
from typing import Any

import pytest
from api_testkit import PASSWORD, bearer, login, make_user
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient

from botnft.api.auth.keys import GENERATED_KEY_NAME, private_pem
from botnft.api.settings import ApiSettings


def key_material(app: FastAPI) -> list[str]:
    settings: ApiSettings = app.state.settings
    path = settings.key_dir() / GENERATED_KEY_NAME
    pem = path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    body = "".join(pem.decode().strip().splitlines()[1:-1])
    return [
        body,
        base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        base64.b64encode(raw).decode(),
        raw.hex(),
    ]


def test_no_response_or_log_line_contains_a_secret(
    api_app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # statements and their parameters
    make_user(api_app, "alice", "read trade")
    client_secret = api_app.state.accounts.add_client("robot", frozenset({"read"}))
    responses: list[Any] = []
    issuing: list[Any] = []

    issuing.append(login(client, "alice"))
    responses.append(login(client, "alice", "a wrong password!"))
    responses.append(login(client, "alice", PASSWORD + "x"))
    first = issuing[0].json()
    issuing.append(
        client.post(
            "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        )
    )
    responses.append(
        client.post(
            "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        )
    )
    issuing.append(
        client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": "robot", "client_secret": client_secret},
        )
    )
    responses.append(
        client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "robot",
                "client_secret": client_secret + "x",
            },
        )
    )
    tampered = first["access_token"][:-4] + "AAAA"
    responses.append(client.get("/v1/ready", headers=bearer(tampered)))
    responses.append(client.post("/v1/auth/token", json={"password": PASSWORD}))
    responses.append(client.get("/v1/auth/jwks"))
    responses.append(client.get("/openapi.json"))

    tokens = [first["access_token"], first["refresh_token"], tampered]
    tokens += [r.json()["access_token"] for r in issuing[1:]]
    tokens += [issuing[1].json()["refresh_token"]]
    secrets = [PASSWORD, PASSWORD + "x", "a wrong password!", client_secret, *tokens, *key_material(api_app)]

    logs = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "api_refresh_tokens" in logs  # the capture did see SQLAlchemy's statements and parameters
    for secret in secrets:
        assert secret not in logs
        for response in responses:
            assert secret not in response.text
            assert all(secret not in value for value in response.headers.values())
    for response in issuing:  # a token response carries its own tokens, nothing else secret
        for secret in [PASSWORD, client_secret, *key_material(api_app)]:
            assert secret not in response.text


def test_the_generated_key_is_0600_and_reused_on_the_next_start(api_app: FastAPI, make_settings: Any) -> None:
    settings: ApiSettings = api_app.state.settings
    path = settings.key_dir() / GENERATED_KEY_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    from botnft.api.app import create_app

    again = create_app(make_settings())
    assert again.state.tokens_keys.signing_kid == api_app.state.tokens_keys.signing_kid


def test_a_key_readable_by_others_is_refused_in_one_line(api_app: FastAPI, make_settings: Any) -> None:
    from botnft.api.app import create_app
    from botnft.domain.errors import UserError

    settings: ApiSettings = api_app.state.settings
    path = settings.key_dir() / GENERATED_KEY_NAME
    path.chmod(0o644)
    with pytest.raises(UserError, match=r"readable by others.*chmod 600"):
        create_app(make_settings())


def test_settings_and_keyring_never_show_the_key(make_settings: Any) -> None:
    pem = private_pem(Ed25519PrivateKey.generate()).decode()
    settings = make_settings(signing_key=pem)
    body = "".join(pem.strip().splitlines()[1:-1])
    assert body not in repr(settings) and body not in str(settings.model_dump())
    from botnft.api.auth.keys import load_keyring

    assert body not in repr(load_keyring(settings))
