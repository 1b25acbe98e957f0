"""Users (people, password flow) and API clients (programs, client-credentials flow) in the database,
with argon2id hashes (pwdlib). Checking a credential costs one argon2 verification whether or not the
name exists, so timing does not tell which names exist."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botnft.api.settings import SCOPES
from botnft.domain.errors import UserError
from botnft.storage.tables import ApiClient, ApiUser

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

Kind = Literal["user", "client"]


@dataclass(frozen=True)
class Account:
    """A user or client as the token endpoint needs it (never its hash)."""

    kind: Kind
    name: str
    scopes: frozenset[str]
    disabled: bool


def hasher(time_cost: int = 3, memory_kib: int = 65_536) -> PasswordHash:
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))


def parse_scopes(text: str) -> frozenset[str]:
    """`read,trade` or `read trade` -> the scopes; an unknown scope is a `UserError`."""
    scopes = frozenset(part for part in re.split(r"[,\s]+", text.strip()) if part)
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise UserError(f"unknown scope {', '.join(unknown)} (scopes: {', '.join(SCOPES)})")
    if not scopes:
        raise UserError(f"give at least one scope ({', '.join(SCOPES)})")
    return scopes


def scope_text(scopes: frozenset[str]) -> str:
    return " ".join(s for s in SCOPES if s in scopes)


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(
            f"bad name {name!r}: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    return password


class Accounts:
    """Reads and writes users and clients; `hashes` hashes new secrets and verifies stored ones."""

    def __init__(self, engine: Engine, hashes: PasswordHash) -> None:
        self._engine = engine
        self._hashes = hashes
        self._dummy = hashes.hash(secrets.token_urlsafe(16))  # verified against for unknown names

    def add_user(self, name: str, password: str, scopes: frozenset[str]) -> None:
        row = ApiUser(
            name=check_name(name),
            password_hash=self._hashes.hash(check_password(password)),
            scopes=scope_text(scopes),
        )
        self._insert(row, f"user {name} already exists")

    def set_password(self, name: str, password: str) -> None:
        digest = self._hashes.hash(check_password(password))
        self._update_user(name, password_hash=digest, password_changed_at=datetime.now(UTC))

    def set_user_disabled(self, name: str, disabled: bool) -> None:
        self._update_user(name, disabled=disabled)

    def add_client(self, name: str, scopes: frozenset[str]) -> str:
        """Create a client and return its secret (shown once; only its hash is kept)."""
        secret = secrets.token_urlsafe(32)
        row = ApiClient(
            name=check_name(name), secret_hash=self._hashes.hash(secret), scopes=scope_text(scopes)
        )
        self._insert(row, f"client {name} already exists")
        return secret

    def authenticate(self, kind: Kind, name: str, secret: str) -> Account | None:
        """The account if `secret` is its password / client secret and it is enabled; else None."""
        with Session(self._engine) as session:
            row = _find(session, kind, name)
            if row is None:
                self._hashes.verify(secret, self._dummy)  # same cost as a real check
                return None
            digest = row.password_hash if isinstance(row, ApiUser) else row.secret_hash
            valid, rehashed = self._hashes.verify_and_update(secret, digest)
            if not valid or row.disabled:
                return None
            if rehashed is not None:  # the cost settings changed: store the hash at today's cost
                if isinstance(row, ApiUser):
                    row.password_hash = rehashed
                else:
                    row.secret_hash = rehashed
                session.commit()
            return _account(kind, row)

    def lookup(self, kind: Kind, name: str) -> Account | None:
        with Session(self._engine) as session:
            row = _find(session, kind, name)
            return None if row is None else _account(kind, row)

    def accounts(self, kind: Kind) -> list[tuple[Account, datetime]]:
        """Every user (or client) with its creation time, by name."""
        with Session(self._engine) as session:
            if kind == "user":
                users = session.scalars(select(ApiUser).order_by(ApiUser.name)).all()
                return [(_account(kind, row), row.created_at) for row in users]
            clients = session.scalars(select(ApiClient).order_by(ApiClient.name)).all()
            return [(_account(kind, row), row.created_at) for row in clients]

    def set_user_scopes(self, name: str, scopes: frozenset[str]) -> None:
        self._update_user(name, scopes=scope_text(scopes))

    def _insert(self, row: ApiUser | ApiClient, exists: str) -> None:
        with Session(self._engine) as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                raise UserError(exists) from None

    def _update_user(self, name: str, **values: object) -> None:
        with Session(self._engine) as session:
            result = session.execute(update(ApiUser).where(ApiUser.name == name).values(**values))
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise UserError(f"no user {name}")
            session.commit()


def _find(session: Session, kind: Kind, name: str) -> ApiUser | ApiClient | None:
    if kind == "user":
        return session.scalars(select(ApiUser).where(ApiUser.name == name)).one_or_none()
    return session.scalars(select(ApiClient).where(ApiClient.name == name)).one_or_none()


def _account(kind: Kind, row: ApiUser | ApiClient) -> Account:
    return Account(kind=kind, name=row.name, scopes=frozenset(row.scopes.split()), disabled=row.disabled)
