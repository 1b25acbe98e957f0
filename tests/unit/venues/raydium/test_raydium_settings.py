"""[live.raydium] settings: defaults, overrides, and a one-line UserError for every bad value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from botnft.domain.errors import UserError
from botnft.venues.raydium.settings import SOL_USDC, RaydiumSettings


def test_defaults_are_mainnet_sol_usdc() -> None:
    s = RaydiumSettings.from_mapping({})
    assert (s.base_url, s.trade_url) == ("https://api-v3.raydium.io", "https://transaction-v1.raydium.io")
    assert s.markets == (SOL_USDC,) and s.slippage_bps == 50 and s.priority_fee == "auto"
    assert (s.api.base_url, s.api.trade_url, s.api.timeout_s) == (s.base_url, s.trade_url, 10.0)
    assert SOL_USDC.lot == Decimal("0.000000001") and (SOL_USDC.base, SOL_USDC.quote) == ("SOL", "USDC")


def test_overrides_and_markets() -> None:
    s = RaydiumSettings.from_mapping(
        {
            "trade_url": "http://127.0.0.1:9999",
            "slippage_bps": 30,
            "priority_fee": 5_000,
            "priority_level": "vh",
            "markets": [
                {"symbol": "ray/usdc", "base_mint": "R", "quote_mint": "U", "base_decimals": 6,
                 "quote_decimals": 6, "min_size": "0.1"},
            ],
        }
    )  # fmt: skip
    assert s.trade_url == "http://127.0.0.1:9999" and s.priority_fee == 5_000 and s.priority_level == "vh"
    (m,) = s.markets
    assert (m.symbol, m.base, m.lot, m.min_size) == ("RAY/USDC", "RAY", Decimal("0.000001"), Decimal("0.1"))


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"slipage_bps": 1}, "unknown setting"),
        ({"slippage_bps": 10_001}, "slippage_bps"),
        ({"slippage_bps": True}, "slippage_bps"),
        ({"priority_fee": "fast"}, "priority_fee"),
        ({"priority_level": "x"}, "priority_level"),
        ({"base_url": "api-v3.raydium.io"}, "base_url"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"markets": "SOL/USDC"}, "markets"),
        ({"markets": [{"symbol": "SOL/USDC"}]}, "markets"),
        ({"markets": [{"symbol": "A/B", "base_mint": "M", "quote_mint": "M", "base_decimals": 6,
                       "quote_decimals": 6}]}, "bad market"),
        ({"markets": [{"symbol": "A/B", "base_mint": "a", "quote_mint": "b", "base_decimals": 2,
                       "quote_decimals": 6, "min_size": "0.001"}]}, "min_size"),
    ],
)  # fmt: skip
def test_bad_settings_are_one_line_user_errors(cfg: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        RaydiumSettings.from_mapping(cfg)
    assert "\n" not in str(info.value)
