"""The observability flags as a user types them: `bot backtest --report DIR --metrics-out FILE`, `bot report
RUN_ID` for a paper run and a stored backtest (recomputed: the same equity), an unknown run id (one line,
exit 2), and `bot paper --metrics-port` serving /metrics while it runs."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from botnft.storage import make_engine, upgrade
from botnft.storage.journal import PaperStore

BOT = [sys.executable, "-m", "botnft.cli"]
SPOT = ["--start", "2024-03-01", "--end", "2024-03-08"]  # 168 hourly bars, 9 fills


def bot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BOT, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def one_line_error(r: subprocess.CompletedProcess[str], text: str) -> None:
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip() and not line.startswith("run ")]
    assert len(lines) == 1 and lines[0].startswith("error:") and text in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def final_values(path: Path) -> dict[str, float]:
    out = {}
    for fam in text_string_to_metric_families(path.read_text()):
        for s in fam.samples:
            if not s.labels.get("venue") and not s.labels.get("status"):
                out[s.name] = s.value
    return out


def test_backtest_writes_its_report_and_final_metrics(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    r = bot("backtest", *SPOT, "--json", "--db-url", db, "--report", str(tmp_path / "rep"),
            "--metrics-out", str(tmp_path / "final.prom"), cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)  # still exactly one JSON object on stdout
    page = (tmp_path / "rep" / "report.html").read_text()
    assert page.count('<figure class="chart"') == 10
    assert (tmp_path / "rep" / "equity.png").exists()
    values = final_values(tmp_path / "final.prom")
    assert abs(values["bot_equity"] - float(summary["final_equity"])) < 1e-6 * float(summary["final_equity"])
    assert values["bot_bars_total"] == summary["bars"] == 168
    fills = sum(
        s.value for f in text_string_to_metric_families((tmp_path / "final.prom").read_text())
        for s in f.samples if s.name == "bot_fills_total"
    )  # fmt: skip
    assert fills == summary["fills"] == 9


def test_bot_report_recomputes_a_paper_run_and_a_stored_backtest(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    paper = bot("paper", "--run-id", "p1", "--metrics-port", "0", "--db-url", db, *SPOT, cwd=tmp_path)
    assert paper.returncode == 0, paper.stderr
    back = bot("backtest", *SPOT, "--json", "--db-url", db, cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    total_return = json.loads(back.stdout)["total_return"]
    for run_id in ("p1", "1"):
        r = bot("report", run_id, "--out", str(tmp_path / f"r{run_id}"), "--db-url", db, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        page = (tmp_path / f"r{run_id}" / "report.html").read_text()
        assert f'<td id="stat-total_return">{total_return * 100:.2f} %</td>' in page  # the same run again
        assert page.count('<figure class="chart"') == 10


def test_bot_report_on_an_unknown_run_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(db)
    one_line_error(bot("report", "nosuchrun", "--db-url", db, cwd=tmp_path), "no run 'nosuchrun'")
    one_line_error(bot("report", "42", "--db-url", db, cwd=tmp_path), "no run '42'")
    (tmp_path / "afile").write_text("x")
    one_line_error(
        bot("report", "x", "--out", str(tmp_path / "afile"), "--db-url", db, cwd=tmp_path), "--out"
    )


def test_a_bad_or_taken_metrics_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    one_line_error(
        bot("paper", "--metrics-port", "70000", "--db-url", db, *SPOT, cwd=tmp_path), "--metrics-port"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        r = bot("paper", "--metrics-port", port, "--db-url", db, *SPOT, cwd=tmp_path)
    one_line_error(r, f"--metrics-port {port}")


def test_bot_paper_serves_metrics_on_loopback_while_it_runs(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [*BOT, "paper", "--speed", "36000", "--metrics-port", str(port), "--db-url", db, *SPOT]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline, text = time.monotonic() + 60, ""
        while time.monotonic() < deadline and "bot_equity{" not in text:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                    text = resp.read().decode()
            except OSError:
                time.sleep(0.1)
        assert "bot_equity{" in text and "bot_tick_to_order_seconds_bucket" in text
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_piped_run_logs_json_lines_with_the_run_id_client_order_id_and_venue_and_console_on_request(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(db)
    args = [*BOT, "paper", "--run-id", "j1", "--speed", "36000", "--metrics-port", "0", "--db-url", db, *SPOT]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    store, deadline = PaperStore(make_engine(db)), time.monotonic() + 60
    while time.monotonic() < deadline and ((row := store.run("j1")) is None or row["bars_done"] < 10):
        time.sleep(0.2)  # 10 bars/s: some bars done (start-up takes seconds on a busy machine)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    r = bot("paper", "--resume", "j1", "--metrics-port", "0", "--db-url", db, cwd=tmp_path)  # stderr: a pipe
    assert r.returncode == 0, r.stderr
    logged = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    assert any("resuming after bar" in e["event"] for e in logged), r.stderr
    assert all(e["run_id"] == "j1" and "client_order_id" in e and "venue" in e for e in logged)
    orders = [e for e in logged if e["event"].startswith("order ")]
    assert {"order submitted", "order filled"} <= {e["event"] for e in orders}, r.stderr
    assert all(e["client_order_id"] and e["venue"] == "SIM" for e in orders), [
        e for e in orders if e["venue"] != "SIM" or not e["client_order_id"]
    ]
    console = bot("paper", "--run-id", "j2", "--log-format", "console", "--metrics-port", "0", "--db-url", db,
                  *SPOT, cwd=tmp_path)  # fmt: skip
    assert console.returncode == 0, console.stderr
    assert "order filled" in console.stderr and not any(
        line.startswith("{") for line in console.stderr.splitlines()
    )
