"""The event bus: events are delivered in (ts_ns, seq) order to handlers subscribed by type.

`seq` is the publication counter, so events with equal timestamps keep their publication order and a
run is deterministic (DESIGN C4). Handlers may publish more events while the bus drains.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class EventBus:
    __slots__ = ("_handlers", "_heap", "_seq", "delivered")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Any]] = []
        self._seq = 0
        self._handlers: dict[type, list[Handler]] = {}
        self.delivered = 0

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers.setdefault(event_type, []).append(handler)

    def publish(self, event: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (event.ts_ns, self._seq, event))

    def drain(self) -> None:
        """Deliver every queued event, in order, including those published while draining."""
        heap = self._heap
        if not heap:
            return
        handlers = self._handlers
        pop = heapq.heappop
        count = 0  # added to `delivered` at the end (a handler's own drain adds its count itself)
        try:
            while heap:
                event = pop(heap)[2]
                count += 1
                for h in handlers.get(type(event), ()):
                    h(event)
        finally:
            self.delivered += count

    def __len__(self) -> int:
        return len(self._heap)
