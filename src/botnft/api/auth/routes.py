"""`POST /v1/auth/token` (OAuth2: password, client_credentials, refresh_token grants) and
`GET /v1/auth/jwks` (the public keys). Errors follow RFC 6749 §5.2 (`error` member: invalid_request,
invalid_client, invalid_grant, invalid_scope, unsupported_grant_type), inside RFC 9457 problem details.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, ConfigDict

from botnft.api.auth.principal import PrincipalKind
from botnft.api.auth.refresh import Rotated
from botnft.api.auth.users import Account
from botnft.api.deps import client_ip
from botnft.api.problems import ProblemError, problem_responses
from botnft.api.settings import SCOPES

router = APIRouter(prefix="/v1/auth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str
    refresh_token: str | None = None


class Jwk(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class JwkSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keys: list[Jwk]


def _oauth_error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> ProblemError:
    return ProblemError(
        status,
        detail,
        kind=f"oauth-{error.replace('_', '-')}",
        error=error,
        headers={**NO_STORE, **(headers or {})},
    )


def _invalid_grant(detail: str = "the credentials or the refresh token are not valid") -> ProblemError:
    return _oauth_error(400, "invalid_grant", detail)


def _basic(request: Request) -> tuple[str, str] | None:
    """client_id and client_secret from an `Authorization: Basic` header (RFC 6749 §2.3.1)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _oauth_error(401, "invalid_client", "malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _oauth_error(401, "invalid_client", "malformed Basic credentials")
    return unquote(client_id), unquote(secret)


def _granted(account_scopes: frozenset[str], requested: str | None) -> frozenset[str]:
    if requested is None or not requested.strip():
        return account_scopes
    wanted = frozenset(requested.split())
    if not wanted <= set(SCOPES) or not wanted <= account_scopes:
        raise _oauth_error(
            400, "invalid_scope", "the requested scope is unknown or not granted to this account"
        )
    return wanted


def _throttled(request: Request, account: str) -> None:
    wait = request.app.state.throttle.retry_after(account, client_ip(request))
    if wait is not None:
        request.state.audit_detail = {**getattr(request.state, "audit_detail", {}), "outcome": "throttled"}
        raise ProblemError(
            429,
            "too many failed logins: try again later",
            kind="login-throttled",
            headers={"Retry-After": str(wait), **NO_STORE},
        )


def _login(request: Request, kind: PrincipalKind, name: str, secret: str) -> Account | None:
    key = f"{kind}:{name}"
    request.state.audit_principal = key
    _throttled(request, key)
    account = request.app.state.accounts.authenticate(kind, name, secret)
    throttle = request.app.state.throttle
    if account is None:
        throttle.failed(key, client_ip(request))
        request.state.audit_detail = {**getattr(request.state, "audit_detail", {}), "outcome": "refused"}
        return None
    throttle.succeeded(key)
    return account  # type: ignore[no-any-return]


def _respond(
    request: Request,
    response: Response,
    kind: PrincipalKind,
    name: str,
    scopes: frozenset[str],
    refresh: str | None,
) -> TokenResponse:
    issued = request.app.state.tokens.issue(kind, name, scopes)
    request.state.audit_detail = {
        **getattr(request.state, "audit_detail", {}),
        "outcome": "issued",
        "jti": issued.jti,
    }
    response.headers.update(NO_STORE)
    scope = " ".join(s for s in SCOPES if s in scopes)
    return TokenResponse(
        access_token=issued.token, expires_in=issued.expires_in, scope=scope, refresh_token=refresh
    )


FormStr = Annotated[str | None, Form(max_length=4096)]


@router.post(
    "/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    responses=problem_responses(400, 401, 422, 429),
    summary="Get an access token (OAuth2 password, client_credentials or refresh_token grant)",
)
def token(
    request: Request,
    response: Response,
    grant_type: Annotated[str, Form(max_length=64)],
    username: FormStr = None,
    password: FormStr = None,
    client_id: FormStr = None,
    client_secret: FormStr = None,
    refresh_token: FormStr = None,
    scope: Annotated[str | None, Form(max_length=200)] = None,
) -> TokenResponse:
    request.state.audit_detail = {"grant_type": grant_type[:32]}
    if grant_type == "password":
        if not username or password is None:
            raise _oauth_error(400, "invalid_request", "the password grant needs username and password")
        account = _login(request, "user", username, password)
        if account is None:
            raise _invalid_grant("wrong user name or password, or the user is disabled")
        scopes = _granted(account.scopes, scope)
        refresh = request.app.state.refresh.issue(f"user:{account.name}", scopes)
        return _respond(request, response, "user", account.name, scopes, refresh)
    if grant_type == "client_credentials":
        basic = _basic(request)
        cid, secret = basic if basic else (client_id, client_secret)
        if not cid or secret is None:
            raise _oauth_error(
                401,
                "invalid_client",
                "the client_credentials grant needs client_id and client_secret",
                {"WWW-Authenticate": 'Basic realm="botnft"'},
            )
        account = _login(request, "client", cid, secret)
        if account is None:
            raise _oauth_error(
                401,
                "invalid_client",
                "unknown client, wrong secret, or the client is disabled",
                {"WWW-Authenticate": 'Basic realm="botnft"'},
            )
        return _respond(request, response, "client", account.name, _granted(account.scopes, scope), None)
    if grant_type == "refresh_token":
        if not refresh_token:
            raise _oauth_error(400, "invalid_request", "the refresh_token grant needs refresh_token")
        return _refresh(request, response, refresh_token, scope)
    raise _oauth_error(
        400, "unsupported_grant_type", "grant_type must be password, client_credentials or refresh_token"
    )


def _refresh(request: Request, response: Response, presented: str, scope: str | None) -> TokenResponse:
    outcome = request.app.state.refresh.rotate(presented)
    if not isinstance(outcome, Rotated):
        request.state.audit_detail = {**request.state.audit_detail, "outcome": outcome}
        if outcome == "reused":
            raise _invalid_grant("this refresh token was already used: every token of its login is revoked")
        raise _invalid_grant("the refresh token is unknown or expired")
    kind, _, name = outcome.subject.partition(":")
    request.state.audit_principal = outcome.subject
    account: Account | None = request.app.state.accounts.lookup("user" if kind == "user" else "client", name)
    if account is None or account.disabled:
        request.app.state.refresh.revoke_subject(outcome.subject)
        raise _invalid_grant("the account no longer exists or is disabled")
    scopes = _granted(outcome.scopes & account.scopes, scope)
    return _respond(request, response, account.kind, account.name, scopes, outcome.new_token)


@router.get("/jwks", response_model=JwkSet, summary="The public keys that verify access tokens (JWK set)")
def jwks(request: Request) -> dict[str, Any]:
    result: dict[str, Any] = request.app.state.tokens_keys.jwks()
    return result
