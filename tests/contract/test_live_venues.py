"""Runs the live venue contract (`live_contract.py`) on every subject registered by a `live_<name>.py`
module in this directory: one test per (subject, check), each on a fresh loopback fake."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from live_contract import CHECKS, LIVE_FACTORIES, run_check

for _path in sorted(Path(__file__).parent.glob("live_*.py")):
    if _path.stem != "live_contract":
        importlib.import_module(_path.stem)

_CASES = [(name, check) for name in sorted(LIVE_FACTORIES) for check in CHECKS]


@pytest.mark.parametrize(("subject", "check"), _CASES, ids=[f"{n}-{c}" for n, c in _CASES])
def test_live_venue_contract(subject: str, check: str) -> None:
    run_check(LIVE_FACTORIES[subject], CHECKS[check])
