"""Who is calling: the principal an access token names, and the `require_scopes` dependency every route
uses. The authenticated principal is also left on `request.state.principal` for the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from botnft.api.problems import ProblemError

Scope = Literal["read", "trade", "admin"]
PrincipalKind = Literal["user", "client"]

SCOPE_DESCRIPTIONS = {
    "read": "read runs, trades, nodes and models",
    "trade": "start, stop and kill nodes; submit backtest jobs",
    "admin": "manage users and API clients",
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a person (`user`) or a program (`client`), with the token's scopes."""

    kind: PrincipalKind
    name: str
    scopes: frozenset[str]
    token_id: str

    @property
    def subject(self) -> str:
        """The token's `sub`: `user:NAME` or `client:NAME`."""
        return f"{self.kind}:{self.name}"


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", scopes=SCOPE_DESCRIPTIONS, auto_error=False)


def _challenge(scopes: SecurityScopes, error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="botnft"'
    if error:
        value += f', error="{error}"'
    if scopes.scopes:
        value += f', scope="{scopes.scope_str}"'
    return {"WWW-Authenticate": value}


async def current_principal(
    request: Request, security_scopes: SecurityScopes, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """401 without a valid access token; 403 when it lacks one of the scopes the route asks for."""
    if not token:
        raise ProblemError(
            401, "an access token is required", kind="unauthorized", headers=_challenge(security_scopes)
        )
    principal: Principal | None = request.app.state.tokens.verify_access(token)
    if principal is None:
        raise ProblemError(
            401,
            "the access token is invalid or expired",
            kind="invalid-token",
            headers=_challenge(security_scopes, "invalid_token"),
        )
    request.state.principal = principal
    missing = [scope for scope in security_scopes.scopes if scope not in principal.scopes]
    if missing:
        raise ProblemError(
            403,
            f"this route needs the scope {' '.join(missing)}",
            kind="insufficient-scope",
            headers=_challenge(security_scopes, "insufficient_scope"),
        )
    return principal


def require_scopes(*scopes: Scope) -> Any:
    """A dependency that authenticates the caller and demands every scope listed:
    `principal: Annotated[Principal, require_scopes("trade")]`, or
    `dependencies=[require_scopes("read")]` on a router or route. Security(...) puts the scheme and scopes
    into the OpenAPI document."""
    for scope in scopes:
        if scope not in SCOPE_DESCRIPTIONS:
            raise ValueError(f"unknown scope {scope!r}")
    return Security(current_principal, scopes=list(scopes))


ReadPrincipal = Annotated[Principal, require_scopes("read")]
TradePrincipal = Annotated[Principal, require_scopes("trade")]
AdminPrincipal = Annotated[Principal, require_scopes("admin")]
