"""Check deploy/stack.yml beyond what `docker stack config` checks: every network, config, secret and volume
a service names is defined (and every definition used), every config file exists, every image is pinned,
every service has a health check and resource limits, the API runs 3 replicas rolling start-first, the
trading nodes roll stop-first, nginx publishes in host mode. Also runs `docker stack config` (schema,
interpolation) when the docker CLI is there, and a key check of its own when it is not.

    python deploy/check_stack.py [STACK]   # one line per problem on stderr, exit 2; nothing and 0 when fine
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
STACK = HERE / "stack.yml"
TRADING = ("node", "live")

#: Compose file 3.8 keys this stack may use (a subset of the schema: a key outside it is a typo or a
#: feature `docker stack deploy` ignores, e.g. build, depends_on, container_name)
TOP_KEYS = {"version", "services", "networks", "volumes", "configs", "secrets"}
SERVICE_KEYS = {
    "image", "command", "entrypoint", "environment", "env_file", "ports", "configs", "secrets", "networks",
    "volumes", "healthcheck", "deploy", "stop_grace_period", "stop_signal", "user", "working_dir",
    "labels", "logging", "ulimits", "sysctls", "cap_add", "cap_drop", "read_only", "tmpfs", "hostname",
    "init", "extra_hosts", "dns",
}  # fmt: skip
DEPLOY_KEYS = {
    "mode", "replicas", "placement", "update_config", "rollback_config", "restart_policy", "resources",
    "labels", "endpoint_mode", "max_replicas_per_node",
}  # fmt: skip
HEALTH_KEYS = {"test", "interval", "timeout", "retries", "start_period", "disable"}
UPDATE_KEYS = {"parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order"}
RESTART_KEYS = {"condition", "delay", "max_attempts", "window"}
ENV_REF = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


class StackError(Exception):
    """A problem of the stack file, said in one line."""


def _interpolate(value: Any) -> Any:
    """${VAR:-default} as `docker stack deploy` does it, from the environment (the image names)."""
    if isinstance(value, str):
        return ENV_REF.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), value)
    return value


def _keys(where: str, found: Any, allowed: set[str]) -> list[str]:
    if not isinstance(found, dict):
        return [f"{where}: must be a mapping"]
    return [f"{where}.{k}: unknown key" for k in found if k not in allowed and not str(k).startswith("x-")]


def key_problems(stack: dict[str, Any]) -> list[str]:
    """Unknown keys at the levels this stack uses (what `docker stack config` would refuse, and more)."""
    problems = _keys("(top)", stack, TOP_KEYS)
    for name, svc in (stack.get("services") or {}).items():
        where = f"services.{name}"
        problems += _keys(where, svc, SERVICE_KEYS)
        if not isinstance(svc, dict):
            continue
        if "healthcheck" in svc:
            problems += _keys(f"{where}.healthcheck", svc["healthcheck"], HEALTH_KEYS)
        deploy = svc.get("deploy") or {}
        problems += _keys(f"{where}.deploy", deploy, DEPLOY_KEYS)
        if isinstance(deploy, dict):
            for key, allowed in (("update_config", UPDATE_KEYS), ("rollback_config", UPDATE_KEYS),
                                 ("restart_policy", RESTART_KEYS)):  # fmt: skip
                if key in deploy:
                    problems += _keys(f"{where}.deploy.{key}", deploy[key], allowed)
    return problems


def _names(entries: Any, key: str = "source") -> list[str]:
    """Names a service lists: plain strings or mappings with `source` (configs, secrets)."""
    if isinstance(entries, dict):
        return list(entries)
    return [e if isinstance(e, str) else e[key] for e in entries or []]


def _pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in ("", "latest") and re.search(r"\d", tag) is not None


def reference_problems(stack: dict[str, Any], base: Path) -> list[str]:
    problems: list[str] = []
    services: dict[str, Any] = stack.get("services") or {}
    defined = {kind: set(stack.get(kind) or {}) for kind in ("networks", "configs", "secrets", "volumes")}
    used: dict[str, set[str]] = {kind: set() for kind in defined}
    for name, svc in services.items():
        where = f"services.{name}"
        for kind in ("networks", "configs", "secrets"):
            for ref in _names(svc.get(kind)):
                used[kind].add(ref)
                if ref not in defined[kind]:
                    problems.append(f"{where}.{kind}: {ref!r} is not defined under {kind}:")
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
            if source and not source.startswith(("/", ".", "~")):
                used["volumes"].add(source)
                if source not in defined["volumes"]:
                    problems.append(f"{where}.volumes: {source!r} is not defined under volumes:")
        image = _interpolate(str(svc.get("image", "")))
        if not image:
            problems.append(f"{where}: no image")
        elif not _pinned(image):
            problems.append(f"{where}.image: {image!r} is not pinned to a version tag or digest")
        health = svc.get("healthcheck")
        if (
            not health
            or health.get("disable")
            or not health.get("test")
            or health["test"] in (["NONE"], "NONE")
        ):
            problems.append(f"{where}: no health check")
        deploy = svc.get("deploy") or {}
        limits = (deploy.get("resources") or {}).get("limits") or {}
        if not limits.get("cpus") or not limits.get("memory"):
            problems.append(f"{where}.deploy.resources.limits: needs cpus and memory")
        if not deploy.get("restart_policy"):
            problems.append(f"{where}.deploy: no restart_policy")
        if name in TRADING and (deploy.get("update_config") or {}).get("order") != "stop-first":
            problems.append(f"{where}.deploy.update_config.order: a trading node must roll stop-first")
    api = services.get("api")
    if api is None:
        problems.append("services.api: missing")
    else:
        deploy = api.get("deploy") or {}
        if deploy.get("replicas") != 3:
            problems.append(f"services.api.deploy.replicas: must be 3, got {deploy.get('replicas')!r}")
        if (deploy.get("update_config") or {}).get("order") != "start-first":
            problems.append("services.api.deploy.update_config.order: the API rolls start-first")
    nginx = services.get("nginx")
    if nginx is None:
        problems.append("services.nginx: missing")
    else:
        ports = nginx.get("ports") or []
        if not ports:
            problems.append("services.nginx.ports: nginx publishes nothing")
        for port in ports:
            if not isinstance(port, dict) or port.get("mode") != "host":
                problems.append(f"services.nginx.ports: {port!r} must be published with mode: host")
    for kind in ("networks", "configs", "secrets", "volumes"):
        for unused in sorted(defined[kind] - used[kind]):
            problems.append(f"{kind}.{unused}: defined but no service uses it")
    for name, cfg in (stack.get("configs") or {}).items():
        if isinstance(cfg, dict) and "file" in cfg and not (base / cfg["file"]).is_file():
            problems.append(f"configs.{name}.file: {cfg['file']} does not exist")
    return problems


def docker_problems(path: Path) -> list[str]:
    """`docker stack config`'s refusal, as one line (None of it when the docker CLI is absent)."""
    docker = shutil.which("docker")
    if docker is None:
        return []
    command = [docker, "stack", "config", "-c", str(path)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60, cwd=path.parent)
    if done.returncode == 0:
        return []
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    return [f"docker stack config: {lines[0] if lines else f'exit {done.returncode}'}"]


def check(path: Path) -> list[str]:
    """Every problem of the stack file at `path`, one line each (empty: fine)."""
    try:
        stack = yaml.safe_load(path.read_text())
    except OSError as exc:
        return [f"{path}: {exc.strerror}"]
    except yaml.YAMLError as exc:
        return [f"{path}: not YAML: {str(exc).splitlines()[0]}"]
    if not isinstance(stack, dict):
        return [f"{path}: not a Compose file"]
    keys = key_problems(stack)
    if keys:
        return keys  # a typo makes the rest meaningless
    from_docker = docker_problems(path)
    if from_docker:
        return from_docker
    return reference_problems(stack, path.parent)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else STACK
    problems = check(path)
    for problem in problems:
        print(f"error: {path.name}: {problem}", file=sys.stderr)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
