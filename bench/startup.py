"""Start-up of the `bot` command: wall time of `bot --help`, an argument error, a missing data file and
`bot data list`, each the median of several runs, beside a bare `python -c pass` timed in the same run.

Targets (issue 7): `bot --help` and argument errors < 0.5 s, `bot data list` < 1 s.
Run: `.venv/bin/python bench/startup.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BOT = str(Path(sys.executable).with_name("bot"))
CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "bot --help": [BOT, "--help"],
    "bot backtest --size -1 (argument error)": [BOT, "backtest", "--size", "-1"],
    "bot backtest --data /no/such.csv (missing file)": [BOT, "backtest", "--data", "/no/such.csv"],
    "bot route --horizon soon (argument error)": [
        BOT,
        "route",
        "--side",
        "buy",
        "--amount",
        "1",
        "--horizon",
        "x",
    ],
    "bot data list": [BOT, "data", "list"],
}
TARGETS = {"bot --help": 0.5, "bot data list": 1.0}


def median_wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs
    base = None
    print(f"{'command':<52} {'median s':>9} {'x python':>9}  target")
    for name, cmd in CASES.items():
        t = median_wall(cmd, runs)
        base = base or t
        target = TARGETS.get(name, 0.5 if "error" in name or "missing" in name else None)
        mark = "" if target is None else f"< {target} s {'ok' if t < target else 'MISSED'}"
        print(f"{name:<52} {t:>9.3f} {t / base:>9.1f}  {mark}")


if __name__ == "__main__":
    main()
