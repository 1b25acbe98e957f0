"""Settings of a ccxt connection: one-line errors for user mistakes, keys never shown, the URL override."""

from __future__ import annotations

import logging

import pytest

from botnft.domain.errors import UserError
from botnft.venues.ccxt.client import CcxtExecutionClient
from botnft.venues.ccxt.exchange import build_exchange, override_urls
from botnft.venues.ccxt.settings import CcxtSettings

KEY = "k-3f9a1c77e2d4"
SECRET = "s-8b0e55d1aa93c2"


def good(**kw: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "exchange": "binance",
        "symbols": ["SOL/USDT"],
        "api_key": KEY,
        "secret": SECRET,
    }
    raw.update(kw)
    return raw


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (good(exchange="binanse"), "unknown ccxt exchange 'binanse'"),
        (good(market_type="futures"), "market_type 'futures'"),
        (good(secret=""), "api_key and secret go together"),
        (good(api_key=""), "api_key and secret go together"),
        (good(symbols="SOL/USDT"), "expected a list of ccxt symbols"),
        (good(timeout_ms="soon"), "must be numbers"),
        (good(timeout_ms=0), "must be positive"),
        (good(apikey="x"), "unknown key(s) apikey"),
    ],
)
def test_a_bad_setting_is_a_one_line_user_error(raw: dict[str, object], words: str) -> None:
    with pytest.raises(UserError) as e:
        CcxtSettings.from_mapping(raw)
    assert words in str(e.value)
    assert "\n" not in str(e.value)


def test_settings_read_every_field() -> None:
    s = CcxtSettings.from_mapping(good(market_type="SWAP", sandbox=True, timeout_ms=2500, venue="binance_um"))
    assert (s.exchange, s.market_type, s.symbols, s.sandbox, s.timeout_ms) == (
        "binance",
        "swap",
        ("SOL/USDT",),
        True,
        2500,
    )
    assert s.venue_name == "BINANCE_UM"


@pytest.mark.parametrize(
    ("exchange", "param"),
    [
        ("binance", "newClientOrderId"),
        ("bybit", "orderLinkId"),
        ("okx", "clOrdId"),
        ("kraken", "clientOrderId"),
    ],
)
def test_each_exchange_gets_its_own_client_order_id_parameter(exchange: str, param: str) -> None:
    assert CcxtSettings.from_mapping(good(exchange=exchange)).client_id_param == param


def test_keys_never_appear_in_repr_str_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    s = CcxtSettings.from_mapping(good(password="p-77aa"))
    client = CcxtExecutionClient(s)
    texts = [repr(s), str(s), repr(client), str(client), f"{s}", f"{client!r}"]
    with caplog.at_level(logging.INFO):
        logging.getLogger("botnft.test").info("connecting %r / %s", client, s)
    texts.append(caplog.text)
    for t in texts:
        assert KEY not in t and SECRET not in t and "p-77aa" not in t
    assert "binance" in repr(s)


def test_sandbox_mode_is_a_setting() -> None:
    live = build_exchange(CcxtSettings.from_mapping(good()))
    test = build_exchange(CcxtSettings.from_mapping(good(sandbox=True)))
    assert "testnet.binance.vision" in test.urls["api"]["public"]
    assert "testnet" not in live.urls["api"]["public"]


def test_a_url_override_keeps_each_endpoints_path() -> None:
    api = {"public": "https://api.binance.com/api/v3", "fapiPrivateV2": "https://fapi.binance.com/fapi/v2"}
    got = override_urls(api, "http://127.0.0.1:5555/")
    assert got == {"public": "http://127.0.0.1:5555/api/v3", "fapiPrivateV2": "http://127.0.0.1:5555/fapi/v2"}
    assert override_urls(api, {"public": "http://x/api/v3"})["public"] == "http://x/api/v3"


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx"])
@pytest.mark.parametrize("market_type", ["spot", "swap"])
def test_binance_bybit_and_okx_build_for_spot_and_perps(exchange: str, market_type: str) -> None:
    ex = build_exchange(CcxtSettings.from_mapping(good(exchange=exchange, market_type=market_type)))
    assert ex.id == exchange
    assert ex.options["defaultType"] == market_type
    assert ex.apiKey == KEY
