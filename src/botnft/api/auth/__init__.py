"""Authentication and authorisation: OAuth2 password and client-credentials flows, EdDSA access tokens,
rotating refresh tokens, users and clients, login throttling. Routes use `require_scopes`."""

from botnft.api.auth.principal import (
    AdminPrincipal,
    Principal,
    ReadPrincipal,
    Scope,
    TradePrincipal,
    require_scopes,
)

__all__ = ["AdminPrincipal", "Principal", "ReadPrincipal", "Scope", "TradePrincipal", "require_scopes"]
