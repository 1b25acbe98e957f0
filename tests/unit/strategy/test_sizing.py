"""The sizing option of a strategy (``--param sizing=vol_target|kelly|risk_per_trade``): expected exposures
and sizes worked out by hand from hand-made candles (closed forms, not the helpers under test)."""

from __future__ import annotations

import math
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import LiquiditySettings, RiskSettings
from botnft.data.bars import BarBatch, MarketData
from botnft.domain.errors import UserError
from botnft.engine.sizing import SizedStrategy, build_sized
from botnft.strategy.library import build

HOUR = 3_600 * 10**9


class B(SimpleNamespace):
    def __len__(self) -> int:
        return len(self.close)


def batch(close: list[float], spread: float = 0.5, start: int = 0) -> B:
    c = np.asarray(close, dtype=np.float64)
    return B(
        close=c,
        high=c + spread,
        low=c - spread,
        ts_ns=(start + np.arange(len(c), dtype=np.int64)) * HOUR,
        interval_ns=HOUR,
    )


def run_in_batches(
    strategy: SizedStrategy, close: list[float], sizes: list[int], spread: float = 0.5
) -> list:
    out, i = [], 0
    for n in sizes:
        got = strategy.on_bars(batch(close[i : i + n], spread, i))
        out += [(i + j, e) for j, e in got]
        i += n
    return out


ALT = [100.0, 101.0, 100.0, 101.0, 100.0, 101.0, 100.0]


def test_vol_target_scales_to_the_target_over_the_annualised_realised_volatility() -> None:
    s = build_sized("hold", {"sizing": "vol_target", "window": "4", "target_vol": "0.5", "max_leverage": "3"})
    assert isinstance(s, SizedStrategy)
    # log returns +a, -a, +a, -a (a = ln 1.01): mean 0, sample variance 4a^2/3; hourly bars: 8760 a year
    a = math.log(1.01)
    sigma = a * math.sqrt(4 / 3) * math.sqrt(8760)
    got = run_in_batches(s, ALT, [7])
    # hold signals at bar 0; the rule needs 4 returns: the signal is sent at bar 4
    assert len(got) == 1 and got[0][0] == 4
    assert got[0][1] == pytest.approx(0.5 / sigma, rel=1e-12)


@pytest.mark.parametrize("sizes", [[1] * 7, [2, 2, 3], [3, 4], [5, 2]])
def test_the_sized_signal_does_not_depend_on_the_batching(sizes: list[int]) -> None:
    params = {"sizing": "vol_target", "window": "4", "target_vol": "0.5"}
    whole = run_in_batches(build_sized("hold", params), ALT, [7])  # type: ignore[arg-type]
    assert run_in_batches(build_sized("hold", params), ALT, sizes) == whole  # type: ignore[arg-type]


def test_vol_target_is_capped_at_max_leverage() -> None:
    s = build_sized("hold", {"sizing": "vol_target", "window": "4", "target_vol": "10", "max_leverage": "2"})
    assert run_in_batches(s, ALT, [7]) == [(4, 2.0)]  # type: ignore[arg-type]


# returns +2 %, 0, +2 %, 0: mean 0.01, sample variance (4 x 0.01^2) / 3
KELLY = [100.0, 102.0, 102.0, 104.04, 104.04, 104.04]


@pytest.mark.parametrize(("cap", "expected"), [("50", 0.5 * 0.01 / (4e-4 / 3)), ("10", 10.0)])
def test_kelly_is_the_scaled_mean_over_variance_capped(cap: str, expected: float) -> None:
    s = build_sized("hold", {"sizing": "kelly", "window": "4", "kelly_scale": "0.5", "kelly_cap": cap})
    ((j, e),) = run_in_batches(s, KELLY, [6])  # type: ignore[arg-type]
    assert j == 4
    assert e == pytest.approx(expected, rel=1e-9)


def test_kelly_without_an_edge_in_the_signals_direction_stays_flat() -> None:
    s = build_sized("hold", {"sizing": "kelly", "window": "4", "side": "short"})
    ((j, e),) = run_in_batches(s, KELLY, [6])  # type: ignore[arg-type]
    assert (j, e) == (4, 0.0)


RPT = {"sizing": "risk_per_trade", "risk_share": "0.02", "stop_atr": "2.5", "atr_period": "3"}


def test_risk_per_trade_is_the_share_of_equity_lost_at_the_stop() -> None:
    # close 50, high 51, low 49 every bar: true range 2, ATR 2; stop 2.5 ATRs = 5 away
    # exposure = 0.02 x 50 / 5 = 0.2 (a loss of 5 per unit: 0.2 x equity / 50 units lose 2 % of equity)
    s = build_sized("hold", RPT)
    ((j, e),) = run_in_batches(s, [50.0] * 5, [5], spread=1.0)  # type: ignore[arg-type]
    assert j == 2  # the ATR has its 3 bars at bar 2
    assert e == pytest.approx(0.2, rel=1e-12)
    capped = build_sized(
        "hold",
        {
            "sizing": "risk_per_trade",
            "risk_share": "0.02",
            "stop_atr": "2.5",
            "atr_period": "3",
            "max_leverage": "0.1",
        },
    )
    assert run_in_batches(capped, [50.0] * 5, [5], spread=1.0) == [(2, 0.1)]  # type: ignore[arg-type]


def test_a_risk_per_trade_backtest_opens_the_size_that_loses_the_share_at_the_stop() -> None:
    n = 8
    c = np.full(n, 50.0)
    ts = 1_735_689_600 * 10**9 + HOUR * np.arange(n, dtype=np.int64)
    md = MarketData(
        "hand", "perp", "SOL", BarBatch(ts, c, c + 1, c - 1, c, np.full(n, 1e6), HOUR, c, c), None
    )
    spec = BacktestSpec(
        data="hand",
        venue="drift",
        strategy="hold",
        params=RPT,
        cash=Decimal(1_000),
        cash_fraction=Decimal(1),
        liquidity=LiquiditySettings().model_dump(),
    )
    session = build_backtest(spec, md, risk=RiskSettings())
    run_backtest(session)
    entry = session.node.record.fills[0]
    # equity 1000 x exposure 0.2 / (50 x (1 + 3.5 bps taker fee)), down to the 0.01 lot: 3.99 SOL, whose
    # loss at the stop (5 away) is 19.95 <= 2 % of 1000
    assert entry.qty == Decimal("3.99")
    assert entry.qty * 5 <= Decimal(20)


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"sizing": "martingale"}, "sizing"),
        ({"sizing": "vol_target", "kelly_scale": "0.5"}, "kelly_scale"),
        ({"sizing": "kelly", "window": "1"}, "window"),
        ({"sizing": "risk_per_trade", "risk_share": "1.5"}, "risk_share"),
        ({"sizing": "vol_target", "target_vol": "-1"}, "target_vol"),
        ({"sizing": "kelly", "kelly_cap": "abc"}, "kelly_cap"),
    ],
)
def test_a_bad_sizing_parameter_is_one_line_naming_it(params: dict[str, str], needle: str) -> None:
    with pytest.raises(UserError, match=needle) as err:
        build("hold", params)  # what the CLI checks before the data loads
    assert "\n" not in str(err.value)


def test_funding_carry_refuses_a_sizing() -> None:
    with pytest.raises(UserError, match="funding_carry"):
        build("funding_carry", {"sizing": "kelly"})


def test_without_sizing_the_strategy_is_unchanged() -> None:
    assert not isinstance(build_sized("hold", {"leverage": "2"}), SizedStrategy)
    assert not isinstance(build_sized("hold", {"sizing": "none"}), SizedStrategy)
