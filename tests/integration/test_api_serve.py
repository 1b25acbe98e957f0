"""`bot user`, `bot client` and `bot serve` as real processes on SQLite and PostgreSQL: accounts made from
the command line log in over HTTP to a 2-worker server on loopback; passwords and secrets are never on the
command line, in the output or in the server's log (the access log drops query strings); mistakes are one
line and exit 2; `bot --help` imports none of the web stack."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
import sqlalchemy as sa

from botnft.storage import make_engine, upgrade

BOT = [sys.executable, "-m", "botnft.cli"]
PASSWORD = "a long enough password 42"
STARTUP_S = 60.0


def env_for(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(
        BOT_DATABASE_URL=database_url,
        BOT_RUNS_DIR=str(tmp_path / "runs"),
        BOT_CONFIG=str(tmp_path / "bot.toml"),
        BOT_API_ARGON2_TIME_COST="1",
        BOT_API_ARGON2_MEMORY_KIB="8192",
        BOT_API_RATE_LIMIT="1000/second",  # this test is about auth, not the limiter
    )
    (tmp_path / "bot.toml").write_text("")
    return env


def bot(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BOT, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def one_line_exit_2(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert text in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    upgrade(database_url)
    return env_for(database_url, tmp_path)


def test_users_and_clients_from_the_command_line_with_one_line_mistakes(
    env: dict[str, str], tmp_path: Path
) -> None:
    added = bot(
        "user",
        "add",
        "alice",
        "--scopes",
        "read,trade",
        "--password-stdin",
        env=env,
        cwd=tmp_path,
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert "alice" in added.stdout and PASSWORD not in added.stdout + added.stderr
    one_line_exit_2(
        bot(
            "user",
            "add",
            "alice",
            "--scopes",
            "read",
            "--password-stdin",
            env=env,
            cwd=tmp_path,
            stdin=PASSWORD,
        ),
        "user alice already exists",
    )
    one_line_exit_2(
        bot(
            "user",
            "add",
            "bob",
            "--scopes",
            "read,root",
            "--password-stdin",
            env=env,
            cwd=tmp_path,
            stdin=PASSWORD,
        ),
        "unknown scope root",
    )
    one_line_exit_2(
        bot(
            "user",
            "add",
            "bob",
            "--scopes",
            "read",
            "--password-stdin",
            env=env,
            cwd=tmp_path,
            stdin="short\n",
        ),
        "at least 12 characters",
    )
    one_line_exit_2(
        bot("user", "add", "bob", "--scopes", "read", env=env, cwd=tmp_path, stdin=""), "--password-stdin"
    )
    one_line_exit_2(bot("user", "disable", "nobody", env=env, cwd=tmp_path), "no user nobody")
    one_line_exit_2(
        bot(
            "user",
            "add",
            "bad name!",
            "--scopes",
            "read",
            "--password-stdin",
            env=env,
            cwd=tmp_path,
            stdin=PASSWORD,
        ),
        "bad name",
    )
    client = bot("client", "add", "robot", "--scopes", "read", env=env, cwd=tmp_path)
    assert client.returncode == 0, client.stderr
    lines = dict(line.split("=", 1) for line in client.stdout.strip().splitlines())
    assert lines["client_id"] == "robot" and len(lines["client_secret"]) >= 40
    assert lines["client_secret"] not in client.stderr
    changed = bot(
        "user", "passwd", "alice", "--password-stdin", env=env, cwd=tmp_path, stdin="another long password\n"
    )
    assert changed.returncode == 0, changed.stderr
    assert bot("user", "disable", "alice", env=env, cwd=tmp_path).returncode == 0
    engine = make_engine(env["BOT_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            audited = connection.execute(
                sa.text("SELECT action, path, detail FROM api_audit_log ORDER BY id")
            ).all()
            stored = connection.execute(sa.text("SELECT password_hash FROM api_users")).scalar_one()
    finally:
        engine.dispose()
    assert [row.path for row in audited] == [
        "bot user add alice",
        "bot client add robot",
        "bot user passwd alice",
        "bot user disable alice",
    ]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in repr(audited) and "another long password" not in repr(audited) + stored


def test_serve_refuses_a_database_that_is_not_migrated(database_url: str, tmp_path: Path) -> None:
    result = bot("serve", "--port", str(free_port()), env=env_for(database_url, tmp_path), cwd=tmp_path)
    one_line_exit_2(result, "bot db upgrade")


def test_bot_help_imports_none_of_the_web_stack(tmp_path: Path) -> None:
    code = (
        "import sys; from botnft.cli import run; run(['--help']); "
        "web = {'fastapi', 'starlette', 'uvicorn', 'jwt', 'pwdlib'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & web))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert "serve" in result.stdout and "user" in result.stdout


@pytest.fixture
def server(
    env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[str], dict[str, str]]]:
    added = bot(
        "user",
        "add",
        "alice",
        "--scopes",
        "read,trade",
        "--password-stdin",
        env=env,
        cwd=tmp_path,
        stdin=PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    port = free_port()
    process = subprocess.Popen(
        [*BOT, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_S
    try:
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                if httpx.get(f"{base}/v1/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "bot serve did not become ready"
            time.sleep(0.2)
        yield base, process, env
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_a_two_worker_server_logs_in_refreshes_verifies_and_never_logs_a_secret(
    server: tuple[str, subprocess.Popen[str], dict[str, str]],
) -> None:
    base, process, _ = server
    with httpx.Client(base_url=base, timeout=10) as web:
        assert web.get("/v1/health").json()["status"] == "ok"
        assert web.get("/docs").status_code == 200
        assert "/v1/auth/token" in web.get("/openapi.json").json()["paths"]
        issued = web.post(
            "/v1/auth/token", data={"grant_type": "password", "username": "alice", "password": PASSWORD}
        )
        assert issued.status_code == 200, issued.text
        tokens = issued.json()
        refreshed = web.post(
            "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200
        reused = web.post(
            "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        )
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        # every worker verifies with the one key the server made at start
        jwks = web.get("/v1/auth/jwks").json()
        for _ in range(6):
            assert {k["kid"] for k in web.get("/v1/auth/jwks").json()["keys"]} == {
                k["kid"] for k in jwks["keys"]
            }
        claims = jwt.decode(
            refreshed.json()["access_token"],
            jwt.PyJWK(jwks["keys"][0]).key,
            algorithms=["EdDSA"],
            audience="botnft-api",
        )
        assert claims["sub"] == "user:alice"
        web.get(f"/v1/health?token={tokens['access_token']}")
        web.post(
            "/v1/auth/token", data={"grant_type": "password", "username": "alice", "password": PASSWORD + "!"}
        )
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=30)[0]
    assert "GET /v1/health" in output  # the access log ran
    for secret in (
        PASSWORD,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["refresh_token"],
    ):
        assert secret not in output
