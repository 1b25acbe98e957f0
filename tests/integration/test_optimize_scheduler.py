"""`bot optimize --scheduler`: the folds run on a real Dask scheduler and its workers (started here on
loopback, stopped at the end) and the study is the one a single process samples with the same seed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

DASK = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
WORKER = [sys.executable, "-m", "distributed.cli.dask_worker"]
SPACE = 'fast = {type = "int", low = 3, high = 15}\nslow = {type = "int", low = 20, high = 60, step = 5}\n'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(p: subprocess.Popen[bytes]) -> None:
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = (tmp_path / "dask.log").open("wb")
    sched = subprocess.Popen([*DASK, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                             stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    procs = [sched]
    try:
        deadline = time.monotonic() + 60
        while True:  # the scheduler listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the Dask scheduler did not start"
                time.sleep(0.3)
        worker = [*WORKER, address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
        procs.append(subprocess.Popen(worker, stdout=log, stderr=subprocess.STDOUT))
        yield address
    finally:
        for p in reversed(procs):
            _stop(p)
        log.close()


def test_a_real_scheduler_runs_the_study_a_single_process_runs(tmp_path: Path, scheduler: str) -> None:
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    common = [sys.executable, "-m", "botnft.cli", "optimize", "--strategy", "ema_cross", "--param-space",
              str(space), "--trials", "5", "--batch", "2", "--startup", "2", "--seed", "5", "--storage",
              f"sqlite:///{tmp_path / 's.db'}", "--folds", "2", "--fold-bars", "300", "--warmup", "100",
              "--json"]  # fmt: skip
    got = {}
    for study, where in (("one", ["--workers", "0"]), ("cluster", ["--scheduler", scheduler])):
        p = subprocess.run([*common, "--study", study, *where, "--out", str(tmp_path / study)], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
        assert p.returncode == 0, p.stderr
        got[study] = json.loads(p.stdout)
    assert got["cluster"]["this_run"]["evaluated_on"] == f"Dask scheduler {scheduler}"
    assert got["cluster"]["this_run"]["dask_workers"] == 1
    hist = {k: [(h["number"], h["params"], h["value"]) for h in v["history"]] for k, v in got.items()}
    assert len(hist["one"]) == 5 and hist["one"] == hist["cluster"]
    assert got["one"]["best"]["params"] == got["cluster"]["best"]["params"]
