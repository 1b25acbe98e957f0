"""`bot optimize` as a real process: bad input is one line and exit 2, quickly, and argument mistakes are
found before Optuna or Dask is imported; the same seed gives the same study on a Dask LocalCluster as in
one process. (Two workers sharing a PostgreSQL study: test_optimize_postgres.py.)"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

PY = sys.executable
SPACE = 'fast = {type = "int", low = 3, high = 15}\nslow = {type = "int", low = 20, high = 60, step = 5}\n'
SMALL = ["--folds", "2", "--fold-bars", "300", "--warmup", "100"]

#: runs `bot optimize ARGS` in this interpreter and reports the exit code and whether Optuna or Dask loaded
PROBE = (
    "import json, sys\n"
    "from botnft.cli import run\n"
    "code = run(sys.argv[1:])\n"
    "heavy = sorted(m for m in ('optuna', 'dask', 'distributed') if m in sys.modules)\n"
    "print(json.dumps({'code': code, 'heavy': heavy}))\n"
)


def _probe(args: list[str], cwd: Path, timeout: float = 90) -> tuple[dict[str, Any], str, float]:
    t0 = time.perf_counter()
    p = subprocess.run([PY, "-c", PROBE, "optimize", *args], cwd=cwd, capture_output=True, text=True,
                       timeout=timeout)  # fmt: skip
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stderr, time.perf_counter() - t0


@pytest.fixture
def space(tmp_path: Path) -> Path:
    f = tmp_path / "space.toml"
    f.write_text(SPACE)
    return f


BEFORE_IMPORTS = [
    (["--strategy", "nope"], "unknown strategy 'nope'"),
    (["--strategy", "hold"], "strategy hold takes no parameter 'fast'"),
    (["--strategy", "ema_cross", "--param-space", "{tmp}/bad.toml"], "unknown key 'hgih'"),
    (["--strategy", "ema_cross", "--fold-bars", "40000"], "too little data for the windows"),
    (["--strategy", "ema_cross", "--data", "nosuch"], "nosuch"),
    (["--strategy", "ema_cross", "--storage", "mysql://x/y"], "--storage must be"),
    (["--strategy", "ema_cross", "--scheduler", "nowhere"], "--scheduler must look like"),
    (["--strategy", "ema_cross", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers sizes"),
    (["--join", "s1", "--strategy", "ema_cross"], "--join takes the study's own setup; drop --strategy"),
    (
        ["--join", "s1", "--folds", "5", "--seed", "3"],
        "--param-space, --seed, --folds, --fold-bars, --warmup",
    ),
    (["--strategy", "ema_cross", "--trials", "0"], "--trials must be in"),
]


@pytest.mark.parametrize(("args", "message"), BEFORE_IMPORTS)
def test_argument_mistakes_are_one_line_before_optuna_or_dask(
    tmp_path: Path, space: Path, args: list[str], message: str
) -> None:
    (tmp_path / "bad.toml").write_text('fast = {type = "int", low = 3, hgih = 15}\n')
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--param-space" not in argv:
        argv += ["--param-space", str(space)]
    if "--storage" not in argv:
        argv += ["--storage", f"sqlite:///{tmp_path}/s.db"]
    got, stderr, _ = _probe([*SMALL, *argv], tmp_path)  # argv last: its values win
    assert got == {"code": 2, "heavy": []}, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], stderr
    assert not (tmp_path / "s.db").exists() and not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_unreachable_storage_and_scheduler_and_unknown_study_are_one_line_quickly(
    tmp_path: Path, space: Path
) -> None:
    base = ["--strategy", "ema_cross", "--param-space", str(space), "--trials", "1", *SMALL]
    got, stderr, took = _probe([*base, "--storage", "postgresql://127.0.0.1:1/x", "--workers", "0"], tmp_path)
    assert got["code"] == 2 and "study storage postgresql://127.0.0.1:1/x is unreachable" in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and took < 60
    got, stderr, took = _probe([*base, "--storage", f"sqlite:///{tmp_path}/s.db", "--scheduler",
                                "tcp://127.0.0.1:1"], tmp_path)  # fmt: skip
    assert got["code"] == 2 and "Dask scheduler tcp://127.0.0.1:1 is unreachable" in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and took < 60
    got, stderr, _ = _probe(["--join", "nosuch", "--storage", f"sqlite:///{tmp_path}/s.db"], tmp_path)
    assert got["code"] == 2 and "no study 'nosuch' in the storage to join" in stderr, stderr


def _trials(db: Path, study: str) -> list[tuple[int, str, float | None, dict[str, float]]]:
    """(number, state, value, params) of every trial of `study`, read from the storage's tables directly."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT t.trial_id, t.number, t.state, v.value FROM trials t JOIN studies s USING (study_id) "
            "LEFT JOIN trial_values v ON v.trial_id = t.trial_id WHERE s.study_name = ? ORDER BY t.number",
            (study,),
        ).fetchall()
        out = []
        for trial_id, number, state, value in rows:
            params = dict(con.execute("SELECT param_name, param_value FROM trial_params WHERE trial_id = ?",
                                      (trial_id,)).fetchall())  # fmt: skip
            out.append((number, state, value, params))
        return out
    finally:
        con.close()


