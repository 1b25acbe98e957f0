"""A run's statistics as one typed object (`RunStats`): the JSON summary, the stored run row and the printed
table each map from it. `summarize` builds it from a session whose node has run (backtest or paper alike)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from botnft.backtest.metrics import max_drawdown, per_venue, sharpe
from botnft.backtest.report import iso
from botnft.backtest.session import BacktestSession
from botnft.backtest.spec import FILL_MODEL_VENUES, FLAT_FEE_VENUES
from botnft.domain.events import OrderFilled
from botnft.domain.money import plain, to_decimal

EIGHT_PLACES = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class VenueRow:
    """What one venue traded: fills, notional volume, fees and funding (quote), and for routed runs the
    slippage against the arrival mid."""

    fills: int
    volume: Decimal
    fees: Decimal
    funding: Decimal
    slippage_bps: float | None = None
    #: where the venue's funding came from, in hourly updates per source (SimDrift: the Drift series or
    #: Drift's formula); None for venues that do not say
    funding_source: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True)
class ExecutionVenueRow:
    """A routed venue's execution totals: child fills, base quantity, notional, fees, shortfall (quote; > 0
    means paid away) and the same in bps of notional."""

    fills: int
    qty: Decimal
    notional: Decimal
    fees: Decimal
    slippage: Decimal
    slippage_bps: float


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """How a routed run executed: parent and child orders, re-routes, what was left unfilled, the cost (fees +
    slippage), per venue, and the learned impact model's fills and held-out error."""

    parents: int
    children: int
    reroutes: int
    unfilled: Decimal
    cost: Decimal
    per_venue: Mapping[str, ExecutionVenueRow]
    impact_model_fills: Mapping[str, int] | None = None
    impact_model_heldout: Mapping[str, float | int | None] | None = None


@dataclass(frozen=True, slots=True)
class RiskReport:
    """What the risk engine saw and did: liquidations, denials by reason, the highest leverage marked,
    stops, the final risk state; on a margined venue the guard's part (on or measuring only, de-levers,
    the smallest margin multiple and liquidation distance in ATRs, state changes) and the slippage of
    every fill against its decision price (quote)."""

    liquidations: int
    risk_denials: Mapping[str, int]
    max_leverage: float | None
    stops_triggered: int
    risk_state: str
    guard: str | None = None  # on | off (measuring only) | None (no margined venue)
    guard_actions: int = 0
    min_margin_multiple: float | None = None
    min_liquidation_distance_atr: float | None = None
    risk_states: tuple[tuple[str, str], ...] = ()
    slippage_cost: Decimal = Decimal(0)
    #: per UTC day with a position on the margined account: [day, min margin multiple, min liq. distance ATRs]
    margin_by_day: tuple[tuple[str, float | None, float | None], ...] = ()
    #: the exits by kind (stop, take_profit, time_stop, ...); their sum is stops_triggered
    stops_by_kind: tuple[tuple[str, int], ...] = ()
    #: collateral the guard moved in from a reserve sub-account instead of de-levering (quote), and how often
    collateral_moved: Decimal = Decimal(0)
    transfers: int = 0
    #: trigger orders the guard rested on the venue, and how many times it moved a trailing one there
    venue_stops_placed: int = 0
    venue_stops_moved: int = 0


