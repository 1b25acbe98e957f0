"""Prometheus metrics of a run, fed from the node's bus by `MetricsObserver`; served on /metrics (paper, live)
or written once in the Prometheus text format (backtests, CI)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)

from botnft.domain.events import (
    FundingApplied,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitRefused,
    PositionLiquidated,
)

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: they only double the scrape

#: tick-to-order: 2 µs .. 50 ms; round trips: 50 µs .. 60 s (simulated venues answer on bar time)
TICK_BUCKETS = (2e-6, 5e-6, 1e-5, 2e-5, 3e-5, 5e-5, 7.5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 5e-2)
TRIP_BUCKETS = (5e-5, 1e-3, 1e-2, 0.1, 1.0, 5.0, 30.0, 60.0, 300.0, 3600.0)
MAX_TRACKED = 100_000  # orders whose submission time is kept for their round trip
#: margin ratio and liquidation distance where there is none (flat, or an account that cannot be liquidated)
CAP = 100.0
SLIP_BUCKETS = (-50.0, -10.0, -5.0, -1.0, 0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0)


class Metrics:
    """Every series of a run, in its own registry (several runs in one process never collide)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        gauge, counter = partial(Gauge, registry=r), partial(Counter, registry=r)
        self.equity = gauge("bot_equity", "Account equity in the quote asset", ["run"])
        self.peak = gauge("bot_equity_peak", "Highest equity so far", ["run"])
        self.drawdown = Gauge(
            "bot_drawdown_ratio", "Drawdown from the equity peak (0..1)", ["run"], registry=r
        )
        self.realized = gauge("bot_pnl_realized", "Realized PnL (quote)", ["run"])
        self.unrealized = gauge("bot_pnl_unrealized", "Unrealized PnL (quote)", ["run"])
        lab = ["run", "instrument", "venue"]
        self.position = Gauge(
            "bot_position", "Position per instrument and venue (base units)", lab, registry=r
        )
        self.notional = gauge("bot_notional", "Gross notional per instrument and venue", lab)
        acc = ["run", "account"]
        self.margin_ratio = Gauge(
            "bot_margin_ratio",
            "Total collateral over the maintenance margin requirement, as the venue's margin model computes "
            f"them (below 1: liquidatable; {CAP:g}, the cap, when nothing is required or no margin model)",
            acc, registry=r,
        )  # fmt: skip
        self.liq_distance = Gauge(
            "bot_liquidation_distance",
            "Relative oracle move to the nearest liquidation price the venue computes for the account's "
            f"positions (capped at {CAP:g}: none, or no margin model)",
            acc, registry=r,
        )  # fmt: skip
        self.orders = counter("bot_orders", "Order events by status", ["run", "venue", "status"])
        self.fills = counter("bot_fills", "Fills", ["run", "venue"])
        self.fees = counter("bot_fees", "Fees paid (quote)", ["run", "venue"])
        self.funding = gauge("bot_funding_paid", "Funding paid (+) or earned (-), quote", ["run"])
        self.slippage = Histogram(
            "bot_slippage_bps", "Fill price against the decision price (bps, + costs us)", ["run", "venue"],
            buckets=SLIP_BUCKETS, registry=r,
        )  # fmt: skip
        self.round_trip = Histogram(
            "bot_order_round_trip_seconds", "Submit to ack / fill (run time)", ["run", "venue", "leg"],
            buckets=TRIP_BUCKETS, registry=r,
        )  # fmt: skip
        self.tick_to_order = Histogram(
            "bot_tick_to_order_seconds",
            "Bar handed to the run until its order, journaled, is handed to the venue (wall time)",
            ["run"], buckets=TICK_BUCKETS, registry=r,
        )  # fmt: skip
        self.venue_errors = Counter(
            "bot_venue_errors", "Venue errors by kind", ["run", "venue", "kind"], registry=r
        )
        self.reconcile = Counter(
            "bot_reconciliation_events", "Reconciliation actions", ["run", "kind"], registry=r
        )
        self.denials = Counter(
            "bot_risk_denials", "Orders our risk gate refused", ["run", "reason"], registry=r
        )
        self.risk_state = gauge("bot_risk_state", "1 for the risk engine's current state", ["run", "state"])
        self.delever = counter("bot_risk_delever", "Reduce-only orders the liquidation guard sent", ["run"])
        self.halted = Gauge(
            "bot_risk_halted", "1 while new risk is halted on an instrument", ["run"], registry=r
        )
        self.liquidations = counter("bot_liquidations", "Positions liquidated", ["run"])
        self.bars = counter("bot_bars", "Bars processed", ["run"])
        self.bars_per_s = gauge("bot_bars_per_second", "Bars processed per second", ["run"])
        self.last_bar = Gauge(
            "bot_last_bar_timestamp_seconds", "Wall time of the last bar", ["run"], registry=r
        )
        self.journal_lag = Gauge(
            "bot_journal_lag_entries", "Journal entries not yet written to the database", ["run"], registry=r
        )

    def quantile(self, name: str, q: float, **labels: str) -> float | None:
        """`q` of histogram `name` as Prometheus' histogram_quantile computes it (linear in a bucket)."""
        buckets: list[tuple[float, float]] = []
        for fam in self.registry.collect():
            for s in fam.samples:
                if s.name == f"{name}_bucket" and all(s.labels.get(k) == v for k, v in labels.items()):
                    buckets.append((float(s.labels["le"]), s.value))
        buckets.sort()
        if not buckets or buckets[-1][1] == 0:
            return None
        rank = q * buckets[-1][1]
        lo_bound, lo_count = 0.0, 0.0
        for bound, count in buckets:
            if count >= rank:
                if bound == float("inf"):
                    return lo_bound
                return lo_bound + (bound - lo_bound) * (rank - lo_count) / max(count - lo_count, 1e-300)
            lo_bound, lo_count = bound, count
        return None

    def text(self) -> bytes:
        return generate_latest(self.registry)

    def write(self, path: Path) -> None:
        """The current values in the Prometheus text format (what /metrics would serve)."""
        path.write_bytes(self.text())

    def serve(self, port: int, host: str = "127.0.0.1") -> Any:
        """Serve /metrics on `host:port` from a daemon thread; returns the server (call .shutdown())."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server


class MetricsObserver:
    """Subscribes to the bus's order, fill and account events; `bar_start`/`bar_done` bracket each bar so the
    tick-to-order latency is the wall time from a bar being handed to the run to its order being handed to
    the venue (`on_submit`, after the journal has committed the order's intent)."""

    def __init__(self, metrics: Metrics, run_id: str, wall: Any = time.perf_counter) -> None:
        self.m = metrics
        self.run = run_id
        self.wall = wall
        self.bar_t0: float | None = None
        self.submitted: dict[str, tuple[int, str]] = {}  # client order id -> (ts_ns, venue)
        self._peak = 0.0
        self._t_start = time.monotonic()
        self._bars = 0
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._margins: dict[str, tuple[float, float]] = {}  # account -> its venue's last margin figures
        self.risk_events = False
        m, r = metrics, run_id
        self._fills = m.fills.labels(r, "")  # warm the run's own children so every series exists
        self._tick = m.tick_to_order.labels(r)
        self._bar_counter = m.bars.labels(r)
        m.halted.labels(r).set(0)
        m.journal_lag.labels(r).set(0)
        m.funding.labels(r).set(0)
        m.liquidations.labels(r)
        for status in ("submitted", "accepted", "filled", "canceled", "rejected", "expired", "unknown"):
            m.orders.labels(r, "", status)

    def warm(self, venues: Any) -> None:
        """Create each venue's series at zero, so that dashboards show them before the first order."""
        for venue in venues:
            for status in ("submitted", "accepted", "filled", "canceled", "rejected"):
                self._child(self.m.orders, venue, status)
            self._child(self.m.fills, venue)
            self._child(self.m.fees, venue)
            self._child(self.m.slippage, venue)
            for leg in ("ack", "fill"):
                self._child(self.m.round_trip, venue, leg)

    def attach(self, bus: Any) -> None:
        """Subscribe to `bus` (the node's EventBus), and to the risk engine's events where it has them."""
        for kind in (OrderAccepted, OrderFilled, OrderCanceled, OrderRejected, OrderExpired,
                     OrderStatusUnknown, OrderSubmitRefused, FundingApplied, PositionLiquidated):  # fmt: skip
            bus.subscribe(kind, self.on_event)
        risk = _risk_events()
        if risk is not None:
            self.risk_events = True
            for risk_kind in risk:
                bus.subscribe(risk_kind, self.on_risk)
            self.on_risk(SimpleNamespace(state="ACTIVE"))

    def on_risk(self, e: Any) -> None:
        """The risk engine's events (botnft.risk.state): state changes, denials, the guard's deleveraging."""
        if hasattr(e, "state"):
            for name in ("ACTIVE", "REDUCING", "HALTED"):
                self._child(self.m.risk_state, name).set(1 if str(e.state).upper().endswith(name) else 0)
        elif hasattr(e, "client_order_id"):
            self._child(self.m.denials, _reason(e.reason or e.message)).inc()
        else:
            self._child(self.m.delever).inc()

    # bus events -------------------------------------------------------------------------------------------
    def on_event(self, e: Any) -> None:
        m = self.m
        kind = type(e)
        if kind is OrderFilled:
            venue = e.instrument.venue
            self._child(m.orders, venue, "filled").inc()
            self._child(m.fills, venue).inc()
            self._child(m.fees, venue).inc(float(e.fee))
            if e.reference_price:
                sign = 1 if e.side.value == "buy" else -1
                bps = float((e.price - e.reference_price) / e.reference_price) * 1e4 * sign
                self._child(m.slippage, venue).observe(bps)
            self._trip(e, "fill")
        elif kind is OrderAccepted:
            self._trip(e, "ack")
            self._child(m.orders, self._venue(e), "accepted").inc()
        elif kind is OrderRejected:
            self._child(m.orders, e.instrument.venue, "rejected").inc()
            if e.reason == "risk_denied":
                if not self.risk_events:  # else counted from the risk engine's own denial event
                    self._child(m.denials, _reason(e.message)).inc()
            else:
                self._child(m.venue_errors, e.instrument.venue, e.reason).inc()
        elif kind is OrderCanceled:
            self._child(m.orders, self._venue(e), "canceled").inc()
        elif kind is OrderExpired:
            self._child(m.orders, self._venue(e), "expired").inc()
        elif kind is OrderStatusUnknown:
            self._child(m.orders, self._venue(e), "unknown").inc()
            self._child(m.venue_errors, self._venue(e), "status_unknown").inc()
        elif kind is OrderSubmitRefused:
            self._child(m.venue_errors, self._venue(e), "refused").inc()
        elif kind is FundingApplied:
            self._child(m.funding).inc(float(e.payment))
        elif kind is PositionLiquidated:
            self._child(m.liquidations).inc()

    def on_submit(self, order: Any) -> None:
        """An order leaves the node for its venue (the node applies submissions without publishing them)."""
        if self.bar_t0 is not None:
            self._tick.observe(self.wall() - self.bar_t0)
        venue = order.instrument.venue
        self.submitted[order.client_order_id] = (order.ts_ns, venue)
        self._child(self.m.orders, venue, "submitted").inc()
        if len(self.submitted) > MAX_TRACKED:  # the oldest orders' round trips are no longer timed
            del self.submitted[next(iter(self.submitted))]

    def _venue(self, e: Any) -> str:
        got = self.submitted.get(e.client_order_id)
        return "" if got is None else got[1]

    def _trip(self, e: Any, leg: str) -> None:
        got = self.submitted.get(e.client_order_id)
        if got is not None:
            self._child(self.m.round_trip, got[1], leg).observe(max(e.ts_ns - got[0], 0) / 1e9)

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(run, *labels)`, cached (prometheus-client's own lookup costs microseconds)."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.run, *labels)
        return child

    # bars -------------------------------------------------------------------------------------------------
    def bar_start(self) -> None:
        self.bar_t0 = self.wall()

    def bar_done(
        self, node: Any, prices: Mapping[Any, Decimal], venues: Mapping[str, Any] | None = None
    ) -> None:
        """After a bar: equity, PnL and positions from the node's portfolio at `prices`, margin from the
        `venues`' own margin models."""
        self.bar_t0 = None
        self._bars += 1
        self._bar_counter.inc()
        m, _r = self.m, self.run
        elapsed = time.monotonic() - self._t_start
        if elapsed > 0:
            self._child(m.bars_per_s).set(self._bars / elapsed)
        self._child(m.last_bar).set(time.time())
        self.mark(node.portfolio, prices, venues)

    def mark(self, pf: Any, prices: Mapping[Any, Decimal], venues: Mapping[str, Any] | None = None) -> None:
        """Equity, drawdown, PnL and positions at `prices`; each account's margin ratio and liquidation
        distance from the margin model of its venue among `venues` that has one (`venue_margin`), else
        the cap (an account without a margin model, or flat, cannot be liquidated)."""
        m, _r = self.m, self.run
        equity = float(pf.equity(prices))
        self._peak = max(self._peak, equity)
        self._child(m.equity).set(equity)
        self._child(m.peak).set(self._peak)
        self._child(m.drawdown).set(1 - equity / self._peak if self._peak > 0 else 0.0)
        realized = unrealized = 0.0
        accounts: dict[str, tuple[float, float]] = {}
        for inst_id in pf.positions:
            accounts.setdefault(pf.account(inst_id.venue), (CAP, CAP))
        for name, venue in (venues or {}).items():
            if not has_margin_model(venue):
                continue
            account = pf.account(name)
            got = venue_margin(venue)
            if got is None:  # no valid oracle now: the account's last values stand
                got = self._margins.get(account, (CAP, CAP))
            self._margins[account] = got
            ratio, distance = accounts.get(account, (CAP, CAP))
            accounts[account] = (min(ratio, got[0]), min(distance, got[1]))
        for inst_id, pos in pf.positions.items():
            price = prices.get(inst_id)
            if price is None:
                continue
            realized += float(pos.realized_pnl)
            unrealized += float(pos.unrealized_pnl(price))
            notional = float(pos.notional(price))
            self._child(m.position, str(inst_id), inst_id.venue).set(float(pos.qty))
            self._child(m.notional, str(inst_id), inst_id.venue).set(notional)
        self._child(m.realized).set(realized)
        self._child(m.unrealized).set(unrealized)
        for account, (ratio, distance) in accounts.items() or {"all": (CAP, CAP)}.items():
            self._child(m.margin_ratio, account).set(ratio)
            self._child(m.liq_distance, account).set(distance)

    # the paper run's own state ------------------------------------------------------------------------------
    def on_reconcile(self, action: str) -> None:
        kind = "mismatch" if "disagree" in action or "halt" in action else action.split(" ", 1)[0].lower()
        self._child(self.m.reconcile, kind[:32]).inc()

    def state(self, halted: int, journal_lag: int) -> None:
        self._child(self.m.halted).set(halted)
        self._child(self.m.journal_lag).set(journal_lag)


def has_margin_model(venue: Any) -> bool:
    """Whether `venue` (or a paper venue's simulated venue, `raw`) computes its own margin (SimDrift)."""
    venue = getattr(venue, "raw", venue)
    return callable(getattr(venue, "margin", None)) and callable(getattr(venue, "liquidation_price", None))


def venue_margin(venue: Any) -> tuple[float, float] | None:
    """(margin ratio, liquidation distance) of `venue`'s account as its own margin model computes them
    (SimDrift's `margin("maintenance")` and `liquidation_price`, the distance taken from the oracle price
    that model reads), each capped at `CAP`; None while it has no valid oracle price. `venue` has a margin
    model (`has_margin_model`); a paper venue's simulated venue (`raw`) is asked."""
    venue = getattr(venue, "raw", venue)
    try:
        calc = venue.margin("maintenance")
    except RuntimeError:  # no oracle price yet
        return None
    required = calc.margin_requirement
    ratio = min(calc.total_collateral / required, CAP) if required > 0 else CAP
    distance = CAP
    core = getattr(venue, "core", None)
    if core is None:
        return ratio, distance
    for inst_id, qty in venue.fetch_positions().items():
        idx = core.index.get(inst_id)
        if qty == 0 or idx is None:
            continue
        liq = venue.liquidation_price(inst_id.symbol)
        quotes = core.quotes(core.now, {idx}, action="twap")
        if liq is None or quotes is None:
            continue
        oracle = Decimal(quotes[idx].oracle_price).scaleb(-6)
        distance = min(distance, float(abs(oracle - liq) / oracle))
    return ratio, distance


def _risk_events() -> tuple[type, ...] | None:
    """The risk engine's event types, if this build has them."""
    try:
        from botnft.risk import state
    except ImportError:
        return None
    kinds = tuple(getattr(state, n, None) for n in ("RiskStateChanged", "RiskDenial", "GuardDelever"))
    return tuple(k for k in kinds if isinstance(k, type)) or None


def _reason(message: str) -> str:
    """A denial's reason as a small label set: the message's words before any number or id."""
    words: list[str] = []
    for w in message.split():
        if any(c.isdigit() for c in w) or len(words) == 4:
            break
        words.append(w.strip(":,.").lower())
    return "_".join(words) or "denied"
