"""The app factory: `create_app(settings)` builds the FastAPI app with everything on `app.state` (engine,
token service, accounts, refresh tokens, login throttle, audit log), every error as a problem, the
middleware stack, the auth routes, health and readiness, and the resource routers of `routes.ROUTERS`.

Middleware, outermost first: security headers, CORS (when origins are configured), the proxy-aware
client-IP and rate-limit middleware of `botnft.api.middleware` (`build_middleware(settings)`), the audit
log, the body size limit, the time limit.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio
from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from botnft import __version__ as bot_version
from botnft.api import problems
from botnft.api.audit import AuditLog, AuditMiddleware
from botnft.api.auth.admin import router as admin_router
from botnft.api.auth.keys import load_keyring
from botnft.api.auth.refresh import RefreshTokens
from botnft.api.auth.routes import router as auth_router
from botnft.api.auth.throttle import LoginThrottle
from botnft.api.auth.tokens import TokenService
from botnft.api.auth.users import Accounts, hasher
from botnft.api.hardening import BodyLimitMiddleware, SecurityHeadersMiddleware, TimeLimitMiddleware
from botnft.api.metrics import router as metrics_router
from botnft.api.problems import ProblemError, problem_responses
from botnft.api.settings import ApiSettings
from botnft.storage import StorageError, make_engine
from botnft.storage.db import check_connection
from botnft.storage.migrate import head

API_TITLE = "B.O.T API"


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str
    version: str


class Ready(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str
    database: str
    revision: str


health_router = APIRouter(prefix="/v1", tags=["health"])


@health_router.get("/health", response_model=Health, summary="Liveness: the process answers")
async def health() -> Health:
    return Health(status="ok", version=bot_version)


@health_router.get(
    "/ready",
    response_model=Ready,
    responses=problem_responses(503),
    summary="Readiness: the database answers and is migrated to this version's schema",
)
async def ready(request: Request) -> Ready:
    def probe() -> str | None:
        engine: Engine = request.app.state.engine
        check_connection(engine)
        with engine.connect() as connection:  # the app's own pool: no new engine per probe
            return MigrationContext.configure(connection).get_current_revision()

    try:
        revision = await anyio.to_thread.run_sync(probe)
    except (StorageError, SQLAlchemyError):
        raise ProblemError(503, "the database is unreachable", kind="not-ready") from None
    if revision != head():
        raise ProblemError(
            503, "the database is not migrated to this version (run bot db upgrade)", kind="not-ready"
        )
    return Ready(status="ready", database="ok", revision=revision)


def _optional(module: str, attribute: str) -> Any:
    """`module.attribute`, or None while that module does not exist yet (its own import errors surface)."""
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    return getattr(loaded, attribute, None)


def _routers() -> list[APIRouter]:
    routers = _optional("botnft.api.routes", "ROUTERS")
    console = _optional("botnft.api.console", "router")  # the web page at /
    return list(routers or []) + ([console] if console is not None else [])


def _proxy_and_rate_limit(settings: ApiSettings) -> list[Middleware]:
    build: Callable[[ApiSettings], list[Middleware]] | None = _optional(
        "botnft.api.middleware", "build_middleware"
    )
    return list(build(settings)) if build is not None else []


def _middleware(settings: ApiSettings, audit: AuditLog) -> list[Middleware]:
    stack = [Middleware(SecurityHeadersMiddleware, hsts=settings.hsts, replica=settings.replica)]
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
        )
    stack += _proxy_and_rate_limit(settings)
    stack += [
        Middleware(AuditMiddleware, audit=audit),
        Middleware(BodyLimitMiddleware, limit=settings.max_body_bytes),
        Middleware(TimeLimitMiddleware, seconds=settings.request_timeout_s),
    ]
    return stack


def create_app(
    settings: ApiSettings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], float] | None = None,
) -> FastAPI:
    """The API for `settings` (database_url and data_dir filled: `load_api_settings` does it). `engine`
    shares an existing engine; `clock` (epoch seconds) moves token and throttle time in tests."""
    engine = engine if engine is not None else make_engine(settings.resolved_database_url())
    keys = load_keyring(settings)
    epoch: Callable[[], float] = clock or (lambda: datetime.now(UTC).timestamp())

    def now() -> datetime:
        return datetime.fromtimestamp(epoch(), UTC)

    audit = AuditLog(engine, now=now)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title=API_TITLE,
        version=bot_version,
        description="Control and inspect B.O.T: runs, trades, backtest jobs, route quotes, nodes, models.",
        docs_url=None,  # served by _docs from the app's own files (no CDN: the pages work offline)
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        middleware=_middleware(settings, audit),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.audit = audit
    app.state.tokens_keys = keys
    app.state.tokens = TokenService(
        keys,
        issuer=settings.issuer,
        audience=settings.audience,
        ttl_s=settings.access_token_ttl_s,
        leeway_s=settings.clock_leeway_s,
        now=epoch,
    )
    app.state.accounts = Accounts(engine, hasher(settings.argon2_time_cost, settings.argon2_memory_kib))
    app.state.refresh = RefreshTokens(engine, ttl_s=settings.refresh_token_ttl_s, now=now)
    app.state.throttle = LoginThrottle(
        engine,
        max_per_account=settings.login_max_failures_per_account,
        max_per_ip=settings.login_max_failures_per_ip,
        window_s=settings.login_window_s,
        now=now,
    )
    problems.install(app)
    if settings.docs:
        _docs(app)
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(metrics_router)  # GET /metrics, scraped on each replica
    for router in _routers():
        app.include_router(router)
    return app


DOCS_STATIC = "/docs/static"
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


def _docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, their scripts and styles the ones fastapi-offline ships,
    served under /docs/static: nothing is loaded from another origin. Each page's inline script is allowed
    by its hash in the page's own CSP (DOCS_CSP otherwise: no inline script)."""
    from pathlib import Path

    import fastapi_offline
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.staticfiles import StaticFiles

    static = Path(fastapi_offline.__file__).parent / "static"
    redoc_js = (static / "redoc.standalone.js").read_bytes()
    # ReDoc's sidebar logo is its one asset fetched from another origin: an empty image instead (ReDoc hides
    # a logo that does not load), so the page makes no request off this origin
    redoc_js = redoc_js.replace(REDOC_LOGO, b"data:,")

    @app.get(f"{DOCS_STATIC}/redoc.standalone.js", include_in_schema=False)
    async def redoc_script() -> Response:  # before the mount: this file is served patched
        return Response(redoc_js, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    app.mount(DOCS_STATIC, StaticFiles(directory=static), name="docs-static")
    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _hashed(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{redirect}",
            swagger_js_url=f"{root}{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_STATIC}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        ))  # fmt: skip

    @app.get(redirect, include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return _hashed(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _hashed(get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_STATIC}/favicon.png", with_google_fonts=False,
        ))  # fmt: skip


def _hashed(page: HTMLResponse) -> HTMLResponse:
    """`page` with a CSP that allows its own inline scripts by their SHA-256, and no other inline script."""
    import base64
    import hashlib
    import re

    from botnft.api.hardening import DOCS_CSP

    inline = re.findall(rb"<script>(.*?)</script>", bytes(page.body), flags=re.DOTALL)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in inline)
    page.headers["Content-Security-Policy"] = DOCS_CSP.replace(
        "script-src 'self'", f"script-src 'self' {hashes}"
    )
    return page


def from_environment() -> FastAPI:
    """The app as `bot serve`'s workers build it (uvicorn factory): settings from bot.toml, secret files
    and the environment."""
    import logging

    from botnft.api.hardening import RedactQueryFilter
    from botnft.api.settings import load_api_settings

    logging.getLogger("uvicorn.access").addFilter(RedactQueryFilter())  # after uvicorn's dictConfig
    return create_app(load_api_settings())
