"""All-in cost of a target exposure change, per venue and for a split across venues.

"Buy 1,000 SOL of exposure for about 24 h" costs, in basis points of the notional ``qty × reference_mid``:

* ``fee`` — the venue's taker fee, measured as (cost with fee) − (cost on the same curve with no fee);
* ``impact`` — walking the venue's own liquidity (CPMM curve, CLMM ticks, book levels, perp book/vAMM)
  against the venue's own mid, fee excluded; or, when an :class:`~botnft.routing.impact.ImpactModel` is
  given, its learned prediction in place of this static one;
* ``basis`` — the venue's mid against the common ``reference_mid`` (buying where the mid is above the
  reference costs); ``impact_vs_reference = impact + basis``;
* ``network`` — one transaction per venue used: the snapshot's ``network_fee`` when it publishes one,
  else, on a Solana venue, ``(5000 lamports × signatures + µ-lamports/CU × CU / 1e6) × SOL price``; a
  spot leg on a CEX (``cex_venues``) also pays the withdrawal that brings the asset on chain
  (``withdrawal_fee_quote`` or ``cex_withdrawal_fee_quote``) and the price risk of its transfer delay
  (``stale_vol_bps_per_sqrt_s × √cex_transfer_delay_s``, one standard deviation, as for staleness);
* ``funding`` — perps only: expected funding over the horizon (see :func:`expected_funding`), signed: a
  long pays a positive rate, a short receives it;
* ``capital`` — the capital the position ties up for the horizon at ``capital_rate_annual``: a spot buy
  ties the full notional, a spot sell releases it (a negative cost: the bot sells inventory it holds),
  a perp ties ``initial_margin × notional`` either way;
* ``staleness`` — for a quote older than ``stale_after_s``: ``stale_vol_bps_per_sqrt_s × √(excess age)``,
  one standard deviation of the price move since the quote; beyond ``max_quote_age_s`` the venue is
  unusable.

``total`` is their sum. With ``round_trip=True`` the fee, impact and network are counted twice (an exit
mirroring the entry on the same liquidity; an approximation) and the basis once.

Time enters through ``now_ns`` (DESIGN C4); when omitted, the newest snapshot's ``ts_ns`` is "now".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import AnyLiquidity, PerpLiquidity
from botnft.routing.adapt import check_side, depth_base, mid, snap_buy_to_lots, to_source
from botnft.routing.impact import ImpactFeatures, ImpactModel
from botnft.routing.sources import Side, Source
from botnft.routing.split import optimal_split

LAMPORTS_PER_SOL = 1_000_000_000
SECONDS_PER_YEAR = 365.25 * 86_400.0

DEFAULT_SOLANA_VENUES = frozenset(
    {"DRIFT", "JUPITER", "RAYDIUM", "ORCA", "OPENBOOK", "PHOENIX", "METEORA", "LIFINITY", "SOLANA"}
)


DRIFT_FUNDING_FITS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        # (long-run hourly rate, half-life h): AR(1) by least squares on the bundled Drift series
        # (drift-funding-daily, 73 days 2026-01-10 → 03-23; data.drift_funding.fit_mean_reversion):
        # r[d+1] − m = φ (r[d] − m), half-life = 24 ln 2 / −ln φ. SOL φ = 0.523 (m = −11.7 %/yr),
        # BTC φ = 0.263, ETH φ = −0.027 (no persistence: reverts within the first hour).
        "SOL-PERP": (-1.3306033e-05, 25.648317),
        "BTC-PERP": (2.0577851e-06, 12.452880),
        "ETH-PERP": (-8.1799108e-07, 1e-09),
    }
)


@dataclass(frozen=True, kw_only=True)
class CostConfig:
    """What the cost model assumes. Defaults, and where they come from:

    * ``capital_rate_annual = 0.05`` — the return the tied-up capital would otherwise earn: roughly
      the USD T-bill / USDC lending yield of 2024-25 (an assumption, not a market quote).
    * ``stale_after_s = 2.0`` — about five Solana slots (400 ms each); younger quotes are free.
    * ``stale_vol_bps_per_sqrt_s = 1.5`` — SOL's realised volatility: 86 %/yr on the bundled Binance
      SOLUSDT 1 h closes since 2024 (std of hourly log returns 92 bp ⇒ 92/√3600 ≈ 1.53 bp/√s).
    * ``max_quote_age_s = 60.0`` — an older quote is not routed to at all (reported with the reason).
    * ``solana_base_fee_lamports = 5000`` per signature and ``solana_signatures = 1`` — Solana's fixed
      fee (shared/venues.md, "Solana fees").
    * ``solana_compute_units = 200_000`` — Solana's default per-instruction compute limit, in the range
      of a single-pool swap or a Drift order (a multi-hop Jupiter route takes more).
    * ``solana_priority_micro_lamports_per_cu = 50_000`` — the one priority price of the simulated Solana
      venues (``venues.sim.solana.SolanaFees``, ``[liquidity.solana]``; an assumption, raise it under
      congestion). With the defaults one tx costs 15,000 lamports. The simulated venues publish their
      own fee in each snapshot's ``network_fee``, which takes precedence.
    * ``sol_price = 150.0`` — converts lamports to quote when the traded base asset is not SOL (for
      SOL the ``reference_mid`` is used).
    * ``withdrawal_fee_quote`` — per venue, the quote cost of withdrawing the bought asset; a CEX in
      ``cex_venues`` (the simulated ``CEX``) not listed pays ``cex_withdrawal_fee_quote = 1.0`` (about
      one USDT: a third-party guide to Binance's withdrawal fees gives "approximately 1 USDT" on the
      Solana network; they change often, configure).
    * ``cex_transfer_delay_s = 60`` — time for a CEX withdrawal to arrive on chain (the same guide: "under
      1 minute" on Solana), priced as one standard deviation of the price over that time.
    * ``funding_fits = DRIFT_FUNDING_FITS`` — per perp symbol, ``(long-run hourly rate, half-life in
      hours)`` fitted on Drift's own daily series: funding reverts from the current print toward the
      long-run rate (see :data:`DRIFT_FUNDING_FITS`). A symbol not listed holds its current rate.
    * ``funding_half_life_h = None`` — set it (with ``funding_long_run_hourly``) to use one half-life and
      long-run rate for every perp instead of the fits.
    """

    capital_rate_annual: float = 0.05
    stale_after_s: float = 2.0
    stale_vol_bps_per_sqrt_s: float = 1.5
    max_quote_age_s: float = 60.0
    solana_base_fee_lamports: int = 5_000
    solana_signatures: int = 1
    solana_compute_units: int = 200_000
    solana_priority_micro_lamports_per_cu: int = 50_000
    sol_price: float = 150.0
    solana_venues: frozenset[str] = DEFAULT_SOLANA_VENUES
    withdrawal_fee_quote: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    cex_venues: frozenset[str] = frozenset({"CEX"})
    cex_withdrawal_fee_quote: float = 1.0
    cex_transfer_delay_s: float = 60.0
    funding_half_life_h: float | None = None
    funding_long_run_hourly: float = 0.0
    funding_fits: Mapping[str, tuple[float, float]] = field(default_factory=lambda: DRIFT_FUNDING_FITS)
    round_trip: bool = False

    def __post_init__(self) -> None:
        for name in (
            "capital_rate_annual",
            "stale_after_s",
            "stale_vol_bps_per_sqrt_s",
            "sol_price",
            "cex_withdrawal_fee_quote",
            "cex_transfer_delay_s",
        ):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0.0):
                raise ValueError(f"CostConfig.{name} must be finite and >= 0, got {v!r}")
        if not self.max_quote_age_s > 0.0:
            raise ValueError(f"CostConfig.max_quote_age_s must be > 0, got {self.max_quote_age_s!r}")
        if self.funding_half_life_h is not None and not self.funding_half_life_h > 0.0:
            raise ValueError(f"CostConfig.funding_half_life_h must be > 0, got {self.funding_half_life_h!r}")
        if min(self.solana_base_fee_lamports, self.solana_signatures, self.solana_compute_units) < 0:
            raise ValueError("CostConfig Solana fee parameters must be >= 0")
        if self.solana_priority_micro_lamports_per_cu < 0:
            raise ValueError("CostConfig.solana_priority_micro_lamports_per_cu must be >= 0")

    @property
    def solana_tx_lamports(self) -> float:
        """One transaction: base fee per signature plus priority price × compute units."""
        return (
            self.solana_base_fee_lamports * self.solana_signatures
            + self.solana_priority_micro_lamports_per_cu * self.solana_compute_units / 1e6
        )


@dataclass(frozen=True)
class CostBreakdown:
    """Cost components in bps of ``notional`` (quote at the reference mid); positive = a cost."""

    notional: float
    fee: float = 0.0
    impact: float = 0.0
    basis: float = 0.0
    network: float = 0.0
    funding: float = 0.0
    capital: float = 0.0
    staleness: float = 0.0

    @property
    def impact_vs_reference(self) -> float:
        """Impact measured from the common reference mid instead of the venue's own."""
        return self.impact + self.basis

    @property
    def total(self) -> float:
        return (
            self.fee + self.impact + self.basis + self.network + self.funding + self.capital + self.staleness
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "fee": self.fee,
            "impact": self.impact,
            "basis": self.basis,
            "network": self.network,
            "funding": self.funding,
            "capital": self.capital,
            "staleness": self.staleness,
            "total": self.total,
        }


_COMPONENTS = ("fee", "impact", "basis", "network", "funding", "capital", "staleness")


def _breakdown(quote_costs: Mapping[str, float], notional: float) -> CostBreakdown:
    if notional <= 0.0:
        return CostBreakdown(notional=0.0)
    k = 1e4 / notional
    return CostBreakdown(notional=notional, **{c: quote_costs.get(c, 0.0) * k for c in _COMPONENTS})


@dataclass(frozen=True)
class VenueCost:
    """One venue's all-in cost for the whole order, or why it cannot take it (``breakdown is None``).

    ``filled_base`` may differ from the request by less than one lot (buys round up, sells down).
    ``avg_price`` is quote per base with fees; ``venue_mid`` the venue's own mid.
    """

    instrument: InstrumentId
    is_perp: bool
    breakdown: CostBreakdown | None
    reason: str | None = None
    filled_base: float = 0.0
    quote: float = 0.0
    avg_price: float = math.nan
    venue_mid: float = math.nan
    age_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.breakdown is not None

    @property
    def total(self) -> float:
        """Total bps, ``inf`` when the venue cannot fill."""
        return self.breakdown.total if self.breakdown is not None else math.inf


@dataclass(frozen=True)
class SplitLeg:
    instrument: InstrumentId
    base: float
    quote: float
    breakdown: CostBreakdown


@dataclass(frozen=True)
class SplitCost:
    """The all-in cost of the optimal split across ``legs``; ``breakdown`` is notional-weighted.

    ``excluded`` lists the venues left out before routing (stale, no liquidity...), each with its reason.
    ``reason`` is set when the split cannot fill the order (``unfilled_base > 0``).
    """

    side: Side
    legs: tuple[SplitLeg, ...]
    breakdown: CostBreakdown
    filled_base: float
    unfilled_base: float
    excluded: tuple[VenueCost, ...] = ()
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def total(self) -> float:
        return self.breakdown.total if self.reason is None else math.inf


# --- validation -----------------------------------------------------------------------------------


def _positive(name: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"{name} must be a number, got {v!r}")
    x = float(v)
    if not (x > 0.0 and math.isfinite(x)):
        raise ValueError(f"{name} must be positive and finite, got {v!r}")
    return x


def check_inputs(
    snapshots: Sequence[AnyLiquidity],
    side: object,
    qty_base: object,
    horizon_s: object,
    reference_mid: object,
) -> tuple[Side, float, float, float]:
    """Validate a cost request; returns ``(side, qty, horizon_s, reference_mid)`` or raises ValueError."""
    s = check_side(side)
    qty = _positive("qty_base", qty_base)
    ref = _positive("reference_mid", reference_mid)
    if isinstance(horizon_s, bool) or not isinstance(horizon_s, int | float) or not math.isfinite(horizon_s):
        raise ValueError(f"horizon_s must be a finite number of seconds, got {horizon_s!r}")
    if horizon_s < 0:
        raise ValueError(f"horizon_s must be >= 0, got {horizon_s!r}")
    if not snapshots:
        raise ValueError("snapshots is empty: no venue to price the trade on")
    bases = {snap.instrument.base for snap in snapshots}
    if len(bases) > 1:
        raise ValueError(f"snapshots trade different base assets {sorted(bases)}; price one asset at a time")
    return s, qty, float(horizon_s), ref


# --- components -----------------------------------------------------------------------------------


def expected_funding(perp: PerpLiquidity, horizon_s: float, config: CostConfig) -> float:
    """Expected funding per unit notional over the horizon, as paid by a **long** (fraction).

    The predicted rate, when published, applies to the first hour (the next funding period); after it
    the rate is the mean of current and predicted (just the current one without a prediction) and
    reverts exponentially toward the long-run rate with the half-life fitted for the symbol
    (``funding_fits``) or configured (``funding_half_life_h``); a symbol with neither holds it. A short
    pays the negative of this. 24 h held at 0.001 %/h ⇒ 2.4e-4 (2.4 bps).
    """
    hours = horizon_s / 3600.0
    cur = float(perp.funding_rate_hourly)
    pred = (
        float(perp.predicted_funding_rate_hourly) if perp.predicted_funding_rate_hourly is not None else None
    )
    first = pred if pred is not None else cur
    later = (cur + pred) / 2.0 if pred is not None else cur
    h1 = min(hours, 1.0)
    rest = hours - h1
    if rest <= 0.0:
        return first * h1
    if config.funding_half_life_h is not None:
        lr, half_life = config.funding_long_run_hourly, config.funding_half_life_h
    elif perp.instrument.symbol in config.funding_fits:
        lr, half_life = config.funding_fits[perp.instrument.symbol]
    else:
        return first * h1 + later * rest
    k = math.log(2.0) / half_life
    return first * h1 + lr * rest + (later - lr) * -math.expm1(-k * rest) / k


def _network_quote(snap: AnyLiquidity, ref: float, config: CostConfig, notional: float = 0.0) -> float:
    """One transaction's cost in quote; a spot leg on a CEX (``cex_venues``) adds the withdrawal that
    brings the asset on chain and the price risk of its transfer delay."""
    venue = snap.instrument.venue
    published = float(snap.network_fee)
    if venue in config.cex_venues and not snap.is_perp:
        withdrawal = float(config.withdrawal_fee_quote.get(venue, config.cex_withdrawal_fee_quote))
        delay_bps = config.stale_vol_bps_per_sqrt_s * math.sqrt(config.cex_transfer_delay_s)
        return published + withdrawal + delay_bps * notional / 1e4
    if published > 0.0:
        return published
    if venue in config.solana_venues:
        sol_price = ref if snap.instrument.base == "SOL" else config.sol_price
        return config.solana_tx_lamports / LAMPORTS_PER_SOL * sol_price
    return float(config.withdrawal_fee_quote.get(venue, 0.0))


def staleness_bps(age_s: float, config: CostConfig) -> float:
    """One standard deviation of the price move over the part of the quote's age beyond the threshold."""
    excess = age_s - config.stale_after_s
    return config.stale_vol_bps_per_sqrt_s * math.sqrt(excess) if excess > 0.0 else 0.0


@dataclass(frozen=True)
class _Prepared:
    snap: AnyLiquidity
    side: Side
    source: Source
    venue_mid: float
    age_s: float
    lot: float
    min_size: float

    @cached_property
    def fee_free(self) -> Source:
        """The fee-free curve that separates fee from impact, built only for a venue given a leg (it
        cannot fail where ``source``, the same liquidity with a fee, was built)."""
        return to_source(self.snap, self.side, fee_bps=0.0)


def _prepare(
    snap: AnyLiquidity, side: Side, now_ns: int, config: CostConfig
) -> tuple[_Prepared | None, VenueCost | None]:
    """The venue ready for routing, or a VenueCost saying why it is unusable."""
    age_s = max(now_ns - snap.ts_ns, 0) / 1e9
    fail = VenueCost(snap.instrument, snap.is_perp, None, age_s=age_s)
    if age_s > config.max_quote_age_s:
        why = f"quote is {age_s:.1f} s old, beyond max_quote_age_s={config.max_quote_age_s:g}"
        return None, _with_reason(fail, why)
    try:
        vm = mid(snap)
        src = to_source(snap, side)
    except ValueError as exc:
        return None, _with_reason(fail, str(exc))
    if src.capacity(side) <= 0.0:
        return None, _with_reason(fail, f"no liquidity on the {side} side")
    prep = _Prepared(snap, side, src, vm, age_s, float(snap.lot), float(snap.min_size))
    return prep, None


def _with_reason(vc: VenueCost, reason: str) -> VenueCost:
    return VenueCost(vc.instrument, vc.is_perp, None, reason=reason, age_s=vc.age_s)


def _leg_quote_costs(
    p: _Prepared,
    side: Side,
    base: float,
    quote: float,
    ref: float,
    horizon_s: float,
    config: CostConfig,
    impact_model: ImpactModel | None,
) -> dict[str, float]:
    """One venue's cost components in quote for ``base`` traded against ``quote`` (with fees)."""
    notional = base * ref
    if side == "buy":
        free = p.fee_free.input_for("buy", base)
        fee = quote - free
        impact = free - base * p.venue_mid
        basis = base * (p.venue_mid - ref)
    else:
        free = p.fee_free.output("sell", base)
        fee = free - quote
        impact = base * p.venue_mid - free
        basis = base * (ref - p.venue_mid)
    if impact_model is not None and notional > 0.0:
        static_bps = max(impact / notional * 1e4, 0.0)
        depth = depth_base(p.snap, side)
        feats = ImpactFeatures(static_bps=static_bps, size_over_depth=base / depth if depth > 0 else 1e6)
        impact = impact_model.predict(str(p.snap.instrument), feats) * notional / 1e4
    years = horizon_s / SECONDS_PER_YEAR
    if isinstance(p.snap, PerpLiquidity):
        oracle_notional = base * float(p.snap.oracle_price)
        sign = 1.0 if side == "buy" else -1.0
        funding = sign * expected_funding(p.snap, horizon_s, config) * oracle_notional
        capital = float(p.snap.initial_margin) * oracle_notional * config.capital_rate_annual * years
    else:
        funding = 0.0
        tied = notional if side == "buy" else -notional
        capital = tied * config.capital_rate_annual * years
    legs = 2.0 if config.round_trip else 1.0
    return {
        "fee": legs * fee,
        "impact": legs * impact,
        "basis": basis,
        "network": legs * _network_quote(p.snap, ref, config, notional),
        "funding": funding,
        "capital": capital,
        "staleness": staleness_bps(p.age_s, config) * notional / 1e4,
    }


def _route(preps: Sequence[_Prepared], side: Side, qty: float) -> tuple[list[float], list[float], float]:
    """Base and quote per venue for ``qty`` base, lot grids respected; and the base left unfilled.

    Raises ``ValueError`` when the solver refuses (e.g. more base than a pool's reserve).
    """
    sources = [p.source for p in preps]
    if side == "sell":
        split = optimal_split(sources, "sell", qty, "base")
        bases = list(split.allocations)
        quotes = list(split.outputs)
    else:
        split = optimal_split(sources, "buy", qty, "base")
        bases = snap_buy_to_lots(
            sources, split.outputs, [p.lot for p in preps], [p.min_size for p in preps], qty
        )
        quotes = [p.source.input_for("buy", _within(p.source, b)) for p, b in zip(preps, bases, strict=True)]
    filled = math.fsum(bases)
    return bases, quotes, max(qty - filled, 0.0)


def _within(src: Source, base: float) -> float:
    """``base``, or the venue's whole depth when it exceeds it by float noise only (a whole book taken)."""
    cap = src.curve("buy").total_out
    return cap if cap < base <= cap * (1.0 + 1e-12) else base


def _unfilled_ok(unfilled: float, qty: float, preps: Sequence[_Prepared]) -> bool:
    """Less than one lot short (a sell on a lot grid) is filled; more is not."""
    lot = max((p.lot for p in preps), default=0.0)
    return unfilled <= max(1e-9 * qty, lot * (1.0 + 1e-9))


def _now(snapshots: Sequence[AnyLiquidity], now_ns: int | None) -> int:
    return max(s.ts_ns for s in snapshots) if now_ns is None else int(now_ns)


def venue_costs(
    snapshots: Sequence[AnyLiquidity],
    side: Side,
    qty_base: float,
    horizon_s: float,
    reference_mid: float,
    config: CostConfig | None = None,
    *,
    now_ns: int | None = None,
    impact_model: ImpactModel | None = None,
) -> list[VenueCost]:
    """Each venue's all-in cost of trading the whole ``qty_base`` there, in the snapshots' order.

    A venue that cannot take the order (stale quote, no liquidity that way, not enough depth, a size
    below its minimum) is reported with ``breakdown=None`` and the reason, never dropped. Raises
    ``ValueError`` on bad input: non-positive quantity or reference, unknown side, negative horizon,
    empty snapshots, or snapshots of different base assets.
    """
    s, qty, horizon, ref = check_inputs(snapshots, side, qty_base, horizon_s, reference_mid)
    cfg = config if config is not None else CostConfig()
    now = _now(snapshots, now_ns)
    out: list[VenueCost] = []
    for snap in snapshots:
        prep, fail = _prepare(snap, s, now, cfg)
        if prep is None:
            assert fail is not None
            out.append(fail)
            continue
        base_vc = VenueCost(snap.instrument, snap.is_perp, None, venue_mid=prep.venue_mid, age_s=prep.age_s)
        if prep.min_size > qty * (1.0 + 1e-12):
            out.append(_with_reason(base_vc, f"qty {qty:g} is below the venue's min size {prep.min_size:g}"))
            continue
        try:
            bases, quotes, unfilled = _route([prep], s, qty)
        except ValueError as exc:
            out.append(_with_reason(base_vc, f"cannot fill {qty:g} base: {exc}"))
            continue
        base, quote = bases[0], quotes[0]
        if base <= 0.0 or not _unfilled_ok(unfilled, qty, [prep]):
            why = f"not enough liquidity: {base:g} of {qty:g} base fillable on the {s} side"
            out.append(_with_reason(base_vc, why))
            continue
        costs = _leg_quote_costs(prep, s, base, quote, ref, horizon, cfg, impact_model)
        out.append(
            VenueCost(
                snap.instrument,
                snap.is_perp,
                _breakdown(costs, base * ref),
                filled_base=base,
                quote=quote,
                avg_price=quote / base,
                venue_mid=prep.venue_mid,
                age_s=prep.age_s,
            )
        )
    return out


def split_cost(
    snapshots: Sequence[AnyLiquidity],
    side: Side,
    qty_base: float,
    horizon_s: float,
    reference_mid: float,
    config: CostConfig | None = None,
    *,
    now_ns: int | None = None,
    impact_model: ImpactModel | None = None,
) -> SplitCost:
    """The all-in cost of splitting ``qty_base`` optimally across the usable ``snapshots``.

    The split minimises fee + impact (the solver's objective); the other components follow from the
    allocation. Unusable venues are listed in ``excluded``; if the rest cannot fill the order the
    result carries the reason and the components of what could be filled. Same ``ValueError``s as
    :func:`venue_costs`.
    """
    s, qty, horizon, ref = check_inputs(snapshots, side, qty_base, horizon_s, reference_mid)
    cfg = config if config is not None else CostConfig()
    now = _now(snapshots, now_ns)
    preps: list[_Prepared] = []
    excluded: list[VenueCost] = []
    for snap in snapshots:
        prep, fail = _prepare(snap, s, now, cfg)
        if prep is None:
            assert fail is not None
            excluded.append(fail)
        else:
            preps.append(prep)
    empty = CostBreakdown(notional=0.0)
    if not preps:
        return SplitCost(s, (), empty, 0.0, qty, tuple(excluded), reason="no usable venue")
    try:
        bases, quotes, unfilled = _route(preps, s, qty)
    except ValueError as exc:
        return SplitCost(s, (), empty, 0.0, qty, tuple(excluded), reason=f"cannot fill {qty:g} base: {exc}")
    legs: list[SplitLeg] = []
    total_q = dict.fromkeys(_COMPONENTS, 0.0)
    for p, b, q in zip(preps, bases, quotes, strict=True):
        if b <= 0.0:
            continue
        leg = _leg_quote_costs(p, s, b, q, ref, horizon, cfg, impact_model)
        for c in _COMPONENTS:
            total_q[c] += leg[c]
        legs.append(SplitLeg(p.snap.instrument, b, q, _breakdown(leg, b * ref)))
    filled = math.fsum(bases)
    reason = None
    if not _unfilled_ok(unfilled, qty, preps):
        reason = f"not enough liquidity: {filled:g} of {qty:g} base fillable across {len(preps)} venue(s)"
    return SplitCost(
        s, tuple(legs), _breakdown(total_q, filled * ref), filled, unfilled, tuple(excluded), reason
    )
