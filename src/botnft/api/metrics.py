"""`GET /metrics`: this replica's process metrics (CPU, memory, open files, GC) in the Prometheus text
format, for Prometheus to scrape each replica directly (not through nginx). Not in the OpenAPI schema."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
