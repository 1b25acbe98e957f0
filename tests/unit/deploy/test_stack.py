"""deploy/stack.yml: `docker stack config` accepts it (when the docker CLI is here) and deploy/check_stack.py
finds nothing; each kind of mistake the checker exists for, planted in a copy, is one line naming it and
exit 2. The configs the stack mounts pass their own tools: amtool (and its routing), promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
STACK = DEPLOY / "stack.yml"
CHECK = DEPLOY / "check_stack.py"
DOCKER = shutil.which("docker")


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHECK), str(path)], capture_output=True, text=True, timeout=60)


def planted(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of the stack with `old` replaced by `new` (exactly `count` places), its config files pointed
    at the real ones."""
    text = STACK.read_text()
    assert text.count(old) == count, old
    text = text.replace(old, new).replace("file: ./", f"file: {DEPLOY}/")
    path = tmp_path / "stack.yml"
    path.write_text(text)
    return path


def test_the_stack_passes() -> None:
    done = run_check(STACK)
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.skipif(DOCKER is None, reason="no docker CLI")
def test_docker_stack_config_accepts_it() -> None:
    done = subprocess.run([DOCKER or "docker", "stack", "config", "-c", str(STACK)], capture_output=True,
                          text=True, timeout=60, cwd=DEPLOY)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rendered = yaml.safe_load(done.stdout)
    assert rendered["services"]["api"]["deploy"]["replicas"] == 3
    assert rendered["services"]["api"]["image"] == "botnft:0.1.0"
    assert rendered["services"]["node"]["environment"]["BOT_SHARD"] == "{{.Task.Slot}}/2"


