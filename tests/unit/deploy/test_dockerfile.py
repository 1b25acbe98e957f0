"""deploy/Dockerfile's structure, read by a small parser (no hadolint here): a builder stage with the
uv-locked install, a final stage on a pinned slim Python with the venv only, a non-root user, compiled
bytecode, a HEALTHCHECK; every COPY source exists and is let through by .dockerignore."""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
BUILD_TOOLS = (
    "build-essential",
    "gcc",
    "g++",
    "make",
    "cmake",
    "clang",
    "uv ",
    "uv==",
    "pip install",
    "git ",
)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, op: str) -> list[str]:
        return [arg for o, arg in self.instructions if o == op]


def instructions(text: str) -> list[tuple[str, str]]:
    """(OPERATION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or (line.startswith("#") and not pending):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        op, _, args = full.partition(" ")
        out.append((op.upper(), args.strip()))
    assert not pending, "the file ends inside a continued line"
    return out


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for op, rest in instructions(text):
        if op == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif op == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
            assert m, f"FROM {rest}"
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda g: args[g.group(1) or g.group(2)], m.group(1))
            stages.append(Stage(base, m.group(2)))
        else:
            assert stages, f"{op} before the first FROM"
            stages[-1].instructions.append((op, rest))
    return args, stages


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins, `!` re-includes; a pattern that matches
    a folder matches everything under it."""
    result = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.strip("/")
        if pat.startswith("**/"):
            hit = any(fnmatch.fnmatch(part, pat[3:]) for part in parts) or fnmatch.fnmatch(path, pat[3:])
        elif pat == "**":
            hit = True
        else:
            hit = any(fnmatch.fnmatch(p, pat) for p in prefixes)
        if hit:
            result = not negate
    return result


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, str], list[Stage]]:
    return parse(DOCKERFILE.read_text())


def test_two_stages_builder_then_final(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    _, stages = parsed
    assert [s.name for s in stages] == ["builder", "final"]


def test_base_images_are_pinned_slim_python_311(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    _, stages = parsed
    for stage in stages:
        image, _, tag = stage.base.partition(":")
        assert "@sha256:" in stage.base or re.fullmatch(r"\d+\.\d+\.\d+-slim-\w+", tag), stage.base
        assert image == "python" and tag.startswith("3.11."), stage.base


def test_the_builder_installs_from_the_lock_without_dev(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    builder = parsed[1][0]
    syncs = [r for r in builder.all("RUN") if "uv sync" in r]
    assert syncs
    for run in syncs:
        words = shlex.split(run)
        assert "--frozen" in words and "--no-dev" in words and "--no-editable" in words
        extras = {words[i + 1] for i, w in enumerate(words) if w == "--extra"}
        assert {"api", "cex", "solana", "drift", "ml"} <= extras, extras
        assert "dev" not in extras
    assert any("UV_COMPILE_BYTECODE=1" in e for e in builder.all("ENV"))


def test_the_final_stage_has_no_build_tools_and_a_non_root_user(
    parsed: tuple[dict[str, str], list[Stage]],
) -> None:
    final = parsed[1][-1]
    for op, rest in final.instructions:
        if op == "RUN":
            assert not any(tool in rest + " " for tool in BUILD_TOOLS), rest
            assert "apt-get install" not in rest, rest
        if op == "COPY" and "--from=" not in rest:
            assert all(src.startswith("deploy/docker/") for src in shlex.split(rest)[:-1]), rest
    copies_from = [r for r in final.all("COPY") if r.startswith("--from=")]
    assert copies_from == ["--from=builder /opt/venv /opt/venv"]
    users = final.all("USER")
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and (not user.isdigit() or int(user) >= 1000), user


def test_the_final_stage_checks_its_health_and_has_an_entrypoint(
    parsed: tuple[dict[str, str], list[Stage]],
) -> None:
    final = parsed[1][-1]
    (health,) = final.all("HEALTHCHECK")
    assert re.search(r"--interval=\d+s", health) and re.search(r"--timeout=\d+s", health)
    assert "CMD" in health and "NONE" not in health.upper().split()
    script = re.search(r"/usr/local/lib/botnft/(\w+\.py)", health)
    assert script and (REPO / "deploy" / "docker" / script.group(1)).is_file()
    assert final.all("ENTRYPOINT") and final.all("CMD")


def test_every_copy_source_exists_and_passes_dockerignore(parsed: tuple[dict[str, str], list[Stage]]) -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = []
    for stage in parsed[1]:
        for rest in stage.all("COPY"):
            if not rest.startswith("--from="):
                sources += shlex.split(rest)[:-1]
    assert sources
    for src in sources:
        assert (REPO / src).exists(), src
        assert not ignored(src.rstrip("/"), patterns), f"{src} is excluded by .dockerignore"
    # and what should stay out does
    for path in (
        ".venv/bin/python",
        "runs/bot.db",
        "tests/unit",
        ".git/config",
        "src/botnft/__pycache__/x.pyc",
    ):
        assert ignored(path, patterns), path


def test_the_parser_sees_a_root_final_stage_and_build_tools() -> None:
    bad = (
        "FROM python:3.11.14-slim-bookworm AS builder\nRUN true\nFROM python:latest AS final\n"
        "RUN apt-get install -y gcc \\\n  make\nUSER root\n"
    )
    _, stages = parse(bad)
    final = stages[-1]
    assert final.base == "python:latest"
    assert final.all("USER") == ["root"]
    assert final.all("RUN") == ["apt-get install -y gcc  make"]
