"""What `bot route` is asked, validated without the router's heavy imports: side, amount, assets, horizon.
`route_quote.quote_route` runs the same checks, so a library caller gets the same one-line errors."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from botnft.domain.errors import UserError

#: more than SOL's total supply (about 600 million) and 10,000 times the bundled venues' spot depth
MAX_AMOUNT = Decimal(1_000_000_000)
MAX_HORIZON_S = 365 * 86_400
BASE = "SOL"
QUOTES = ("USDC", "USDT")

_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_HORIZON = re.compile(r"(\d+(?:\.\d+)?|\.\d+)([smhdw])")
HORIZON_FORMS = "90m, 24h, 1.5d, 1w or 3600s (a positive number, then s, m, h, d or w; at most 365d)"


def parse_horizon(text: str) -> float:
    """'90m', '24h', '1.5d', '1w', '3600s' → seconds; anything else, zero or over 365 days: UserError."""
    m = _HORIZON.fullmatch(text.strip().lower())
    seconds = Decimal(m[1]) * _UNITS[m[2]] if m else Decimal(0)
    if not 0 < seconds <= MAX_HORIZON_S:
        raise UserError(f"--horizon must look like {HORIZON_FORMS}, got {text!r}")
    return float(seconds)


def check_request(side: str, amount: Decimal, base: str, quote: str, horizon_s: float) -> None:
    """Refuse, in one line, a request no venue data could answer (the lot checks need the venues)."""
    if side not in ("buy", "sell"):
        raise UserError(f"--side must be buy or sell, got {side!r}")
    if not amount.is_finite() or amount <= 0:
        raise UserError(f"--amount must be a positive number of {base.upper()}, got {amount}")
    if base.upper() != BASE:
        raise UserError(f"the bundled venues trade SOL; no simulated market for {base.upper()}")
    if quote.upper() not in QUOTES:
        raise UserError(f"--quote must be USDC or USDT (valued at par), got {quote!r}")
    if amount > MAX_AMOUNT:
        raise UserError(f"--amount {amount} SOL is more than SOL's total supply (at most {MAX_AMOUNT:,} SOL)")
    if not (math.isfinite(horizon_s) and 0 < horizon_s <= MAX_HORIZON_S):
        raise UserError(f"--horizon must look like {HORIZON_FORMS}, got {horizon_s!r} s")
