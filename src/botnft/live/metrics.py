"""A live run's Prometheus series (`bot live --metrics-out FILE` / `--metrics-port PORT`), in the run's own
registry: `bot_drift_margin_mismatch_total{run, figure}`, how many times a Drift venue's
margin figure (margin requirement, free collateral, health, liquidation price) as driftpy reads it from
the account differed from the project's margin model (`DriftVenue.margin_mismatches`, counted at every
reconciliation of the venue)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class LiveMetrics:
    """The series of one live run over its venue `clients` (those with `margin_mismatches` are Drift's)."""

    def __init__(self, run_id: str, clients: Mapping[str, Any]) -> None:
        from prometheus_client import CollectorRegistry
        from prometheus_client import Counter as PromCounter

        self.run_id = run_id
        self.registry = CollectorRegistry()  # its own: several runs in one process never collide
        self.margin_mismatch = PromCounter(
            "bot_drift_margin_mismatch",
            "Drift margin figures the venue's account and our margin model disagree on, by figure",
            ["run", "figure"],
            registry=self.registry,
        )
        self.sources = {
            name: c
            for name, c in clients.items()
            if isinstance(getattr(c, "margin_mismatches", None), Counter)
        }
        self.seen: dict[tuple[str, str], int] = {}
        self.server: Any = None

    def update(self) -> None:
        """Add what each Drift venue counted since the last update (its counter only grows)."""
        for name, client in self.sources.items():
            counts = dict(client.margin_mismatches)  # one C-level copy: safe against the venue's thread
            for figure, n in counts.items():
                delta = n - self.seen.get((name, figure), 0)
                if delta > 0:
                    self.margin_mismatch.labels(self.run_id, figure).inc(delta)
                    self.seen[(name, figure)] = n

    def text(self) -> bytes:
        from prometheus_client import generate_latest

        self.update()
        return generate_latest(self.registry)

    def write(self, path: Path) -> None:
        path.write_bytes(self.text())

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve /metrics on `host:port` from a daemon thread (updated by `update`)."""
        from prometheus_client import start_http_server

        self.server, _thread = start_http_server(port, addr=host, registry=self.registry)

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None
