"""The token endpoint: password and client-credentials grants, refresh tokens that rotate with reuse
detection revoking the family, scope narrowing, disabled accounts, login throttling per account and per
IP, and the audit rows every call leaves."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import sqlalchemy as sa
from api_testkit import PASSWORD, Clock, login, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from botnft.api.app import create_app
from botnft.api.settings import ApiSettings


def token(client: TestClient, **form: str) -> Any:
    return client.post("/v1/auth/token", data=form)


def assert_oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["status"], body["error"]) == (status, error)


def rows(app: FastAPI, sql: str) -> list[Any]:
    with app.state.engine.connect() as connection:
        return list(connection.execute(sa.text(sql)).all())


def test_the_password_grant_returns_a_bearer_token_with_the_users_scopes_and_no_store(
    api_app: FastAPI, client: TestClient
) -> None:
    make_user(api_app, "alice", "read trade")
    response = login(client, "alice")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 900, "read trade")


def test_a_wrong_password_an_unknown_user_and_a_disabled_user_all_get_the_same_invalid_grant(
    api_app: FastAPI, client: TestClient
) -> None:
    make_user(api_app, "alice", "read")
    make_user(api_app, "bob", "read")
    api_app.state.accounts.set_user_disabled("bob", True)
    answers = [login(client, "alice", "wrong password!"), login(client, "nobody"), login(client, "bob")]
    for answer in answers:
        assert_oauth_error(answer, 400, "invalid_grant")
    assert len({a.json()["detail"] for a in answers}) == 1  # nothing tells which names exist


def test_a_scope_can_be_narrowed_but_never_widened(api_app: FastAPI, client: TestClient) -> None:
    make_user(api_app, "alice", "read trade")
    assert login(client, "alice", scope="read").json()["scope"] == "read"
    assert_oauth_error(login(client, "alice", scope="read admin"), 400, "invalid_scope")
    assert_oauth_error(login(client, "alice", scope="root"), 400, "invalid_scope")


def test_an_unknown_grant_type_and_missing_fields_are_oauth_errors(client: TestClient) -> None:
    assert_oauth_error(token(client, grant_type="implicit"), 400, "unsupported_grant_type")
    assert_oauth_error(token(client, grant_type="password", username="x"), 400, "invalid_request")
    assert_oauth_error(token(client, grant_type="refresh_token"), 400, "invalid_request")
    assert_oauth_error(token(client, grant_type="client_credentials"), 401, "invalid_client")
    missing = client.post("/v1/auth/token", data={})
    assert missing.status_code == 422
    assert missing.json()["invalid-params"] == [{"name": "body.grant_type", "reason": "Field required"}]


def test_the_client_credentials_grant_by_form_or_basic_issues_no_refresh_token(
    api_app: FastAPI, client: TestClient
) -> None:
    secret = api_app.state.accounts.add_client("robot", frozenset({"read"}))
    by_form = token(client, grant_type="client_credentials", client_id="robot", client_secret=secret)
    assert by_form.status_code == 200
    assert "refresh_token" not in by_form.json()
    basic = base64.b64encode(f"robot:{secret}".encode()).decode()
    by_basic = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert by_basic.status_code == 200
    assert by_basic.json()["scope"] == "read"
    wrong = token(client, grant_type="client_credentials", client_id="robot", client_secret=secret + "x")
    assert_oauth_error(wrong, 401, "invalid_client")
    assert wrong.headers["www-authenticate"].startswith("Basic")


def test_a_refresh_token_rotates_and_presenting_a_used_one_revokes_the_whole_family(
    api_app: FastAPI, client: TestClient
) -> None:
    make_user(api_app, "alice", "read trade")
    first = login(client, "alice").json()["refresh_token"]
    second = token(client, grant_type="refresh_token", refresh_token=first)
    assert second.status_code == 200
    second_refresh = second.json()["refresh_token"]
    assert second_refresh != first
    third = token(client, grant_type="refresh_token", refresh_token=second_refresh).json()["refresh_token"]
    # an attacker replays the first (already used) token: refused, and the family dies with it
    assert_oauth_error(token(client, grant_type="refresh_token", refresh_token=first), 400, "invalid_grant")
    assert_oauth_error(token(client, grant_type="refresh_token", refresh_token=third), 400, "invalid_grant")
    # another login is another family, untouched
    other = login(client, "alice").json()["refresh_token"]
    assert token(client, grant_type="refresh_token", refresh_token=other).status_code == 200
    stored = rows(api_app, "SELECT token_hash FROM api_refresh_tokens")
    assert all(first not in r.token_hash and len(r.token_hash) == 64 for r in stored)  # only digests kept


def test_a_refresh_token_expires_and_a_disabled_user_cannot_refresh(
    api_app: FastAPI, client: TestClient, clock: Clock
) -> None:
    make_user(api_app, "alice", "read")
    old = login(client, "alice").json()["refresh_token"]
    clock.advance(30 * 86_400 + 1)
    assert_oauth_error(token(client, grant_type="refresh_token", refresh_token=old), 400, "invalid_grant")
    fresh = login(client, "alice").json()["refresh_token"]
    api_app.state.accounts.set_user_disabled("alice", True)
    assert_oauth_error(token(client, grant_type="refresh_token", refresh_token=fresh), 400, "invalid_grant")


def test_refreshing_keeps_the_scopes_of_the_login_and_drops_ones_the_user_lost(
    api_app: FastAPI, client: TestClient
) -> None:
    make_user(api_app, "alice", "read trade")
    narrowed = login(client, "alice", scope="read").json()["refresh_token"]
    assert token(client, grant_type="refresh_token", refresh_token=narrowed).json()["scope"] == "read"
    full = login(client, "alice").json()["refresh_token"]
    with api_app.state.engine.begin() as connection:
        connection.execute(sa.text("UPDATE api_users SET scopes = 'read' WHERE name = 'alice'"))
    assert token(client, grant_type="refresh_token", refresh_token=full).json()["scope"] == "read"


def test_brute_force_on_one_account_is_throttled_even_with_the_right_password_then_released(
    make_settings: Any, clock: Clock
) -> None:
    app = create_app(make_settings(login_max_failures_per_account=3, login_window_s=60), clock=clock)
    make_user(app, "alice", "read")
    with TestClient(app) as client:
        for _ in range(3):
            assert_oauth_error(login(client, "alice", "guess guess guess"), 400, "invalid_grant")
        throttled = login(client, "alice")  # the right password
        assert throttled.status_code == 429
        assert throttled.headers["content-type"] == "application/problem+json"
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        clock.advance(61)
        assert login(client, "alice").status_code == 200
        # a success clears the account's failures
        for _ in range(2):
            login(client, "alice", "guess guess guess")
        assert login(client, "alice").status_code == 200


def test_one_address_trying_many_accounts_is_throttled_per_ip(make_settings: Any, clock: Clock) -> None:
    app = create_app(make_settings(login_max_failures_per_ip=4, login_window_s=60), clock=clock)
    make_user(app, "alice", "read")
    with TestClient(app) as client:
        for name in ("u1", "u2", "u3", "u4"):
            login(client, name, "whatever password")
        assert login(client, "alice").status_code == 429
    # the same account from another address is not held by that address's failures
    with TestClient(app, client=("203.0.113.9", 5000)) as elsewhere:
        assert login(elsewhere, "alice").status_code == 200


def test_every_token_call_is_audited_with_who_what_where_and_result_but_no_secret(
    api_app: FastAPI, client: TestClient
) -> None:
    make_user(api_app, "alice", "read")
    login(client, "alice", "not the password")
    issued = login(client, "alice").json()
    entries = api_app.state.audit.entries()
    assert [(e["principal"], e["action"], e["status"], e["client_ip"]) for e in entries[:2]] == [
        ("user:alice", "POST /v1/auth/token", 200, "testclient"),
        ("user:alice", "POST /v1/auth/token", 400, "testclient"),
    ]
    assert entries[0]["detail"]["outcome"] == "issued"
    assert entries[1]["detail"]["outcome"] == "refused"
    dump = repr(rows(api_app, "SELECT * FROM api_audit_log"))
    for secret in (PASSWORD, "not the password", issued["access_token"], issued["refresh_token"]):
        assert secret not in dump


@pytest.mark.parametrize("password", ["short", "x" * 1025])
def test_a_password_outside_12_to_1024_characters_is_refused_at_creation(
    api_app: FastAPI, password: str
) -> None:
    from botnft.domain.errors import UserError

    with pytest.raises(UserError, match="password must have"):
        make_user(api_app, "alice", "read", password)


def test_the_signing_settings_name_the_issuer_and_audience(make_settings: Any, clock: Clock) -> None:
    settings: ApiSettings = make_settings(issuer="bot-prod", audience="bot-prod-api")
    app = create_app(settings, clock=clock)
    make_user(app, "alice", "read")
    with TestClient(app) as client:
        access = login(client, "alice").json()["access_token"]
    import jwt

    unverified = jwt.decode(access, options={"verify_signature": False})
    assert (unverified["iss"], unverified["aud"]) == ("bot-prod", "bot-prod-api")


def test_of_many_concurrent_presentations_of_one_refresh_token_exactly_one_is_spent(api_app: FastAPI) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from botnft.api.auth.refresh import Rotated

    refresh = api_app.state.refresh
    for _ in range(5):
        token = refresh.issue("user:alice", frozenset({"read"}))
        with ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(refresh.rotate, [token] * 6))
        assert sum(isinstance(o, Rotated) for o in outcomes) == 1
        assert all(isinstance(o, Rotated) or o == "reused" for o in outcomes)
