"""`bot user add|passwd|disable|enable|list` and `bot client add`: the API's people and programs. Passwords
come from stdin (`--password-stdin`) or a hidden prompt, never from the command line; a client's secret is
printed once and only its hash is kept. Each change is written to the audit log."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from botnft.cli.common import app, err, out
from botnft.domain.errors import UserError

if TYPE_CHECKING:
    from botnft.api.auth.users import Accounts
    from botnft.api.settings import ApiSettings

user_app = typer.Typer(no_args_is_help=True, help="API users (people who log in with a password).")
client_app = typer.Typer(no_args_is_help=True, help="API clients (programs: OAuth2 client credentials).")
app.add_typer(user_app, name="user")
app.add_typer(client_app, name="client")

ScopesOpt = Annotated[str, typer.Option("--scopes", help="Comma-separated: read, trade, admin.")]
StdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]
DbOpt = Annotated[
    str | None, typer.Option("--db-url", metavar="URL", help="Database URL (default: settings).")
]


def _accounts(db_url: str | None) -> tuple[Accounts, ApiSettings]:
    from botnft.api.auth.users import Accounts, hasher
    from botnft.api.settings import load_api_settings
    from botnft.storage import check_connection, make_engine
    from botnft.storage.db import display_url
    from botnft.storage.migrate import current, head

    settings = load_api_settings(database_url=db_url)
    url = settings.resolved_database_url()
    engine = make_engine(url)
    check_connection(engine)
    if current(url) != head():
        raise UserError(f"database {display_url(engine.url)} is not migrated: run `bot db upgrade` first")
    return Accounts(engine, hasher(settings.argon2_time_cost, settings.argon2_memory_kib)), settings


def _audit(settings: ApiSettings, action: str, target: str, detail: dict[str, str] | None = None) -> None:
    from botnft.api.audit import AuditLog
    from botnft.storage import make_engine

    engine = make_engine(settings.resolved_database_url())
    try:
        AuditLog(engine).record(
            principal=f"cli:{getpass.getuser()}"[:80],
            action=f"bot {action}",
            method="CLI",
            path=f"bot {action} {target}",
            client_ip=None,
            status=0,
            detail=detail,
        )
    finally:
        engine.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if password.endswith("\r"):
            password = password[:-1]
        if not password:
            raise UserError("no password on stdin")
        return password
    if not sys.stdin.isatty():
        raise UserError("give the password with --password-stdin (stdin is not a terminal)")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


@user_app.command("add")
def user_add(name: str, scopes: ScopesOpt, password_stdin: StdinOpt = False, db_url: DbOpt = None) -> None:
    """Create a user with the given scopes; the password is read from stdin or a prompt."""
    from botnft.api.auth.users import check_name, check_password, parse_scopes, scope_text

    granted = parse_scopes(scopes)
    check_name(name)
    password = check_password(_read_password(password_stdin))
    accounts, settings = _accounts(db_url)
    accounts.add_user(name, password, granted)
    _audit(settings, "user add", name, {"scopes": scope_text(granted)})
    out.print(f"user {name} added with scopes {scope_text(granted)}")


@user_app.command("passwd")
def user_passwd(name: str, password_stdin: StdinOpt = False, db_url: DbOpt = None) -> None:
    """Change a user's password (their refresh tokens are revoked)."""
    from botnft.api.auth.refresh import RefreshTokens
    from botnft.api.auth.users import check_password

    password = check_password(_read_password(password_stdin))
    accounts, settings = _accounts(db_url)
    accounts.set_password(name, password)
    _revoke(settings, f"user:{name}", RefreshTokens)
    _audit(settings, "user passwd", name)
    out.print(f"password of user {name} changed; their refresh tokens are revoked")


def _revoke(settings: ApiSettings, subject: str, tokens: type) -> None:
    from botnft.storage import make_engine

    engine = make_engine(settings.resolved_database_url())
    try:
        tokens(engine, ttl_s=settings.refresh_token_ttl_s).revoke_subject(subject)
    finally:
        engine.dispose()


@user_app.command("disable")
def user_disable(name: str, db_url: DbOpt = None) -> None:
    """Disable a user: no new tokens, refresh tokens revoked (access tokens expire within their lifetime)."""
    from botnft.api.auth.refresh import RefreshTokens

    accounts, settings = _accounts(db_url)
    accounts.set_user_disabled(name, True)
    _revoke(settings, f"user:{name}", RefreshTokens)
    _audit(settings, "user disable", name)
    out.print(f"user {name} disabled")


@user_app.command("enable")
def user_enable(name: str, db_url: DbOpt = None) -> None:
    """Enable a disabled user again."""
    accounts, settings = _accounts(db_url)
    accounts.set_user_disabled(name, False)
    _audit(settings, "user enable", name)
    out.print(f"user {name} enabled")


@client_app.command("add")
def client_add(name: str, scopes: ScopesOpt, db_url: DbOpt = None) -> None:
    """Create an API client; prints its secret ONCE (only a hash is stored)."""
    from botnft.api.auth.users import check_name, parse_scopes, scope_text

    granted = parse_scopes(scopes)
    check_name(name)
    accounts, settings = _accounts(db_url)
    secret = accounts.add_client(name, granted)
    _audit(settings, "client add", name, {"scopes": scope_text(granted)})
    err.print(
        f"client {name} added with scopes {scope_text(granted)}; its secret (shown once) follows on stdout"
    )
    print(f"client_id={name}\nclient_secret={secret}")
