"""The API's resources under `/v1`; `create_app` includes every router in `ROUTERS`. Every route asks for
its scope with `require_scopes` and declares its 401/403/422/429 problems."""

from __future__ import annotations

from fastapi import APIRouter

from botnft.api.events import router as events_router
from botnft.api.routes.jobs import router as jobs_router
from botnft.api.routes.models import router as models_router
from botnft.api.routes.nodes import router as nodes_router
from botnft.api.routes.quotes import router as quotes_router
from botnft.api.routes.runs import router as runs_router

ROUTERS: list[APIRouter] = [
    runs_router,
    jobs_router,
    nodes_router,
    quotes_router,
    models_router,
    events_router,
]
