"""Structured logs (structlog): one JSON object a line on stderr with the run id, client order id and venue on
every line (JSON when stderr is not a terminal, a console format when it is, or as asked), one line per
order event (`OrderLog`), and secrets (keys, tokens, keypairs) never written."""

from __future__ import annotations

import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from botnft.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
)

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
#: a password in a URL (a database URL, a node's RPC URL): scheme://user:PASSWORD@host
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
#: fields present on every line (null when not known)
CONTEXT = ("run_id", "client_order_id", "venue")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", SECRET_VALUE.sub(REDACTED, value))
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


class _Stderr:
    """The process's stderr as it is at each write (a progress display may redirect it meanwhile)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


FORMATS = ("json", "console")


def configure(
    run_id: str | None = None, stream: TextIO | None = None, json: bool | None = None, fmt: str | None = None
) -> Any:
    """Configure structlog for this process and return a logger bound to `run_id`. JSON lines unless the
    stream (stderr by default) is a terminal, where they are a human console format; `fmt` ("json" or
    "console") or `json` forces one."""
    out: Any = stream if stream is not None else _Stderr()
    if fmt is None and json is not None:
        fmt = "json" if json else "console"
    if fmt is None:
        fmt = "console" if (stream or sys.stderr).isatty() else "json"
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: expected json or console")
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if fmt == "json"
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


class OrderLog:
    """One log line per order event of a run, with its client order id and venue: the submission (once
    the venue has it: never on the way to it), acks, fills, cancels, rejections, unknown statuses."""

    def __init__(self, logger: Any) -> None:
        self.log = logger
        self.venues: dict[str, str] = {}  # client order id -> venue

    def attach(self, bus: Any) -> None:
        for kind in (OrderAccepted, OrderFilled, OrderCanceled, OrderRejected, OrderExpired,
                     OrderStatusUnknown):  # fmt: skip
            bus.subscribe(kind, self.on_event)

    def know(self, orders: Any) -> None:
        """Orders sent before this log was attached (a resumed run's): their events name their venue."""
        for order in orders:
            self.venues[order.client_order_id] = order.instrument.venue

    def on_sent(self, order: Any) -> None:
        venue = order.instrument.venue
        self.venues[order.client_order_id] = venue
        with order_context(order.client_order_id, venue):
            self.log.info(
                "order submitted", instrument=str(order.instrument), side=order.side.value,
                amount=str(order.amount), price=None if order.price is None else str(order.price),
            )  # fmt: skip

    def on_event(self, e: Any) -> None:
        coid = e.client_order_id
        inst = getattr(e, "instrument", None)
        venue = inst.venue if inst is not None else self.venues.get(coid)
        kind = type(e).__name__
        fields: dict[str, Any] = {}
        if kind == "OrderFilled":
            fields = {"qty": str(e.qty), "price": str(e.price), "fee": str(e.fee), "trade_id": e.trade_id}
        elif kind == "OrderRejected":
            fields = {"reason": e.reason, "message": e.message}
        elif kind == "OrderCanceled":
            fields = {"reason": e.reason}
        elif kind == "OrderStatusUnknown":
            fields = {"message": e.message}
        event = {"OrderAccepted": "order accepted", "OrderFilled": "order filled",
                 "OrderCanceled": "order canceled", "OrderRejected": "order rejected",
                 "OrderExpired": "order expired"}.get(kind, "order status unknown")  # fmt: skip
        with order_context(coid, venue):
            if kind in ("OrderRejected", "OrderStatusUnknown"):
                self.log.warning(event, **fields)
            else:
                self.log.info(event, **fields)
