"""The `bot` command (typer + rich). `run` is the one place where every mistake a user can make, found
anywhere, becomes one line on stderr and exit code 2 (never a traceback); each command lives in its own
module and imports heavy modules only after its arguments are validated."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback

import typer
from rich.markup import escape
from typer import _click as click  # typer >= 0.26 vendors click: its exceptions are these, not click's

from botnft.cli import backtest, data, live, optimize, paper, report, route, serve, snapshot, train, user  # noqa: F401  (each registers its commands on `app`)
from botnft.cli.common import app, err, user_facing


def _one_line(message: str) -> int:
    text = escape(" ".join(str(message).split()))  # one line; brackets from a user's file stay text
    err.print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=True)
    return 2


def _internal(exc: BaseException) -> int:
    """A bug, not a mistake: one line that says so, the traceback in a file (BOT_DEBUG=1 re-raises)."""
    if os.environ.get("BOT_DEBUG"):
        raise exc
    fd, path = tempfile.mkstemp(prefix="bot-crash-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        traceback.print_exception(exc, file=fh)
    err.print(
        f"[bold red]internal error:[/] {type(exc).__name__}: {escape(' '.join(str(exc).split())[:300])} "
        f"(traceback in {path}; please report it)",
        highlight=False,
        soft_wrap=True,
    )
    return 1


def run(args: list[str]) -> int:
    """Run `bot ARGS` and return the exit code: 0 ok, 2 a user's mistake, 1 a bug, 130 interrupted."""
    try:
        code = app(args=args or ["--help"], prog_name="bot", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.NoArgsIsHelpError:  # `bot data` alone: typer has printed its help, as --help does
        return 0
    except click.exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "bot"
        return _one_line(f"{exc.format_message()} (see `{where} --help`)")
    except click.exceptions.ClickException as exc:
        return _one_line(exc.format_message())
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted", highlight=False)
        return 130
    except OSError as exc:  # the machine said no: disk full, read-only folder, file name too long
        if exc.strerror:
            name = f": {exc.filename}" if exc.filename else ""
            return _one_line(f"{exc.strerror}{name}")
        return _internal(exc)
    except Exception as exc:
        return _one_line(str(exc)) if user_facing(exc) else _internal(exc)


def main() -> None:
    sys.exit(run(sys.argv[1:]))
