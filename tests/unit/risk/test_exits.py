"""Take-profit and time stop held by the node: closed-form bars, counted by kind."""

from decimal import Decimal as D
from types import SimpleNamespace

import numpy as np
import pytest

from botnft.domain.errors import UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp
from botnft.risk.guard import LiquidationGuard
from botnft.risk.limits import GuardLimits

PERP = Perp(InstrumentId("SOL-PERP", "DRIFT"), "SOL", "USDC", D("0.0001"), D("0.01"), D("0.01"))


def bars(close, high=None, low=None):
    close = np.asarray(close, dtype=np.float64)
    return SimpleNamespace(
        close=close,
        high=close + 1 if high is None else np.asarray(high, dtype=np.float64),
        low=close - 1 if low is None else np.asarray(low, dtype=np.float64),
        ts_ns=np.arange(len(close), dtype=np.int64) * 3_600_000_000_000,
    )


def account(base):
    def margin_at(price):  # collateral so large that no margin test ever fires
        return 1e9 + base * (price - 100.0), 0.05 * abs(base) * price, base

    return margin_at


def guard(base, **kw):
    limits = GuardLimits(buffer=1.0, atr_multiple=0.0, min_distance=0.0, **kw)
    return LiquidationGuard(account(base), PERP, limits, lambda q: 0.05)


def test_a_long_take_profit_fires_at_the_bar_whose_high_reaches_entry_plus_its_atrs():
    g = guard(20.0, take_profit_atr=2.0)
    # every range is 2 and no move larger: ATR 2; target 100 + 2 * 2 = 104; bar 2's high 104.5 reaches it
    b = bars([100.0, 101.0, 103.0, 103.0], high=[101, 102, 104.5, 104], low=[99, 100, 102.5, 102])
    g.on_batch(b)
    assert g.next_event_index(b, 0, 4) == 2
    assert g.target(b, 2) == D(0)
    assert g.record.stops_triggered == 1
    assert g.record.stops_by_kind == {"take_profit": 1}


def test_a_short_take_profit_is_reached_by_the_low_and_not_by_the_high():
    g = guard(-20.0, take_profit_atr=1.5)
    # ATR 2; target 100 - 1.5 * 2 = 97: the lows 99, 98, 97.5 miss it, 96.5 reaches it at bar 3
    b = bars([100.0, 99.0, 98.5, 97.5], high=[101, 100, 99.5, 98.5], low=[99, 98, 97.5, 96.5])
    g.on_batch(b)
    assert g.next_event_index(b, 0, 4) == 3


def test_a_time_stop_exits_at_the_close_of_the_nth_bar_held_whatever_the_batching():
    b = bars([100.0] * 6)
    whole = guard(20.0, time_stop_bars=3)
    whole.on_batch(b)
    assert whole.next_event_index(b, 0, 6) == 2  # bars 0, 1, 2 held: out at bar 2's close
    split = guard(20.0, time_stop_bars=3)
    split.on_batch(b)
    assert split.next_event_index(b, 0, 2) == 2  # two bars held, none hit
    assert split.next_event_index(b, 2, 6) == 2  # the third is bar 2
    assert split.target(b, 2) == D(0)
    assert split.record.stops_by_kind == {"time_stop": 1}


def test_the_earliest_exit_wins_and_a_stop_beats_a_take_profit_in_the_same_bar():
    b = bars([100.0, 100.0, 100.0], high=[101, 101, 106], low=[99, 99, 94])
    g = guard(20.0, stop_atr=2.0, take_profit_atr=2.0, time_stop_bars=5)
    g.on_batch(b)  # ATR 2 on bars 0-1; bar 2 reaches both 96 and 104
    assert g.next_event_index(b, 0, 3) == 2
    g.target(b, 2)
    assert g.record.stops_by_kind == {"stop": 1}


@pytest.mark.parametrize("kw", [{"take_profit_atr": 0.0}, {"time_stop_bars": 0}])
def test_a_non_positive_take_profit_or_time_stop_is_a_user_error(kw):
    with pytest.raises(UserError):
        GuardLimits(**kw)
