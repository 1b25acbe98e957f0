"""Backtest jobs: a spec is checked in full before anything is written, a worker process runs it outside
the request and stores the run (the same figures as running the backtest directly), cancel, claims that
never collide, and a dead worker's job failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from api_testkit import bearer, login, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from botnft.api.app import create_app
from botnft.api.jobs import JOBS, JobStore, run_job, thin_curve
from botnft.api.settings import ApiSettings

SPEC = {
    "data": "sol-spot-1h",
    "strategy": "ema_cross",
    "start": "2024-01-01",
    "end": "2024-03-01",
    "cash": "2500.5",
}


def token(client: TestClient, app: FastAPI, scopes: str = "read trade") -> dict[str, str]:
    name = "u" + scopes.replace(" ", "")
    make_user(app, name, scopes)
    return bearer(login(client, name).json()["access_token"])


def jobs_in(app: FastAPI) -> int:
    with app.state.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM backtest_jobs")).scalar())


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"strategy": "no_such_strategy"}, "unknown strategy"),
        ({"data": "no-such-data"}, "unknown data set"),
        ({"params": {"nope": "1"}}, "nope"),
        ({"cash": "1e5"}, "body.cash"),
        ({"cash": "12.5.1"}, "body.cash"),
        ({"cash": "NaN"}, "body.cash"),
        ({"fee_bps": "-"}, "body.fee_bps"),
        ({"cash": "0"}, "--cash must be positive"),
        ({"cash": "1.0000001"}, "decimal places"),
        ({"start": "2024-03-01", "end": "2024-01-01"}, "is not before"),
        ({"leverage": "100"}, "body.leverage"),
        ({"params": {"models_dir": "/etc"}}, "server folder"),
    ],
)
def test_a_bad_spec_is_a_422_problem_and_nothing_is_written(
    client: TestClient, api_app: FastAPI, change: dict[str, Any], where: str
) -> None:
    answer = client.post("/v1/backtests", json={**SPEC, **change}, headers=token(client, api_app))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert where in problem.get("detail", "") + " ".join(p["name"] for p in problem.get("invalid-params", []))
    assert jobs_in(api_app) == 0


def test_malformed_json_is_a_problem_and_submitting_needs_the_trade_scope(
    client: TestClient, api_app: FastAPI
) -> None:
    auth = token(client, api_app)
    answer = client.post(
        "/v1/backtests", content=b"{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert client.post("/v1/backtests", json=SPEC).status_code == 401
    assert client.post("/v1/backtests", json=SPEC, headers=token(client, api_app, "read")).status_code == 403
    assert jobs_in(api_app) == 0


@pytest.fixture
def no_workers(make_settings: Callable[..., ApiSettings], clock: Any) -> FastAPI:
    return create_app(make_settings(job_workers=0), clock=clock)


def test_a_queued_job_is_cancelled_at_once_and_has_no_result(no_workers: FastAPI) -> None:
    with TestClient(no_workers, raise_server_exceptions=False) as client:
        auth = token(client, no_workers)
        answer = client.post("/v1/backtests", json=SPEC, headers=auth)
        assert answer.status_code == 202
        job = answer.json()
        assert answer.headers["location"] == f"/v1/backtests/{job['id']}"
        assert (job["status"], job["submitted_by"], job["spec"]["cash"]) == (
            "queued",
            "user:ureadtrade",
            "2500.5",
        )
        assert client.get(f"/v1/backtests/{job['id']}/result", headers=auth).status_code == 409
        cancelled = client.post(f"/v1/backtests/{job['id']}/cancel", headers=auth).json()
        assert cancelled["status"] == "cancelled"
        assert client.get(f"/v1/backtests/{job['id']}", headers=auth).json()["status"] == "cancelled"
        listed = client.get("/v1/backtests", params={"status": "cancelled"}, headers=auth).json()["items"]
        assert [j["id"] for j in listed] == [job["id"]]
        assert client.post("/v1/backtests/999/cancel", headers=auth).status_code == 404
        assert no_workers.state.job_pool is None  # no worker processes with job_workers = 0


def _reference(spec: dict[str, Any]) -> Any:
    """The same backtest run directly (in one batch, as `bot backtest` does)."""
    from botnft.backtest.runner import run_backtest
    from botnft.backtest.spec import BacktestSpec
    from botnft.bootstrap import build_backtest
    from botnft.config import load_settings

    settings = load_settings()
    built = BacktestSpec(
        data=spec["data"],
        strategy=spec["strategy"],
        cash=Decimal(spec["cash"]),
        start=datetime.fromisoformat(spec["start"]).replace(tzinfo=UTC),
        end=datetime.fromisoformat(spec["end"]).replace(tzinfo=UTC),
        liquidity=settings.liquidity.model_dump(),
    )
    return run_backtest(build_backtest(built, risk=settings.risk))


def test_a_worker_process_runs_the_job_and_stores_the_same_run_as_a_direct_backtest(
    client: TestClient, api_app: FastAPI
) -> None:
    auth = token(client, api_app)
    job = client.post("/v1/backtests", json=SPEC, headers=auth).json()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = client.get(f"/v1/backtests/{job['id']}", headers=auth).json()
        if status["status"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.2)
    assert status["status"] == "done", status
    result = client.get(f"/v1/backtests/{job['id']}/result", headers=auth).json()
    reference = _reference(SPEC)
    assert result["summary"]["final_equity"] == str(reference.stats.final_equity)
    assert result["summary"]["fills"] == len(reference.fills)
    run = client.get(f"/v1/runs/{result['run_id']}", headers=auth).json()
    assert (run["final_equity"], run["initial_cash"], run["fills"]) == (
        str(reference.stats.final_equity),
        "2500.5",
        len(reference.fills),
    )
    fills = client.get(f"/v1/runs/{result['run_id']}/fills", params={"limit": 500}, headers=auth).json()[
        "items"
    ]
    assert [(f["side"], Decimal(f["price"]), Decimal(f["amount"])) for f in fills] == [
        (f.side.value, f.price, f.qty) for f in reference.fills
    ]
    curve = client.get(f"/v1/runs/{result['run_id']}/equity", headers=auth).json()
    assert curve["ts_ns"][0] == int(reference.ts_ns[0]) and curve["ts_ns"][-1] == int(reference.ts_ns[-1])
    assert curve["equity"][-1] == float(reference.equity[-1])
    assert curve["points"] == min(len(reference.ts_ns), 2000)


def _store_with_job(app: FastAPI) -> tuple[JobStore, int]:
    from botnft.api.routes.jobs import BacktestJobSpec, checked_spec

    store = JobStore(app.state.engine)
    return store, store.submit(checked_spec(BacktestJobSpec(**SPEC)), "user:test")


def test_two_workers_never_claim_the_same_job(api_app: FastAPI) -> None:
    store, first = _store_with_job(api_app)
    _, second = _store_with_job(api_app)
    a, b = store.claim("worker-a"), store.claim("worker-b")
    assert a is not None and b is not None
    assert (a["id"], a["worker"], b["id"], b["worker"]) == (first, "worker-a", second, "worker-b")
    assert store.claim("worker-c") is None


def test_a_running_job_whose_cancel_is_flagged_stops_and_stores_nothing(api_app: FastAPI) -> None:
    store, job_id = _store_with_job(api_app)
    job = store.claim("w")
    assert job is not None
    assert store.cancel(job_id)["status"] == "running"  # flagged: the worker stops at its next batch
    assert run_job(store, job, "w") == "cancelled"
    assert store.get(job_id)["status"] == "cancelled"
    with api_app.state.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM backtest_runs")).scalar() == 0


def test_a_job_whose_worker_died_is_failed_and_a_stopping_worker_requeues(api_app: FastAPI) -> None:
    store, job_id = _store_with_job(api_app)
    assert store.claim("dead") is not None
    old = datetime.now(UTC) - timedelta(seconds=120)
    with api_app.state.engine.begin() as connection:
        connection.execute(sa.update(JOBS).values(heartbeat_at=old))
    assert store.fail_stale(60) == 1
    failed = store.get(job_id)
    assert failed["status"] == "failed" and "died" in failed["error"]

    _, second = _store_with_job(api_app)
    job = store.claim("leaving")
    assert job is not None and job["id"] == second
    assert run_job(store, job, "leaving", should_stop=lambda: True) == "queued"
    assert store.get(second)["status"] == "queued"


def test_a_curve_is_thinned_to_evenly_spaced_points_keeping_both_ends() -> None:
    import numpy as np

    ts = np.arange(10_001, dtype=np.int64) * 10
    equity = np.arange(10_001, dtype=np.float64) / 4
    kept_ts, kept_equity = thin_curve(ts, equity, points=101)
    assert kept_ts == [k * 100 * 10 for k in range(101)]
    assert kept_equity == [k * 100 / 4 for k in range(101)]
    assert thin_curve(ts[:5], equity[:5], points=101) == ([0, 10, 20, 30, 40], [0.0, 0.25, 0.5, 0.75, 1.0])


def test_a_worker_loop_runs_the_queued_job_to_a_stored_run(api_app: FastAPI) -> None:
    from botnft.api.jobs import work

    store, job_id = _store_with_job(api_app)
    url = api_app.state.settings.resolved_database_url()
    assert work(url, "loop", stop=lambda: False, poll_s=0.05, max_jobs=1) == 1
    done = store.get(job_id)
    assert done["status"] == "done" and done["worker"] == "loop" and done["run_id"] is not None
    assert store.curve(done["run_id"]) is not None
