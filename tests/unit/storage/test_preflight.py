"""`preflight` refuses, before a backtest starts, inputs its stored run row could not hold: one line each."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from botnft.backtest.persist import preflight
from botnft.domain.errors import UserError

FINE: dict[str, Any] = {
    "strategy": "ema_cross",
    "params": {"fast": "12", "slow": "26"},
    "data_source": "sol-spot-1h",
    "venue": "sim",
    "seed": 0,
    "cash": Decimal(100_000),
}
HINT = ": the run could not be stored (--no-store runs without storing)"


def test_ordinary_inputs_and_inputs_exactly_at_every_limit_pass() -> None:
    preflight(**FINE)
    preflight(
        strategy="s" * 50,
        params={},
        data_source="d" * 200,
        venue="v" * 20,
        seed=2**31 - 1,
        cash=Decimal("99999999999999999999.999999999999999999"),
    )
    preflight(**{**FINE, "seed": -(2**31), "cash": Decimal("1E-18")})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"strategy": "s" * 51},
            f"--strategy '{'s' * 38}… (51 characters) is longer than 50 characters",
        ),
        (
            {"data_source": "runs/" + "d" * 300 + ".csv"},
            f"--data 'runs/{'d' * 33}… (309 characters) is longer than 200 characters",
        ),
        ({"venue": "v" * 21}, "--venue 'vvvvvvvvvvvvvvvvvvvvv' is longer than 20 characters"),
        (
            {"seed": 2**31},
            "--seed 2147483648 does not fit a 32-bit INTEGER column (-2147483648 to 2147483647)",
        ),
        (
            {"seed": -(2**31) - 1},
            "--seed -2147483649 does not fit a 32-bit INTEGER column (-2147483648 to 2147483647)",
        ),
        (
            {"cash": Decimal("1E+30")},
            "--cash 1E+30 has more than 20 integer digits "
            "(stored money has at most 20 integer digits and 18 decimal places)",
        ),
        (
            {"cash": Decimal("1E-19")},
            "--cash 1E-19 has more than 18 decimal places "
            "(stored money has at most 20 integer digits and 18 decimal places)",
        ),
        ({"cash": Decimal("Infinity")}, "--cash Infinity is not a finite number"),
        ({"params": {"window": {1, 2}}}, "--param['window'] holds a set, which cannot be stored as JSON"),
    ],
)
def test_an_input_the_run_row_cannot_hold_is_one_user_error_line_naming_the_option(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError) as refused:
        preflight(**{**FINE, **change})

    assert str(refused.value) == message + HINT
