"""`bot optimize`'s parameter space: TOML and JSON read the same, every mistake is one `UserError` line,
and the space is checked against the strategy's own parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botnft.domain.errors import UserError
from botnft.research import optimize_space as sp

TOML = """
fast = {type = "int", low = 3, high = 30}
slow = {type = "int", low = 20, high = 200, step = 5}
short = {type = "categorical", choices = [true, false]}
"""


def test_toml_and_json_give_the_same_space(tmp_path: Path) -> None:
    t = tmp_path / "s.toml"
    t.write_text(TOML)
    j = tmp_path / "s.json"
    j.write_text(json.dumps({
        "fast": {"type": "int", "low": 3, "high": 30},
        "slow": {"type": "int", "low": 20, "high": 200, "step": 5},
        "short": {"type": "categorical", "choices": [True, False]},
    }))  # fmt: skip
    a, b = sp.load(t), sp.load(j)
    assert a == b
    assert list(a) == ["fast", "slow", "short"]  # the file's order is the suggestion order
    assert a["slow"] == sp.Param("slow", "int", 20, 200, 5, False)
    assert a["short"].choices == (True, False)
    assert sp.from_json(sp.to_json(a)) == a  # stored with the study, read back by a joining worker
    sp.check_for_strategy("ema_cross", a, {}, "s.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('fast = {type = "int", low = 3, hgih = 30}', "unknown key 'hgih' for type int"),
        ('fast = {type = "integer", low = 3, high = 30}', "type must be one of int, float, categorical"),
        ('fast = {type = "int", low = 3.5, high = 30}', "low must be an integer"),
        ('fast = {type = "int", low = 30, high = 3}', "low (30) is above high (3)"),
        ('fast = {type = "int", low = 3}', "needs low and high"),
        ('fast = {type = "float", low = 0.0, high = 1.0, log = true}', "log scale needs low > 0"),
        ('fast = {type = "float", low = 0.1, high = 1.0, log = true, step = 0.1}', "step or log"),
        ('fast = {type = "int", low = 1, high = 9, step = 0}', "step must be positive"),
        ('fast = {type = "categorical", choices = []}', "non-empty list"),
        ('fast = {type = "categorical", choices = [1, 1]}', "repeat"),
        ('fast = {type = "categorical", low = 1}', "unknown key 'low'"),
        ("fast = 3", "must be a table"),
        ("fast = {", "invalid TOML"),
        ("", "empty"),
    ],
)
def test_bad_spaces_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "space.toml"
    f.write_text(text)
    with pytest.raises(UserError) as e:
        sp.load(f)
    assert message in str(e.value)
    assert "\n" not in str(e.value) and str(e.value).startswith("space.toml")


def test_file_kind_and_presence(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        sp.load(tmp_path / "missing.toml")
    (tmp_path / "s.yaml").write_text("fast: 1")
    with pytest.raises(UserError, match=r"\.toml or \.json"):
        sp.load(tmp_path / "s.yaml")
    (tmp_path / "s.json").write_text("[1, 2]")
    with pytest.raises(UserError, match="empty"):
        sp.load(tmp_path / "s.json")


def _space(text: str) -> dict[str, sp.Param]:
    return sp.parse_text(text, "toml", "s.toml")


def test_the_space_is_checked_against_the_strategy() -> None:
    with pytest.raises(UserError, match="unknown strategy 'nope'"):
        sp.check_for_strategy("nope", _space(TOML), {}, "s.toml")
    with pytest.raises(UserError, match="strategy hold takes no parameter 'fast'"):
        sp.check_for_strategy("hold", _space(TOML), {}, "s.toml")
    with pytest.raises(UserError, match="short holds bool values; a int space does not fit"):
        sp.check_for_strategy("ema_cross", _space('short = {type = "int", low = 0, high = 1}'), {}, "s.toml")
    with pytest.raises(UserError, match="fast holds int values; a float space"):
        sp.check_for_strategy("ema_cross", _space('fast = {type = "float", low = 1, high = 9}'), {}, "s.toml")
    with pytest.raises(UserError, match="fast holds int values; a categorical"):
        sp.check_for_strategy(
            "ema_cross", _space('fast = {type = "categorical", choices = ["a", "b"]}'), {}, "s.toml"
        )
    with pytest.raises(UserError, match="both searched"):
        sp.check_for_strategy("ema_cross", _space(TOML), {"fast": "5"}, "s.toml")
    with pytest.raises(UserError, match="unknown parameter 'nope'"):
        sp.check_for_strategy(
            "ema_cross", _space('fast = {type = "int", low = 3, high = 9}'), {"nope": "1"}, "s"
        )
    # every probe refused (fast is never below slow): the space cannot work
    bad = _space('fast = {type = "int", low = 60, high = 90}\nslow = {type = "int", low = 10, high = 50}')
    with pytest.raises(UserError, match="refuses the space's lows, middles and highs: fast"):
        sp.check_for_strategy("ema_cross", bad, {}, "s.toml")
    # some combinations invalid but not all: accepted (those trials fail, the others run)
    overlap = _space('fast = {type = "int", low = 5, high = 40}\nslow = {type = "int", low = 10, high = 60}')
    sp.check_for_strategy("ema_cross", overlap, {}, "s.toml")
    # a sizing key is a parameter of every exposure strategy, given the method that reads it
    vt = _space('target_vol = {type = "float", low = 0.1, high = 1.0, log = true}')
    sp.check_for_strategy("ema_cross", vt, {"sizing": "vol_target"}, "s.toml")
    with pytest.raises(UserError, match="does not apply to sizing=none"):
        sp.check_for_strategy("ema_cross", vt, {}, "s.toml")


def test_raw_values_parse_back_as_the_strategy_reads_them() -> None:
    assert [sp.raw_value(v) for v in (True, False, 7, 0.1, "x")] == ["true", "false", "7", "0.1", "x"]
    assert sp.Param("f", "int", 3, 30).probes() == [3, 16, 30]
    assert sp.Param("f", "float", 0.5, 1.5).probes() == [0.5, 1.0, 1.5]
