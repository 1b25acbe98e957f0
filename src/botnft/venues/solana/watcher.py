"""`WatchedClient`: the life cycle the Solana venue clients share. A background task (the watcher) calls the
client's `poll` every ``settings.poll_interval_s`` (`poll` puts the events it finds on the queue that `stream`
reads); the client's `start` resolves what an earlier run left pending and starts the watcher
(`_ensure_watcher`), its `close` stops it (`_stop_watcher`) and closes its connections. The watcher
survives: a `Retryable` (the node cannot answer now) waits for the next round, any other error is logged and
the next round runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Generic, Protocol, Self, TypeVar

from botnft.domain.errors import Retryable

__all__ = ["PollSettings", "WatchedClient"]


class PollSettings(Protocol):
    @property
    def poll_interval_s(self) -> float: ...


E = TypeVar("E")
S = TypeVar("S", bound=PollSettings)


class WatchedClient(Generic[E, S]):
    """The watcher, the event queue and the async context of a client; a subclass sets `name`, `settings`
    and `log`, and defines `start`, `close` and `poll` (one round of the watcher)."""

    name: str
    settings: S
    log = logging.getLogger("botnft.venues.solana")
    #: what the watcher polls, for the log line of a round that failed
    polling = "the pending transactions"

    def __init__(self) -> None:
        self._queue: asyncio.Queue[E] = asyncio.Queue()
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> list[E]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def poll(self) -> list[E]:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _ensure_watcher(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _stop_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def _watch(self) -> None:
        while True:
            try:
                await self.poll()
            except Retryable:
                pass  # the node cannot answer now: the next round asks again
            except Exception:  # a bug or an unreadable account must not stop the watcher silently
                self.log.exception("%s: polling %s failed", self.name, self.polling)
            await asyncio.sleep(self.settings.poll_interval_s)

    async def stream(self) -> AsyncIterator[E]:
        self._ensure_watcher()
        while True:
            yield await self._queue.get()
