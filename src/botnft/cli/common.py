"""What every `bot` command shares: the typer app, the consoles, and the argument parsers (each turns a
bad value into a one-line `UserError`)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import typer
from rich.console import Console

from botnft.domain.errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="B.O.T — a crypto trading bot that chooses, trade by trade, where to execute.",
)
data_app = typer.Typer(no_args_is_help=True, help="The bundled market data.")
db_app = typer.Typer(no_args_is_help=True, help="The database: migrations.")
app.add_typer(data_app, name="data")
app.add_typer(db_app, name="db")

out = Console() if sys.stdout.isatty() else Console(width=160)  # pipes get full tables
err = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=400)

VENUE_HELP = (
    "raydium, raydium_cpmm, raydium_clmm, openbook, jupiter, cex, drift, sim, perp; solana = all on-chain"
)


def user_facing(exc: BaseException) -> bool:
    """A mistake the user can fix. A StorageError can exist only if storage was imported (light start-up)."""
    if isinstance(exc, UserError):
        return True
    storage = sys.modules.get("botnft.storage.errors")
    return storage is not None and isinstance(exc, storage.StorageError)


def parse_params(raw: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in raw:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UserError(f"--param takes key=value, got {item!r}")
        params[key.strip()] = value.strip()
    return params


def decimal_arg(name: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        d = Decimal(value.strip())
    except InvalidOperation:
        raise UserError(f"{name} must be a number, got {value!r}") from None
    if not d.is_finite():
        raise UserError(f"{name} must be a finite number, got {value!r}")
    if abs(d.adjusted()) > 30:
        raise UserError(f"{name} {value} is out of range")
    return d


def date_arg(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name} must be a date like 2024-01-31 or 2024-01-31T12:00, got {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def venue_list(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    names = tuple(v.strip().lower() for v in raw.split(","))
    if not names or any(not v for v in names):
        raise UserError(f"--venues takes venue names separated by commas ({VENUE_HELP}); got {raw!r}")
    return names


def redacted(url: str) -> str:
    """The database URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at or "://" not in head:
        return url
    scheme, _, userinfo = head.partition("://")
    return f"{scheme}://{userinfo.split(':')[0]}@{tail}"
