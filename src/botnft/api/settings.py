"""The API server's settings: defaults, then the `[api]` table of bot.toml, then secret files, then
`BOT_API_<FIELD>` environment variables, then `bot serve` flags. Secrets (the signing key) are `SecretStr`
and never printed; the database and data folder come from the bot's own settings unless `[api]` names them.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from botnft.domain.errors import UserError

SCOPES = ("read", "trade", "admin")
"""Every scope a token can carry; routes ask for them with `require_scopes`."""

DEFAULT_SECRETS_DIR = Path("/run/secrets")


class ApiSettings(BaseSettings):
    """Everything `bot serve` and the app factory need. Durations in seconds, sizes in bytes."""

    model_config = SettingsConfigDict(
        env_prefix="BOT_API_", extra="forbid", frozen=True, allow_inf_nan=False, hide_input_in_errors=True
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65_535)
    workers: int = Field(default=1, ge=1, le=64)
    #: None: the bot's own database (`database_url` in bot.toml / BOT_DATABASE_URL)
    database_url: str | None = None
    #: where the signing key is generated on first start (`<data_dir>/api/`); None: the bot's runs folder
    data_dir: Path | None = None

    issuer: str = Field(default="botnft", min_length=1, max_length=200)
    audience: str = Field(default="botnft-api", min_length=1, max_length=200)
    access_token_ttl_s: int = Field(default=900, ge=10, le=86_400)
    refresh_token_ttl_s: int = Field(default=30 * 86_400, ge=60, le=365 * 86_400)
    #: accepted clock difference between replicas when checking exp / nbf / iat
    clock_leeway_s: int = Field(default=5, ge=0, le=300)
    #: an Ed25519 private key in PEM (BOT_API_SIGNING_KEY or the secret file `bot_api_signing_key`)
    signing_key: SecretStr | None = None
    #: a file holding the Ed25519 private key in PEM; used when `signing_key` is not given
    signing_key_file: Path | None = None
    #: extra public keys (PEM files) the replicas still accept while a signing key is being rotated
    verify_key_files: Annotated[tuple[Path, ...], NoDecode] = ()

    #: argon2id cost of the password hashes this server writes (stored hashes carry their own)
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65_536, ge=1_024, le=4_194_304)
    #: login throttling: at most this many failures per account / per client IP within the window
    login_max_failures_per_account: int = Field(default=5, ge=1, le=10_000)
    login_max_failures_per_ip: int = Field(default=20, ge=1, le=100_000)
    login_window_s: int = Field(default=900, ge=1, le=86_400)

    max_body_bytes: int = Field(default=1_048_576, ge=1_024, le=1_073_741_824)
    request_timeout_s: float = Field(default=30.0, gt=0, le=3_600)
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    #: send Strict-Transport-Security (the server, or the proxy in front of it, speaks TLS)
    hsts: bool = False
    docs: bool = True
    #: serve HTTPS directly (PEM files); usually nginx terminates TLS and `hsts` is set instead
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None

    #: peers whose X-Forwarded-For is believed (the nginx in front); everyone else is keyed by its socket
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    redis_url: str | None = None
    rate_limit: str = "5/second"
    #: backtest job worker processes this server starts on the first job (0: run `python -m botnft.api.jobs`)
    job_workers: int = Field(default=1, ge=0, le=32)
    #: names this replica in the `X-Replica` response header (load-balancing measurements); None: none
    replica: str | None = Field(default=None, max_length=64)

    @field_validator("cors_origins", "trusted_proxies", "verify_key_files", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # BOT_API_CORS_ORIGINS=https://a,https://b (JSON lists work too)
            stripped = value.strip()
            if stripped.startswith("["):
                return json.loads(stripped)
            return tuple(item.strip() for item in stripped.split(",") if item.strip())
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("BOT_CONFIG", "bot.toml"))
        table: dict[str, Any] = {}
        if toml_file.is_file():
            with toml_file.open("rb") as fh:
                found = tomllib.load(fh).get("api", {})
            if not isinstance(found, dict):
                raise ValueError("api in bot.toml must be a table ([api])")
            table = found
        toml = InitSettingsSource(settings_cls, init_kwargs=table)
        return (init_settings, env_settings, file_secret_settings, toml)

    def resolved_database_url(self) -> str:
        assert self.database_url is not None, "load_api_settings fills database_url"
        return self.database_url

    def key_dir(self) -> Path:
        assert self.data_dir is not None, "load_api_settings fills data_dir"
        return self.data_dir / "api"


def load_api_settings(**overrides: Any) -> ApiSettings:
    """The API settings with `bot serve` flags on top; a bad file or value is a one-line `UserError`.

    Secret files are read from `BOT_API_SECRETS_DIR` (default /run/secrets, Docker's), one file per
    field named `bot_api_<field>`.
    """
    from botnft.config import load_settings

    bot = load_settings()
    secrets_dir = Path(os.environ.get("BOT_API_SECRETS_DIR", str(DEFAULT_SECRETS_DIR)))
    kwargs = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = ApiSettings(
            _secrets_dir=secrets_dir if secrets_dir.is_dir() else None,  # type: ignore[call-arg]
            **kwargs,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "api"
        raise UserError(f"bad setting api.{where}: {err['msg']}") from None
    except Exception as exc:  # malformed TOML
        raise UserError(f"cannot read the [api] settings: {str(exc).splitlines()[0]}") from None
    update: dict[str, Any] = {}
    if settings.database_url is None:
        update["database_url"] = bot.database_url
    if settings.data_dir is None:
        update["data_dir"] = bot.runs_dir
    return settings.model_copy(update=update) if update else settings
