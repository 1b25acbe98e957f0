"""The rate limit through the real topology, short: nginx (Debian) in front of 3 `bot serve` replicas
sharing Redis, on loopback (deploy/nginx/topology.py), driven by bench/api_ratelimit.py for 3 s with 6
clients from 127.0.0.2 ... 127.0.0.7 at 50 requests/s each. Each client must get 5/s +- 10 % through (the
limit's arithmetic: 5 per moving second x 3 s = 15, band 13.5 ... 16.5), spread over all three replicas,
and the clients sending one forged X-Forwarded-For get the same as the others (were it believed, the
three forged clients would share one window: 5 each in 3 s together)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "api_ratelimit.py"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECONDS = 3
CLIENTS = 6
LIMIT = 5


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (make system-tools)"),
    pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379"),
]


def test_each_client_gets_five_per_second_across_three_replicas() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--clients", str(CLIENTS), "--seconds", str(SECONDS), "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=REPO,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    rows = report["per_client"]
    assert [r["source"] for r in rows] == [f"127.0.0.{2 + i}" for i in range(CLIENTS)]
    expected = LIMIT * SECONDS
    for row in rows:
        assert row["sent"] == 50 * SECONDS
        assert row["errors"] == 0 and row["other"] == {}, row
        # every request answered: accepted or refused with 429, by nginx's edge or by the app
        assert row["accepted"] + row["edge_429"] + row["app_429"] == row["sent"], row
        assert 0.9 * expected <= row["accepted"] <= 1.1 * expected, row
        assert row["app_429"] > 0, row  # the application's window refused some: it is the exact limit
    forged = [r["accepted"] for r in rows if r["forged_xff"]]
    honest = [r["accepted"] for r in rows if not r["forged_xff"]]
    assert len(forged) == CLIENTS // 2 and min(forged) >= 0.9 * expected
    assert abs(sum(forged) - sum(honest)) <= CLIENTS // 2 * 2
    replicas = report["replicas_total"]
    assert sorted(replicas) == ["r1", "r2", "r3"]
    total = sum(replicas.values())
    assert all(count >= total / 6 for count in replicas.values()), replicas  # spread, not all on one
