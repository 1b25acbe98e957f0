"""A backtest job through a running `bot serve` (uvicorn, loopback): its worker pool starts with the first
job, runs it to a stored run, and stops with the server (no process of the server's group is left)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from botnft.api.app import create_app
from botnft.api.settings import ApiSettings
from botnft.storage import upgrade

PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(240)
def test_a_job_runs_in_the_servers_worker_pool_which_stops_with_the_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite'}"
    upgrade(url)
    setup = create_app(
        ApiSettings(database_url=url, data_dir=tmp_path / "data", argon2_time_cost=1, argon2_memory_kib=1024)
    )
    setup.state.accounts.add_user("boss", PASSWORD, frozenset({"read", "trade"}))
    setup.state.engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "BOT_API_DATABASE_URL": url,
        "BOT_API_DATA_DIR": str(tmp_path / "data"),
        "BOT_API_RATE_LIMIT": "100000/second",
        "BOT_API_JOB_WORKERS": "1",
    }
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "botnft.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        form = {"grant_type": "password", "username": "boss", "password": PASSWORD}
        auth = {
            "Authorization": f"Bearer {httpx.post(f'{base}/v1/auth/token', data=form).json()['access_token']}"
        }
        spec = {"data": "sol-spot-1h", "strategy": "sma_cross", "start": "2024-01-01", "end": "2024-02-01"}
        job = httpx.post(f"{base}/v1/backtests", json=spec, headers=auth, timeout=30).json()
        deadline = time.monotonic() + 120
        status = job
        while status["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.25)
            status = httpx.get(f"{base}/v1/backtests/{job['id']}", headers=auth, timeout=10).json()
        assert status["status"] == "done", status
        result = httpx.get(f"{base}/v1/backtests/{job['id']}/result", headers=auth, timeout=10).json()
        run = httpx.get(f"{base}/v1/runs/{result['run_id']}", headers=auth, timeout=10).json()
        assert run["strategy"] == "sma_cross" and run["final_equity"] == result["summary"]["final_equity"]
        server.send_signal(signal.SIGTERM)  # the server alone: it stops its workers itself
        server.wait(30)
        deadline = time.monotonic() + 15
        while _group_alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(server.pid), "a worker outlived the server"
    finally:
        if server.poll() is None or _group_alive(server.pid):
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
        log.close()
    text = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