@pytest.mark.slow
def test_a_dask_local_cluster_gives_the_study_a_single_process_gives(tmp_path: Path, space: Path) -> None:
    db = tmp_path / "studies.db"
    common = ["--strategy", "ema_cross", "--param-space", str(space), "--trials", "7", "--batch", "3",
              "--startup", "3", "--seed", "11", "--storage", f"sqlite:///{db}", *SMALL, "--json"]  # fmt: skip
    summaries = {}
    for study, workers in (("single", "0"), ("dask", "2")):
        p = subprocess.run([PY, "-m", "botnft.cli", "optimize", *common, "--study", study, "--workers",
                            workers,
                            "--out", str(tmp_path / study)], cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
        assert p.returncode == 0, p.stderr
        summaries[study] = json.loads(p.stdout)
    assert summaries["single"]["this_run"]["evaluated_on"] == "this process"
    assert summaries["dask"]["this_run"]["evaluated_on"] == "Dask LocalCluster (2 processes)"
    single, dask = _trials(db, "single"), _trials(db, "dask")
    assert [t[0] for t in single] == list(range(7)) and {t[1] for t in single} == {"COMPLETE"}
    assert single == dask  # every trial: same number, parameters and objective
    assert len({tuple(sorted(t[3].items())) for t in single}) > 1  # the sampler did explore
    best = max(single, key=lambda t: (t[2], -t[0]))
    assert summaries["dask"]["best"]["number"] == summaries["single"]["best"]["number"] == best[0]
    assert summaries["dask"]["best"]["params"] == summaries["single"]["best"]["params"]
    assert (tmp_path / "dask" / "report.html").read_text().count("<figure") >= 2


@pytest.mark.slow
def test_a_dead_workers_running_trial_is_failed_and_retried_by_the_next_worker(
    tmp_path: Path, space: Path
) -> None:
    import optuna

    db = tmp_path / "s.db"
    url = f"sqlite:///{db}"
    base = [PY, "-m", "botnft.cli", "optimize", "--storage", url, "--workers", "0", "--json"]
    create = ["--strategy", "ema_cross", "--param-space", str(space), "--study", "s", "--trials", "2"]
    first = subprocess.run([*base, *SMALL, *create, "--batch", "2", "--out", str(tmp_path / "r0")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=180)  # fmt: skip
    assert first.returncode == 0, first.stderr
    # what a worker killed in the middle of a batch leaves: a RUNNING trial with a heartbeat that stops
    storage = optuna.storages.RDBStorage(url)
    dead = optuna.load_study(study_name="s", storage=storage).ask()
    params = {"fast": dead.suggest_int("fast", 3, 15), "slow": dead.suggest_int("slow", 20, 60, step=5)}
    study_id = storage.get_study_id_from_name("s")
    storage.record_heartbeat(storage.get_trial_id_from_study_id_trial_number(study_id, dead.number))
    time.sleep(4)
    join = ["--join", "s", "--trials", "3", "--stale-after", "3", "--out", str(tmp_path / "r1")]
    nxt = subprocess.run([*base, *join], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert nxt.returncode == 0, nxt.stderr
    rows = _trials(db, "s")
    assert [r[0] for r in rows] == list(range(6))
    states = {r[0]: r[1] for r in rows}
    assert states[dead.number] == "FAIL"
    assert sorted(states.values()) == ["COMPLETE"] * 5 + ["FAIL"]  # nothing RUNNING or WAITING is left
    trials = optuna.load_study(study_name="s", storage=storage).trials
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == dead.number]
    assert len(retried) == 1 and retried[0].params == params and retried[0].state.name == "COMPLETE"
    assert retried[0].number in json.loads(nxt.stdout)["this_run"]["trials"]
