"""Structured logs: one JSON object a line with the run id, client order id and venue on every line, a
console format for a terminal, and no secret ever written, whatever key or text it hides in."""

from __future__ import annotations

import io
import json
from decimal import Decimal

from botnft.domain.events import OrderAccepted, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, Side
from botnft.engine.bus import EventBus
from botnft.obs.logs import OrderLog, configure, order_context

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
KEYPAIR = "[" + ", ".join(str(i % 256) for i in range(64)) + "]"
BASE58 = "4" * 44 + "Zk" * 21  # an 86-character base58 secret key
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_carries_the_run_id_client_order_id_and_venue() -> None:
    out = io.StringIO()
    log = configure("run-7", stream=out, json=True)
    log.info("bar done", bar=3)
    with order_context("bot-42", "DRIFT"):
        log.info("order sent", qty="1.5")
    log.warning("after the order")
    first, sent, after = lines(out)
    assert first["run_id"] == "run-7" and first["client_order_id"] is None and first["venue"] is None
    assert first["event"] == "bar done" and first["bar"] == 3 and first["level"] == "info"
    assert sent["client_order_id"] == "bot-42" and sent["venue"] == "DRIFT" and sent["run_id"] == "run-7"
    assert after["client_order_id"] is None and after["level"] == "warning"


def test_secrets_are_never_written_by_key_or_by_their_look() -> None:
    out = io.StringIO()
    log = configure("run-7", stream=out, json=True)
    log.info("connect", api_key="AKIA-SECRET-1", headers={"Authorization": "x-SECRET-2", "Accept": "json"})
    log.info("signed", keypair=KEYPAIR, wallet={"private_key": "SECRET-3"}, password="SECRET-4")
    log.info(f"sent with Bearer SECRET-5 and {JWT}")
    log.info("loaded", blob=BASE58, pem=PEM, note=[KEYPAIR])
    log.warning("database unavailable: postgresql+psycopg://bot:SECRET-6@db.local:5432/bot refused")
    text = out.getvalue()
    secrets = (
        "SECRET-1",
        "SECRET-2",
        "SECRET-3",
        "SECRET-4",
        "SECRET-5",
        "SECRET-6",
        JWT,
        BASE58,
        "MIIEvQ",
        "61, 62, 63",
    )
    for secret in secrets:
        assert secret not in text, secret
    connect, signed, sent, loaded, url = lines(out)
    assert connect["api_key"] == "[redacted]" and connect["headers"] == {
        "Authorization": "[redacted]", "Accept": "json"
    }  # fmt: skip
    assert signed["wallet"] == {"private_key": "[redacted]"}
    assert sent["event"] == "sent with [redacted] and [redacted]"
    assert loaded["blob"] == "[redacted]" and loaded["note"] == ["[redacted]"]
    assert (
        url["event"] == "database unavailable: postgresql+psycopg://bot:[redacted]@db.local:5432/bot refused"
    )


def test_a_terminal_gets_the_console_format_and_a_pipe_gets_json() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    configure("run-7", stream=tty).info("hello", api_key="SECRET-9")
    configure("run-7", stream=pipe).info("hello")
    assert not tty.getvalue().startswith("{") and "hello" in tty.getvalue() and "run-7" in tty.getvalue()
    assert "SECRET-9" not in tty.getvalue()
    assert json.loads(pipe.getvalue())["event"] == "hello"


def test_the_format_can_be_forced_either_way() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    configure("run-7", stream=tty, fmt="json").info("hello")
    configure("run-7", stream=pipe, fmt="console").info("hello")
    assert json.loads(tty.getvalue())["run_id"] == "run-7"
    assert not pipe.getvalue().startswith("{") and "hello" in pipe.getvalue()


def test_every_order_event_is_one_line_with_the_run_id_client_order_id_and_venue() -> None:
    out = io.StringIO()
    log = OrderLog(configure("run-7", stream=out, json=True))
    bus = EventBus()
    log.attach(bus)
    perp = InstrumentId("SOL-PERP", "DRIFT")
    log.on_sent(Order("bot-1", perp, Side.SELL, Decimal("2.5"), 0))
    bus.publish(OrderAccepted(1, "bot-1", "V-9"))  # no instrument on an ack: the venue it was sent to
    bus.publish(
        OrderFilled(2, "bot-1", perp, Side.SELL, Decimal("2.5"), Decimal("101.5"), Decimal("0.1"), "USDC")
    )
    bus.publish(OrderRejected(3, "bot-2", InstrumentId("SOL/USDC", "RAYDIUM"), "risk_denied", "too big"))
    bus.drain()
    sent, acked, filled, rejected = lines(out)
    assert [e["event"] for e in (sent, acked, filled, rejected)] == [
        "order submitted", "order accepted", "order filled", "order rejected"
    ]  # fmt: skip
    assert all(e["run_id"] == "run-7" for e in (sent, acked, filled, rejected))
    assert [(e["client_order_id"], e["venue"]) for e in (sent, acked, filled, rejected)] == [
        ("bot-1", "DRIFT"), ("bot-1", "DRIFT"), ("bot-1", "DRIFT"), ("bot-2", "RAYDIUM")
    ]  # fmt: skip
    assert (sent["side"], sent["amount"], filled["price"], rejected["level"]) == (
        "sell",
        "2.5",
        "101.5",
        "warning",
    )
