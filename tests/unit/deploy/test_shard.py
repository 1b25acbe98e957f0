"""Market shards: replica k of N trades the markets at positions k-1, k-1+N, ... of the list."""

from __future__ import annotations

import pytest

from botnft.cli.shard import parse_shard, shard_markets, sharded_data
from botnft.domain.errors import UserError

MARKETS = ["a", "b", "c", "d", "e", "f", "g"]


def test_round_robin_by_hand() -> None:
    assert shard_markets(MARKETS, 1, 3) == ["a", "d", "g"]
    assert shard_markets(MARKETS, 2, 3) == ["b", "e"]
    assert shard_markets(MARKETS, 3, 3) == ["c", "f"]
    assert shard_markets(MARKETS, 1, 1) == MARKETS


@pytest.mark.parametrize("count", range(1, 10))
def test_every_market_goes_to_exactly_one_slot(count: int) -> None:
    owner: dict[str, list[int]] = {}
    for slot in range(1, count + 1):
        for m in shard_markets(MARKETS, slot, count):
            owner.setdefault(m, []).append(slot)
    assert sorted(owner) == MARKETS
    assert all(len(slots) == 1 for slots in owner.values())
    # position i belongs to slot (i mod N) + 1
    assert all(owner[m] == [i % count + 1] for i, m in enumerate(MARKETS))


def test_a_node_takes_the_one_market_of_its_slot() -> None:
    assert sharded_data("x,y,z", "2/3") == "y"
    assert sharded_data(" x , y ", "1/2") == "x"
    assert sharded_data("sol-spot-1h", None) == "sol-spot-1h"


@pytest.mark.parametrize(
    ("data", "shard", "text"),
    [
        ("x,y", "3/2", "slot must be in 1..2"),
        ("x,y", "0/2", "slot must be in 1..2"),
        ("x,y", "two/2", "SLOT/N"),
        ("x,y", "1", "SLOT/N"),
        ("x,y,z", "1/2", "gets 2 of the 3 markets"),
        ("x", "2/2", "gets 0 of the 1 markets"),
        ("x,,y", "1/3", "comma-separated"),
        ("x,x", "1/2", "twice"),
    ],
)
def test_bad_shards_are_user_errors(data: str, shard: str, text: str) -> None:
    with pytest.raises(UserError, match=text):
        sharded_data(data, shard)


def test_parse() -> None:
    assert parse_shard("3/5") == (3, 5)
    assert parse_shard(" 1 / 1 ") == (1, 1)
