"""Errors as RFC 9457 problem details (`application/problem+json`): every error the API answers, ours,
FastAPI's validation errors and Starlette's HTTP errors, has this one shape and never carries internals
(no exception text, no traceback, no SQL, no secret). `PROBLEM_RESPONSES` is what routes declare.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE_BASE = "https://botnft.dev/problems/"
MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("botnft.api")


class InvalidParam(BaseModel):
    """One input that failed validation: where (`body.amount`, `query.limit`) and why."""

    model_config = ConfigDict(extra="forbid")
    name: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details. `error` is the OAuth2 error code on the token endpoint (RFC 6749 §5.2)."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(default="about:blank", description="a URI naming the kind of problem")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = None
    error: str | None = None
    invalid_params: list[InvalidParam] | None = Field(default=None, alias="invalid-params")


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem. `kind` becomes the type URI's last part."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        kind: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        error: str | None = None,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers or {}
        self.error = error


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    error: str | None = None,
    invalid_params: list[InvalidParam] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"{PROBLEM_TYPE_BASE}{kind}" if kind else "about:blank",
        title=title or _phrase(status),
        status=status,
        detail=detail,
        instance=instance,
        error=error,
        **({"invalid-params": invalid_params} if invalid_params else {}),
    )
    return JSONResponse(
        body.model_dump(by_alias=True, exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=MEDIA_TYPE,
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        kind=exc.kind,
        title=exc.title,
        instance=request.url.path,
        headers=exc.headers,
        error=exc.error,
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad input and why, never echoing the value (it may be a password)."""
    assert isinstance(exc, RequestValidationError)
    params = [
        InvalidParam(name=_where(e.get("loc", ())), reason=str(e.get("msg", "invalid"))) for e in exc.errors()
    ]
    malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
    return problem_response(
        422,
        "the request body is not valid JSON" if malformed else "the request has invalid or missing fields",
        kind="malformed-json" if malformed else "validation",
        instance=request.url.path,
        invalid_params=params[:50],
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != _phrase(exc.status_code) else None
    return problem_response(
        exc.status_code, detail, instance=request.url.path, headers=dict(exc.headers or {})
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged here with its traceback (server side), answered as a bare 500."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "an internal error occurred", instance=request.url.path)


def install(app: FastAPI) -> None:
    """Make every error of `app` a problem."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)


def _doc(description: str) -> dict[str, Any]:
    """A problem response for the OpenAPI document: the Problem schema under application/problem+json
    (`model` registers the schema; FastAPI also lists it under application/json)."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"model": Problem, "description": description, "content": {MEDIA_TYPE: {"schema": schema}}}


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("Bad request"),
    401: _doc("Missing, invalid or expired access token"),
    403: _doc("The token lacks a scope this route needs"),
    413: _doc("Request body too large"),
    422: _doc("Invalid input"),
    429: _doc("Too many requests"),
}
"""`responses=` for a route (FastAPI merges it into the OpenAPI document). Pick with `problem_responses`."""


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` declaring the given problem statuses, e.g. `problem_responses(401, 403, 422, 429)`."""
    return {status: PROBLEM_RESPONSES.get(status, _doc(_phrase(status))) for status in statuses}


AUTHED_RESPONSES = problem_responses(401, 403, 422, 429)
"""What every authenticated route declares (401 no/bad token, 403 missing scope, 422 bad input, 429 limit)."""
