"""The report's curves and table against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from botnft.obs.reportdata import YEAR_S, Fill, ReportData

H = 3_600_000_000_000


def data(equity: list[float], fills: list[Fill], close: list[float] | None = None) -> ReportData:
    n = len(equity)
    return ReportData(
        title="t", ts_ns=np.arange(n, dtype=np.int64) * H, equity=np.array(equity, dtype=np.float64),
        close=np.array(close or [10.0] * n, dtype=np.float64), fills=fills, maintenance_margin=0.05,
    )  # fmt: skip


FILLS = [
    Fill(0, "SIM", "buy", 1.0, 100.0, 0.0),
    Fill(1 * H, "SIM", "sell", 1.0, 110.0, 1.0),  # +10 - 1 = +9
    Fill(2 * H, "CEX", "buy", 2.0, 10.0, 0.0),
    Fill(3 * H, "CEX", "sell", 1.0, 8.0, 0.0),  # -2
]


def test_trades_win_rate_and_profit_factor_from_the_fills_at_average_cost() -> None:
    d = data([100, 110, 99, 121], FILLS)
    assert d.trade_pnls() == [9.0, -2.0]
    s = d.stats()
    assert s["trades"] == 2 and s["win_rate"] == 0.5 and s["profit_factor"] == 4.5


def test_return_drawdown_and_risk_ratios_from_the_equity_curve() -> None:
    eq = [100.0, 110.0, 99.0, 121.0]
    s = data(eq, FILLS).stats()
    assert s["total_return"] == pytest.approx(0.21)
    assert s["max_drawdown"] == pytest.approx(0.1)  # 110 -> 99
    r = [0.1, -0.1, 22 / 99]
    mean = sum(r) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / 2)
    per_year = YEAR_S / 3600
    assert s["sharpe"] == pytest.approx(mean / sd * math.sqrt(per_year))
    assert s["sortino"] == pytest.approx(mean / math.sqrt(0.01 / 3) * math.sqrt(per_year))
    years = 3 * 3600 / YEAR_S
    assert s["cagr"] == pytest.approx(1.21 ** (1 / years) - 1)
    assert s["calmar"] == pytest.approx(s["cagr"] / 0.1)


def test_position_exposure_and_turnover_follow_the_fills() -> None:
    d = data([100, 110, 99, 121], FILLS)
    assert d.position().tolist() == [1.0, 0.0, 2.0, 1.0]
    s = d.stats()
    assert s["exposure"] == 0.75
    assert s["turnover"] == pytest.approx((100 + 110 + 20 + 8) / np.mean([100, 110, 99, 121]))


def test_margin_ratio_is_equity_over_notional_capped_when_flat() -> None:
    d = data([100, 110, 99, 121], FILLS, close=[50.0, 60.0, 33.0, 121.0])
    assert d.margin_ratio().tolist() == [2.0, 10.0, 1.5, 1.0]
    assert d.liquidation_distance().tolist() == pytest.approx([1.95, 9.95, 1.45, 0.95])
    assert d.leverage().tolist() == pytest.approx([0.5, 0.0, 66 / 99, 1.0])


def test_per_venue_fees_volume_and_slippage() -> None:
    fills = [Fill(0, "SIM", "buy", 1.0, 100.0, 0.3, 4.0), Fill(H, "SIM", "sell", 1.0, 100.0, 0.1, -2.0)]
    assert data([1, 1], fills).by_venue() == {
        "SIM": {"fills": 2.0, "volume": 200.0, "fees": pytest.approx(0.4), "slippage_bps": 1.0}
    }
