"""The run report as a person sees it: opened in headless Chromium (Debian's package, installed by `make
test`) with no network, a screenshot taken, every chart drawn and no console error; PNGs beside it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from botnft.backtest.runner import run_backtest
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.obs.report import write_report
from botnft.obs.runs import from_result

CHARTS = 10
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-extensions", "--no-first-run", "--user-data-dir={profile}"]  # fmt: skip


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make test` installs Debian's chromium package")
        pytest.skip("chromium is not installed (`make system-tools` installs it)")
    return path


def browse(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    flags = [f.format(profile=tmp / "profile") for f in FLAGS]
    return subprocess.run(
        [chromium(), *flags, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", *extra,
         page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = BacktestSpec(data="sol-perp-1h", strategy="ema_cross", start=datetime(2024, 1, 1, tzinfo=UTC),
                        end=datetime(2024, 4, 1, tzinfo=UTC))  # fmt: skip
    session = build_backtest(spec)
    out = tmp_path_factory.mktemp("report")
    return write_report(from_result(session, run_backtest(session)), out)


def test_the_report_needs_no_network_and_has_its_stats_table(report: Path) -> None:
    page = report.read_text()
    assert (
        not re.search(r"(src|href)=\"?(https?:)?//", page)
        and "http://" not in page
        and "https://" not in page
    )
    labels = ("return", "CAGR", "Sharpe", "Sortino", "Calmar", "max drawdown", "win rate", "profit factor",
              "exposure", "turnover", "trades")  # fmt: skip
    for label in labels:
        assert f"<td>{label}" in page, label
    for png in ("equity.png", "price.png", "position.png"):
        assert (report.parent / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chromium_draws_every_chart_with_no_console_error_and_takes_a_screenshot(
    report: Path, tmp_path: Path
) -> None:
    dom = browse(report, tmp_path, "--dump-dom")
    assert f'data-charts="{CHARTS}/{CHARTS}"' in dom.stdout, dom.stdout[:300]
    assert 'data-errors="0"' in dom.stdout
    assert dom.stdout.count('data-drawn="yes"') == CHARTS
    assert not console_errors(dom.stderr), console_errors(dom.stderr)
    shot = tmp_path / "report.png"
    r = browse(report, tmp_path, f"--screenshot={shot}", "--window-size=1000,4200")
    assert r.returncode == 0, r.stderr[-500:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    shutil.copy(shot, os.environ.get("BOT_REPORT_SCREENSHOT", report.parent / "screenshot.png"))


def test_a_chart_left_empty_or_a_script_error_is_caught(report: Path, tmp_path: Path) -> None:
    page = report.read_text()
    broken = tmp_path / "broken.html"
    empty_equity = re.sub(r'(<figure class="chart" id="equity">.*?)<polyline[^>]*/>', r"\1", page, count=1,
                          flags=re.S)  # fmt: skip
    broken.write_text(empty_equity.replace("</body>", "<script>undefinedCall();</script></body>"))
    dom = browse(broken, tmp_path, "--dump-dom")
    assert f'data-charts="{CHARTS - 1}/{CHARTS}"' in dom.stdout
    assert console_errors(dom.stderr), dom.stderr[-500:]
