"""What the rest of the bot hands to storage and gets back: frozen records, no SQLAlchemy in sight.

Money is `Decimal` (at most 20 integer digits and 18 decimal places, see `columns`), times are aware UTC
datetimes. A record read back compares equal to the one saved, its money digit for digit; identity fields
the store fills in (`id`, `created_at`) are left out of that comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One executed trade. `side` is 'buy' or 'sell'; `fee` may be negative (a maker rebate)."""

    ts: datetime
    venue: str
    symbol: str
    base_asset: str
    quote_asset: str
    side: str
    amount: Decimal
    price: Decimal
    fee: Decimal
    strategy: str | None = None
    client_order_id: str | None = None
    tx_signature: str | None = None
    status: str = "executed"
    #: The mid when the decision was made: implementation shortfall = side × (price − arrival) × amount.
    arrival_price: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestRunRecord:
    """One backtest: what ran, its headline figures, and the full summary (JSON-compatible).

    `params` and `summary` are stored as JSON: Decimals and datetimes in them come back as strings, tuples
    as lists, and non-finite floats (NaN, inf) as None. A NaN `sharpe` is stored as NULL and reads back None.
    """

    strategy: str
    params: dict[str, Any]
    data_source: str
    venue: str
    seed: int
    bars: int
    fills: int
    round_trips: int
    initial_cash: Decimal
    final_equity: Decimal
    total_return: float
    max_drawdown: float
    sharpe: float | None = None
    start_ts: datetime | None = None
    end_ts: datetime | None = None
    fees_paid: Decimal = Decimal(0)
    funding_paid: Decimal = Decimal(0)
    summary: dict[str, Any] = field(default_factory=dict)
    id: int | None = field(default=None, compare=False)
    created_at: datetime | None = field(default=None, compare=False)
