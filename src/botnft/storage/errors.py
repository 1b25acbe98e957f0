"""Errors the storage layer raises on purpose; every other database failure is translated into one of them.

Messages are one line a person can act on (DESIGN §5): they name the database (never its password) or the
offending value, and never carry a driver's multi-line text.
"""

from __future__ import annotations

from botnft.domain.errors import BotError


class StorageError(BotError):
    """Base of the storage errors: a value the schema cannot hold exactly, no schema, a failed write."""


class StorageUnavailable(StorageError):
    """The database cannot be used at all: bad URL scheme, driver not installed, host down, no such database.

    `url` is the database URL without its password; `reason` is a short lower-case phrase.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach database {url}: {reason}")
        self.url = url
        self.reason = reason
