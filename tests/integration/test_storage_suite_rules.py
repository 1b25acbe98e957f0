"""The suite cannot pass by not testing: PostgreSQL cases fail (never skip) when the database is down, and
hypothesis draws the same examples on every run unless `BOT_HYPOTHESIS=explore` asks for new ones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parents[2]


def pytest_run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if key not in {"CI", "BOT_HYPOTHESIS"}}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **env},
        timeout=300,
    )


def test_postgres_cases_fail_rather_than_skip_when_postgres_is_unreachable_even_outside_ci() -> None:
    down = {"BOT_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:9/postgres"}  # port 9: nothing listens

    result = pytest_run(
        "tests/integration/test_storage.py", "-k", "current_is_none", "-rfEs", "--no-header", env=down
    )

    assert result.returncode == 1, result.stdout
    assert re.search(
        r"\b1 passed, \d+ deselected, 1 error\b", result.stdout
    )  # SQLite passes, PostgreSQL errors
    assert "skipped" not in result.stdout
    assert "PostgreSQL at postgresql+psycopg://postgres@127.0.0.1:9/postgres is unreachable" in result.stdout


def loaded_profile(env: dict[str, str]) -> str:
    """`derandomize` of the profile the suite's conftest loads, in a fresh interpreter with `env`."""
    code = (
        "import runpy; from hypothesis import settings; "
        "runpy.run_path('tests/conftest.py'); print(settings.default.derandomize)"
    )
    clean = {key: value for key, value in os.environ.items() if key not in {"CI", "BOT_HYPOTHESIS"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **env},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_hypothesis_is_derandomized_by_default_and_explores_only_when_asked() -> None:
    assert settings.default.derandomize or os.environ.get("BOT_HYPOTHESIS") == "explore"
    assert loaded_profile({}) == "True"
    assert loaded_profile({"CI": ""}) == "True"
    assert loaded_profile({"BOT_HYPOTHESIS": "explore"}) == "False"