@dataclass(frozen=True, slots=True)
class RunStats:
    """Everything a finished run reports. Money is Decimal; ratios are floats. `fee_bps` and `fill` are what
    was applied (None: every venue its own); `venues`, `route` and `execution` only for routed runs."""

    strategy: str
    params: Mapping[str, str]
    data: str
    venue: str
    instrument: str
    fill: str | None
    fee_bps: Decimal | None
    venue_names: tuple[str, ...]
    seed: int
    start: str
    end: str
    bars: int
    signals: int
    orders: int
    fills: int
    rejections: int
    round_trips: int
    initial_cash: Decimal
    final_equity: Decimal
    total_return: float
    max_drawdown: float
    sharpe: float | None
    fees_paid: Decimal
    funding_paid: Decimal
    final_position: Decimal
    per_venue: Mapping[str, VenueRow]
    elapsed_s: float
    bars_per_s: int | None
    venues: tuple[str, ...] | None = None
    route: str | None = None
    execution: ExecutionReport | None = None
    risk: RiskReport | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # what a mode adds (paper: run id, recovery)

    def to_json(self) -> dict[str, Any]:
        """The JSON summary: the field names, Decimals as exact plain text ('0', never '0E-9'), and the
        optional parts only where they apply."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if name == "extra":
                out.update(_json(value))
            elif name == "per_venue":
                out[name] = {v: _row(r) for v, r in value.items()}
            elif name == "execution":
                if value is not None:
                    out[name] = _execution(value)
            elif name == "risk":
                if value is not None:
                    out.update(_json(_slots(value)))
            elif name in ("venues", "route") and value is None:
                continue
            else:
                out[name] = _json(value)
        return out


def _row(r: VenueRow) -> dict[str, Any]:
    row: dict[str, Any] = {
        "fills": r.fills, "volume": plain(r.volume), "fees": plain(r.fees), "funding": plain(r.funding),
    }  # fmt: skip
    if r.slippage_bps is not None:
        row["slippage_bps"] = r.slippage_bps
    if r.funding_source is not None:
        row["funding_source"] = dict(r.funding_source)
    return row


def _execution(e: ExecutionReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "parents": e.parents,
        "children": e.children,
        "reroutes": e.reroutes,
        "unfilled": plain(e.unfilled),
        "cost": plain(e.cost),
        "per_venue": {v: _json(_slots(r)) for v, r in e.per_venue.items()},
    }
    if e.impact_model_fills is not None:
        out["impact_model_fills"] = dict(e.impact_model_fills)
    if e.impact_model_heldout is not None:
        out["impact_model_heldout"] = dict(e.impact_model_heldout)
    return out


def _slots(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__slots__}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, Mapping):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def summarize(
    session: BacktestSession, ts: NDArray[np.int64], equity: NDArray[np.float64], elapsed: float
) -> RunStats:
    """The statistics of a session whose node has run over its bars: `ts`/`equity` the marked equity curve."""
    node, spec, pf, bars = session.node, session.spec, session.portfolio, session.data.bars
    rec = node.record
    final_equity = pf.equity({i: to_decimal(float(bars.close[-1])) for i in pf.positions})
    funding_by_venue: dict[str, Decimal] = {}
    for f in rec.funding:
        venue = f.instrument.venue
        funding_by_venue[venue] = funding_by_venue.get(venue, Decimal(0)) + f.payment
    executor = node.executor
    execution = None if executor is None else _execution_report(executor)
    slippage = {} if execution is None else {v: r.slippage_bps for v, r in execution.per_venue.items()}
    rows = per_venue(rec.fills, funding_by_venue, rec.rejections)
    for v in slippage:
        rows.setdefault(v, {"fills": 0, "volume": Decimal(0), "fees": Decimal(0), "funding": Decimal(0)})
    sources = _funding_sources(session)
    for v in sources:
        rows.setdefault(v, {"fills": 0, "volume": Decimal(0), "fees": Decimal(0), "funding": Decimal(0)})
    names = set(session.venue_names)
    return RunStats(
        strategy=spec.strategy,
        params=dict(spec.params),
        data=session.data.name,
        venue=session.venue_kind,
        instrument=str(session.instrument.id),
        fill=spec.fill if names & set(FILL_MODEL_VENUES) else None,
        fee_bps=session.fee_bps if names & set(FLAT_FEE_VENUES) else None,
        venue_names=tuple(session.venue_names),
        seed=spec.seed,
        start=iso(int(ts[0])),
        end=iso(int(ts[-1])),
        bars=int(rec.bars),
        signals=rec.signals,
        orders=len(node.oms.orders()),
        fills=len(rec.fills),
        rejections=len(rec.rejections) + len(rec.cancels),
        round_trips=pf.round_trips() if executor is None else rec.exposure_round_trips,
        initial_cash=spec.cash,
        final_equity=final_equity.quantize(EIGHT_PLACES),
        total_return=float(final_equity / spec.cash - 1),
        max_drawdown=max_drawdown(equity),
        sharpe=sharpe(equity, bars.interval_ns),
        fees_paid=pf.fees_paid,
        funding_paid=pf.funding_paid,
        final_position=pf.exposure_in(session.instrument.base),
        per_venue={
            v: VenueRow(**row, slippage_bps=slippage.get(v), funding_source=sources.get(v))
            for v, row in rows.items()
        },
        elapsed_s=round(elapsed, 4),
        bars_per_s=round(rec.bars / elapsed) if elapsed > 0 else None,
        venues=tuple(spec.venues) if executor is not None else None,
        route=spec.route_mode if executor is not None else None,
        execution=execution,
        risk=risk_report(node, rec.fills, rec.arrivals),
        extra={} if getattr(node, "carry", None) is None else {"funding_carry": node.carry.summary()},
    )


def _finite(x: float) -> float | None:
    return None if math.isinf(x) else round(x, 4)


def risk_report(node: Any, fills: Sequence[OrderFilled], arrivals: Mapping[str, Decimal]) -> RiskReport:
    """The run's risk figures from the node's record, its gate and its guard (if one was attached)."""
    slip = Decimal(0)
    for f in fills:
        arrival = arrivals.get(f.client_order_id)
        if arrival is not None:
            slip += (f.price - arrival) * f.qty if f.side.value == "buy" else (arrival - f.price) * f.qty
    guard = getattr(node, "guard", None)
    g = None if guard is None else guard.record
    reserve = None if guard is None else guard.reserve
    stops = None if guard is None else guard.venue_stops
    return RiskReport(
        liquidations=len(node.record.liquidations),
        risk_denials=dict(sorted(node.risk.reasons.items())),
        max_leverage=None if g is None else round(g.max_leverage, 4),
        stops_triggered=0 if g is None else g.stops_triggered,
        stops_by_kind=() if g is None else tuple(sorted(g.stops_by_kind.items())),
        risk_state="ACTIVE" if guard is None else guard.state.name,
        guard=None if guard is None else ("on" if guard.enabled else "off"),
        guard_actions=0 if g is None else g.actions,
        min_margin_multiple=None if g is None else _finite(g.min_margin_multiple),
        min_liquidation_distance_atr=None if g is None else _finite(g.min_liq_distance_atr),
        risk_states=() if g is None else tuple((iso(t), st) for t, st in g.states),
        slippage_cost=slip.quantize(EIGHT_PLACES),
        margin_by_day=()
        if g is None
        else tuple(
            (iso(d * 86_400 * 10**9)[:10], _round(mult), _round(dist))
            for d, (mult, dist) in sorted(g.daily.items())
        ),
        collateral_moved=Decimal(0) if reserve is None else reserve.moved,
        transfers=0 if reserve is None else reserve.transfers,
        venue_stops_placed=0 if stops is None else stops.placed,
        venue_stops_moved=0 if stops is None else stops.moved,
    )


def _round(x: float) -> float | None:
    return None if not math.isfinite(x) else round(x, 4)


def _funding_sources(session: BacktestSession) -> dict[str, dict[str, int]]:
    """Per venue, hourly funding updates by source, from venues that report it (`funding_sources()`)."""
    out: dict[str, dict[str, int]] = {}
    for name, venue in session.venues.items():
        report = getattr(venue, "funding_sources", None)
        if callable(report):
            merged: dict[str, int] = {}
            for per_market in report().values():
                for source, n in per_market.items():
                    merged[source] = merged.get(source, 0) + n
            out[name] = merged
    return out


def _execution_report(executor: Any) -> ExecutionReport:
    st = executor.stats
    model = executor.impact_model
    heldout = None
    if model is not None:
        heldout = {
            k: ((round(v, 4) if math.isfinite(v) else None) if isinstance(v, float) else v)
            for k, v in st.impact_errors().items()
        }
    return ExecutionReport(
        parents=st.parents,
        children=st.children,
        reroutes=st.reroutes,
        unfilled=st.unfilled,
        cost=st.total_cost().quantize(EIGHT_PLACES),
        per_venue={v: ExecutionVenueRow(**row.as_dict()) for v, row in sorted(st.per_venue.items())},
        impact_model_fills=None if model is None else {v: model.n_fills(v) for v in model.venues()},
        impact_model_heldout=heldout,
    )
