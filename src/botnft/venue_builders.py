"""Builders of the simulated venues for routed backtests and `bot route`, one per venue name.

Each builder takes a `BuildContext` (the data, the spec, the fill model for candle venues, and the
`SolanaContext` the on-chain venues of one run share) and returns the venue, built whole by its
constructor, with the instrument it lists, the ledger account it settles into, and how to fund it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from botnft.backtest.spec import BacktestSpec
from botnft.data.bars import MarketData
from botnft.domain.drift_margin import perp_market
from botnft.domain.errors import UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Perp, Spot
from botnft.domain.money import ZERO
from botnft.venues.sim.perp import SimPerp
from botnft.venues.sim.spot import SimSpot
from botnft.venues.sim.wallet import SolanaWallet

if TYPE_CHECKING:
    from botnft.venues.sim.openbook import SimOpenBook
    from botnft.venues.sim.raydium import SimRaydium
    from botnft.venues.sim.solana import SolanaExecution

DEFAULT_FEE_BPS = {"sim": Decimal(10), "perp": Decimal("3.5"), "drift": Decimal("3.5")}


def make_instrument(kind: str, base: str) -> Instrument:
    """The candle venues' instruments: `sim` spot (SOL/USDT.SIM) or the `perp` candle perp (SOL-PERP.PERP,
    its own name: it is not Drift, whose instrument SimDrift lists)."""
    if kind == "perp":
        spec = perp_market(f"{base}-PERP")  # Drift's table: the same grids and margin ratios as SimDrift
        return Perp(
            InstrumentId(f"{base}-PERP", "PERP"),
            base,
            "USDC",
            tick_size=Decimal(spec.order_tick_size) / 10**6,
            lot_size=Decimal(spec.order_step_size) / 10**9,
            min_size=Decimal(spec.min_order_size) / 10**9,
            initial_margin=Decimal(spec.margin_ratio_initial) / 10**4,
            maintenance_margin=Decimal(spec.margin_ratio_maintenance) / 10**4,
        )
    return Spot(
        InstrumentId(f"{base}/USDT", "SIM"),
        base,
        "USDT",
        tick_size=Decimal("0.0001"),
        lot_size=Decimal("0.001"),
        min_size=Decimal("0.001"),
    )


def _sol_usdc_wallet() -> SolanaWallet:
    return SolanaWallet(("SOL", "USDC"))


@dataclass(slots=True)
class SolanaContext:
    """What the on-chain venues of one run share: the one Solana wallet every pool, book and the
    aggregator trade from (SOL and USDC in native units), and the on-chain venues built so far, in
    build order (the ones SimJupiter routes over)."""

    wallet: SolanaWallet = field(default_factory=_sol_usdc_wallet)
    venues: list[SimRaydium | SimOpenBook] = field(default_factory=list)
    execution: SolanaExecution | None = None

    def fund(self, amount: Decimal) -> None:
        """Credit the wallet with `amount` USDC, a whole number of micro-USDC (never rounded)."""
        micro = amount.scaleb(6)
        if not micro.is_finite() or micro != micro.to_integral_value() or micro < 0:
            raise UserError(f"a Solana wallet is funded in whole micro-USDC, not {amount} USDC")
        self.wallet.credit("USDC", int(micro))


@dataclass(slots=True)
class BuildContext:
    """What every builder gets: the data, the spec (fees, seed, liquidity overrides), the fill model of the
    candle venues, and the `SolanaContext` one run's on-chain venues share (one per context)."""

    md: MarketData
    spec: BacktestSpec
    fill: Any = None
    solana: SolanaContext = field(default_factory=SolanaContext)

    @property
    def fee(self) -> Decimal | None:
        return self.spec.fee_bps

    def liquidity(self, venue: str) -> dict[str, Any]:
        return dict(self.spec.liquidity.get(venue, {}))

    def execution(self) -> SolanaExecution:
        """The run's one Solana execution model (`[liquidity.solana]`), built once and shared."""
        if self.solana.execution is None:
            self.solana.execution = solana_execution(self.liquidity("solana"), self.spec.seed)
        return self.solana.execution


