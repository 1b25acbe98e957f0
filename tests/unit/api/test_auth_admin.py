"""Admin routes: only the admin scope manages users and clients and reads the audit log; a new user can
log in, a disabled one cannot and loses their refresh tokens; a client secret is answered once and works;
nothing answered or audited holds a password."""

from __future__ import annotations

from typing import Any

from api_testkit import PASSWORD, bearer, login
from fastapi import FastAPI
from fastapi.testclient import TestClient


def as_(app: FastAPI, *scopes: str) -> dict[str, str]:
    return bearer(app.state.tokens.issue("user", "root", frozenset(scopes)).token)


def test_only_the_admin_scope_reaches_admin_routes(api_app: FastAPI, client: TestClient) -> None:
    assert client.get("/v1/admin/users").status_code == 401
    for scopes in (("read",), ("read", "trade")):
        assert client.get("/v1/admin/users", headers=as_(api_app, *scopes)).status_code == 403
        assert client.get("/v1/admin/audit", headers=as_(api_app, *scopes)).status_code == 403
    assert client.get("/v1/admin/users", headers=as_(api_app, "admin")).json() == []


def test_an_admin_adds_a_user_who_logs_in_then_disables_them(api_app: FastAPI, client: TestClient) -> None:
    admin = as_(api_app, "admin")
    made = client.post(
        "/v1/admin/users", json={"name": "carol", "password": PASSWORD, "scopes": ["read"]}, headers=admin
    )
    assert made.status_code == 201
    assert made.json()["scopes"] == ["read"] and not made.json()["disabled"]
    assert PASSWORD not in made.text
    again = client.post(
        "/v1/admin/users", json={"name": "carol", "password": PASSWORD, "scopes": ["read"]}, headers=admin
    )
    assert again.status_code == 409
    refresh = login(client, "carol").json()["refresh_token"]
    off = client.patch("/v1/admin/users/carol", json={"disabled": True}, headers=admin)
    assert off.status_code == 200 and off.json()["disabled"]
    assert login(client, "carol").status_code == 400
    assert (
        client.post(
            "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
        ).status_code
        == 400
    )
    assert client.patch("/v1/admin/users/nobody", json={"disabled": True}, headers=admin).status_code == 404
    audit = client.get("/v1/admin/audit", headers=admin).json()
    assert [(e["action"], e["status"]) for e in audit][:4] == [
        ("PATCH /v1/admin/users/{name}", 404),
        ("POST /v1/auth/token", 400),
        ("POST /v1/auth/token", 400),
        ("PATCH /v1/admin/users/{name}", 200),
    ]
    assert any(e["action"] == "PATCH /v1/admin/users/{name}" and e["principal"] == "user:root" for e in audit)
    assert PASSWORD not in repr(audit)


def test_bad_admin_input_is_422_and_writes_nothing(api_app: FastAPI, client: TestClient) -> None:
    admin = as_(api_app, "admin")
    for body in (
        {"name": "dave", "password": "short", "scopes": ["read"]},
        {"name": "dave", "password": PASSWORD, "scopes": ["root"]},
        {"name": "dave", "password": PASSWORD, "scopes": []},
        {"name": "bad name!", "password": PASSWORD, "scopes": ["read"]},
        {"name": "dave", "password": PASSWORD, "scopes": ["read"], "admin": True},
    ):
        response = client.post("/v1/admin/users", json=body, headers=admin)
        assert response.status_code == 422, body
        assert PASSWORD not in response.text
    assert client.get("/v1/admin/users", headers=admin).json() == []


def test_a_client_secret_is_answered_once_and_grants_the_client_its_scopes(
    api_app: FastAPI, client: TestClient
) -> None:
    admin = as_(api_app, "admin")
    made = client.post(
        "/v1/admin/clients", json={"name": "robot", "scopes": ["read", "trade"]}, headers=admin
    )
    assert made.status_code == 201
    secret = made.json()["client_secret"]
    listed: Any = client.get("/v1/admin/clients", headers=admin).json()
    assert [c["name"] for c in listed] == ["robot"] and secret not in repr(listed)
    token = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "robot", "client_secret": secret},
    )
    assert token.json()["scope"] == "read trade"
