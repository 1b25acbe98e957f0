"""`bot paper`, `bot status` and `bot kill` as real processes: the run id first, one-line errors with exit 2
for bad input, a kill from another shell that cancels, flattens and halts within a second, a clean stop on
SIGTERM that resumes to the uninterrupted fills, and resume after the database went away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from botnft.storage import make_engine, upgrade
from botnft.storage.journal import PaperStore

BOT = [sys.executable, "-m", "botnft.cli"]
SPOT = ["--start", "2024-03-01", "--end", "2024-03-08"]  # 168 hourly bars, 9 fills; long in bars 95-115


def bot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BOT, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*BOT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def wait_for_bars(store: PaperStore, run_id: str, bars: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = store.run(run_id)
        if row is not None and row["bars_done"] >= bars:
            return
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not reach bar {bars}")


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)  # so that the test can watch the run's row from its first bar
    return url


def one_line_error(r: subprocess.CompletedProcess[str], text: str) -> None:
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and text in lines[0], r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("speed", ["0", "-3", "fast", "nan", "1e12"])
def test_a_speed_that_is_not_a_positive_number_or_max_is_one_line_and_exit_2(
    speed: str, tmp_path: Path, db: str
) -> None:
    r = bot("paper", "--speed", speed, "--db-url", db, *SPOT, cwd=tmp_path)
    one_line_error(r, "--speed")


def test_resuming_an_unknown_run_is_one_line_and_exit_2(tmp_path: Path, db: str) -> None:
    r = bot("paper", "--resume", "nosuchrun", "--db-url", db, cwd=tmp_path)
    one_line_error(r, "no paper run 'nosuchrun'")


def test_a_finished_run_prints_its_id_first_and_cannot_be_resumed(tmp_path: Path, db: str) -> None:
    r = bot("paper", "--run-id", "done1", "--db-url", db, *SPOT, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "run done1"
    assert r.stderr.splitlines()[0] == "run done1"
    assert "finished: 168 of 168 bars, 9 fills" in r.stdout and "bars/s" in r.stdout

    again = bot("paper", "--resume", "done1", "--db-url", db, cwd=tmp_path)
    one_line_error(again, "paper run done1 is finished: there is nothing to resume")
    taken = bot("paper", "--run-id", "done1", "--db-url", db, *SPOT, cwd=tmp_path)
    one_line_error(taken, "exists already")


def test_a_database_migrated_by_a_newer_version_is_one_line_and_exit_2(tmp_path: Path, db: str) -> None:
    upgrade(db)
    engine = make_engine(db)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    engine.dispose()
    for args in (["paper", *SPOT], ["paper", "--resume", "x"], ["status"], ["kill", "x"]):
        one_line_error(bot(*args, "--db-url", db, cwd=tmp_path), "at revision 'ffff'")


def test_kill_from_another_shell_cancels_flattens_and_halts_within_a_second(tmp_path: Path, db: str) -> None:
    # 1 h bars released every 0.05 s; the ema cross holds 699.315 SOL from bar 95 to bar 115
    proc = start("paper", "--run-id", "k1", "--speed", "72000", "--db-url", db, *SPOT, cwd=tmp_path)
    store = PaperStore(make_engine(db))
    wait_for_bars(store, "k1", 100)
    flagged = time.monotonic()
    store.request_kill("k1")
    while (now := store.run("k1")) is not None and now["status"] == "running":
        time.sleep(0.005)
    halted = time.monotonic() - flagged  # orders cancelled, the position flattened, status killed
    _, err = proc.communicate(timeout=30)
    exited = time.monotonic() - flagged

    assert proc.returncode == 0, err
    assert halted < 1.0 and exited < 5.0
    row = store.run("k1")
    assert row is not None and row["status"] == "killed"
    assert row["summary"]["final_position"] == "0" and row["summary"]["open_orders"] == 0
    assert row["summary"]["bars"] < 115
    assert row["summary"]["fills"] == 6  # five of the strategy's, then the sell that flattened
    status = bot("status", "k1", "--json", "--db-url", db, cwd=tmp_path)
    view = json.loads(status.stdout)
    assert view["status"] == "killed" and view["positions"] == {"SIM": {"SOL": "0"}}
    again = bot("kill", "k1", "--db-url", db, cwd=tmp_path)
    one_line_error(again, "paper run k1 is killed, not running")
    resumed = bot("paper", "--resume", "k1", "--db-url", db, cwd=tmp_path)
    one_line_error(resumed, "paper run k1 is killed")


def test_sigterm_stops_cleanly_and_the_resumed_run_makes_the_backtests_fills(tmp_path: Path, db: str) -> None:
    proc = start("paper", "--run-id", "s1", "--speed", "72000", "--db-url", db, *SPOT, cwd=tmp_path)
    store = PaperStore(make_engine(db))
    wait_for_bars(store, "s1", 30)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    row = store.run("s1")
    assert row is not None and row["status"] == "stopped" and row["summary"]["open_orders"] == 0

    listed = bot("status", "--db-url", db, cwd=tmp_path)
    assert "s1" in listed.stdout and "stopped" in listed.stdout
    resumed = bot(
        "paper", "--resume", "s1", "--fills-out", str(tmp_path / "p.csv"), "--db-url", db, cwd=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[0] == "run s1"
    backtest = bot(
        "backtest", *SPOT, "--fills-out", str(tmp_path / "b.csv"), "--json", "--no-store", cwd=tmp_path
    )
    assert backtest.returncode == 0, backtest.stderr
    assert (tmp_path / "p.csv").read_text() == (tmp_path / "b.csv").read_text()
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 10  # header + 9 fills, before and after


@pytest.mark.postgres
def test_a_database_that_goes_away_mid_run_halts_retries_says_so_and_loses_nothing(
    tmp_path: Path, postgres_database: str
) -> None:
    url = postgres_database
    name = make_engine(url).url.database
    admin = make_engine(url.rsplit("/", 1)[0] + "/postgres").execution_options(isolation_level="AUTOCOMMIT")
    upgrade(url)
    proc = start("paper", "--run-id", "db1", "--speed", "72000", "--db-url", url, *SPOT,
                 "--fills-out", str(tmp_path / "p.csv"), cwd=tmp_path)  # fmt: skip
    store = PaperStore(make_engine(url))
    wait_for_bars(store, "db1", 20)
    store.engine.dispose()
    with admin.connect() as c:
        c.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        c.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    time.sleep(2.0)
    with admin.connect() as c:
        c.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    _, err = proc.communicate(timeout=60)
    admin.engine.dispose()

    assert proc.returncode == 0, err
    assert "database unavailable" in err and "new risk halted, retrying" in err
    backtest = bot(
        "backtest", *SPOT, "--fills-out", str(tmp_path / "b.csv"), "--json", "--no-store", cwd=tmp_path
    )
    assert backtest.returncode == 0, backtest.stderr
    assert (tmp_path / "p.csv").read_text() == (tmp_path / "b.csv").read_text()
    row = PaperStore(make_engine(url)).run("db1")
    assert row is not None and row["status"] == "finished" and row["summary"]["db_outages"] > 0


def test_a_run_whose_process_died_is_marked_crashed_by_bot_kill_and_resumes(tmp_path: Path, db: str) -> None:
    proc = start("paper", "--run-id", "c1", "--speed", "72000", "--db-url", db, *SPOT, cwd=tmp_path)
    store = PaperStore(make_engine(db))
    wait_for_bars(store, "c1", 20)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    killed = bot("kill", "c1", "--db-url", db, cwd=tmp_path)
    one_line_error(killed, "paper run c1 is not running: its process")
    row = store.run("c1")
    assert row is not None and row["status"] == "crashed"
    resumed = bot("paper", "--resume", "c1", "--json", "--db-url", db, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert (summary["status"], summary["fills"], summary["resumed"]) == ("finished", 9, True)


def test_resume_if_exists_starts_then_takes_a_killed_life_over_and_ends_with_the_backtests_fills(
    tmp_path: Path, db: str
) -> None:
    # the same command each time, as a service restarts its task: start, SIGKILL, start again
    fills = tmp_path / "p.csv"
    same = ["paper", "--run-id", "r1", "--resume-if-exists", "--speed", "72000", "--json",
            "--fills-out", str(fills), "--db-url", db, *SPOT]  # fmt: skip
    proc = start(*same, cwd=tmp_path)
    store = PaperStore(make_engine(db))
    wait_for_bars(store, "r1", 20)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    row = store.run("r1")
    assert row is not None and row["status"] == "running" and 20 <= row["bars_done"] < 168

    second = bot(*same, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "run r1 exists (running): resuming it" in second.stderr
    summary = json.loads(second.stdout)
    assert (summary["status"], summary["bars"], summary["fills"], summary["resumed"]) == (
        "finished",
        168,
        9,
        True,
    )
    backtest = bot(
        "backtest", *SPOT, "--fills-out", str(tmp_path / "b.csv"), "--json", "--no-store", cwd=tmp_path
    )
    assert backtest.returncode == 0, backtest.stderr
    assert fills.read_text() == (tmp_path / "b.csv").read_text()  # nothing lost, nothing twice

    third = bot(*same, cwd=tmp_path)  # a finished run is not started over: the service stops restarting
    one_line_error(third, "paper run r1 is finished: there is nothing to resume")


def test_bot_run_id_means_resume_if_exists_and_a_killed_run_is_not_resumed(tmp_path: Path, db: str) -> None:
    env = {**os.environ, "BOT_RUN_ID": "k2"}
    cmd = [*BOT, "paper", "--speed", "7200", "--db-url", db, *SPOT]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env
    )
    store = PaperStore(make_engine(db))
    wait_for_bars(store, "k2", 5)
    killed = bot("kill", "k2", "--db-url", db, cwd=tmp_path)
    assert killed.returncode == 0, killed.stderr
    proc.communicate(timeout=30)
    row = store.run("k2")
    assert row is not None and row["status"] == "killed"

    again = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert again.stdout.splitlines()[0] == "run k2"
    one_line_error(again, "paper run k2 is killed: there is nothing to resume")


@pytest.mark.parametrize(
    "args",
    [["--resume-if-exists"], ["--resume", "x", "--resume-if-exists"]],
    ids=["no-run-id", "with-resume"],
)
def test_resume_if_exists_without_a_run_id_is_one_line_and_exit_2(
    args: list[str], tmp_path: Path, db: str
) -> None:
    r = bot("paper", *args, "--db-url", db, *SPOT, cwd=tmp_path)
    one_line_error(r, "--resume-if-exists goes with --run-id ID")