def test_what_the_stack_promises() -> None:
    stack = yaml.safe_load(STACK.read_text())
    services = stack["services"]
    assert {"nginx", "api", "node", "live", "worker", "postgres", "backup", "redis", "prometheus",
            "alertmanager", "grafana"} <= set(services)  # fmt: skip
    assert all(p["mode"] == "host" for p in services["nginx"]["ports"])
    assert sorted(p["published"] for p in services["nginx"]["ports"]) == [80, 443]
    # the public edge and the data tier are separate networks; the data tier is internal
    assert set(services["nginx"]["networks"]) == {"edge"}
    assert stack["networks"]["data"]["internal"] is True
    assert "edge" not in services["postgres"]["networks"] and "edge" not in services["redis"]["networks"]
    # the node shards by its slot over as many replicas as --data lists markets
    node = services["node"]
    markets = node["command"][node["command"].index("--data") + 1].split(",")
    assert node["environment"]["BOT_SHARD"] == f"{{{{.Task.Slot}}}}/{node['deploy']['replicas']}"
    assert len(markets) == node["deploy"]["replicas"]
    # the API trusts X-Forwarded-For from the edge network's subnet only
    subnet = stack["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    assert services["api"]["environment"]["BOT_API_TRUSTED_PROXIES"] == subnet
    # Grafana's provisioned datasource is the stack's Prometheus, on a network they share
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    assert set(services["grafana"]["networks"]) & set(services["prometheus"]["networks"])
    # Prometheus reaches every scraped service; nothing but nginx and grafana publishes a port
    for name in ("node", "live", "alertmanager"):
        assert "monitoring" in services[name]["networks"], name
    assert {n for n, svc in services.items() if svc.get("ports")} == {"nginx", "grafana"}
    # every upstream image is pinned to a version, not a moving tag
    for name, svc in services.items():
        image = svc["image"]
        assert re.search(r":(v?\d+\.\d+(\.\d+)?[\w.-]*|\$\{BOT_VERSION:-\d+\.\d+\.\d+\})$", image), (
            name,
            image,
        )


@pytest.mark.parametrize(
    ("old", "new", "count", "says"),
    [
        ("      restart_policy: *restart\n      resources:\n        limits: {cpus: \"1.0\", memory: 768M}",
         "      restart_polcy: *restart\n      resources:\n        limits: {cpus: \"1.0\", memory: 768M}", 1,
         "services.api.deploy.restart_polcy: unknown key"),
        ("    image: prom/prometheus:v2.42.0", "    imag: prom/prometheus:v2.42.0", 1,
         "services.prometheus.imag: unknown key"),
        ("    networks: [edge]\n", "    networks: [edge, public]\n", 1,
         "services.nginx.networks: 'public' is not defined"),
        ("  backup_sh: {file: ./backup/backup.sh}", "  backup_sh: {file: ./backup/nope.sh}", 1,
         "configs.backup_sh.file: "),
        ("    image: redis:7.4.1-bookworm", "    image: redis:latest", 1,
         "services.redis.image: 'redis:latest'"),
        ("    image: redis:7.4.1-bookworm", "    image: redis", 1, "services.redis.image: 'redis'"),
        ("      replicas: 3\n", "      replicas: 2\n", 1, "services.api.deploy.replicas: must be 3"),
        ("      - {target: 443, published: 443, protocol: tcp, mode: host}",
         "      - {target: 443, published: 443, protocol: tcp, mode: ingress}", 1,
         "must be published with mode: host"),
        ("      update_config: {parallelism: 1, order: stop-first, delay: 10s, failure_action: pause}",
         "      update_config: {parallelism: 1, order: start-first, delay: 10s, failure_action: pause}", 1,
         "services.node.deploy.update_config.order: a trading node must roll stop-first"),
        ("      test: [\"CMD\", \"redis-cli\", \"ping\"]", "      disable: true", 1,
         "services.redis: no health check"),
        ("        limits: {cpus: \"0.5\", memory: 384M}\n", "        limits: {cpus: \"0.5\"}\n", 1,
         "services.redis.deploy.resources.limits: needs cpus and memory"),
        ("      - {source: jwt_signing_key, target: bot_api_signing_key, uid: \"10001\", mode: 0400}\n",
         "", 1,
         "secrets.jwt_signing_key: defined but no service uses it"),
    ],
)  # fmt: skip
def test_a_planted_mistake_is_one_line_naming_it(
    tmp_path: Path, old: str, new: str, count: int, says: str
) -> None:
    done = run_check(planted(tmp_path, old, new, count))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert lines[0].startswith("error: stack.yml: ") and "Traceback" not in done.stderr


@pytest.mark.skipif(DOCKER is None, reason="no docker CLI")
def test_a_schema_error_only_docker_sees_is_one_line(tmp_path: Path) -> None:
    done = run_check(planted(tmp_path, "      replicas: 3\n", "      replicas: three\n"))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "services.api.deploy.replicas must be a integer" in lines[0], done.stderr


def test_every_config_file_the_stack_mounts_exists() -> None:
    stack = yaml.safe_load(STACK.read_text())
    for name, cfg in stack["configs"].items():
        assert (DEPLOY / cfg["file"]).is_file(), name


@pytest.mark.skipif(shutil.which("amtool") is None, reason="no amtool")
def test_alertmanager_config_and_routing() -> None:
    conf = str(DEPLOY / "alertmanager" / "alertmanager.yml")
    done = subprocess.run(["amtool", "check-config", conf], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    for labels, receivers in ((["severity=critical", "alertname=BotDown"], "pager,chat"),
                              (["severity=warning", "alertname=BotDrawdown"], "chat")):  # fmt: skip
        done = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={conf}", *labels],
                              capture_output=True, text=True, timeout=30)  # fmt: skip
        assert done.stdout.strip() == receivers, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool")
def test_the_stack_prometheus_config_and_its_jobs() -> None:
    stack_conf = DEPLOY / "prometheus" / "prometheus.stack.yml"
    done = subprocess.run(["promtool", "check", "config", str(stack_conf)], capture_output=True, text=True,
                          timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    local = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    swarm = yaml.safe_load(stack_conf.read_text())
    assert swarm["rule_files"] == local["rule_files"]  # one set of rules
    assert {j["job_name"] for j in local["scrape_configs"]} <= {
        j["job_name"] for j in swarm["scrape_configs"]
    }
    (bot,) = [j for j in swarm["scrape_configs"] if j["job_name"] == "bot"]
    stack = yaml.safe_load(STACK.read_text())
    names = set(bot["dns_sd_configs"][0]["names"])
    assert names == {f"tasks.{s}" for s in ("node", "live")} and all(
        s[6:] in stack["services"] for s in names
    )


def test_a_restarted_node_or_live_task_resumes_the_run_of_its_slot() -> None:
    import re

    services = yaml.safe_load(STACK.read_text())["services"]
    for name in ("node", "live"):
        s = services[name]
        # BOT_RUN_ID is --run-id ID --resume-if-exists; it names the slot, not the task: stable across
        # restarts
        run_id = s["environment"]["BOT_RUN_ID"]
        assert "{{.Task.Slot}}" in run_id and "{{.Task.ID}}" not in run_id and "{{.Task.Name}}" not in run_id
        assert "--run-id" not in s["command"] and "--resume" not in s["command"]
        # what the template gives (stack "bot", slot 12) is a valid run id
        example = run_id.replace("{{.Service.Name}}", f"bot_{name}").replace("{{.Task.Slot}}", "12")
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", example), example
        assert s["command"][:2] == ["bot", "paper" if name == "node" else "live"]
