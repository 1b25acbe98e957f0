"""The web console at `/`: one static page (HTML, a script and a style sheet served from this package; no
CDN, nothing fetched from elsewhere) that runs on the API itself with the caller's access token: log in
(password flow), runs with their equity chart (SVG) and report, nodes with positions, open orders and
risk state, the node's live events (WebSocket), and the kill switch behind a confirmation.

The page keeps the access token in memory only (a reload asks to log in again), sends its calls one at a
time and waits out a 429's Retry-After; the static files are outside the rate limit
(`botnft.api.middleware.EXEMPT_PREFIXES`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from botnft.api.problems import ProblemError

STATIC = Path(__file__).resolve().parent / "static"
FILES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
"""The only files served under /console/static/ (no path from the request reaches the file system)."""

CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def console() -> HTMLResponse:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Content-Security-Policy": CONSOLE_CSP, "Cache-Control": "no-store"})


@router.get("/console/static/{name}")
async def static_file(name: str) -> FileResponse:
    media_type = FILES.get(name)
    if media_type is None:
        raise ProblemError(404, "no such file")
    return FileResponse(
        STATIC / name,
        media_type=media_type,
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CONSOLE_CSP},
    )
