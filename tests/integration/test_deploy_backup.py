"""The stack's backup job against the local PostgreSQL: a backtest stores its trades in a fresh database,
deploy/backup/backup.sh dumps it (pg_dump custom format, as the `backup` service does), restore.sh loads the
dump into another empty database, and trade_logs reads back identical, row for row; restore.sh refuses a
database that is not empty. Both temporary databases are dropped at the end."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]
BACKUP = REPO / "deploy" / "backup" / "backup.sh"
RESTORE = REPO / "deploy" / "backup" / "restore.sh"
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _pg_up() -> bool:
    try:
        with sa.create_engine(ADMIN).connect() as conn:
            conn.execute(sa.text("select 1"))
        return True
    except Exception:  # any failure means no usable server here
        return False


pytestmark = [
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
    pytest.mark.skipif(not _pg_up(), reason="no PostgreSQL on 127.0.0.1:5432"),
]


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    suffix = secrets.token_hex(4)
    names = (f"bot_backup_src_{suffix}", f"bot_backup_dst_{suffix}")
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'create database "{name}"'))
    try:
        yield names
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def rows(name: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url(name))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("select * from trade_logs order by id"))]
    finally:
        engine.dispose()


def pg_env(db: str, tmp: Path) -> dict[str, str]:
    return {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "postgres", "PGDATABASE": db,
            "BACKUP_DIR": str(tmp / "backups"), "BACKUP_KEEP": "2"}  # fmt: skip


def test_a_backup_restores_into_an_empty_database_with_the_same_trades(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    src, dst = databases
    done = subprocess.run(
        [sys.executable, "-m", "botnft.cli", "backtest", "--db-url", url(src), "--start", "2024-03-01",
         "--end", "2024-03-15", "--json"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    before = rows(src)
    assert len(before) >= 4, before  # a fortnight of ema_cross trades something

    taken = subprocess.run(["sh", str(BACKUP)], env=pg_env(src, tmp_path), capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert taken.returncode == 0, taken.stderr
    dump = Path(taken.stdout.strip())
    assert dump.parent == tmp_path / "backups" and dump.name.endswith(".dump") and dump.stat().st_size > 0
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert (tmp_path / "backups" / "last-ok").exists()

    restored = subprocess.run(["sh", str(RESTORE), str(dump), dst], env=pg_env(dst, tmp_path),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert rows(dst) == before

    again = subprocess.run(["sh", str(RESTORE), str(dump), dst], env=pg_env(dst, tmp_path),
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert again.returncode == 2 and "is not empty" in again.stderr
    assert rows(dst) == before


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {**pg_env("postgres", tmp_path), "BACKUP_KEEP": "many"}
    done = subprocess.run(["sh", str(BACKUP)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "BACKUP_KEEP" in done.stderr
    done = subprocess.run(["sh", str(RESTORE), str(tmp_path / "none.dump"), "x"], env=env,
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 2 and "not readable" in done.stderr
