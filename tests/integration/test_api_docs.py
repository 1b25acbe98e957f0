"""The API docs in headless Chromium over the DevTools protocol (the Browser of test_api_console.py): /docs
(Swagger UI) and /redoc (ReDoc), served by a `bot serve` replica behind nginx, render every operation of
/openapi.json with the scripts and styles the app serves itself: no request leaves loopback, no console
error, no CSP violation, and the pages' CSP names no other origin and allows no inline script but
their own."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_api_console import CHROMIUM, NGINX, Browser, Topology

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make system-tools)"),
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (make system-tools)"),
]


class RecordingBrowser(Browser):
    """The console test's browser, keeping the events (requests, console calls, log entries) it skips."""

    def __init__(self, profile: Path) -> None:
        super().__init__(profile)
        self.events: list[dict[str, Any]] = []

    def cdp(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message["result"])
            if "method" in message:
                self.events.append(message)


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    with Topology(tmp_path / "topo", replicas=1, edge_rate=0, redis_url=None) as topo:
        yield topo


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[RecordingBrowser]:
    profile = tmp_path / "chromium"
    profile.mkdir()
    chrome = RecordingBrowser(profile)
    try:
        for domain in ("Network", "Runtime", "Log", "Page"):
            chrome.cdp(f"{domain}.enable")
        yield chrome
    finally:
        chrome.close()


def operations(base: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    verbs = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    return sorted((m, p) for p, item in spec["paths"].items() for m in item if m in verbs)


def settle(browser: RecordingBrowser, s: float = 1.0) -> None:
    """Let late requests and console messages arrive (any cdp call drains the events before it)."""
    end = time.monotonic() + s
    while time.monotonic() < end:
        browser.js("1")
        time.sleep(0.1)


def problems(browser: RecordingBrowser) -> tuple[list[str], list[str]]:
    """(URLs requested off loopback, console errors / exceptions / error log entries)."""
    off, errors = [], []
    for e in browser.events:
        p = e["params"]
        if e["method"] == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1":
                off.append(url)
        elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            errors.append(json.dumps(p["args"])[:300])
        elif e["method"] == "Runtime.exceptionThrown":
            errors.append(json.dumps(p["exceptionDetails"])[:300])
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append(p["entry"]["text"][:300])
    return off, errors


def test_swagger_ui_and_redoc_render_every_operation_offline(
    topology: Topology, browser: RecordingBrowser
) -> None:
    base = topology.url
    wanted = operations(base)
    assert len(wanted) > 20  # the whole API, not a stub page

    page = httpx.get(f"{base}/docs", timeout=30)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "http" not in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], csp
    assert "'sha256-" in csp  # the page's own bootstrap script, by its hash

    browser.cdp("Page.navigate", url=f"{base}/docs")
    shown = browser.wait(
        f"document.querySelectorAll('.opblock').length >= {len(wanted)} && "
        "document.querySelectorAll('.opblock').length",
        timeout=60,
    )
    settle(browser)
    # each operation once, with its method and path as the spec has them
    listed = browser.js(
        "[...document.querySelectorAll('.opblock')].map(b => ["
        "b.querySelector('.opblock-summary-method').textContent.trim().toLowerCase(),"
        "b.querySelector('.opblock-summary-path').getAttribute('data-path')])"
    )
    assert shown == len(wanted)
    assert sorted(tuple(x) for x in listed) == wanted
    assert browser.js("document.styleSheets.length") >= 1 and browser.js(
        "getComputedStyle(document.querySelector('.opblock')).borderStyle"
    ) not in ("", "none")  # swagger-ui.css applied (an unstyled list has no block borders)
    off, errors = problems(browser)
    assert off == [], off
    assert errors == [], errors
    requested = {urlsplit(e["params"]["request"]["url"]).path for e in browser.events
                 if e["method"] == "Network.requestWillBeSent"}  # fmt: skip
    assert {"/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css", "/openapi.json"} <= requested

    browser.events.clear()
    browser.cdp("Page.navigate", url=f"{base}/redoc")
    operation_ids = browser.wait(
        "document.querySelectorAll('[data-section-id^=\"operation/\"]').length",
        timeout=60,
    )
    settle(browser, 2.0)
    assert operation_ids == len(wanted)
    off, errors = problems(browser)
    assert off == [], off
    assert errors == [], errors
