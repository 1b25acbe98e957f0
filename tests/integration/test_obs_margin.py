"""The margin gauges of a paper run on SimDrift are the venue's own numbers: after every bar with a
position, `bot_margin_ratio` is the venue's total collateral over its maintenance margin requirement and
`bot_liquidation_distance` the relative distance from the venue's oracle price to the liquidation price
it computes (the cap where the venue requires no margin or computes no liquidation price)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from botnft.backtest.paper.run import PaperRun, PaperSettings
from botnft.backtest.paper.specjson import spec_to_json
from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.obs.metrics import CAP, Metrics, MetricsObserver
from botnft.storage import make_engine, upgrade
from botnft.storage.journal import PaperStore


def gauge(m: Metrics, name: str, **labels: str) -> float:
    for family in m.registry.collect():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    raise AssertionError(f"no {name} {labels}")


def test_the_margin_gauges_are_the_venues_own_margin_and_liquidation_price_on_every_bar(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    store = PaperStore(make_engine(url))
    spec = BacktestSpec(
        data="sol-perp-1h", venue="drift", start=datetime.fromisoformat("2024-03-01"),
        end=datetime.fromisoformat("2024-03-15"),
        params={"short": "true"},
    )  # fmt: skip
    session = build_backtest(spec)
    store.create_run("m1", spec_to_json(session.spec), 0)
    run = PaperRun(session, store, "m1", PaperSettings(snapshot_every=10**9), log=lambda _m: None)
    metrics = Metrics()
    run.attach(MetricsObserver(metrics, "m1"))
    ((name, paper_venue),) = run.side.adapters.items()
    account = run.node.portfolio.account(name)
    held: list[float] = []
    with_liq: list[float] = []
    flat = 0

    def check(_j: int) -> None:
        nonlocal flat
        drift = paper_venue.raw
        ratio = gauge(metrics, "bot_margin_ratio", run="m1", account=account)
        distance = gauge(metrics, "bot_liquidation_distance", run="m1", account=account)
        try:
            calc = drift.margin("maintenance")
        except RuntimeError:  # no valid oracle price yet
            assert ratio == CAP and distance == CAP
            return
        positions = {i: q for i, q in drift.fetch_positions().items() if q != 0}
        if calc.margin_requirement == 0:
            flat += 1
            assert ratio == CAP and distance == CAP
            return
        assert ratio == min(calc.total_collateral / calc.margin_requirement, CAP)
        assert 1 < ratio < CAP  # a real margin, not the cap
        if not positions:  # an open order's margin only
            assert distance == CAP
            return
        ((inst, _qty),) = positions.items()
        liq = drift.liquidation_price(inst.symbol)
        core = drift.core
        idx = core.index[inst]
        oracle = Decimal(core.quotes(core.now, {idx}, action="twap")[idx].oracle_price) / Decimal(10**6)
        if liq is None:  # a long whose collateral covers a fall to zero: no liquidation price
            assert distance == CAP
        else:
            assert distance == min(float(abs(oracle - liq) / oracle), CAP) and 0 < distance < CAP
            with_liq.append(distance)
        held.append(ratio)

    assert run.run(progress=check) == "finished"
    assert len(held) >= 20 and len(with_liq) >= 10, (len(held), len(with_liq), flat)
    assert len(set(held)) > 10 and len(set(with_liq)) > 5  # they move with the price, bar by bar
