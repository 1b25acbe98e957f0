"""API settings come from defaults, bot.toml's [api] table, secret files, BOT_API_* variables and flags,
in that order of precedence; mistakes are one-line errors. Keys: RFC 7638 thumbprints (RFC 8037's test
vector), and extra verify keys let replicas accept tokens of a key being rotated out."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from botnft.api.app import create_app
from botnft.api.auth.keys import private_pem, thumbprint
from botnft.api.settings import load_api_settings
from botnft.config import load_settings
from botnft.domain.errors import UserError


@pytest.fixture
def bot_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text("")
    monkeypatch.setenv("BOT_CONFIG", str(path))
    monkeypatch.setenv("BOT_API_SECRETS_DIR", str(tmp_path / "secrets"))
    for name in ("BOT_API_PORT", "BOT_API_HOST", "BOT_API_ISSUER", "BOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_flags_beat_environment_beats_secret_files_beat_the_toml_table(
    bot_toml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_toml.write_text(
        'database_url = "sqlite:///from-toml.db"\n[api]\nport = 7001\nhost = "10.0.0.1"\nissuer = "toml"\n'
        'audience = "toml-aud"\ncors_origins = ["https://a.example"]\n'
    )
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "bot_api_issuer").write_text("from-secret-file")
    (secrets / "bot_api_audience").write_text("secret-aud")
    monkeypatch.setenv("BOT_API_AUDIENCE", "env-aud")
    monkeypatch.setenv("BOT_API_HOST", "10.0.0.2")
    settings = load_api_settings(host="10.0.0.3")
    assert settings.port == 7001  # toml
    assert settings.issuer == "from-secret-file"  # secret file over toml
    assert settings.audience == "env-aud"  # environment over secret file
    assert settings.host == "10.0.0.3"  # flag over environment
    assert settings.cors_origins == ("https://a.example",)
    assert settings.database_url == "sqlite:///from-toml.db"  # the bot's own, when [api] names none
    assert load_settings().api["port"] == 7001  # other commands still read a bot.toml with [api]


def test_lists_come_from_the_environment_comma_separated(
    bot_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_API_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("BOT_API_TRUSTED_PROXIES", "127.0.0.1")
    settings = load_api_settings()
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.trusted_proxies == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[api]\nport = 70000\n", "bad setting api.port"),
        ("[api]\nnot_a_setting = 1\n", "bad setting api.not_a_setting"),
        ("[api]\nport = \n", "cannot read"),
    ],
)
def test_a_bad_api_setting_is_a_one_line_user_error(bot_toml: Path, toml: str, message: str) -> None:
    bot_toml.write_text(toml)
    with pytest.raises(UserError) as refused:
        load_api_settings()
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_bad_secret_value_is_refused_without_echoing_it(
    bot_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "BOT_API_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----\nsupersecretgarbage\n-----END PRIVATE KEY-----"
    )
    settings = load_api_settings(data_dir=None)
    with pytest.raises(UserError) as refused:
        create_app(settings)
    assert "supersecretgarbage" not in str(refused.value)


def test_the_kid_is_the_rfc_7638_thumbprint_of_rfc_8037s_example_key() -> None:
    # RFC 8037 appendix A.1 (the key) and A.3 (its JWK thumbprint)
    d = base64.urlsafe_b64decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
    key = Ed25519PrivateKey.from_private_bytes(d)
    x = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert base64.urlsafe_b64encode(x).rstrip(b"=").decode() == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert thumbprint(key.public_key()) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_signing_key_from_a_file_and_an_old_key_still_accepted_during_rotation(
    make_settings: Any, tmp_path: Path, clock: Any
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old_file, new_file = tmp_path / "old.pem", tmp_path / "new.pem"
    old_file.write_bytes(private_pem(old))
    new_file.write_bytes(private_pem(new))
    now = int(clock.now)
    claims = {
        "iss": "botnft",
        "aud": "botnft-api",
        "sub": "user:a",
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "jti": "j1",
        "scope": "read",
    }
    old_token = jwt.encode(claims, old, algorithm="EdDSA", headers={"kid": thumbprint(old.public_key())})
    rotating = create_app(make_settings(signing_key_file=new_file, verify_key_files=(old_file,)), clock=clock)
    assert rotating.state.tokens_keys.signing_kid == thumbprint(new.public_key())
    assert rotating.state.tokens.verify_access(old_token) is not None
    with TestClient(rotating) as web:
        assert {k["kid"] for k in web.get("/v1/auth/jwks").json()["keys"]} == {
            thumbprint(old.public_key()),
            thumbprint(new.public_key()),
        }
    rotated = create_app(make_settings(signing_key_file=new_file), clock=clock)
    assert rotated.state.tokens.verify_access(old_token) is None
