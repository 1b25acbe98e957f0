"""The shipped Prometheus config, alert rules and Grafana dashboards checked by the real tools (Debian's
promtool, installed by `make test`): config and rules valid, every alert's unit test passing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROM = DEPLOY / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: `make test` installs Debian's prometheus package")
        pytest.skip("promtool is not installed (`make system-tools` installs it)")
    return subprocess.run([tool, *args], capture_output=True, text=True, cwd=PROM, timeout=120)


def alert_names() -> set[str]:
    rules = yaml.safe_load((PROM / "alerts.yml").read_text())
    return {r["alert"] for g in rules["groups"] for r in g["rules"]}


def test_the_prometheus_config_and_its_rule_files_are_valid() -> None:
    r = promtool("check", "config", "prometheus.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 1 rule files found" in r.stdout + r.stderr


def test_the_alert_rules_are_valid_and_cover_what_the_issue_lists() -> None:
    r = promtool("check", "rules", "alerts.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert {"BotDrawdown", "BotMarginNearMaintenance", "BotVenueDown", "BotStaleData", "BotHalted",
            "BotReconciliationMismatch", "BotJournalLag"} <= alert_names()  # fmt: skip


def test_every_alert_has_a_rule_unit_test_and_they_pass() -> None:
    tests = yaml.safe_load((PROM / "alerts_test.yml").read_text())["tests"]
    tested = {case["alertname"] for t in tests for case in t["alert_rule_test"] if case["exp_alerts"]}
    quiet = {case["alertname"] for t in tests for case in t["alert_rule_test"] if not case["exp_alerts"]}
    assert tested == alert_names() and quiet == alert_names()
    r = promtool("test", "rules", "alerts_test.yml")
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_a_broken_rule_fails_its_unit_test(tmp_path: Path) -> None:
    broken = (PROM / "alerts.yml").read_text().replace("bot_drawdown_ratio > 0.2", "bot_drawdown_ratio > 0.3")
    (tmp_path / "alerts.yml").write_text(broken)
    shutil.copy(PROM / "alerts_test.yml", tmp_path)
    r = promtool("test", "rules", str(tmp_path / "alerts_test.yml"))
    assert r.returncode != 0 and "BotDrawdown" in r.stdout + r.stderr


def test_the_dashboards_are_what_generate_py_writes_and_query_through_the_provisioned_datasource(
    tmp_path: Path,
) -> None:
    grafana = DEPLOY / "grafana"
    ds = yaml.safe_load((grafana / "provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    for path in sorted((grafana / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        assert board["panels"], path
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == ds["uid"] and panel["targets"], panel["title"]
    copy = tmp_path / "grafana"
    shutil.copytree(grafana, copy)
    subprocess.run(["python3", str(copy / "generate.py")], check=True, timeout=60)
    for path in (grafana / "dashboards").glob("*.json"):
        assert (copy / "dashboards" / path.name).read_text() == path.read_text(), f"{path.name} is stale"
