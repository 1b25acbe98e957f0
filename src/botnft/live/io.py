"""The venues' asyncio loop, run in its own thread: the node stays synchronous on its thread and waits for
a venue's answer with a deadline; what the venues say later is handed over through a queue."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from botnft.domain.errors import RequestTimeout

_T = TypeVar("_T")


class IoLoop:
    """One event loop in a daemon thread. `call` runs a coroutine there and waits at most `timeout_s`;
    past it the request is abandoned (cancelled on the loop) and `RequestTimeout` is raised: whether it
    reached the venue is then unknown, and is resolved by asking the venue, never by sending again."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="venue-io", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, _T], timeout_s: float) -> _T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise RequestTimeout(f"no answer within {timeout_s:g} s") from None

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self, timeout_s: float = 5.0) -> None:
        """Cancel what still runs on the loop, stop it and join its thread."""
        if not self.loop.is_running():
            return

        async def _cancel_all() -> None:
            me = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not me]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(_cancel_all(), self.loop).result(timeout_s)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
