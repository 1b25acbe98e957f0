"""The composition root (DESIGN C5): builds a backtest's data, venues, node and portfolio from a spec.
Only here (and in the CLI and API) are concrete venues chosen."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np

from botnft.backtest.spec import BacktestSpec
from botnft.data import bundle
from botnft.data.bars import BarBatch, FundingSeries, align_mark
from botnft.data.loader import load_candles, load_funding
from botnft.domain.errors import UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Perp, Spot
from botnft.domain.money import ZERO
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.executor import Executor, RouteConfig
from botnft.engine.node import TradingNode
from botnft.risk.gate import RiskGate, RiskLimits
from botnft.risk.sizing import CashFraction, FixedSize, Sizer
from botnft.strategy.library import build as build_strategy
from botnft.venues.sim.fill_models import FILL_MODELS
from botnft.venues.sim.perp import SimPerp
from botnft.venues.sim.spot import SimSpot

DEFAULT_FEE_BPS = {"sim": Decimal(10), "drift": Decimal("3.5")}
DEFAULT_CASH_FRACTION = Decimal("0.95")


@dataclass(frozen=True, slots=True)
class MarketData:
    name: str
    market: str  # spot | perp
    base: str
    bars: BarBatch
    funding: FundingSeries | None


@dataclass(slots=True)
class BacktestSession:
    spec: BacktestSpec
    data: MarketData
    venue_kind: str
    instrument: Instrument
    node: TradingNode
    portfolio: Portfolio
    fee_bps: Decimal


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


def make_instrument(kind: str, base: str) -> Instrument:
    if kind == "drift":
        return Perp(
            InstrumentId(f"{base}-PERP", "DRIFT"),
            base,
            "USDC",
            tick_size=Decimal("0.0001"),
            lot_size=Decimal("0.01"),
            min_size=Decimal("0.01"),
            initial_margin=Decimal("0.1"),
            maintenance_margin=Decimal("0.05"),
        )
    return Spot(
        InstrumentId(f"{base}/USDT", "SIM"),
        base,
        "USDT",
        tick_size=Decimal("0.0001"),
        lot_size=Decimal("0.001"),
        min_size=Decimal("0.001"),
    )


@dataclass(slots=True)
class VenueBuild:
    """A simulated venue, the instrument it lists, the ledger account it settles into, and how to fund it."""

    venue: Any
    instrument: Instrument
    account: str
    fund: Callable[[Decimal], None]


#: name -> builder(data, spec, fee_bps or None, fill model, cash, shared wallet balances)
VenueBuilder = Callable[
    [MarketData, BacktestSpec, "Decimal | None", Any, Decimal, dict[str, Any]], VenueBuild
]


def _build_sim(
    md: MarketData,
    spec: BacktestSpec,
    fee: Decimal | None,
    fill: Any,
    cash: Decimal,
    wallet: dict[str, Decimal],
) -> VenueBuild:
    inst = make_instrument("sim", md.base)
    assert isinstance(inst, Spot)
    fee_bps = fee if fee is not None else DEFAULT_FEE_BPS["sim"]
    venue = SimSpot(inst, fee_bps=fee_bps, fill_model=fill, balances={inst.quote: cash})

    def fund(amount: Decimal) -> None:
        venue.balances[inst.quote] += amount

    return VenueBuild(venue, inst, "SIM", fund)


def _build_candle_perp(
    md: MarketData,
    spec: BacktestSpec,
    fee: Decimal | None,
    fill: Any,
    cash: Decimal,
    wallet: dict[str, Decimal],
) -> VenueBuild:
    inst = make_instrument("drift", md.base)
    assert isinstance(inst, Perp)
    f = md.funding
    venue = SimPerp(
        inst,
        fee_bps=fee if fee is not None else DEFAULT_FEE_BPS["drift"],
        fill_model=fill,
        collateral=cash,
        funding_ts_ns=None if f is None else f.ts_ns,
        funding_rate=None if f is None else f.rate,
    )

    def fund(amount: Decimal) -> None:
        venue.collateral += amount

    return VenueBuild(venue, inst, "DRIFT", fund)


def _build_drift(
    md: MarketData,
    spec: BacktestSpec,
    fee: Decimal | None,
    fill: Any,
    cash: Decimal,
    wallet: dict[str, Decimal],
) -> VenueBuild:
    """SimDrift: Drift v2's own margin, funding, auction and liquidation math (funding from the data's
    rate series when it has one, scaled to Drift's hourly period)."""
    from botnft.venues.sim.drift import SimDrift
    from botnft.venues.sim.drift_market import ExternalFunding
    from botnft.venues.sim.drift_params import DEFAULT_MARKETS

    market = DEFAULT_MARKETS.get(f"{md.base}-PERP")
    if market is None:
        raise UserError(f"SimDrift has no {md.base}-PERP market; known: {', '.join(DEFAULT_MARKETS)}")
    f = md.funding
    period = int(np.median(np.diff(f.ts_ns)) // 1_000_000_000) if f is not None and len(f) > 1 else 3600
    external = None if f is None else {market.symbol: ExternalFunding(f.ts_ns, f.rate, period)}
    basis = float(spec.liquidity.get("drift", {}).get("mark_basis_bps", 0.0))
    venue = SimDrift([market], collateral=cash, external_funding=external, mark_basis_bps=basis)
    return VenueBuild(venue, market.instrument(), "DRIFT", venue.deposit)


def _solana_wallet(shared: dict[str, Any]) -> Any:
    """The one Solana wallet of this backtest (SOL and USDC in native units)."""
    from botnft.venues.sim.wallet import SolanaWallet

    wallet: SolanaWallet = shared.setdefault("solana", SolanaWallet(("SOL", "USDC")))
    return wallet


def _raydium(kind: Literal["amm_v4", "cpmm", "clmm"], name: str) -> VenueBuilder:
    def build(
        md: MarketData,
        spec: BacktestSpec,
        fee: Decimal | None,
        fill: Any,
        cash: Decimal,
        shared_wallets: dict[str, Any],
    ) -> VenueBuild:
        """A Raydium pool at the data's first price, with the default liquidity model for its kind."""
        from botnft.venues.sim.raydium import SimRaydium
        from botnft.venues.sim.raydium_config import from_price

        if md.base != "SOL":
            raise UserError(f"the simulated Raydium pools are SOL/USDC; the data is {md.base}")
        from botnft.venues.sim.solana import SolanaFees

        tvl = spec.liquidity.get(name.lower(), {}).get("tvl_usd")
        pool = from_price(Decimal(repr(float(md.bars.close[0]))), tvl, kind=kind)
        venue = SimRaydium(pool, name=name, solana_fees=SolanaFees())
        wallet = _solana_wallet(shared_wallets)
        venue.account = wallet.pair("SOL", "USDC")  # the pool trades from the shared Solana wallet
        shared_wallets.setdefault("solana_venues", []).append(venue)

        def fund(amount: Decimal) -> None:
            wallet.credit("USDC", int(amount * 10**6))

        return VenueBuild(venue, venue.instrument, "SOLANA", fund)

    return build


def _book(kind: str) -> VenueBuilder:
    def build(
        md: MarketData,
        spec: BacktestSpec,
        fee: Decimal | None,
        fill: Any,
        cash: Decimal,
        shared_wallets: dict[str, Any],
    ) -> VenueBuild:
        """A CEX-style book (`cex`) or OpenBook v2 (`openbook`) quoted around the data's prices from the
        default depth profile (calibrated on real L2 samples; see venues/sim/book_replay.py)."""
        from botnft.venues.sim.book_replay import DepthProfile, SimClob
        from botnft.venues.sim.openbook import SimOpenBook

        venue: Any
        if kind == "openbook":
            from botnft.venues.sim.solana import SolanaFees

            cfg = spec.liquidity.get("openbook", {})
            venue = SimOpenBook(
                base=md.base,
                seed=spec.seed,
                profile=DepthProfile().scaled(float(cfg.get("depth_scale", 1.0))),
            )
            venue.solana_fees = SolanaFees()
            wallet = _solana_wallet(shared_wallets)
            venue.ledger.account = wallet.mapping((md.base, "USDC"))  # the same Solana wallet as Raydium
            shared_wallets.setdefault("solana_venues", []).append(venue)

            def fund_wallet(amount: Decimal) -> None:
                wallet.credit("USDC", int(amount * 10**6))

            return VenueBuild(venue, venue.instrument, "SOLANA", fund_wallet)
        else:
            inst = Spot(
                InstrumentId(f"{md.base}/USDT", "CEX"), md.base, "USDT", Decimal("0.0001"), Decimal("0.001"),
                Decimal("0.001"),
            )  # fmt: skip
            cfg = spec.liquidity.get("cex", {})
            taker = fee if fee is not None else Decimal(repr(cfg.get("taker_fee_bps") or 10))
            profile = DepthProfile().scaled(float(cfg.get("depth_scale", 1.0)))
            venue = SimClob(inst, taker_fee_bps=taker, seed=spec.seed, profile=profile)
        inst_ = venue.instrument

        def fund(amount: Decimal) -> None:
            venue.deposit(inst_.quote, amount)

        return VenueBuild(venue, inst_, inst_.id.venue, fund)

    return build


def _build_jupiter(
    md: MarketData,
    spec: BacktestSpec,
    fee: Decimal | None,
    fill: Any,
    cash: Decimal,
    shared_wallets: dict[str, Any],
) -> VenueBuild:
    """SimJupiter over the Solana venues of this backtest (built before it), or over the default Raydium
    pools and OpenBook when none are listed; one shared Solana wallet either way."""
    from botnft.venues.sim.jupiter import SimJupiter

    underlying = list(shared_wallets.get("solana_venues", ()))
    if not underlying:
        private: dict[str, Any] = {"solana": _solana_wallet(shared_wallets)}
        for name in ("raydium", "raydium_cpmm", "raydium_clmm", "openbook"):
            VENUE_BUILDERS[name](md, spec, fee, fill, cash, private)
        underlying = private["solana_venues"]
    wallet = _solana_wallet(shared_wallets)
    venue = SimJupiter(underlying, wallet=wallet, seed=spec.seed)

    def fund(amount: Decimal) -> None:
        wallet.credit("USDC", int(amount * 10**6))

    return VenueBuild(venue, venue.instrument, "SOLANA", fund)


VENUE_PRESETS: dict[str, tuple[str, ...]] = {
    "solana": ("raydium", "raydium_cpmm", "raydium_clmm", "openbook", "jupiter", "drift"),
}

VENUE_BUILDERS: dict[str, VenueBuilder] = {
    "jupiter": _build_jupiter,
    "cex": _book("cex"),
    "openbook": _book("openbook"),
    "raydium": _raydium("amm_v4", "RAYDIUM"),
    "raydium_cpmm": _raydium("cpmm", "RAYDIUM_CPMM"),
    "raydium_clmm": _raydium("clmm", "RAYDIUM_CLMM"),
    "sim": _build_sim,
    "perp": _build_candle_perp,
    "drift": _build_drift,
}


def _to_source(snapshot: Any, side: str) -> Any:
    from botnft.routing.adapt import to_source

    return to_source(snapshot, "buy" if side == "buy" else "sell")


def build_routed(spec: BacktestSpec, strategy: Any, md: MarketData) -> BacktestSession:
    """A backtest whose orders the executor routes across `spec.venues` (split or one venue)."""
    names = [v for name in spec.venues for v in VENUE_PRESETS.get(name, (name,))]
    unknown = [v for v in names if v not in VENUE_BUILDERS]
    if unknown:
        known = ", ".join([*VENUE_BUILDERS, *VENUE_PRESETS])
        raise UserError(f"unknown venue {unknown[0]!r}; available: {known}")
    names = sorted(dict.fromkeys(names), key=lambda v: v == "jupiter")  # the aggregator after its venues
    fill_model = FILL_MODELS[spec.fill]()
    wallet: dict[str, Any] = {}
    builds = [VENUE_BUILDERS[name](md, spec, spec.fee_bps, fill_model, ZERO, wallet) for name in names]
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
    single = spec.route.partition(":")[2].upper() or None
    if single is not None and single not in venues:
        raise UserError(f"--route single:{single} names no venue in --venues ({', '.join(venues)})")
    primary = max((b.instrument for b in builds), key=lambda i: i.lot_size)  # size on the coarsest lot
    sizer = _sizer(spec)
    node = TradingNode(
        clock=SimClock(int(md.bars.ts_ns[0])),
        strategy=strategy,
        instrument=primary,
        venues=venues,
        portfolio=portfolio,
        sizer=sizer,
        risk=RiskGate(RiskLimits()),
        fee_rate=Decimal("0.001"),
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
        config=RouteConfig(mode="single" if single else "split", single_venue=single, vehicle=spec.vehicle),
        chooser=_chooser(md, impact),
        impact_model=impact,
    )
    node.attach_executor(executor)
    return BacktestSession(spec, md, "routed", primary, node, portfolio, Decimal(0))


def _chooser(md: MarketData, impact: Any) -> Any:
    """Perp or spot by all-in cost over the horizon (fees, impact as the learned model now predicts it,
    network, funding, capital)."""
    from botnft.routing.vehicle import vehicle_chooser

    return vehicle_chooser(impact_model=impact)


def _sizer(spec: BacktestSpec) -> Sizer:
    if spec.size is not None:
        return FixedSize(spec.size)
    return CashFraction(spec.cash_fraction or DEFAULT_CASH_FRACTION)


def build_backtest(spec: BacktestSpec, data: MarketData | None = None) -> BacktestSession:
    """Everything a backtest needs, wired; `data` may be passed in (benchmarks, tests)."""
    spec.check()
    strategy = build_strategy(spec.strategy, dict(spec.params))
    md = data if data is not None else load_market_data(spec.data)
    bars = md.bars.between(_ns(spec.start), _ns(spec.end))
    if len(bars) < 2:
        raise UserError(
            f"no bars in {md.name} between {spec.start or 'the start'} and {spec.end or 'the end'}"
        )
    funding = md.funding.between(int(bars.ts_ns[0]), None) if md.funding is not None else None
    if spec.venues:
        return build_routed(spec, strategy, MarketData(md.name, md.market, md.base, bars, funding))
    kind = spec.venue or ("drift" if md.market == "perp" else "sim")
    if kind == "sim" and getattr(getattr(strategy, "params", None), "short", False):
        raise UserError("short=true needs a perp venue: add --venue drift (a spot book cannot go short)")
    fee_bps = spec.fee_bps if spec.fee_bps is not None else DEFAULT_FEE_BPS[kind]
    inst = make_instrument(kind, md.base)
    fill_model = FILL_MODELS[spec.fill]()
    portfolio = Portfolio({inst.id: inst})
    venue: SimSpot | SimPerp
    if isinstance(inst, Perp):
        venue = SimPerp(
            inst,
            fee_bps=fee_bps,
            fill_model=fill_model,
            collateral=spec.cash,
            funding_ts_ns=None if funding is None else funding.ts_ns,
            funding_rate=None if funding is None else funding.rate,
        )
    else:
        assert isinstance(inst, Spot)
        venue = SimSpot(inst, fee_bps=fee_bps, fill_model=fill_model, balances={inst.quote: spec.cash})
    portfolio.deposit(inst.id.venue, inst.quote, spec.cash)
    sizer = _sizer(spec)
    node = TradingNode(
        clock=SimClock(int(bars.ts_ns[0])),
        strategy=strategy,
        instrument=inst,
        venues={inst.id.venue: venue},
        portfolio=portfolio,
        sizer=sizer,
        risk=RiskGate(RiskLimits()),
        fee_rate=fee_bps / 10_000,
    )
    md_cut = MarketData(md.name, md.market, md.base, bars, funding)
    return BacktestSession(spec, md_cut, kind, inst, node, portfolio, fee_bps)
