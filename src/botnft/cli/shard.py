"""Market shards: a node replica takes its market from its slot (`--shard SLOT/N` or BOT_SHARD).

In the Swarm stack a node service runs N replicas, each with `BOT_SHARD={{.Task.Slot}}/N` and the same
`--data A,B,C`: replica k trades the markets at positions k-1, k-1+N, ... of the list (round-robin), so the
same list and N give every market to exactly one replica. A node trades one market, so N must equal the
number of markets; scale by adding markets and replicas together.
"""

from __future__ import annotations

import re

from botnft.domain.errors import UserError

_SHARD = re.compile(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*")


def parse_shard(raw: str) -> tuple[int, int]:
    """'SLOT/N' (1 <= SLOT <= N) -> (SLOT, N)."""
    m = _SHARD.fullmatch(raw)
    if m is None:
        raise UserError(f"a shard is SLOT/N, e.g. 2/3 (BOT_SHARD or --shard), got {raw!r}")
    slot, count = int(m.group(1)), int(m.group(2))
    if not 1 <= slot <= count:
        raise UserError(f"shard slot must be in 1..{count}, got {raw!r}")
    return slot, count


def shard_markets(markets: list[str], slot: int, count: int) -> list[str]:
    """The markets replica `slot` of `count` trades: every count-th market from position slot-1."""
    return markets[slot - 1 :: count]


def sharded_data(data: str, shard: str | None) -> str:
    """The one market (a `--data` value) this node trades: `data` itself without a shard, else the
    shard's market of the comma-separated list `data`."""
    if not shard:
        return data
    slot, count = parse_shard(shard)
    markets = [m.strip() for m in data.split(",")]
    if any(not m for m in markets):
        raise UserError(f"--data with a shard is a comma-separated list of markets, got {data!r}")
    if len(set(markets)) != len(markets):
        raise UserError(f"--data names a market twice: {data!r}")
    mine = shard_markets(markets, slot, count)
    if len(mine) != 1:
        raise UserError(
            f"shard {slot}/{count} gets {len(mine)} of the {len(markets)} markets in --data; "
            f"a node trades one: run as many replicas as markets (N={len(markets)})"
        )
    return mine[0]
