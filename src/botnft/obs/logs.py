"""Structured logs (structlog): one JSON object a line on stderr with the run id, client order id and venue on
every line, a console format on a terminal, and secrets (keys, tokens, keypairs) never written."""

from __future__ import annotations

import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

#: keys whose values are never logged, wherever they appear (nested too)
SECRET_KEY = re.compile(
    r"(secret|token|password|passwd|api[_-]?key|private|keypair|seed_phrase|mnemonic|auth)", re.IGNORECASE
)
#: values that look like a secret whatever their key: bearer tokens, JWTs, PEM blocks, base58 keypairs
SECRET_VALUE = re.compile(
    r"(Bearer\s+\S+|eyJ[\w-]+\.[\w-]+\.[\w-]+"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----"
    r"|\b[1-9A-HJ-NP-Za-km-z]{80,90}\b|\[(?:\s*\d{1,3}\s*,){63}\s*\d{1,3}\s*\])"
)
REDACTED = "[redacted]"
#: fields present on every line (null when not known)
CONTEXT = ("run_id", "client_order_id", "venue")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return SECRET_VALUE.sub(REDACTED, value)
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and SECRET_KEY.search(k) else _scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: secret keys' values and secret-looking strings become "[redacted]"."""
    for key in list(event):
        if SECRET_KEY.search(key):
            event[key] = REDACTED
        else:
            event[key] = _scrub(event[key])
    return event


def _context(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in CONTEXT:
        event.setdefault(key, None)
    return event


def configure(run_id: str | None = None, stream: TextIO | None = None, json: bool | None = None) -> Any:
    """Configure structlog for this process and return a logger bound to `run_id`. JSON unless `stream`
    (stderr by default) is a terminal, or as `json` says."""
    out = stream or sys.stderr
    as_json = (not out.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _context,
            redact,
            renderer,
        ],
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.clear_contextvars()
    if run_id is not None:
        structlog.contextvars.bind_contextvars(run_id=run_id)
    return structlog.get_logger()


def order_context(client_order_id: str | None, venue: str | None) -> Any:
    """Bind the order being worked on to every line logged inside the `with` block."""
    return structlog.contextvars.bound_contextvars(client_order_id=client_order_id, venue=venue)
