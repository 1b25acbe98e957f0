"""The per-client rate limit shared by every replica: a moving window (the `limits` library) kept in Redis,
so 5 requests/s per client IP holds however many replicas nginx spreads the calls over.

When Redis cannot be reached the limiter does not let everything through and does not stop everything:

- write calls (POST, PUT, PATCH, DELETE: orders, kills, jobs, logins) FAIL CLOSED: `Decision.unavailable`,
  which the middleware answers 503 with Retry-After;
- read calls (GET, HEAD, OPTIONS) DEGRADE to a moving window kept in this replica's memory: the same limit
  per replica, so with N replicas a client may get up to N times the limit through while Redis is down.

After a Redis failure the limiter waits `retry_s` before asking Redis again (a dead Redis costs one
connection attempt per `retry_s`, not one per request); calls in between are decided as above at once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from botnft.domain.errors import UserError

log = logging.getLogger("botnft.api.ratelimit")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Calls that change nothing: they degrade to a per-replica limit when Redis is down; every other method
fails closed."""

KEY_PREFIX = "botnft-rl"
"""The prefix of this limiter's keys in Redis (one sorted list per client and limit)."""


@dataclass(frozen=True)
class Decision:
    """What the limiter says about one call.

    allowed: let it through. limit: calls allowed per window. remaining: calls left in the window after
    this one. reset_s: seconds until the oldest counted call leaves the window (when one more is allowed
    again if none remain). window_s: the window's length. degraded: decided by this replica's memory
    because the shared (Redis) store is down. unavailable: refused because the shared store is down and
    the call is a write (fail closed)."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    window_s: int
    degraded: bool = False
    unavailable: bool = False


def parse_limit(text: str) -> RateLimitItem:
    """`5/second`, `100/minute`, `10 per 1 second`: a one-line `UserError` when it is not a limit."""
    try:
        return parse(text)
    except ValueError:
        raise UserError(f"bad rate limit {text!r}: write it as N/second, N/minute, ...") from None


def redis_storage_uri(redis_url: str) -> str:
    """`redis://host:port/db` (or `rediss://`) as `limits` names its asyncio Redis storage."""
    if redis_url.startswith(("async+redis://", "async+rediss://")):
        return redis_url
    if redis_url.startswith(("redis://", "rediss://")):
        return f"async+{redis_url}"
    raise UserError(f"bad redis_url {redis_url!r}: write it as redis://HOST:PORT/DB")


class RateLimiter:
    """`await check(key, method)` counts one call of `key` (the client IP) and decides it.

    `shared` is the store every replica sees (Redis), or None for a single replica (memory only, a
    deliberate per-replica limit, never "degraded"). `clock` (epoch seconds) is what the window
    arithmetic of the headers uses; the stores keep their own time."""

    def __init__(
        self,
        limit: RateLimitItem,
        shared: Storage | None,
        *,
        retry_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._shared = MovingWindowRateLimiter(shared) if shared is not None else None
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._retry_s = retry_s
        self._clock = clock
        self._monotonic = monotonic
        self._shared_down_until = -math.inf
        self.shared_failures = 0
        """How many times the shared store failed (a metric for the tests and the logs)."""

    @property
    def window_s(self) -> int:
        return int(self.limit.get_expiry())

    def _decision(self, allowed: bool, reset_time: float, remaining: int, degraded: bool) -> Decision:
        reset_s = max(0, math.ceil(reset_time - self._clock()))
        if not allowed:
            reset_s = max(1, reset_s)
        return Decision(
            allowed=allowed,
            limit=self.limit.amount,
            remaining=max(0, remaining),
            reset_s=min(reset_s, self.window_s),
            window_s=self.window_s,
            degraded=degraded,
        )

    async def _decide(self, limiter: MovingWindowRateLimiter, key: str, degraded: bool) -> Decision:
        allowed = await limiter.hit(self.limit, KEY_PREFIX, key)
        stats = await limiter.get_window_stats(self.limit, KEY_PREFIX, key)
        return self._decision(allowed, stats.reset_time, stats.remaining, degraded)

    async def check(self, key: str, method: str) -> Decision:
        if self._shared is not None and self._monotonic() >= self._shared_down_until:
            try:
                return await self._decide(self._shared, key, degraded=False)
            except (StorageError, RedisError, OSError) as exc:
                self.shared_failures += 1
                self._shared_down_until = self._monotonic() + self._retry_s
                log.warning(
                    "rate limit store unreachable (%s): writes refused, reads limited per replica",
                    type(exc).__name__,
                )
        if self._shared is not None and method.upper() not in SAFE_METHODS:
            return Decision(
                allowed=False,
                limit=self.limit.amount,
                remaining=0,
                reset_s=max(1, math.ceil(self._retry_s)),
                window_s=self.window_s,
                degraded=True,
                unavailable=True,
            )
        return await self._decide(self._local, key, degraded=self._shared is not None)


def build_limiter(rate_limit: str, redis_url: str | None, *, connect_timeout_s: float = 0.25) -> RateLimiter:
    """The limiter `bot serve` runs: shared through Redis when `redis_url` is set (every replica of a
    deployment must name the same Redis), else kept in this process's memory."""
    item = parse_limit(rate_limit)
    if redis_url is None:
        return RateLimiter(item, None)
    storage = RedisStorage(
        redis_storage_uri(redis_url),
        wrap_exceptions=True,
        implementation="redispy",
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=connect_timeout_s,
    )
    return RateLimiter(item, storage)
