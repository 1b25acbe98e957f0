"""`bot serve`: the API server (uvicorn) with its OpenAPI docs at /docs. Checks the database is reachable
and migrated, and makes the signing key exist, before any worker starts."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from botnft.cli.common import app, err
from botnft.domain.errors import UserError


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default: 127.0.0.1 or [api] host).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=0, max=65535, help="Port (default: 8000 or [api] port).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=64, help="Worker processes (default 1).")
    ] = None,
) -> None:
    """Serve the REST API (docs at /docs): runs, trades, backtest jobs, route quotes, nodes, models."""
    from botnft.api.auth.keys import load_keyring
    from botnft.api.settings import load_api_settings
    from botnft.storage import check_connection, make_engine
    from botnft.storage.db import display_url
    from botnft.storage.migrate import current, head

    settings = load_api_settings(host=host, port=port, workers=workers)
    url = settings.resolved_database_url()
    engine = make_engine(url)
    try:
        check_connection(engine)
        shown = display_url(engine.url)
    finally:
        engine.dispose()
    if current(url) != head():
        raise UserError(f"database {shown} is not migrated to this version: run `bot db upgrade` first")
    load_keyring(settings)  # generated once here, not raced by the workers

    import uvicorn

    # the workers read the same settings; the flags travel to them through the environment
    os.environ["BOT_API_HOST"] = settings.host
    os.environ["BOT_API_PORT"] = str(settings.port)
    os.environ["BOT_API_WORKERS"] = str(settings.workers)
    os.environ.setdefault("BOT_API_DATABASE_URL", url)
    err.print(
        f"serving the API on {settings.host}:{settings.port} ({settings.workers} worker(s)); database {shown}"
    )
    uvicorn.run(
        "botnft.api.app:from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        proxy_headers=False,  # X-Forwarded-For is read by the app, from trusted proxies only
        server_header=False,
        ssl_certfile=str(settings.tls_certfile) if settings.tls_certfile else None,
        ssl_keyfile=str(settings.tls_keyfile) if settings.tls_keyfile else None,
        timeout_graceful_shutdown=10,
    )
