"""The metrics observer: what the bus and the bars tell it becomes the Prometheus series, checked against
hand-computed values in the text format it writes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from botnft.domain.events import FundingApplied, OrderAccepted, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Side
from botnft.domain.positions import Position
from botnft.engine.bus import EventBus
from botnft.obs.metrics import Metrics, MetricsObserver

PERP = InstrumentId("SOL-PERP", "DRIFT")


def samples(m: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for fam in text_string_to_metric_families(m.text().decode()):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(m: Metrics, name: str, **labels: str) -> float:
    return samples(m)[(name, frozenset(labels.items()))]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def observed() -> tuple[Metrics, MetricsObserver, EventBus, Clock]:
    m, clock, bus = Metrics(), Clock(), EventBus()
    obs = MetricsObserver(m, "r1", wall=clock)
    obs.attach(bus)
    return m, obs, bus, clock


def order(coid: str, ts_ns: int) -> SimpleNamespace:
    return SimpleNamespace(client_order_id=coid, ts_ns=ts_ns, instrument=PERP)


def test_a_fill_counts_its_venue_fee_and_slippage_against_the_decision_price() -> None:
    m, obs, bus, _ = observed()
    obs.on_submit(order("c1", 1_000))
    bus.publish(OrderAccepted(3_000, "c1", "v1"))
    fill = OrderFilled(2_001_000, "c1", PERP, Side.BUY, Decimal(2), Decimal("101"), Decimal("0.5"), "USDC",
                       reference_price=Decimal(100))  # fmt: skip
    bus.publish(fill)
    bus.drain()
    assert value(m, "bot_fills_total", run="r1", venue="DRIFT") == 1
    assert value(m, "bot_fees_total", run="r1", venue="DRIFT") == 0.5
    assert value(m, "bot_orders_total", run="r1", venue="DRIFT", status="submitted") == 1
    assert value(m, "bot_orders_total", run="r1", venue="DRIFT", status="accepted") == 1
    # bought 1 % above the decision price: +100 bps (no _sum: the buckets go below zero)
    assert value(m, "bot_slippage_bps_count", run="r1", venue="DRIFT") == 1
    assert value(m, "bot_slippage_bps_bucket", run="r1", venue="DRIFT", le="50.0") == 0
    assert value(m, "bot_slippage_bps_bucket", run="r1", venue="DRIFT", le="100.0") == 1
    # submit -> ack 2 µs, submit -> fill 2 ms of run time
    assert value(m, "bot_order_round_trip_seconds_sum", run="r1", venue="DRIFT", leg="ack") == 2e-6
    assert value(m, "bot_order_round_trip_seconds_sum", run="r1", venue="DRIFT", leg="fill") == 0.002


def test_tick_to_order_is_the_wall_time_from_the_bar_to_the_submission() -> None:
    m, obs, _, clock = observed()
    clock.t = 10.0
    obs.bar_start()
    clock.t = 10.00003
    obs.on_submit(order("c1", 0))
    obs.on_submit(order("c2", 0))  # a second order of the same bar: measured from the same bar
    obs.bar_t0 = None
    obs.on_submit(order("c3", 0))  # outside a bar (a resend): not a tick-to-order sample
    assert value(m, "bot_tick_to_order_seconds_count", run="r1") == 2
    assert abs(value(m, "bot_tick_to_order_seconds_sum", run="r1") - 6e-5) < 1e-12
    assert value(m, "bot_tick_to_order_seconds_bucket", run="r1", le="2e-05") == 0
    assert value(m, "bot_tick_to_order_seconds_bucket", run="r1", le="5e-05") == 2


def test_risk_denials_count_by_reason_and_venue_rejections_as_errors() -> None:
    m, obs, bus, _ = observed()
    obs.risk_events = False  # a build whose risk engine publishes no denial events of its own
    bus.publish(OrderRejected(1, "c1", PERP, "risk_denied", "position limit exceeded: 12 > 10"))
    bus.publish(OrderRejected(2, "c2", PERP, "insufficient_margin", "not enough collateral"))
    bus.drain()
    assert value(m, "bot_risk_denials_total", run="r1", reason="position_limit_exceeded") == 1
    assert value(m, "bot_venue_errors_total", run="r1", venue="DRIFT", kind="insufficient_margin") == 1
    assert value(m, "bot_orders_total", run="r1", venue="DRIFT", status="rejected") == 2


def test_funding_paid_adds_up_and_earned_funding_takes_away() -> None:
    m, _, bus, _ = observed()
    bus.publish(FundingApplied(1, PERP, Decimal(1), Decimal("0.001"), Decimal(100), Decimal("0.1")))
    bus.publish(FundingApplied(2, PERP, Decimal(1), Decimal("-0.003"), Decimal(100), Decimal("-0.3")))
    bus.drain()
    assert abs(value(m, "bot_funding_paid", run="r1") - (-0.2)) < 1e-12


def portfolio(qty: str, entry: str, cash: str, mmr: str) -> SimpleNamespace:
    pos = Position(PERP)
    pos.qty, pos.avg_entry, pos.realized_pnl = Decimal(qty), Decimal(entry), Decimal(7)

    def equity(prices: dict[InstrumentId, Decimal]) -> Decimal:
        return Decimal(cash) + pos.unrealized_pnl(prices[PERP])

    inst = SimpleNamespace(maintenance_margin=Decimal(mmr))
    return SimpleNamespace(
        positions={PERP: pos}, equity=equity, account=lambda venue: venue, instruments={PERP: inst}
    )


def test_equity_drawdown_pnl_position_and_margin_come_from_the_portfolio_at_the_bar_price() -> None:
    m, obs, _, _ = observed()
    pf = portfolio(qty="-10", entry="100", cash="1000", mmr="0.03")
    obs.mark(pf, {PERP: Decimal(90)})  # short 10 from 100, now 90: +100 unrealized, equity 1100
    obs.mark(pf, {PERP: Decimal(110)})  # now -100: equity 900, peak 1100
    assert value(m, "bot_equity", run="r1") == 900
    assert value(m, "bot_equity_peak", run="r1") == 1100
    assert abs(value(m, "bot_drawdown_ratio", run="r1") - 200 / 1100) < 1e-12
    assert value(m, "bot_pnl_unrealized", run="r1") == -100
    assert value(m, "bot_pnl_realized", run="r1") == 7
    assert value(m, "bot_position", run="r1", instrument="SOL-PERP.DRIFT", venue="DRIFT") == -10
    assert value(m, "bot_notional", run="r1", instrument="SOL-PERP.DRIFT", venue="DRIFT") == 1100
    # no venue with a margin model given: nothing is estimated, the account shows the cap
    assert value(m, "bot_margin_ratio", run="r1", account="DRIFT") == 100
    assert value(m, "bot_liquidation_distance", run="r1", account="DRIFT") == 100


def test_the_text_file_holds_what_the_endpoint_serves(tmp_path: Path) -> None:
    m, obs, _, _ = observed()
    obs.bar_done(SimpleNamespace(portfolio=portfolio("0", "0", "500", "0")), {PERP: Decimal(1)})
    path = tmp_path / "metrics.prom"
    m.write(path)
    text = path.read_text()
    assert 'bot_equity{run="r1"} 500.0' in text
    assert 'bot_bars_total{run="r1"} 1.0' in text
    assert "_created" not in text


def test_a_quantile_is_read_from_the_histogram_as_prometheus_interpolates_it() -> None:
    m, obs, _, clock = observed()
    for wait in (3e-6, 3e-6, 3e-6, 4e-6, 15e-6):  # 4 in (2, 5] µs, 1 in (10, 20] µs
        obs.bar_start()
        clock.t += wait
        obs.on_submit(order("c", 0))
    # p50: rank 2.5 of 4 in the (2, 5] µs bucket -> 2 + 3 * 2.5 / 4 = 3.875 µs
    assert m.quantile("bot_tick_to_order_seconds", 0.5, run="r1") == pytest.approx(3.875e-6)
    # p99: rank 4.95, the fifth in (10, 20] µs -> 10 + 10 * 0.95 = 19.5 µs
    assert m.quantile("bot_tick_to_order_seconds", 0.99, run="r1") == pytest.approx(19.5e-6)


def test_the_risk_engines_own_events_set_the_state_and_count_denials_once() -> None:
    m, obs, bus, _ = observed()
    obs.risk_events = True
    obs.on_risk(SimpleNamespace(ts_ns=1, state="REDUCING", reason="drawdown 12%"))
    obs.on_risk(SimpleNamespace(ts_ns=2, client_order_id="c1", reason="max_leverage", message="leverage 3.2"))
    bus.publish(OrderRejected(2, "c1", PERP, "risk_denied", "leverage 3.2 > 3"))  # the same denial
    bus.drain()
    obs.on_risk(SimpleNamespace(ts_ns=3, before="10", after="5", price="100"))
    assert value(m, "bot_risk_state", run="r1", state="REDUCING") == 1
    assert value(m, "bot_risk_state", run="r1", state="ACTIVE") == 0
    assert value(m, "bot_risk_denials_total", run="r1", reason="max_leverage") == 1
    assert sum(v for (name, _), v in samples(m).items() if name == "bot_risk_denials_total") == 1
    assert value(m, "bot_risk_delever_total", run="r1") == 1
