"""Refresh tokens: opaque random strings, stored only as their SHA-256, rotated on every use. Tokens from
one login form a family; presenting a token that was already used (or revoked) means it leaked, so the
whole family is revoked and the caller must log in again (OAuth 2.0 Security BCP §4.14)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, insert, select, update

from botnft.storage.tables import RefreshToken


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Rotated:
    """A refresh token accepted: who it was for, its scopes, and the token that replaces it."""

    subject: str
    scopes: frozenset[str]
    new_token: str


RefreshOutcome = Rotated | Literal["unknown", "expired", "reused"]


class RefreshTokens:
    def __init__(
        self, engine: Engine, *, ttl_s: int, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._engine = engine
        self._ttl = timedelta(seconds=ttl_s)
        self._now = now

    def issue(self, subject: str, scopes: frozenset[str], family_id: str | None = None) -> str:
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._engine.begin() as connection:
            connection.execute(
                insert(RefreshToken).values(
                    token_hash=digest(token),
                    family_id=family_id or secrets.token_hex(16),
                    subject=subject,
                    scopes=" ".join(sorted(scopes)),
                    issued_at=now,
                    expires_at=now + self._ttl,
                    used_at=None,
                    revoked=False,
                )
            )
        return token

    def rotate(self, token: str) -> RefreshOutcome:
        """Spend `token` once and return its replacement; a second presentation revokes the family.

        The transaction starts with its write (a compare-and-set on `used_at`), so that on SQLite it takes
        the write lock first and waits for it, instead of failing to upgrade a read lock under load; of
        two concurrent presentations only one spends the token.
        """
        now = self._now()
        key = digest(token)
        fresh = (
            (RefreshToken.token_hash == key)
            & RefreshToken.used_at.is_(None)
            & RefreshToken.revoked.is_(False)
            & (RefreshToken.expires_at > now)
        )
        with self._engine.begin() as connection:
            spent = connection.execute(update(RefreshToken).where(fresh).values(used_at=now))
            row = connection.execute(select(RefreshToken).where(RefreshToken.token_hash == key)).one_or_none()
            if row is None:
                return "unknown"
            if spent.rowcount != 1:
                if row.used_at is None and not row.revoked:
                    return "expired"
                connection.execute(
                    update(RefreshToken).where(RefreshToken.family_id == row.family_id).values(revoked=True)
                )
                return "reused"
        new_token = self.issue(row.subject, frozenset(row.scopes.split()), family_id=row.family_id)
        return Rotated(subject=row.subject, scopes=frozenset(row.scopes.split()), new_token=new_token)

    def revoke_subject(self, subject: str) -> None:
        """Revoke every refresh token of `subject` (password changed, user disabled)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(RefreshToken).where(RefreshToken.subject == subject).values(revoked=True)
            )
