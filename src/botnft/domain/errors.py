"""One error tree for the whole bot (DESIGN C3).

`Retryable` errors (network, timeout, rate limit) may be retried idempotently with the same client
order id; `Rejected` errors (invalid order, insufficient funds, not found) never are. `UserError` is a
mistake of the person running the bot (bad config, unknown market): the CLI prints it in one line.
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class UserError(BotError):
    """A mistake of the user: bad config, unknown market or strategy, invalid argument."""


class DataError(UserError):
    """Market data that is missing or corrupt. Corrupt data fails fast."""


class Retryable(BotError):
    """A transient venue failure; the same request may succeed later."""


class NetworkError(Retryable):
    """The venue could not be reached."""


class RequestTimeout(Retryable):
    """The venue did not answer in time."""


class RateLimited(Retryable):
    """The venue asked us to slow down."""


class Rejected(BotError):
    """The venue (or our own risk gate) refused the request; retrying will not help."""

    reason: str = "rejected"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class InvalidOrder(Rejected):
    """The order breaks a rule of the instrument or venue (size, lot, tick, price band)."""

    reason = "invalid_order"


class InsufficientFunds(Rejected):
    """Not enough balance or collateral for the order."""

    reason = "insufficient_funds"


class OrderNotFound(Rejected):
    """No such order at the venue."""

    reason = "order_not_found"


class RiskDenied(Rejected):
    """Our own pre-trade risk gate refused the order."""

    reason = "risk_denied"


class IllegalTransition(BotError):
    """An order event that the lifecycle table does not allow (a bug or a corrupt stream)."""