def solana_execution(cfg: dict[str, Any], seed: int) -> SolanaExecution:
    """`[liquidity.solana]` as a `SolanaExecution` (absent keys keep its documented defaults)."""
    from botnft.venues.sim.solana import ArbitrageTerms, MevModel, SolanaExecution, SolanaFees

    d = SolanaExecution()
    fees = SolanaFees(
        base_fee_lamports=int(cfg.get("base_fee_lamports", d.fees.base_fee_lamports)),
        compute_unit_price_micro_lamports=int(
            cfg.get("compute_unit_price_micro_lamports", d.fees.compute_unit_price_micro_lamports)
        ),
        compute_units=int(cfg.get("compute_units", d.fees.compute_units)),
    )
    mev = MevModel(
        enabled=bool(cfg.get("mev", d.mev.enabled)),
        max_probability=float(cfg.get("sandwich_max_probability", d.mev.max_probability)),
        half_ratio=float(cfg.get("sandwich_half_ratio", d.mev.half_ratio)),
        default_tolerance_bps=float(cfg.get("default_tolerance_bps", d.mev.default_tolerance_bps)),
        jito_tip_lamports=int(cfg.get("jito_tip_lamports", d.mev.jito_tip_lamports)),
    )
    return SolanaExecution(
        fees=fees,
        latency_slots=int(cfg.get("latency_slots", d.latency_slots)),
        jitter_slots=int(cfg.get("jitter_slots", d.jitter_slots)),
        mev=mev,
        arbitrage=ArbitrageTerms(float(cfg.get("arbitrage_cex_fee_bps", d.arbitrage.cex_fee_bps))),
        seed=seed,
    )


@dataclass(slots=True)
class VenueBuild:
    """A simulated venue, the instrument it lists, the ledger account it settles into, and how to fund it."""

    venue: Any
    instrument: Instrument
    account: str
    fund: Callable[[Decimal], None]


VenueBuilder = Callable[[BuildContext], VenueBuild]


def _snapshot(ctx: BuildContext) -> Any:
    """The run's snapshot (`--snapshot NAME`: its JSON form under the liquidity settings' ``snapshot``)."""
    from botnft.snapshot.apply import snapshot_of

    return snapshot_of(ctx.spec.liquidity.get("snapshot"))


def _build_sim(ctx: BuildContext) -> VenueBuild:
    md, fee, fill = ctx.md, ctx.fee, ctx.fill
    inst = make_instrument("sim", md.base)
    assert isinstance(inst, Spot)
    fee_bps = fee if fee is not None else DEFAULT_FEE_BPS["sim"]
    venue = SimSpot(inst, fee_bps=fee_bps, fill_model=fill, balances={inst.quote: ZERO})

    def fund(amount: Decimal) -> None:
        venue.balances[inst.quote] += amount

    return VenueBuild(venue, inst, "SIM", fund)


def _build_candle_perp(ctx: BuildContext) -> VenueBuild:
    md, fee, fill = ctx.md, ctx.fee, ctx.fill
    inst = make_instrument("perp", md.base)
    assert isinstance(inst, Perp)
    f = md.funding
    venue = SimPerp(
        inst,
        fee_bps=fee if fee is not None else DEFAULT_FEE_BPS["perp"],
        fill_model=fill,
        collateral=ZERO,
        funding_ts_ns=None if f is None else f.ts_ns,
        funding_rate=None if f is None else f.rate,
    )

    def fund(amount: Decimal) -> None:
        venue.collateral += amount

    return VenueBuild(venue, inst, "PERP", fund)


