"""ccxt's error classes mapped onto the bot's tree: `Retryable` (network, timeout, rate limit) vs `Rejected`.

The table is walked along the exception's class hierarchy, most specific first, so a subclass ccxt adds later
lands on its parent's mapping. Anything unmapped from ccxt is a `Rejected` (never silently retried).
"""

from __future__ import annotations

from botnft.domain.errors import (
    BotError,
    InsufficientFunds,
    InvalidOrder,
    NetworkError,
    OrderNotFound,
    RateLimited,
    Rejected,
    RequestTimeout,
)

#: ccxt class name -> (our class, reason for Rejected subclasses)
ERROR_TABLE: dict[str, tuple[type[BotError], str | None]] = {
    # Retryable: the same request (same client order id) may succeed later
    "RateLimitExceeded": (RateLimited, None),
    "DDoSProtection": (RateLimited, None),
    "RequestTimeout": (RequestTimeout, None),
    "OnMaintenance": (NetworkError, None),
    "ExchangeNotAvailable": (NetworkError, None),
    "InvalidNonce": (NetworkError, None),
    "ChecksumError": (NetworkError, None),
    "NetworkError": (NetworkError, None),
    "NullResponse": (NetworkError, None),
    "BadResponse": (NetworkError, None),
    "CancelPending": (NetworkError, None),
    "OperationFailed": (NetworkError, None),
    # Rejected: retrying will not help
    "OrderNotFound": (OrderNotFound, "order_not_found"),
    "OrderNotCached": (OrderNotFound, "order_not_found"),
    "DuplicateOrderId": (InvalidOrder, "duplicate_client_order_id"),
    "OrderImmediatelyFillable": (InvalidOrder, "post_only_would_cross"),
    "OrderNotFillable": (InvalidOrder, "not_fillable"),
    "ContractUnavailable": (InvalidOrder, "contract_unavailable"),
    "InvalidOrder": (InvalidOrder, "invalid_order"),
    "InsufficientFunds": (InsufficientFunds, "insufficient_funds"),
    "BadSymbol": (InvalidOrder, "unknown_symbol"),
    "ArgumentsRequired": (Rejected, "bad_request"),
    "BadRequest": (Rejected, "bad_request"),
    "AccountNotEnabled": (Rejected, "authentication"),
    "AccountSuspended": (Rejected, "authentication"),
    "PermissionDenied": (Rejected, "authentication"),
    "AuthenticationError": (Rejected, "authentication"),
    "MarketClosed": (Rejected, "market_closed"),
    "OperationRejected": (Rejected, "rejected"),
    "NotSupported": (Rejected, "not_supported"),
    "ExchangeError": (Rejected, "exchange_error"),
    "BaseError": (Rejected, "exchange_error"),
}

#: refusals that happened before the venue did anything: a retry cannot be a second copy
NOT_EXECUTED = frozenset({"RateLimitExceeded", "DDoSProtection", "AuthenticationError", "BadRequest"})


def ccxt_class(exc: BaseException) -> str | None:
    """The name of the most specific ccxt error class `exc` is, or None if it is not a ccxt error."""
    for cls in type(exc).__mro__:
        if cls.__module__.startswith("ccxt") and cls.__name__ in ERROR_TABLE:
            return cls.__name__
    return None


def map_error(exc: BaseException, context: str = "") -> BotError:
    """Translate a ccxt exception; aiohttp/asyncio timeouts that escape ccxt become `RequestTimeout`."""
    name = ccxt_class(exc)
    text = f"{context}: {exc}" if context else str(exc)
    text = text.splitlines()[0][:300] if text else type(exc).__name__
    if name is None:
        if isinstance(exc, TimeoutError):
            return RequestTimeout(text)
        if isinstance(exc, OSError):
            return NetworkError(text)
        return Rejected(text, reason="exchange_error")
    cls, reason = ERROR_TABLE[name]
    if issubclass(cls, Rejected):
        return cls(text, reason=reason)
    return cls(text)


def surely_not_executed(exc: BaseException) -> bool:
    """True when the venue refused before doing anything (a rate limit): no need to ask before re-sending."""
    return any(c.__name__ in NOT_EXECUTED for c in type(exc).__mro__ if c.__module__.startswith("ccxt"))
