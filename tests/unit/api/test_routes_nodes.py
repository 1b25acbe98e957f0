"""Nodes through the API: a real `bot paper` process started, watched over the event stream, stopped,
resumed and killed the way `bot kill` does it; open orders folded from a journal; scopes."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from api_testkit import bearer, login, make_user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from botnft.api.routes.nodes import open_orders
from botnft.storage.journal import PaperStore


def token(client: TestClient, app: FastAPI, scopes: str = "read trade") -> str:
    name = "u" + scopes.replace(" ", "")
    make_user(app, name, scopes)
    return str(login(client, name).json()["access_token"])


def entry(seq: int, kind: str, **payload: Any) -> tuple[int, int, str, dict[str, Any], None]:
    return (seq, 1_000 + seq, kind, {"type": kind, **payload}, None)


def test_open_orders_are_the_submitted_ones_not_filled_in_full_nor_closed() -> None:
    entries = [
        entry(1, "OrderSubmitted", client_order_id="a", instrument="SOL/USDT.SIM", side="buy", amount="2"),
        entry(2, "OrderSubmitted", client_order_id="b", instrument="SOL/USDT.SIM", side="sell", amount="1.5"),
        entry(3, "OrderSubmitted", client_order_id="c", instrument="SOL/USDT.SIM", side="buy", amount="1"),
        entry(4, "OrderSubmitted", client_order_id="d", instrument="SOL/USDT.SIM", side="buy", amount="3"),
        entry(5, "OrderAccepted", client_order_id="a", venue_order_id="v1"),
        entry(6, "OrderFilled", client_order_id="a", qty="0.5", price="100"),
        entry(7, "OrderFilled", client_order_id="b", qty="1.5", price="100"),
        entry(8, "OrderCanceled", client_order_id="c", reason="kill"),
        entry(9, "OrderFilled", client_order_id="a", qty="0.25", price="100"),
        entry(10, "OrderRejected", client_order_id="zz", reason="x"),
    ]
    assert open_orders(entries) == [
        {
            "client_order_id": "a", "instrument": "SOL/USDT.SIM", "side": "buy", "amount": "2",
            "filled": "0.75", "status": "partially_filled", "submitted_ts_ns": 1_001,
        },
        {
            "client_order_id": "d", "instrument": "SOL/USDT.SIM", "side": "buy", "amount": "3",
            "filled": "0", "status": "submitted", "submitted_ts_ns": 1_004,
        },
    ]  # fmt: skip


def test_node_routes_need_the_right_scope(client: TestClient, api_app: FastAPI) -> None:
    PaperStore(api_app.state.engine).create_run("n1", {"strategy": "hold"}, pid=2**22 + 7)
    reader = bearer(token(client, api_app, "read"))
    assert client.get("/v1/nodes").status_code == 401
    assert client.get("/v1/nodes", headers=reader).json()[0]["status"] == "crashed"  # its pid does not run
    assert client.post("/v1/nodes/n1/kill", headers=reader).status_code == 403
    assert client.post("/v1/nodes", json={}, headers=reader).status_code == 403
    answer = client.post("/v1/nodes/n1/kill", headers=bearer(token(client, api_app)))
    assert answer.status_code == 409  # crashed: nothing to kill
    assert PaperStore(api_app.state.engine).run("n1")["status"] == "crashed"
    assert client.get("/v1/nodes/nope", headers=reader).status_code == 404


def _wait(
    client: TestClient, auth: dict[str, str], run_id: str, test: Any, seconds: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        node = client.get(f"/v1/nodes/{run_id}", headers=auth).json()
        if test(node) or time.monotonic() > deadline:
            return node
        time.sleep(0.1)


@pytest.mark.timeout(180)
def test_a_paper_node_is_started_watched_stopped_resumed_and_killed(
    client: TestClient, api_app: FastAPI
) -> None:
    raw = token(client, api_app)
    auth = bearer(raw)
    spec = {"data": "sol-spot-1h", "strategy": "ema_cross", "start": "2024-01-01", "cash": "10000"}
    started = client.post(
        "/v1/nodes", json={"spec": spec, "run_id": "api-node", "speed": 36_000}, headers=auth
    )
    assert started.status_code == 202, started.text
    assert started.json() == {"run_id": "api-node", "status": "running", "detail": "started"}
    assert (
        client.post("/v1/nodes", json={"spec": spec, "run_id": "api-node"}, headers=auth).status_code == 409
    )

    with client.websocket_connect("/v1/ws/events?node=api-node&after=0&poll_s=0.05") as ws:
        ws.send_json({"token": raw})
        hello = ws.receive_json()
        assert (hello["type"], hello["node"], hello["after"]) == ("hello", "api-node", 0)
        seen = [ws.receive_json() for _ in range(2)]
        assert {m["type"] for m in seen} <= {"status", "equity", "order", "fill", "risk"}

    node = _wait(client, auth, "api-node", lambda n: n["bars_done"] > 20)
    assert node["status"] == "running" and node["kind"] == "paper"

    stopped = client.post("/v1/nodes/api-node/stop", params={"wait": 10}, headers=auth).json()
    assert stopped["status"] == "stopped", stopped
    assert client.post("/v1/nodes/api-node/kill", headers=auth).status_code == 409

    resumed = client.post("/v1/nodes/api-node/start", headers=auth)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "running"

    killed = client.post("/v1/nodes/api-node/kill", params={"wait": 10}, headers=auth).json()
    assert killed == {"run_id": "api-node", "status": "killed", "detail": "halted"}
    store = PaperStore(api_app.state.engine)
    row = store.run("api-node")
    assert row["status"] == "killed" and row["kill_requested"]
    assert [e[2] for e in store.entries("api-node", 0, ["kill"])] == ["kill"]
    assert Decimal(row["summary"]["final_position"]) == 0  # flat after the kill
    assert client.get("/v1/nodes/api-node/orders", headers=auth).json()["orders"] == []
    positions = client.get("/v1/nodes/api-node/positions", headers=auth).json()
    assert positions["run_id"] == "api-node" and set(positions["positions"]) == {"SIM"}
    assert (
        Decimal(positions["positions"]["SIM"]["SOL"])
        == 0
        == Decimal(positions["venue_positions"]["SIM"]["SOL"])
    )
    assert client.post("/v1/nodes/api-node/start", headers=auth).status_code == 409  # killed: not resumable


def test_the_event_stream_refuses_a_missing_bad_or_unscoped_token(
    client: TestClient, api_app: FastAPI
) -> None:
    from starlette.websockets import WebSocketDisconnect

    PaperStore(api_app.state.engine).create_run("n2", {"strategy": "hold"}, pid=2**22 + 9)
    for url, first, code in (
        ("/v1/ws/events?node=n2", {"token": "forged"}, 4401),
        ("/v1/ws/events?node=n2&token=forged", None, 4401),
        (f"/v1/ws/events?node=n2&token={token(client, api_app, 'trade')}", None, 4403),
        (f"/v1/ws/events?node=missing&token={token(client, api_app, 'read')}", None, 4404),
    ):
        with client.websocket_connect(url) as ws:
            if first is not None:
                ws.send_json(first)
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == code, url


def test_the_event_stream_sends_the_journal_then_follows_it_with_status_and_equity(
    client: TestClient, api_app: FastAPI
) -> None:
    store = PaperStore(api_app.state.engine)
    store.create_run("n3", {"strategy": "hold"}, pid=2**22 + 11)
    first = [
        entry(1, "bar", bar=0),
        entry(2, "OrderSubmitted", client_order_id="a", instrument="SOL/USDT.SIM", side="buy", amount="2"),
        entry(3, "OrderFilled", client_order_id="a", qty="2", price="100.5"),
    ]
    store.append("n3", first, 1, 1_003)
    store.save_summary("n3", {"final_equity": "999.25", "final_position": "2", "halted": {}})
    raw = token(client, api_app, "read")
    with client.websocket_connect(f"/v1/ws/events?node=n3&after=0&poll_s=0.05&token={raw}") as ws:
        got = [ws.receive_json() for _ in range(5)]
        assert got[0] == {"type": "hello", "node": "n3", "status": "running", "after": 0}
        assert [(m["type"], m["seq"], m["kind"]) for m in got[1:3]] == [
            ("order", 2, "OrderSubmitted"),
            ("fill", 3, "OrderFilled"),
        ]
        assert got[2]["data"]["price"] == "100.5" and got[2]["ts_ns"] == 1_003
        assert got[3] == {
            "type": "status",
            "status": "running",
            "kill_requested": False,
            "halted": {},
            "bars_done": 1,
        }
        assert got[4] == {"type": "equity", "equity": "999.25", "position": "2"}
        store.append("n3", [entry(4, "kill", flat="0")], 2, 1_004)
        store.set_status(
            "n3", "killed", summary={"final_equity": "1000", "final_position": "0", "halted": {"SOL": "kill"}}
        )
        later = [ws.receive_json() for _ in range(3)]
        assert later[0]["type"] == "risk" and later[0]["kind"] == "kill" and later[0]["seq"] == 4
        assert later[1] == {
            "type": "status", "status": "killed", "kill_requested": False, "halted": {"SOL": "kill"},
            "bars_done": 2,
        }  # fmt: skip
        assert later[2] == {"type": "equity", "equity": "1000", "position": "0"}


def test_the_event_stream_closes_when_the_token_expires(
    client: TestClient, api_app: FastAPI, clock: Any
) -> None:
    from starlette.websockets import WebSocketDisconnect

    PaperStore(api_app.state.engine).create_run("n4", {"strategy": "hold"}, pid=2**22 + 13)
    raw = token(client, api_app, "read")
    with client.websocket_connect(f"/v1/ws/events?node=n4&poll_s=0.05&token={raw}") as ws:
        assert ws.receive_json()["type"] == "hello"
        assert ws.receive_json()["type"] == "status"
        settings = api_app.state.settings
        clock.advance(settings.access_token_ttl_s + settings.clock_leeway_s + 1)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
