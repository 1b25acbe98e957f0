"""ccxt's error classes land on the bot's tree: one expectation per class, written out here (not read from the
adapter's table), so a change of either side shows up."""

from __future__ import annotations

import inspect

import ccxt
import pytest
from ccxt.base import errors as ccxt_errors

from botnft.domain import errors as bot
from botnft.venues.ccxt.errors import map_error, surely_not_executed

EXPECTED: dict[str, tuple[type[bot.BotError], str | None]] = {
    "AccountNotEnabled": (bot.Rejected, "authentication"),
    "AccountSuspended": (bot.Rejected, "authentication"),
    "AddressPending": (bot.Rejected, "exchange_error"),
    "ArgumentsRequired": (bot.Rejected, "bad_request"),
    "AuthenticationError": (bot.Rejected, "authentication"),
    "BadRequest": (bot.Rejected, "bad_request"),
    "BadResponse": (bot.NetworkError, None),
    "BadSymbol": (bot.InvalidOrder, "unknown_symbol"),
    "BaseError": (bot.Rejected, "exchange_error"),
    "CancelPending": (bot.NetworkError, None),
    "ChecksumError": (bot.NetworkError, None),
    "ContractUnavailable": (bot.InvalidOrder, "contract_unavailable"),
    "DDoSProtection": (bot.RateLimited, None),
    "DuplicateOrderId": (bot.InvalidOrder, "duplicate_client_order_id"),
    "ExchangeClosedByUser": (bot.Rejected, "exchange_error"),
    "ExchangeError": (bot.Rejected, "exchange_error"),
    "ExchangeNotAvailable": (bot.NetworkError, None),
    "InsufficientFunds": (bot.InsufficientFunds, "insufficient_funds"),
    "InvalidAddress": (bot.Rejected, "exchange_error"),
    "InvalidNonce": (bot.NetworkError, None),
    "InvalidOrder": (bot.InvalidOrder, "invalid_order"),
    "InvalidProxySettings": (bot.Rejected, "exchange_error"),
    "ManualInteractionNeeded": (bot.Rejected, "rejected"),
    "MarginModeAlreadySet": (bot.Rejected, "rejected"),
    "MarketClosed": (bot.Rejected, "market_closed"),
    "NetworkError": (bot.NetworkError, None),
    "NoChange": (bot.Rejected, "rejected"),
    "NotSupported": (bot.Rejected, "not_supported"),
    "NullResponse": (bot.NetworkError, None),
    "OnMaintenance": (bot.NetworkError, None),
    "OperationFailed": (bot.NetworkError, None),
    "OperationRejected": (bot.Rejected, "rejected"),
    "OrderImmediatelyFillable": (bot.InvalidOrder, "post_only_would_cross"),
    "OrderNotCached": (bot.OrderNotFound, "order_not_found"),
    "OrderNotFillable": (bot.InvalidOrder, "not_fillable"),
    "OrderNotFound": (bot.OrderNotFound, "order_not_found"),
    "PermissionDenied": (bot.Rejected, "authentication"),
    "RateLimitExceeded": (bot.RateLimited, None),
    "RequestTimeout": (bot.RequestTimeout, None),
    "RestrictedLocation": (bot.Rejected, "rejected"),
    "UnsubscribeError": (bot.Rejected, "exchange_error"),
}

CCXT_ERRORS = sorted(
    name for name, cls in inspect.getmembers(ccxt_errors, inspect.isclass) if issubclass(cls, ccxt.BaseError)
)


def test_every_ccxt_error_class_has_an_expectation_here() -> None:
    assert sorted(EXPECTED) == CCXT_ERRORS


@pytest.mark.parametrize("name", CCXT_ERRORS)
def test_ccxt_error_maps_to_the_expected_class_and_reason(name: str) -> None:
    exc = getattr(ccxt_errors, name)('binance {"code":-1,"msg":"x"}')
    got = map_error(exc, "binance create_order c-1")
    want, reason = EXPECTED[name]
    assert type(got) is want
    if reason is not None:
        assert isinstance(got, bot.Rejected) and got.reason == reason
    assert isinstance(got, bot.Retryable) != isinstance(got, bot.Rejected)
    assert str(got).startswith("binance create_order c-1: ")


def test_retryable_errors_are_exactly_the_network_family() -> None:
    retryable = {n for n in CCXT_ERRORS if isinstance(map_error(getattr(ccxt, n)("x")), bot.Retryable)}
    network = {n for n in CCXT_ERRORS if issubclass(getattr(ccxt, n), ccxt.OperationFailed)}
    assert retryable == network


def test_only_a_rate_limit_is_known_not_to_have_executed() -> None:
    assert surely_not_executed(ccxt.RateLimitExceeded("x"))
    assert surely_not_executed(ccxt.DDoSProtection("x"))
    assert not surely_not_executed(ccxt.RequestTimeout("x"))
    assert not surely_not_executed(ccxt.ExchangeNotAvailable("x"))
    assert not surely_not_executed(ccxt.NetworkError("x"))


def test_errors_from_outside_ccxt_are_mapped_too() -> None:
    assert type(map_error(TimeoutError())) is bot.RequestTimeout
    assert type(map_error(ConnectionResetError("peer"))) is bot.NetworkError
    assert type(map_error(ValueError("odd"))) is bot.Rejected


def test_the_message_is_one_line() -> None:
    got = map_error(ccxt.InvalidOrder("binance line one\nline two"))
    assert "\n" not in str(got)
