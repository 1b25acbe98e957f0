"""Throughput and latency of `GET /v1/runs` (the README's figures): wrk through nginx in front of 3
`bot serve` replicas (deploy/nginx/topology.py, loopback, one SQLite database seeded with --runs stored
runs, Redis for the rate limit), with the limit raised for the benchmark (application 1,000,000/s, no
nginx limit_req) so every request does the real work: token check, the Redis window, the query, the JSON.
For comparison, in the same session: the same wrk run straight at one replica (no nginx), and
`GET /v1/health` through nginx (no token, no query: what the stack itself costs, middleware and the Redis
window included).

    .venv/bin/python bench/api_load.py [--seconds 10] [--connections 32] [--threads 2] [--runs 200]
        [--limit 50] [--json]

Every process shares the machine's cores with wrk (loopback): the figures are this machine's, not a
server's.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "nginx"))

from topology import Topology

WRK = shutil.which("wrk") or "/usr/bin/wrk"
USER, PASSWORD = "bench", "bench password, long enough"


def seed(database_url: str, runs: int) -> None:
    from botnft.storage import BacktestRunRecord, TradeStore, make_engine

    engine = make_engine(database_url)
    store = TradeStore(engine)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for k in range(runs):
        store.save_backtest(
            BacktestRunRecord(
                strategy=("ema_cross", "hold", "rsi")[k % 3],
                params={"fast": str(5 + k % 20)},
                data_source="sol-spot-1h",
                venue="sim",
                seed=k,
                bars=1000,
                fills=10,
                round_trips=5,
                initial_cash=Decimal("100000"),
                final_equity=Decimal("100000") + Decimal(k) * Decimal("1.25"),
                total_return=k / 7e5,
                max_drawdown=0.05,
                sharpe=1.1,
                start_ts=t0,
                end_ts=t0 + timedelta(hours=999),
                fees_paid=Decimal("12.5"),
                summary={"strategy": "ema_cross", "fee_bps": "10"},
            ),
            [],
        )
    engine.dispose()


def token(port: int) -> str:
    import httpx

    answer = httpx.post(
        f"http://127.0.0.1:{port}/v1/auth/token",
        data={"grant_type": "password", "username": USER, "password": PASSWORD, "scope": "read"},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _duration_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(url: str, bearer: str, seconds: int, connections: int, threads: int) -> dict[str, Any]:
    done = subprocess.run(
        [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-H", f"Authorization: Bearer {bearer}", url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )  # fmt: skip
    out = done.stdout
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _duration_ms(latency["50"]),
        "p90_ms": _duration_ms(latency["90"]),
        "p99_ms": _duration_ms(latency["99"]),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else None,
    }


def run(seconds: int, connections: int, threads: int, runs: int, limit: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bot-api-load-") as tmp:
        topology = Topology(Path(tmp), replicas=3, rate_limit="1000000/second", edge_rate=0, nginx_workers=2)
        with topology:
            seed(topology.database_url, runs)
            topology.bot("user", "add", USER, "--scopes", "read", "--password-stdin", stdin=PASSWORD + "\n")
            bearer = token(topology.port)
            path = f"/v1/runs?limit={limit}"
            time.sleep(0.5)
            nginx = wrk(f"{topology.url}{path}", bearer, seconds, connections, threads)
            direct = wrk(f"{topology.replica_urls[0]}{path}", bearer, seconds, connections, threads)
            health = wrk(f"{topology.url}/v1/health", bearer, seconds, connections, threads)
    return {
        "path": path,
        "seconds": seconds,
        "connections": connections,
        "threads": threads,
        "stored_runs": runs,
        "through_nginx_3_replicas": nginx,
        "one_replica_direct": direct,
        "health_through_nginx": health,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=200, help="stored runs in the database")
    ap.add_argument("--limit", type=int, default=50, help="page size asked for")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    report = run(a.seconds, a.connections, a.threads, a.runs, a.limit)
    if a.json:
        print(json.dumps(report, indent=1))
        return
    print(
        f"GET {report['path']} ({a.runs} stored runs), wrk -t{a.threads} -c{a.connections} -d{a.seconds}s, "
        "rate limit raised"
    )
    for name in ("through_nginx_3_replicas", "one_replica_direct", "health_through_nginx"):
        r = report[name]
        print(
            f"{name:<26} {r['requests_per_s']:>8.1f} req/s  p50 {r['p50_ms']:.2f} ms  "
            f"p90 {r['p90_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  non-2xx {r['non_2xx']}  "
            f"socket errors {r['socket_errors'] or 'none'}"
        )
    ratio = (
        report["through_nginx_3_replicas"]["requests_per_s"] / report["one_replica_direct"]["requests_per_s"]
    )
    print(f"nginx + 3 replicas vs 1 replica: {ratio:.2f}x throughput")


if __name__ == "__main__":
    main()