def _build_drift(ctx: BuildContext) -> VenueBuild:
    """SimDrift: Drift v2's own margin, funding, auction and liquidation math. Funding: Drift's own daily
    series where it covers the time, else Drift's formula on a mark basis fitted on the overlap and
    driven by the data's funding series (`data.drift_funding`); `[liquidity.drift] mark_basis_bps`
    replaces the fitted basis by a constant."""
    md = ctx.md
    from botnft.data.drift_funding import sim_funding
    from botnft.venues.sim.drift import SimDrift
    from botnft.venues.sim.drift_market import ExternalFunding
    from botnft.venues.sim.drift_oracle import MarkBasis
    from botnft.venues.sim.drift_params import DEFAULT_MARKETS

    market = DEFAULT_MARKETS.get(f"{md.base}-PERP")
    if market is None:
        raise UserError(f"SimDrift has no {md.base}-PERP market; known: {', '.join(DEFAULT_MARKETS)}")
    snap = _snapshot(ctx)
    state = snap.perp(market.symbol) if snap is not None else None
    if state is not None:  # the snapshot's margin terms and vAMM (botnft.snapshot.apply)
        from botnft.snapshot.apply import drift_market

        market = drift_market(state)
    f = md.funding
    sim = sim_funding(market.symbol, None if f is None else (f.ts_ns, f.rate))
    cfg = ctx.liquidity("drift")
    external, marks = None, None
    if sim is not None:
        series = ExternalFunding(sim.ts_ns, sim.rate, 3_600, sim.end_ns, "drift-funding-daily")
        external = {market.symbol: series}
        if "mark_basis_bps" not in cfg:
            marks = {market.symbol: MarkBasis(sim.basis_ts_ns, sim.basis, sim.basis_before)}
    basis = float(cfg.get("mark_basis_bps", 0.0))
    venue = SimDrift(
        [market], collateral=ZERO, external_funding=external, mark_basis_bps=basis, mark_basis=marks
    )
    return VenueBuild(venue, market.instrument(), "DRIFT", venue.deposit)


def _raydium(kind: Literal["amm_v4", "cpmm", "clmm"], name: str) -> VenueBuilder:
    def build(ctx: BuildContext) -> VenueBuild:
        """A Raydium pool at the data's first price, with the default liquidity model for its kind."""
        md, solana = ctx.md, ctx.solana
        from botnft.venues.sim.raydium import SimRaydium
        from botnft.venues.sim.raydium_config import from_price

        if md.base != "SOL":
            raise UserError(f"the simulated Raydium pools are SOL/USDC; the data is {md.base}")
        tvl = ctx.liquidity(name.lower()).get("tvl_usd")
        snap = _snapshot(ctx)
        state = snap.pool(kind) if snap is not None else None
        if state is not None:  # the snapshot's pool (botnft.snapshot.apply)
            from botnft.snapshot.apply import pool_config

            pool = pool_config(state)
        else:
            pool = from_price(Decimal(repr(float(md.bars.close[0]))), tvl, kind=kind)
        venue = SimRaydium(pool, name=name, wallet=solana.wallet, execution=ctx.execution())
        solana.venues.append(venue)
        return VenueBuild(venue, venue.instrument, "SOLANA", solana.fund)

    return build


def _profile(base: Any, cfg: dict[str, Any]) -> Any:
    """A venue's depth profile: its own default, with `[liquidity.<venue>]` depth_1pct, spread_bps and
    depth_scale applied."""
    from dataclasses import replace

    p = replace(
        base,
        depth_1pct=float(cfg.get("depth_1pct") or base.depth_1pct),
        spread_bps=float(cfg.get("spread_bps") or base.spread_bps),
    )
    return p.scaled(float(cfg.get("depth_scale", 1.0)))


def _ppm(bps: Any, default: int) -> int:
    """A fee in bps as OpenBook's millionths, exact (a fee off the 0.01 bp grid is refused)."""
    if bps is None:
        return default
    x = Decimal(repr(float(bps))) * 100
    if x != x.to_integral_value():
        raise UserError(f"an OpenBook fee is a whole number of millionths (0.01 bps), got {bps} bps")
    return int(x)


