"""Start-up stays light: an argument error, `bot --help` and `bot data list` never import the heavy libraries
(numpy, pandas, SQLAlchemy, matplotlib, SciPy). Wall times are measured by bench/startup.py, not asserted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "sqlalchemy", "matplotlib", "scipy", "alembic")
PROBE = """
import contextlib, io, json, sys
from botnft.cli import run
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = run(sys.argv[1:])
print(json.dumps([code, sorted(m for m in {heavy} if m in sys.modules)]))
"""


@pytest.mark.parametrize(
    ("args", "code", "allowed"),
    [
        (["--help"], 0, []),
        (["data", "list"], 0, []),
        (["backtest", "--size", "-1"], 2, []),
        (["backtest", "--data", "/no/such/file.csv.gz"], 2, []),
        (["backtest", "--strategy", "macd"], 2, ["numpy"]),  # the strategy registry: its classes use numpy
        (["backtest", "--venues", ","], 2, []),
        (["route", "--side", "buy", "--amount", "1", "--horizon", "soon"], 2, []),
        (["route", "--side", "buy", "--amount", "1e30"], 2, []),
    ],
)
def test_arguments_are_checked_before_any_heavy_import(args, code, allowed):
    r = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    got_code, heavy = json.loads(r.stdout.strip().splitlines()[-1])
    assert got_code == code
    assert heavy == allowed, f"{' '.join(args)} imported {heavy}"
