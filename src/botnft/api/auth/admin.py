"""Admin routes (scope `admin`): users and API clients, and the audit log. A client's secret is answered
once, at creation; passwords travel only in request bodies and are never answered or logged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import select

from botnft.api.auth.principal import AdminPrincipal, Scope
from botnft.api.auth.users import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    NAME_PATTERN,
    Accounts,
    scope_text,
)
from botnft.api.problems import AUTHED_RESPONSES, ProblemError, problem_responses
from botnft.domain.errors import UserError
from botnft.storage.tables import AuditEntry

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=AUTHED_RESPONSES)

Name = Annotated[str, Field(pattern=NAME_PATTERN.pattern, max_length=64)]
Scopes = Annotated[list[Scope], Field(min_length=1, max_length=3)]


class AccountOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    scopes: list[Scope]
    disabled: bool
    created_at: datetime


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    password: SecretStr = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    scopes: Scopes


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disabled: bool | None = None
    scopes: Scopes | None = None


class NewClient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    scopes: Scopes


class ClientCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str
    client_secret: str = Field(description="shown once: only its hash is stored")
    scopes: list[Scope]


class AuditOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    at: datetime
    principal: str | None
    action: str
    method: str
    path: str
    client_ip: str | None
    status: int
    detail: dict[str, Any] | None


def _accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def _listed(accounts: Accounts, kind: Any) -> list[AccountOut]:
    return [
        AccountOut(name=a.name, scopes=scope_text(a.scopes).split(), disabled=a.disabled, created_at=created)  # type: ignore[arg-type]
        for a, created in accounts.accounts(kind)
    ]


def _conflict(exc: UserError) -> ProblemError:
    return ProblemError(409, str(exc), kind="conflict")


@router.get("/users", response_model=list[AccountOut], summary="List users")
def list_users(request: Request, _: AdminPrincipal) -> list[AccountOut]:
    return _listed(_accounts(request), "user")


@router.post(
    "/users",
    status_code=201,
    response_model=AccountOut,
    responses=problem_responses(409),
    summary="Add a user",
)
def add_user(request: Request, body: NewUser, _: AdminPrincipal) -> AccountOut:
    accounts = _accounts(request)
    request.state.audit_detail = {"user": body.name, "scopes": " ".join(body.scopes)}
    try:
        accounts.add_user(body.name, body.password.get_secret_value(), frozenset(body.scopes))
    except UserError as exc:
        raise _conflict(exc) from None
    return next(a for a in _listed(accounts, "user") if a.name == body.name)


@router.patch(
    "/users/{name}",
    response_model=AccountOut,
    responses=problem_responses(404),
    summary="Disable or enable a user, or change their scopes (their refresh tokens are revoked)",
)
def change_user(request: Request, name: str, body: UserChange, _: AdminPrincipal) -> AccountOut:
    accounts = _accounts(request)
    if accounts.lookup("user", name) is None:
        raise ProblemError(404, "no such user", kind="not-found")
    request.state.audit_detail = {"user": name, **body.model_dump(exclude_none=True)}
    if body.disabled is not None:
        accounts.set_user_disabled(name, body.disabled)
    if body.scopes is not None:
        accounts.set_user_scopes(name, frozenset(body.scopes))
    request.app.state.refresh.revoke_subject(f"user:{name}")
    return next(a for a in _listed(accounts, "user") if a.name == name)


@router.get("/clients", response_model=list[AccountOut], summary="List API clients")
def list_clients(request: Request, _: AdminPrincipal) -> list[AccountOut]:
    return _listed(_accounts(request), "client")


@router.post(
    "/clients",
    status_code=201,
    response_model=ClientCreated,
    responses=problem_responses(409),
    summary="Add an API client; its secret is answered once",
)
def add_client(request: Request, body: NewClient, _: AdminPrincipal) -> ClientCreated:
    request.state.audit_detail = {"client": body.name, "scopes": " ".join(body.scopes)}
    try:
        secret = _accounts(request).add_client(body.name, frozenset(body.scopes))
    except UserError as exc:
        raise _conflict(exc) from None
    return ClientCreated(client_id=body.name, client_secret=secret, scopes=body.scopes)


@router.get("/audit", response_model=list[AuditOut], summary="The audit log, newest first")
async def audit_log(
    request: Request,
    _: AdminPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> list[AuditOut]:
    def read() -> list[AuditOut]:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        with request.app.state.engine.connect() as connection:
            return [
                AuditOut.model_validate(row, from_attributes=True) for row in connection.execute(query).all()
            ]

    return await anyio.to_thread.run_sync(read)