def _build_openbook(ctx: BuildContext) -> VenueBuild:
    """OpenBook v2 SOL/USDC with its own thin depth profile and the market's fee terms (see
    venues/sim/book_market.py and venues/sim/openbook.py), trading from the run's Solana wallet."""
    md, solana = ctx.md, ctx.solana
    from botnft.venues.sim.book_market import OPENBOOK_PROFILE
    from botnft.venues.sim.openbook import SOL_USDC_FEES, SimOpenBook

    cfg = ctx.liquidity("openbook")
    terms: dict[str, Any] = {
        "profile": _profile(OPENBOOK_PROFILE, cfg),
        "taker_fee": _ppm(cfg.get("taker_fee_bps"), SOL_USDC_FEES.taker_rate),
        "maker_fee": _ppm(cfg.get("maker_fee_bps"), SOL_USDC_FEES.maker_rate),
    }
    snap = _snapshot(ctx)
    if snap is not None:  # the snapshot's lots, fees and calibrated depth (botnft.snapshot.apply)
        from botnft.snapshot.apply import openbook_terms

        terms.update(openbook_terms(snap) or {})
    venue = SimOpenBook(
        base=md.base,
        seed=ctx.spec.seed,
        execution=ctx.execution(),  # the one fee, and latency
        wallet=solana.wallet,  # the same Solana wallet as Raydium
        **terms,
    )
    solana.venues.append(venue)
    return VenueBuild(venue, venue.instrument, "SOLANA", solana.fund)


def _build_cex(ctx: BuildContext) -> VenueBuild:
    """A CEX-style book quoted around the data's prices from the CEX depth profile (calibrated on real L2
    samples; venues/sim/book_market.py)."""
    md = ctx.md
    from botnft.venues.sim.book_market import CEX_PROFILE
    from botnft.venues.sim.book_replay import SimClob

    inst = Spot(
        InstrumentId(f"{md.base}/USDT", "CEX"), md.base, "USDT", Decimal("0.0001"), Decimal("0.001"),
        Decimal("0.001"),
    )  # fmt: skip
    cfg = ctx.liquidity("cex")
    taker = ctx.fee if ctx.fee is not None else Decimal(repr(cfg.get("taker_fee_bps") or 10))
    profile = _profile(CEX_PROFILE, cfg)
    # its own book: its own profile and its own draws (not OpenBook's under the same seed)
    venue = SimClob(inst, taker_fee_bps=taker, seed=ctx.spec.seed + 1, profile=profile)

    def fund(amount: Decimal) -> None:
        venue.deposit(inst.quote, amount)

    return VenueBuild(venue, inst, inst.id.venue, fund)


def _build_jupiter(ctx: BuildContext) -> VenueBuild:
    """SimJupiter over the Solana venues of this backtest (built before it), or over the default Raydium
    pools and OpenBook when none are listed; one shared Solana wallet either way."""
    md, spec, solana = ctx.md, ctx.spec, ctx.solana
    from botnft.venues.sim.jupiter import SimJupiter

    underlying = list(solana.venues)
    if not underlying:  # the default pools and book, on the same wallet but not listed as venues
        private = BuildContext(
            md, spec, ctx.fill, SolanaContext(wallet=solana.wallet, execution=ctx.execution())
        )
        for name in ("raydium", "raydium_cpmm", "raydium_clmm", "openbook"):
            VENUE_BUILDERS[name](private)
        underlying = private.solana.venues
    # the one Solana fee; no latency: SimJupiter's move reads the next bar, which a run fed one bar at a
    # time (paper, live) does not have
    venue = SimJupiter(underlying, wallet=solana.wallet, seed=spec.seed, fees=ctx.execution().fees)
    return VenueBuild(venue, venue.instrument, "SOLANA", solana.fund)


VENUE_PRESETS: dict[str, tuple[str, ...]] = {
    "solana": ("raydium", "raydium_cpmm", "raydium_clmm", "openbook", "jupiter", "drift"),
}

VENUE_BUILDERS: dict[str, VenueBuilder] = {
    "jupiter": _build_jupiter,
    "cex": _build_cex,
    "openbook": _build_openbook,
    "raydium": _raydium("amm_v4", "RAYDIUM"),
    "raydium_cpmm": _raydium("cpmm", "RAYDIUM_CPMM"),
    "raydium_clmm": _raydium("clmm", "RAYDIUM_CLMM"),
    "sim": _build_sim,
    "perp": _build_candle_perp,
    "drift": _build_drift,
}
