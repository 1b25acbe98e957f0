"""Route quotes (`POST /v1/route/quote`): what `bot route` prints, priced on the simulated venues built
from the bundled perp data. Read scope: a quote changes nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import anyio
from fastapi import APIRouter
from pydantic import Field

from botnft.api.auth import require_scopes
from botnft.api.problems import ProblemError
from botnft.api.routes.common import AUTHED, DecimalText, Strict
from botnft.domain.errors import UserError

router = APIRouter(prefix="/v1/route", tags=["route quotes"], dependencies=[require_scopes("read")])


class QuoteRequest(Strict):
    side: Literal["buy", "sell"]
    amount: DecimalText = Field(description="SOL, on the venues' lot grids")
    base: Literal["SOL"] = "SOL"
    quote: Literal["USDC", "USDT"] = "USDC"
    horizon: str = Field(default="24h", max_length=16, description="90m, 24h, 1.5d, 1w or 3600s")
    at: datetime | None = Field(default=None, description="quote at this time (UTC); default: the last bar")


class Quote(Strict):
    side: str
    amount: str
    base: str
    quote: str
    horizon_s: float
    exit_included: bool
    at: str
    reference_price: float
    venues: list[dict[str, Any]]
    split: dict[str, Any]
    vehicle: dict[str, Any] | None
    best_single_venue: str | None
    saving_vs_best_single_bps: float | None


def _quote(body: QuoteRequest) -> dict[str, Any]:
    from botnft.route_quote import quote_route
    from botnft.route_request import parse_horizon

    at = body.at
    if at is not None and at.tzinfo is None:
        raise UserError("at needs a time zone (e.g. 2026-01-01T00:00:00Z)")
    return quote_route(
        body.side, Decimal(body.amount), body.base, body.quote, parse_horizon(body.horizon), at
    )


@router.post("/quote", response_model=Quote, responses=AUTHED, summary="Price one trade on every venue")
async def route_quote(body: QuoteRequest) -> Quote:
    try:
        result = await anyio.to_thread.run_sync(_quote, body)
    except UserError as error:
        raise ProblemError(422, str(error).replace("--", ""), kind="invalid-quote") from None
    return Quote(**result)
