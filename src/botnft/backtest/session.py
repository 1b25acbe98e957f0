"""A built backtest: the spec, its data, the node and portfolio, and what the simulation driver steps.
`bootstrap` builds it; the runner, persistence and the CLI read it (the backtest never imports bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from botnft.backtest.spec import BacktestSpec
from botnft.data.bars import MarketData
from botnft.domain.instruments import Instrument
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.node import TradingNode
from botnft.ports import SimulatedVenue


@dataclass(slots=True)
class BacktestSession:
    spec: BacktestSpec
    data: MarketData
    venue_kind: str
    instrument: Instrument
    node: TradingNode
    portfolio: Portfolio
    fee_bps: Decimal | None  # the flat taker fee the candle venues charge; None: each venue's own
    #: what the backtest's simulation driver steps: the node's clock and the simulated venues
    clock: SimClock
    venues: dict[str, SimulatedVenue]
    #: the venue builders used (sim, perp, drift, cex, raydium, ...): what the summary says was applied
    venue_names: tuple[str, ...] = ()
