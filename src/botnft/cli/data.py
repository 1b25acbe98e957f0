"""`bot data list`, `bot db upgrade`, `bot strategies`: the bundled data, migrations, the strategy list."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from botnft.cli.common import (
    app,
    data_app,
    db_app,
    out,
    redacted,
)


@data_app.command("list")
def data_list() -> None:
    """Show the bundled data sets: name, kind, rows and time span."""
    from botnft.data import bundle

    t = Table(title="Bundled data (real Binance/Drift data; see data/bundled/README.md)")
    for col in ("name", "kind", "market", "symbol", "interval", "rows", "from", "to"):
        t.add_column(col, justify="right" if col == "rows" else "left")
    for info in bundle.listing():
        ds = info.dataset
        first, last = (x.replace("T", " ").removesuffix(":00Z") for x in (info.first, info.last))
        t.add_row(ds.name, ds.kind, ds.market, ds.symbol, ds.interval, f"{info.rows:,}", first, last)
    out.print(t)


@db_app.command("upgrade")
def db_upgrade(
    db_url: Annotated[
        str | None, typer.Option("--db-url", metavar="URL", help="Database URL (default: settings).")
    ] = None,
) -> None:
    """Apply the database migrations up to the newest."""
    from botnft.config import load_settings
    from botnft.storage import migrate

    settings = load_settings(database_url=db_url)
    migrate.upgrade(settings.database_url)
    where = redacted(settings.database_url)
    out.print(f"database at revision {migrate.current(settings.database_url)}: {where}")


@app.command()
def strategies() -> None:
    """List the strategies and their parameters with defaults."""
    from botnft.strategy.library import describe

    for name, params in describe().items():
        out.print(f"[bold]{name}[/]  " + "  ".join(f"{k}={v}" for k, v in params.items()))
