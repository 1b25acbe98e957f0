"""The API's per-IP rate limit through the real topology (the README's figures): nginx in front of 3
`bot serve` replicas sharing Redis (deploy/nginx/topology.py), on loopback. 20 clients, each from its own
loopback source address (127.0.0.2 ... 127.0.0.21: the client socket is bound to it), each send 50
requests/s for 10 s (open loop: a request leaves on schedule whether or not earlier ones were answered).
Printed per client: the accepted rate (target 5/s +- 10 %), how the accepted requests spread over the
replicas (their `X-Replica` header), the 429s (split into nginx's edge limit and the application's).
Half the clients (the even ones) send a forged `X-Forwarded-For: 198.51.100.1`, all the same: were it
believed, those ten would share one window and get 0.5/s each.

    .venv/bin/python bench/api_ratelimit.py [--clients 20] [--rate 50] [--seconds 10] [--edge-rate 5]
        [--path /v1/health] [--json]

nginx's own limit_req (the first line) defaults to 10 r/s per address with a burst of 20 (`--edge-rate 5`
measures the two limiters at the same rate; `--edge-rate 0` removes nginx's, so the application's Redis
window alone does the limiting).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "nginx"))

from topology import DEFAULTS, Topology

FORGED = "198.51.100.1"
LIMIT_PER_S = 5.0


@dataclass
class ClientResult:
    source: str
    forged: bool
    sent: int = 0
    accepted: int = 0
    edge_429: int = 0
    app_429: int = 0
    other: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    replicas: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def as_dict(self, seconds: float) -> dict[str, object]:
        return {
            "source": self.source,
            "forged_xff": self.forged,
            "sent": self.sent,
            "accepted": self.accepted,
            "accepted_per_s": self.accepted / seconds,
            "edge_429": self.edge_429,
            "app_429": self.app_429,
            "other": dict(self.other),
            "errors": self.errors,
            "replicas": dict(self.replicas),
        }


class Connection:
    """One keep-alive HTTP/1.1 connection from a fixed source address."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, request: bytes) -> tuple[int, dict[str, str]]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length:
            await self.reader.readexactly(length)
        return int(lines[0].split()[1]), headers


async def run_client(
    result: ClientResult, port: int, path: str, rate: float, seconds: float, start: float
) -> None:
    idle: list[Connection] = []
    forged = f"X-Forwarded-For: {FORGED}\r\n" if result.forged else ""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{forged}\r\n".encode()

    async def one() -> None:
        conn = idle.pop() if idle else None
        try:
            if conn is None:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(result.source, 0)
                )
                conn = Connection(reader, writer)
            began = time.perf_counter()
            status, headers = await conn.get(request)
            result.latencies_ms.append((time.perf_counter() - began) * 1000)
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            if conn is not None:
                conn.writer.close()
            return
        if headers.get("connection", "").lower() == "close":
            conn.writer.close()
        else:
            idle.append(conn)
        if status == 200:
            result.accepted += 1
            result.replicas[headers.get("x-replica", "?")] += 1
        elif status == 429 and headers.get("x-limited-by") == "edge":
            result.edge_429 += 1
        elif status == 429:
            result.app_429 += 1
        else:
            result.other[status] += 1

    tasks = []
    total = round(rate * seconds)
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        result.sent += 1
        tasks.append(asyncio.create_task(one()))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    for conn in idle:
        conn.writer.close()


async def measure(port: int, clients: int, rate: float, seconds: float, path: str) -> list[ClientResult]:
    results = [ClientResult(source=f"127.0.0.{2 + i}", forged=i % 2 == 0) for i in range(clients)]
    start = time.monotonic() + 0.2
    await asyncio.gather(*(run_client(r, port, path, rate, seconds, start) for r in results))
    return results


def run(
    clients: int = 20,
    rate: float = 50,
    seconds: float = 10,
    edge_rate: int = DEFAULTS["edge_rate"],
    path: str = "/v1/health",
    workdir: Path | None = None,
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bot-api-rl-") as tmp:
        topology = Topology(workdir or Path(tmp), replicas=3, edge_rate=edge_rate)
        with topology:
            time.sleep(1.1)  # the readiness probes' window passes
            results = asyncio.run(measure(topology.port, clients, rate, seconds, path))
    per_client = [r.as_dict(seconds) for r in results]
    latencies = sorted(x for r in results for x in r.latencies_ms)
    return {
        "clients": clients,
        "rate_per_client": rate,
        "seconds": seconds,
        "edge_rate": edge_rate,
        "limit_per_s": LIMIT_PER_S,
        "per_client": per_client,
        "replicas_total": dict(sum((r.replicas for r in results), Counter())),
        "latency_ms_p50": statistics.median(latencies) if latencies else None,
        "latency_ms_p99": latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--rate", type=float, default=50, help="requests/s sent by each client")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument(
        "--edge-rate",
        type=int,
        default=DEFAULTS["edge_rate"],
        help="nginx limit_req r/s per address (0: none)",
    )
    ap.add_argument("--path", default="/v1/health")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args()
    if not 1 <= a.clients <= 250:
        sys.exit("--clients: 1 to 250 (sources 127.0.0.2 ...)")
    report = run(a.clients, a.rate, a.seconds, a.edge_rate, a.path)
    if a.json:
        print(json.dumps(report, indent=1))
        return
    low, high = LIMIT_PER_S * 0.9, LIMIT_PER_S * 1.1
    print(
        f"{a.clients} clients x {a.rate:g} req/s for {a.seconds:g} s through nginx "
        f"(edge limit {a.edge_rate or 'off'} r/s) to 3 replicas, app limit {LIMIT_PER_S:g}/s per IP (Redis)"
    )
    print(
        f"{'source':<12} {'xff':<6} {'sent':>5} {'ok':>4} {'ok/s':>6} {'edge429':>8} {'app429':>7} replicas"
    )
    inside = 0
    for c in report["per_client"]:  # type: ignore[attr-defined]
        ok = low <= c["accepted_per_s"] <= high
        inside += ok
        spread = " ".join(f"{k}:{v}" for k, v in sorted(c["replicas"].items()))
        extra = f" other={c['other']}" if c["other"] else ""
        extra += f" errors={c['errors']}" if c["errors"] else ""
        print(
            f"{c['source']:<12} {'forged' if c['forged_xff'] else '-':<6} {c['sent']:>5} {c['accepted']:>4} "
            f"{c['accepted_per_s']:>6.2f} {c['edge_429']:>8} {c['app_429']:>7} {spread}{extra}"
            f"{'' if ok else '  <- outside the band'}"
        )
    print(f"clients within {low:g}..{high:g}/s: {inside}/{a.clients}")
    print(f"accepted per replica (all clients): {report['replicas_total']}")
    p50, p99 = report["latency_ms_p50"], report["latency_ms_p99"]
    print(f"latency of every answer: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
