"""GET /metrics: the replica's process metrics in the Prometheus text format, parsed back with the
reference parser; absent from the OpenAPI schema (scraped directly, not an API operation)."""

from __future__ import annotations

import os

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def test_metrics_are_the_process_in_prometheus_text(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    # the process collector reads /proc/self: its resident memory is this process's, from the OS
    resident = families["process_resident_memory_bytes"].samples[0].value
    with open(f"/proc/{os.getpid()}/statm") as statm:
        pages = int(statm.read().split()[1])
    assert abs(resident - pages * os.sysconf("SC_PAGE_SIZE")) < 64 * 2**20
    assert "python_info" in families


def test_metrics_are_not_an_api_operation(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
