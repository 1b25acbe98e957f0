"""The composition root (DESIGN C5): builds a backtest's data, venues, node and portfolio from a spec.
Only here (and in the CLI and API) are concrete venues chosen."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from botnft.backtest.session import BacktestSession
from botnft.backtest.spec import BacktestSpec
from botnft.config import RiskSettings
from botnft.data import bundle
from botnft.data.bars import MarketData, align_mark
from botnft.data.loader import load_candles, load_funding
from botnft.domain.errors import UserError
from botnft.domain.instruments import Instrument, Perp
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.executor import Executor, RouteConfig
from botnft.engine.node import TradingNode
from botnft.engine.sizing import build_sized
from botnft.risk.gate import RiskGate, RiskLimits
from botnft.risk.guard import LiquidationGuard
from botnft.risk.limits import GuardLimits
from botnft.risk.reserve import ReserveCollateral, has_transfers
from botnft.risk.sizing import CashFraction, FixedSize, MarginCapped, Sizer
from botnft.risk.venue_stops import VenueStops, has_trigger_orders
from botnft.strategy.library import REGISTRY
from botnft.venue_builders import (
    DEFAULT_FEE_BPS,
    VENUE_BUILDERS,
    VENUE_PRESETS,
    BuildContext,
)
from botnft.venues.sim.fill_models import FILL_MODELS

DEFAULT_CASH_FRACTION = Decimal("0.95")


def _ns(dt: datetime | None) -> int | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1_000_000_000)


def load_market_data(name_or_path: str) -> MarketData:
    """A bundled data set by name (with its mark and funding companions) or a candle file by path."""
    if name_or_path in bundle.DATASETS:
        ds = bundle.get(name_or_path)
        if ds.kind != "candles":
            raise UserError(f"data set {ds.name} holds {ds.kind}, not candles; pick a candle set")
        bars = load_candles(ds.path)
        if ds.mark:
            bars = align_mark(bars, load_candles(bundle.get(ds.mark).path))
        funding = load_funding(bundle.get(ds.funding).path) if ds.funding else None
        return MarketData(ds.name, ds.market, ds.symbol.split("/")[0].split("-")[0], bars, funding)
    path = Path(name_or_path)
    if not path.exists() and not any(s in name_or_path for s in ("/", ".csv", ".parquet")):
        bundle.get(name_or_path)  # raises: unknown data set, with the list
    bars = load_candles(path)
    m = re.search(r"([A-Z]{2,10})[-_/]?(USDT|USDC|USD)", path.name.upper())
    market = "perp" if any(k in path.name.lower() for k in ("usdm", "perp", "futures")) else "spot"
    return MarketData(path.name, market, m.group(1) if m else "SOL", bars, None)


def _to_source(snapshot: Any, side: str) -> Any:
    from botnft.routing.adapt import to_source

    return to_source(snapshot, "buy" if side == "buy" else "sell")


def build_routed(
    spec: BacktestSpec, strategy: Any, md: MarketData, risk: RiskSettings | None = None
) -> BacktestSession:
    """A backtest whose orders the executor routes across `spec.venues` (split or one venue), its gate
    held to `[risk]` (a leverage limit above any perp venue's maximum is refused)."""
    names = [v for name in spec.venues for v in VENUE_PRESETS.get(name, (name,))]
    unknown = [v for v in names if v not in VENUE_BUILDERS]
    if unknown:
        known = ", ".join([*VENUE_BUILDERS, *VENUE_PRESETS])
        raise UserError(f"unknown venue {unknown[0]!r}; available: {known}")
    names = sorted(dict.fromkeys(names), key=lambda v: v == "jupiter")  # the aggregator after its venues
    fill_model = FILL_MODELS[spec.fill]()
    ctx = BuildContext(md, spec, fill_model)
    builds = [VENUE_BUILDERS[name](ctx) for name in names]
    accounts = sorted({b.account for b in builds})
    share = (spec.cash / len(accounts)).quantize(Decimal("0.000001"), rounding="ROUND_DOWN")
    instruments = {b.instrument.id: b.instrument for b in builds}
    portfolio = Portfolio(instruments, {b.instrument.id.venue: b.account for b in builds})
    funded: set[str] = set()
    for b in builds:
        if b.account in funded:
            continue
        funded.add(b.account)
        portfolio.deposit(b.instrument.id.venue, b.instrument.quote, share)
        b.fund(share)
    venues = {b.instrument.id.venue: b.venue for b in builds}
    single = spec.route_mode.partition(":")[2].upper() or None
    if single is not None and single not in venues:
        raise UserError(f"--route single:{single} names no venue in --venues ({', '.join(venues)})")
    primary = max((b.instrument for b in builds), key=lambda i: i.lot_size)  # size on the coarsest lot
    settings = risk or RiskSettings()
    gate_limits = risk_limits(settings, primary)[0]
    for b in builds:
        risk_limits(settings, b.instrument)
    sizer = _sizer(spec)
    clock = SimClock(int(md.bars.ts_ns[0]))
    node = TradingNode(
        clock=clock,
        strategy=strategy,
        instrument=primary,
        venues=venues,
        portfolio=portfolio,
        sizer=sizer,
        risk=RiskGate(gate_limits),
        fee_rate=Decimal("0.001"),
        rng=random.Random(spec.seed),  # retry jitter (DESIGN C4)
    )
    from botnft.routing.impact import ImpactModel

    impact = ImpactModel()
    executor = Executor(
        base=md.base,
        venues=venues,
        instruments=instruments,
        portfolio=portfolio,
        oms=node.oms,
        risk=node.risk,
        drain=node.bus.drain,
        ids=node.ids,
        to_source=_to_source,
        config=RouteConfig(
            mode="single" if single else "split", single_venue=single, vehicle=spec.vehicle_choice
        ),
        chooser=_chooser(md, impact),
        impact_model=impact,
        clock=clock,
    )
    node.attach_executor(executor)
    if getattr(strategy, "name", "") == "funding_carry":
        from botnft.engine.carry import CarryRunner

        if not executor.instruments or not any(i.is_perp for i in executor.instruments.values()):
            raise UserError(
                "funding_carry needs a perp venue and a spot venue, e.g. --venues drift,raydium_clmm"
            )
        if all(i.is_perp for i in executor.instruments.values()):
            raise UserError(
                "funding_carry needs a spot venue besides the perp, e.g. --venues drift,raydium_clmm"
            )
        node.carry = CarryRunner(executor, strategy)
    # a routed run's flat fee is --fee-bps where given; otherwise each venue charges its own default
    return BacktestSession(
        spec, md, "routed", primary, node, portfolio, spec.fee_bps, clock, venues, tuple(names)
    )


def _chooser(md: MarketData, impact: Any) -> Any:
    """Perp or spot by all-in cost over the horizon (fees, impact as the learned model now predicts it,
    network, funding, capital)."""
    from botnft.routing.vehicle import vehicle_chooser

    return vehicle_chooser(impact_model=impact)


def _sizer(spec: BacktestSpec) -> FixedSize | CashFraction:
    if spec.size is not None:
        return FixedSize(spec.size)
    return CashFraction(spec.cash_fraction or DEFAULT_CASH_FRACTION)


def drift_margin_at(venue: Any, symbol: str) -> Any:
    """SimDrift's own margin calculation (``DriftAccount.margin``: cross margin over every position, size
    premium, unsettled PnL and funding) with ``symbol``'s oracle at a given price, the others at their last
    oracle: what the liquidation guard reads, in quote units and base."""
    from botnft.venues.sim.drift_account import MarketQuote

    core = venue.core
    idx = core.symbol[symbol]

    def margin_at(price: float) -> tuple[float, float, float]:
        account = core.account
        quotes = {}
        for i, market in core.markets.items():
            if i != idx and not account.base(i):
                continue
            last = market.last_oracle
            px = round(price * 1e6) if i == idx else (last.price if last else 0)
            quotes[i] = MarketQuote(
                core.params[i], px, market.cumulative_funding_rate_long, market.cumulative_funding_rate_short
            )
        mc = account.margin(quotes, "maintenance")
        return mc.total_collateral / 1e6, mc.margin_requirement / 1e6, account.base(idx) / 1e9

    return margin_at


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def risk_limits(risk: RiskSettings, inst: Instrument) -> tuple[RiskLimits, GuardLimits]:
    """The gate's and the guard's limits from `[risk]`; a leverage limit above what the venue allows on
    `inst` is a one-line `UserError` naming the field."""
    max_lev = Decimal(repr(risk.max_leverage))
    if isinstance(inst, Perp) and max_lev > inst.max_leverage:
        venue_max = inst.max_leverage
        raise UserError(
            f"risk.max_leverage {max_lev} exceeds {inst.id}'s maximum of {venue_max.normalize():f}x"
        )
    age = None if risk.max_data_age_s is None else int(risk.max_data_age_s * 1e9)
    gate = RiskLimits(
        max_lev, _dec(risk.max_position_notional), _dec(risk.max_order_notional), max_data_age_ns=age
    )
    guard = GuardLimits(
        buffer=risk.buffer,
        atr_multiple=risk.atr_multiple,
        min_distance=risk.min_distance,
        atr_period=risk.atr_period,
        restore=risk.restore,
        max_drawdown=risk.max_drawdown,
        stop_atr=risk.stop_atr,
        trailing=risk.trailing,
        take_profit_atr=risk.take_profit_atr,
        time_stop_bars=risk.time_stop_bars,
        trail_step_atr=risk.trail_step_atr,
    )
    return gate, guard


def _seeded(spec: BacktestSpec) -> dict[str, str]:
    """The strategy's parameters, with the run's seed as its ``seed`` where it takes one and none was given
    (a learned strategy seeds its models from it: ``--seed`` then changes the run, as it says)."""
    params = dict(spec.params)
    cls = REGISTRY.get(spec.strategy)
    fields = {f.name for f in dataclasses.fields(cls.Params)} if cls is not None else set()
    if "seed" in fields and "seed" not in params:
        params["seed"] = str(spec.seed)
    return params


def build_backtest(
    spec: BacktestSpec, data: MarketData | None = None, *, risk: RiskSettings | None = None
) -> BacktestSession:
    """Everything a backtest needs, wired; `data` may be passed in (benchmarks, tests). `risk` (`[risk]`,
    default limits when None) sets the gate and, on a margined venue (SimDrift), the liquidation guard,
    which only measures when `risk.guard` is false (`--no-guard`)."""
    spec.check()
    strategy = build_sized(spec.strategy, _seeded(spec))  # with its sizing option, if any
    md = data if data is not None else load_market_data(spec.data)
    bars = md.bars.between(_ns(spec.start), _ns(spec.end))
    if len(bars) < 2:
        raise UserError(
            f"no bars in {md.name} between {spec.start or 'the start'} and {spec.end or 'the end'}"
        )
    funding = md.funding.between(int(bars.ts_ns[0]), None) if md.funding is not None else None
    if spec.strategy == "funding_carry" and not spec.venues:
        raise UserError("funding_carry trades two legs: give --venues with a perp and a spot venue")
    if spec.venues:
        return build_routed(spec, strategy, MarketData(md.name, md.market, md.base, bars, funding), risk)
    kind = spec.venue or ("drift" if md.market == "perp" else "sim")
    if kind == "sim" and getattr(getattr(strategy, "params", None), "short", False):
        raise UserError("short=true needs a perp venue: add --venue drift (a spot book cannot go short)")
    md_cut = MarketData(md.name, md.market, md.base, bars, funding)
    build = VENUE_BUILDERS[kind](BuildContext(md_cut, spec, FILL_MODELS[spec.fill]()))
    inst = build.instrument
    gate_limits, guard_limits = risk_limits(risk or RiskSettings(), inst)
    fee_bps = spec.fee_bps if spec.fee_bps is not None else DEFAULT_FEE_BPS[kind]
    portfolio = Portfolio({inst.id: inst})
    portfolio.deposit(inst.id.venue, inst.quote, spec.cash)
    build.fund(spec.cash)
    base_sizer = _sizer(spec)
    sizer: Sizer = base_sizer
    margined = hasattr(build.venue, "margin") and kind == "drift"
    if margined:
        from botnft.domain.drift_margin import perp_market

        market = perp_market(inst.id.symbol)
        if spec.size is None:  # a fixed --size is refused when too large, never resized
            sizer = MarginCapped(base_sizer, lambda q: market.margin_fraction(q, "initial"))
    clock = SimClock(int(bars.ts_ns[0]))
    venues = {inst.id.venue: build.venue}
    node = TradingNode(
        clock=clock,
        strategy=strategy,
        instrument=inst,
        venues=venues,
        portfolio=portfolio,
        sizer=sizer,
        risk=RiskGate(gate_limits),
        fee_rate=fee_bps / 10_000,
        rng=random.Random(spec.seed),
    )
    if (risk or RiskSettings()).reserve_collateral is not None and not (
        margined and has_transfers(build.venue)
    ):
        raise UserError(f"risk.reserve_collateral needs a venue with sub-accounts (drift), not {kind}")
    if margined:
        node.guard = LiquidationGuard(
            drift_margin_at(build.venue, inst.id.symbol),
            inst,
            guard_limits,
            lambda q: market.margin_fraction(q, "maintenance"),
            enabled=(risk or RiskSettings()).guard,
            cap_entries=spec.size is None,
        )
        if (risk or RiskSettings()).stops_at_venue and has_trigger_orders(build.venue):
            node.guard.venue_stops = VenueStops(build.venue, node.oms, inst, node.bus.drain, clock.now_ns)
        reserve = (risk or RiskSettings()).reserve_collateral
        if reserve is not None:  # outside the run's cash and returns: the guard draws on it when it must
            build.venue.deposit_sub_account(1, Decimal(repr(reserve)))
            node.guard.reserve = ReserveCollateral(build.venue)
    return BacktestSession(spec, md_cut, kind, inst, node, portfolio, fee_bps, clock, venues, (kind,))
