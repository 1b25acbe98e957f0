"""Login throttling per account and per client IP, kept in the database so every replica sees the same
counts: more than N failures within the window and the key is refused (429 with Retry-After) until the
oldest failure leaves the window, whatever the password. A success clears the account's failures."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from botnft.storage.tables import LoginFailure


class LoginThrottle:
    def __init__(
        self,
        engine: Engine,
        *,
        max_per_account: int,
        max_per_ip: int,
        window_s: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._limits = {"account": max_per_account, "ip": max_per_ip}
        self._window = timedelta(seconds=window_s)
        self._now = now

    def _keys(self, account: str, ip: str | None) -> list[tuple[str, str]]:
        keys = [("account", f"account:{account}")]
        if ip:
            keys.append(("ip", f"ip:{ip}"))
        return keys

    def retry_after(self, account: str, ip: str | None) -> int | None:
        """Seconds until a login for `account` from `ip` may be tried again, or None if it may now."""
        now = self._now()
        since = now - self._window
        wait: float | None = None
        with self._engine.connect() as connection:
            for kind, key in self._keys(account, ip):
                recent = (LoginFailure.key == key) & (LoginFailure.at > since)
                count, oldest = connection.execute(
                    select(func.count(), func.min(LoginFailure.at)).where(recent)
                ).one()
                if count >= self._limits[kind] and oldest is not None:
                    oldest_utc = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
                    seconds = (oldest_utc + self._window - now).total_seconds()
                    wait = max(wait or 0.0, seconds)
        return None if wait is None else max(1, math.ceil(wait))

    def failed(self, account: str, ip: str | None) -> None:
        now = self._now()
        with self._engine.begin() as connection:
            for _, key in self._keys(account, ip):
                connection.execute(insert(LoginFailure).values(key=key, at=now))
            # forget failures that left the window (bounded table)
            connection.execute(delete(LoginFailure).where(LoginFailure.at <= now - self._window))

    def succeeded(self, account: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(LoginFailure).where(LoginFailure.key == f"account:{account}"))
