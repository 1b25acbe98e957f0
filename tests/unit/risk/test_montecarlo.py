"""A small run of bench/risk_montecarlo.py: GBM paths with jumps inside bars, held at 2-10x on SimDrift."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[3] / "bench" / "risk_montecarlo.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_risk_montecarlo", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_jump_paths_are_seeded_and_their_jumps_show_inside_the_bars():
    mc = load_bench()
    a, b = mc.jump_path(500, 3), mc.jump_path(500, 3)
    assert np.array_equal(a.close, b.close) and np.array_equal(a.low, b.low)
    assert np.all(a.low <= np.minimum(a.open, a.close)) and np.all(a.high >= np.maximum(a.open, a.close))
    # 500 bars at 0.02 jumps a bar: some bar's range is far beyond the diffusion's (1 % an hour)
    assert float(np.max((a.high - a.low) / a.open)) > 0.05


def test_eighteen_paths_at_two_to_ten_times_none_liquidated_with_the_guard_most_without():
    mc = load_bench()
    res = mc.simulate(18, 240, 5)
    assert sum(res["paths"].values()) == 18
    assert sum(res["guarded"].values()) == 0
    assert sum(res["bare"].values()) >= 5  # the paths are hard enough that the guard has work to do
