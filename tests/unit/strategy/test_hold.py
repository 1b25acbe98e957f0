"""The hold strategy: one signal at the first bar, then nothing."""

import numpy as np
import pytest

from botnft.domain.errors import UserError
from botnft.strategy.library import build


class Bars:
    def __init__(self, n):
        self.close = np.ones(n)

    def __len__(self):
        return len(self.close)


def test_hold_enters_once_at_the_first_bar_with_its_leverage_and_side():
    s = build("hold", {"leverage": "10", "side": "short"})
    first = Bars(5)
    assert s.on_bars(first) == [(0, -10.0)]
    assert s.on_bars(first) == []


@pytest.mark.parametrize(("key", "value"), [("leverage", "0"), ("leverage", "101"), ("side", "up")])
def test_hold_refuses_a_bad_parameter_in_one_line(key, value):
    with pytest.raises(UserError, match=key):
        build("hold", {key: value})
