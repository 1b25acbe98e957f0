"""Access tokens: short-lived JWTs signed with EdDSA (Ed25519), claims iss, aud, exp, iat, nbf, jti, sub,
scope. Verification pins the algorithm (no `none`, no HMAC confusion), picks the key by `kid`, and requires
every claim; any failure is simply "not a valid token" (the reason goes to the debug log, not the caller).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from botnft.api.auth.keys import KeyRing
from botnft.api.auth.principal import Principal, PrincipalKind
from botnft.api.settings import SCOPES

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "nbf", "jti", "sub", "scope"]

log = logging.getLogger("botnft.api.auth")


@dataclass(frozen=True)
class IssuedAccess:
    token: str
    expires_in: int
    jti: str


class TokenService:
    """Signs and verifies access tokens for one issuer and audience. `now` is injected (tests move it)."""

    def __init__(
        self,
        keys: KeyRing,
        *,
        issuer: str,
        audience: str,
        ttl_s: int,
        leeway_s: int = 5,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl_s = ttl_s
        self._leeway_s = leeway_s
        self._now = now

    def issue(self, kind: PrincipalKind, name: str, scopes: frozenset[str]) -> IssuedAccess:
        now = int(self._now())
        jti = secrets.token_urlsafe(16)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": f"{kind}:{name}",
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl_s,
            "jti": jti,
            "scope": " ".join(s for s in SCOPES if s in scopes),
        }
        token = jwt.encode(
            claims, self._keys.signing_key, algorithm=ALGORITHM, headers={"kid": self._keys.signing_kid}
        )
        return IssuedAccess(token=token, expires_in=self._ttl_s, jti=jti)

    def verify_access(self, token: str) -> Principal | None:
        """The principal a valid token names, else None (bad signature, alg, kid, claims or times)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        if header.get("alg") != ALGORITHM:
            log.debug("access token refused: alg %r", header.get("alg"))
            return None
        key = self._keys.verify_keys.get(str(header.get("kid")))
        if key is None:
            log.debug("access token refused: unknown kid")
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": REQUIRED_CLAIMS,
                    "strict_aud": True,
                    # times are checked below against the injected clock, not PyJWT's own
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            log.debug("access token refused: %s", type(exc).__name__)
            return None
        return _principal(claims, self._now(), self._leeway_s)


def _principal(claims: dict[str, Any], now: float, leeway: int) -> Principal | None:
    sub, scope, jti = claims.get("sub"), claims.get("scope"), claims.get("jti")
    if not (isinstance(sub, str) and isinstance(scope, str) and isinstance(jti, str)):
        return None
    times = [claims.get(name) for name in ("iat", "nbf", "exp")]
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in times):
        return None
    iat, nbf, exp = (int(t) for t in times)  # type: ignore[arg-type]
    if iat > now + leeway or nbf > now + leeway or exp <= now - leeway:
        log.debug("access token refused: outside its validity (iat/nbf/exp)")
        return None
    kind, _, name = sub.partition(":")
    if kind not in ("user", "client") or not name:
        return None
    scopes = frozenset(scope.split())
    if not scopes <= set(SCOPES):
        return None
    return Principal(kind="user" if kind == "user" else "client", name=name, scopes=scopes, token_id=jti)
