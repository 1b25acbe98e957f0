"""Workers sharing one `bot optimize` study in PostgreSQL (the local server, database `test`): one creates
the study, two more join it at the same time; the storage ends with every trial numbered once, each trial
told (none left RUNNING or failed), each worker's trials its own, and no parameter set sampled twice.
The study (unique name per test) is deleted at the end."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

URL = "postgresql://postgres@127.0.0.1:5432/test"
SA_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BOT = [sys.executable, "-m", "botnft.cli", "optimize"]
SPACE = (
    'fast = {type = "int", low = 3, high = 15}\n'
    'slow = {type = "int", low = 20, high = 60}\n'
    'target_vol = {type = "float", low = 0.05, high = 2.0, log = true}\n'
)


@pytest.fixture
def study() -> Iterator[str]:
    name = f"bot-test-{uuid.uuid4().hex[:12]}"
    yield name
    import optuna

    with contextlib.suppress(KeyError):  # the study was never created
        optuna.delete_study(study_name=name, storage=SA_URL)


def _rows(name: str) -> list[tuple[int, str, float | None, tuple[tuple[str, float], ...]]]:
    engine = sa.create_engine(SA_URL)
    try:
        with engine.connect() as c:
            trials = c.execute(sa.text(
                "SELECT t.trial_id, t.number, t.state, v.value FROM trials t JOIN studies s USING (study_id) "
                "LEFT JOIN trial_values v ON v.trial_id = t.trial_id WHERE s.study_name = :n "
                "ORDER BY t.number"
            ), {"n": name}).fetchall()  # fmt: skip
            out = []
            for trial_id, number, state, value in trials:
                q = "SELECT param_name, param_value FROM trial_params WHERE trial_id = :t ORDER BY param_name"
                params = c.execute(sa.text(q), {"t": trial_id}).fetchall()
                out.append((number, str(state), value, tuple((p, float(v)) for p, v in params)))
            return out
    finally:
        engine.dispose()


def test_two_workers_share_a_postgresql_study_without_duplicate_or_lost_trials(
    tmp_path: Path, study: str
) -> None:
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    small = ["--storage", URL, "--workers", "0", "--json"]  # a joining worker takes the rest from the study
    first = subprocess.run(
        [*BOT, "--strategy", "ema_cross", "--param-space", str(space), "--param", "sizing=vol_target",
         "--study", study, "--trials", "2", "--batch", "2", "--startup", "4", "--out", str(tmp_path / "r0"),
         "--folds", "2", "--fold-bars", "300", "--warmup", "100", *small],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    workers = [
        subprocess.Popen([*BOT, "--join", study, "--trials", "8", "--out", str(tmp_path / f"r{k}"), *small],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in (1, 2)
    ]  # fmt: skip
    outs = []
    for w in workers:
        stdout, stderr = w.communicate(timeout=300)
        assert w.returncode == 0, stderr
        outs.append(json.loads(stdout))
    mine = [json.loads(first.stdout)["this_run"]["trials"], *(o["this_run"]["trials"] for o in outs)]
    assert [len(m) for m in mine] == [2, 8, 8]
    rows = _rows(study)
    numbers = [r[0] for r in rows]
    assert numbers == list(range(18))  # each trial numbered once, none missing
    assert sorted(n for m in mine for n in m) == numbers  # and each run by exactly one worker
    assert {r[1] for r in rows} == {"COMPLETE"} and all(r[2] is not None for r in rows)  # none lost or failed
    assert all(len(r[3]) == 3 for r in rows)
    assert len({r[3] for r in rows}) == 18  # no parameter set sampled twice (the joiners' seeds differ)
    seeds = {o["this_run"]["sampler_seed"] for o in outs}
    assert len(seeds) == 2
    # each summary is the study when its worker finished: the last one to finish saw all 18 trials told
    final = max(outs, key=lambda o: o["trials"].get("complete", 0))
    assert final["trials"] == {"complete": 18}
    assert final["best"]["n_trials"] == 18
    assert final["best"]["value"] == max(r[2] for r in rows if r[2] is not None)


def test_two_workers_creating_one_study_at_once_both_run(tmp_path: Path, study: str) -> None:
    """Two workers given the same --study on a storage where it does not exist yet: one creates it, the
    other takes it up (same setup) with a fresh sampler seed, and both run their trials."""
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    args = [*BOT, "--strategy", "ema_cross", "--param-space", str(space), "--param", "sizing=vol_target",
            "--study", study, "--trials", "4", "--batch", "2", "--folds", "2", "--fold-bars", "300",
            "--warmup", "100", "--storage", URL, "--workers", "0", "--json"]  # fmt: skip
    workers = [
        subprocess.Popen([*args, "--out", str(tmp_path / f"r{k}")], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for k in (1, 2)
    ]  # fmt: skip
    outs = []
    for w in workers:
        stdout, stderr = w.communicate(timeout=300)
        assert w.returncode == 0, stderr
        outs.append(json.loads(stdout)["this_run"])
    rows = _rows(study)
    assert [r[0] for r in rows] == list(range(8)) and {r[1] for r in rows} == {"COMPLETE"}
    assert sorted(outs[0]["trials"] + outs[1]["trials"]) == list(range(8))
    assert len({r[3] for r in rows}) == 8
    assert sorted(o["sampler_seed"] == 0 for o in outs) == [False, True]  # the creator keeps --seed
