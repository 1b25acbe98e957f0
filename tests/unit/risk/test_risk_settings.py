"""`[risk]` in bot.toml and BOT_RISK_* : a bad limit is one line naming the field."""

import pytest

from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.config import RiskSettings, load_settings
from botnft.domain.errors import UserError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_CONFIG", raising=False)


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ("buffer = -1", "risk.buffer"),
        ("max_order_notional = -5", "risk.max_order_notional"),
        ("atr_multiple = -0.5", "risk.atr_multiple"),
        ("max_drawdown = 1.5", "risk.max_drawdown"),
        ("bogus = 1", "risk.bogus"),
        ("max_data_age_s = 0", "risk.max_data_age_s"),
    ],
)
def test_a_bad_risk_table_is_refused_naming_the_field(tmp_path, toml, field):
    (tmp_path / "bot.toml").write_text(f"[risk]\n{toml}\n")
    with pytest.raises(UserError, match=f"^bad setting {field}:"):
        load_settings()


def test_bot_risk_variables_override_the_file_and_are_checked(tmp_path, monkeypatch):
    (tmp_path / "bot.toml").write_text("[risk]\nbuffer = 3\natr_multiple = 4\n")
    monkeypatch.setenv("BOT_RISK_ATR_MULTIPLE", "7")
    risk = load_settings().risk
    assert (risk.buffer, risk.atr_multiple) == (3.0, 7.0)
    monkeypatch.setenv("BOT_RISK_BUFFER", "0.5")
    with pytest.raises(UserError, match=r"^bad setting risk\.buffer:"):
        load_settings()
    monkeypatch.delenv("BOT_RISK_BUFFER")
    monkeypatch.setenv("BOT_RISK_NOPE", "1")
    with pytest.raises(UserError, match=r"^bad setting risk\.nope:"):
        load_settings()


def test_a_leverage_limit_above_the_venues_maximum_is_refused():
    with pytest.raises(UserError, match=r"^risk.max_leverage 25.0 exceeds SOL-PERP.DRIFT's maximum of 20x$"):
        build_backtest(BacktestSpec(data="sol-perp-1h", venue="drift"), risk=RiskSettings(max_leverage=25))


def test_the_stale_data_limit_in_seconds_reaches_the_gate_in_nanoseconds(tmp_path):
    from botnft.bootstrap import risk_limits
    from botnft.venue_builders import make_instrument

    (tmp_path / "bot.toml").write_text("[risk]\nmax_data_age_s = 7200\n")
    gate, _ = risk_limits(load_settings().risk, make_instrument("perp", "SOL"))
    assert gate.max_data_age_ns == 7_200 * 10**9
    assert risk_limits(RiskSettings(), make_instrument("perp", "SOL"))[0].max_data_age_ns is None
