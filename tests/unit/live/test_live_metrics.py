"""`bot_drift_margin_mismatch_total{run, figure}`: a Drift venue's margin mismatch counter exported as a
Prometheus counter that follows it (only what was added since the last update), venues without one
ignored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from botnft.live.metrics import LiveMetrics


class _Drift:
    def __init__(self) -> None:
        self.margin_mismatches: Counter[str] = Counter()


class _Other:
    pass


def _samples(text: bytes) -> dict[tuple[str, str], float]:
    out = {}
    for fam in text_string_to_metric_families(text.decode()):
        for s in fam.samples:
            if s.name == "bot_drift_margin_mismatch_total":
                out[(s.labels["run"], s.labels["figure"])] = s.value
    return out


def test_the_counter_follows_the_venues_mismatches(tmp_path: Path) -> None:
    drift = _Drift()
    live = LiveMetrics("r1", {"DRIFT": drift, "BINANCE": _Other()})
    assert _samples(live.text()) == {}
    drift.margin_mismatches["free_collateral"] += 2
    assert _samples(live.text()) == {("r1", "free_collateral"): 2.0}
    drift.margin_mismatches["free_collateral"] += 1
    drift.margin_mismatches["health"] += 1
    live.update()
    live.update()  # nothing new: nothing added
    path = tmp_path / "m.prom"
    live.write(path)
    assert _samples(path.read_bytes()) == {("r1", "free_collateral"): 3.0, ("r1", "health"): 1.0}
    assert b"# TYPE bot_drift_margin_mismatch_total counter" in path.read_bytes()


def test_served_on_loopback() -> None:
    import urllib.request

    drift = _Drift()
    drift.margin_mismatches["liquidation_price"] += 1
    live = LiveMetrics("r2", {"DRIFT": drift})
    live.serve(0)
    try:
        live.update()
        port = live.server.server_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            body = r.read()
        assert _samples(body) == {("r2", "liquidation_price"): 1.0}
    finally:
        live.close()
    assert live.server is None
