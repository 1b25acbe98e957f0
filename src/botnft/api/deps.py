"""Typed dependencies read from `app.state` (DESIGN C5: built by `create_app`, never import-time globals):
the settings, the database engine, the audit log, and the caller's client address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from botnft.api.audit import AuditLog
from botnft.api.settings import ApiSettings


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


def client_ip(request: Request) -> str | None:
    """The caller's address: `request.state.client_ip` when the proxy-aware middleware set it (the
    X-Forwarded-For of a trusted proxy), else the socket's peer address."""
    ip = getattr(request.state, "client_ip", None)
    if isinstance(ip, str) and ip:
        return ip
    return request.client.host if request.client else None


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]
ClientIpDep = Annotated[str | None, Depends(client_ip)]
