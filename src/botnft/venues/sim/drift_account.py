"""A SimDrift user account: cross-margined USDC collateral, perp positions, margin math and a ledger.

Positions follow ``controller/position.rs::update_position_and_market`` (quote entry and break-even
amounts reduced pro rata, truncating; realized PnL), fees and funding go through the position's quote
amount as on chain (``update_quote_asset_and_break_even_amount``), and margin follows
``math/margin.rs::calculate_perp_position_value_and_pnl`` and ``state/margin_calculation.rs``.

After every action the simulator runs ``settle_pnl`` for the account (as a keeper or the user would):
the realized part of each position (``quote_asset_amount - quote_entry_amount``: realized PnL, fees
and funding) moves into the USDC balance, losses only as far as the balance goes. So the USDC balance
is exactly what the portfolio mirrors from the events, and unrealized PnL is ``base*oracle + entry``.

Ledger: every quote unit moves between the account, the fee pool, the insurance fund and the
counterparty (makers, the AMM, liquidators, the funding counterparties), so
``account cash + fee pool + insurance fund + counterparty == deposits`` to the unit at all times, and
the counterparty holds the opposite of every base unit the account holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from botnft.domain import drift_margin
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_math import BASE_PRECISION, MARGIN_PRECISION, OPEN_ORDER_MARGIN_REQUIREMENT
from botnft.venues.sim.drift_params import DriftMarketParams
from botnft.venues.sim.intmath import tdiv


@dataclass(slots=True)
class PerpPosition:
    """``state/user.rs::PerpPosition`` (the fields the simulator uses)."""

    market_index: int
    base_asset_amount: int = 0
    quote_asset_amount: int = 0
    quote_entry_amount: int = 0
    quote_break_even_amount: int = 0
    last_cumulative_funding_rate: int = 0
    open_orders: int = 0
    open_bids: int = 0
    open_asks: int = 0

    def worst_case_base(self) -> int:
        """``PerpPosition::worst_case_base_asset_amount``: all bids or all asks filled, the larger."""
        bids = self.base_asset_amount + self.open_bids
        asks = self.base_asset_amount + self.open_asks
        return bids if abs(bids) > abs(asks) else asks

    @property
    def is_empty(self) -> bool:
        return self.base_asset_amount == 0 and self.quote_asset_amount == 0 and self.open_orders == 0


@dataclass(frozen=True, slots=True)
class MarketQuote:
    """What the margin math needs to know about a market at one instant."""

    params: DriftMarketParams
    oracle_price: int
    cumulative_funding_rate_long: int
    cumulative_funding_rate_short: int

    def cumulative(self, base: int) -> int:
        return self.cumulative_funding_rate_long if base > 0 else self.cumulative_funding_rate_short


@dataclass(frozen=True, slots=True)
class MarginCalc:
    """``state/margin_calculation.rs::MarginCalculation`` (quote units)."""

    kind: str
    total_collateral: int
    margin_requirement: int
    margin_requirement_plus_buffer: int
    tracked_requirement: int = 0

    @property
    def free_collateral(self) -> int:
        return max(0, self.total_collateral - self.margin_requirement)

    @property
    def meets(self) -> bool:
        return self.total_collateral >= self.margin_requirement

    @property
    def can_exit_liquidation(self) -> bool:
        return self.total_collateral >= self.margin_requirement_plus_buffer

    @property
    def margin_shortage(self) -> int:
        return abs(self.margin_requirement_plus_buffer - self.total_collateral)

    def tracked_shortage(self, shortage: int) -> int:
        if self.margin_requirement == 0:
            return 0
        return shortage * self.tracked_requirement // self.margin_requirement


def position_margin_ratio(params: DriftMarketParams, size: int, kind: str, high_leverage: bool) -> int:
    """``PerpMarket::get_margin_ratio`` at ``size`` (|base|, 1e9) for this market's parameters."""
    return drift_margin.margin_ratio(
        size,
        imr=params.margin_ratio_initial,
        mmr=params.margin_ratio_maintenance,
        imf_factor=params.imf_factor,
        hlm_imr=params.high_leverage_margin_ratio_initial,
        hlm_mmr=params.high_leverage_margin_ratio_maintenance,
        kind=kind,
        high_leverage=high_leverage,
    )


@dataclass(slots=True)
class DriftAccount:
    """The user (one sub-account) and the ledger of where every quote unit went."""

    usdc: int = 0
    high_leverage: bool = False
    positions: dict[int, PerpPosition] = field(default_factory=dict)
    being_liquidated: bool = False
    last_active_slot: int = 0
    liquidation_margin_freed: int = 0
    deposits: int = 0
    fee_pool: int = 0
    insurance_fund: int = 0
    counterparty_quote: int = 0
    counterparty_base: dict[int, int] = field(default_factory=dict)
    liquidator_fees: int = 0
    bankruptcy_covered: int = 0

    # balances ----------------------------------------------------------------------------------------
    def deposit(self, amount: int) -> None:
        if amount < 0:
            raise ValueError("deposit must be non-negative")
        self.usdc += amount
        self.deposits += amount

    def position(self, market_index: int) -> PerpPosition:
        pos = self.positions.get(market_index)
        if pos is None:
            pos = self.positions[market_index] = PerpPosition(market_index)
        return pos

    def base(self, market_index: int) -> int:
        pos = self.positions.get(market_index)
        return 0 if pos is None else pos.base_asset_amount

    @property
    def cash(self) -> int:
        """USDC plus every position's quote amount: the account's side of the ledger."""
        return self.usdc + sum(p.quote_asset_amount for p in self.positions.values())

    @property
    def balance(self) -> int:
        """Cash excluding open positions' cost basis: deposits + realized PnL - fees - funding paid."""
        return self.usdc + sum(p.quote_asset_amount - p.quote_entry_amount for p in self.positions.values())

    def conservation_residual(self) -> int:
        """``cash + fee pool + insurance fund + counterparty - deposits`` (always 0)."""
        return self.cash + self.fee_pool + self.insurance_fund + self.counterparty_quote - self.deposits

    # margin ------------------------------------------------------------------------------------------
    def margin(
        self, quotes: Mapping[int, MarketQuote], kind: str, *, buffer: int = 0, track: int | None = None
    ) -> MarginCalc:
        """Total collateral and margin requirement of ``kind`` (initial, maintenance or fill)."""
        total = self.usdc
        req_sum = req_buf = tracked = 0
        for idx, pos in self.positions.items():
            if pos.is_empty:
                continue
            q = quotes[idx]
            p = q.params
            price = q.oracle_price
            base = pos.base_asset_amount
            unrealized_funding = (
                dm.funding_payment(q.cumulative(base) - pos.last_cumulative_funding_rate, base) if base else 0
            )
            upnl = tdiv(base * price, BASE_PRECISION) + pos.quote_asset_amount + unrealized_funding
            worst = abs(pos.worst_case_base())
            liability = worst * price // BASE_PRECISION
            ratio = position_margin_ratio(p, worst, kind, self.high_leverage)
            req = liability * ratio // MARGIN_PRECISION + pos.open_orders * OPEN_ORDER_MARGIN_REQUIREMENT
            if upnl > 0:
                weight = (
                    p.unrealized_pnl_maintenance_asset_weight
                    if kind == "maintenance"
                    else p.unrealized_pnl_initial_asset_weight
                )
                if weight != MARGIN_PRECISION:
                    upnl = tdiv(upnl * weight, MARGIN_PRECISION)
            if kind == "initial":
                upnl = min(upnl, dm.MAX_POSITIVE_UPNL_FOR_INITIAL_MARGIN)
            total += upnl
            req_sum += req
            if buffer:
                req_buf += req + liability * buffer // MARGIN_PRECISION
            if idx == track:
                tracked += req
        return MarginCalc(kind, total, req_sum, req_buf, tracked)

    # position changes --------------------------------------------------------------------------------
    def trade(self, market_index: int, delta_base: int, quote: int, cumulative: tuple[int, int]) -> int:
        """Apply a fill of ``delta_base`` (signed) for ``quote`` (unsigned) against the counterparty;
        returns the realized PnL. ``cumulative`` = the market's (long, short) cumulative funding rates."""
        pos = self.position(market_index)
        delta_quote = -quote if delta_base > 0 else quote
        pnl = update_position(pos, delta_base, delta_quote, cumulative)
        self.counterparty_quote -= delta_quote
        self.counterparty_base[market_index] = self.counterparty_base.get(market_index, 0) - delta_base
        return pnl

    def charge(self, market_index: int, amount: int, to: str) -> None:
        """Move ``amount`` (negative: credit) from the position's quote to ``to`` (fee_pool,
        insurance_fund or counterparty), through quote and break-even amounts."""
        pos = self.position(market_index)
        pos.quote_asset_amount -= amount
        pos.quote_break_even_amount -= amount
        if to == "fee_pool":
            self.fee_pool += amount
        elif to == "insurance_fund":
            self.insurance_fund += amount
        elif to == "counterparty":
            self.counterparty_quote += amount
        else:
            raise ValueError(f"unknown ledger account {to!r}")

    def settle_funding(self, market_index: int, quote: MarketQuote) -> int:
        """``controller/funding.rs::settle_funding_payment``; returns the payment (positive: received)."""
        pos = self.positions.get(market_index)
        if pos is None or pos.base_asset_amount == 0:
            return 0
        cum = quote.cumulative(pos.base_asset_amount)
        if cum == pos.last_cumulative_funding_rate:
            return 0
        payment = dm.funding_payment(cum - pos.last_cumulative_funding_rate, pos.base_asset_amount)
        pos.last_cumulative_funding_rate = cum
        self.charge(market_index, -payment, "counterparty")
        return payment

    def settle_pnl(self) -> None:
        """Move each position's realized quote (PnL, fees, funding) into USDC; losses only as far as the
        USDC balance goes (the rest stays on the position, as an unsettled loss)."""
        for pos in self.positions.values():
            realized = pos.quote_asset_amount - pos.quote_entry_amount
            if realized < 0:
                realized = max(realized, -self.usdc)
            self.usdc += realized
            pos.quote_asset_amount -= realized

    def resolve_bankruptcy(self) -> int:
        """If every position is closed and a loss is left that USDC cannot cover, the insurance fund
        pays it (``resolve_perp_bankruptcy``, first tranche); returns the amount covered."""
        if any(p.base_asset_amount for p in self.positions.values()) or self.usdc > 0:
            return 0
        covered = 0
        for pos in self.positions.values():
            if pos.quote_asset_amount < 0:
                covered -= pos.quote_asset_amount
                self.insurance_fund += pos.quote_asset_amount
                pos.quote_asset_amount = 0
                pos.quote_break_even_amount = 0
        self.bankruptcy_covered += covered
        return covered


def update_position(pos: PerpPosition, delta_base: int, delta_quote: int, cumulative: tuple[int, int]) -> int:
    """``controller/position.rs::update_position_and_market`` for the user side; returns realized PnL."""
    base = pos.base_asset_amount
    new_base = base + delta_base
    if base == 0 or (base > 0) == (delta_base > 0):
        kind = "open" if base == 0 else "increase"
        new_entry = pos.quote_entry_amount + delta_quote
        new_break_even = pos.quote_break_even_amount + delta_quote
        pnl = 0
    elif abs(base) >= abs(delta_base):
        kind = "close" if abs(base) == abs(delta_base) else "reduce"
        new_entry = pos.quote_entry_amount - tdiv(pos.quote_entry_amount * abs(delta_base), abs(base))
        new_break_even = pos.quote_break_even_amount - tdiv(
            pos.quote_break_even_amount * abs(delta_base), abs(base)
        )
        pnl = pos.quote_entry_amount - new_entry + delta_quote
    else:
        kind = "flip"
        new_break_even = delta_quote - tdiv(delta_quote * abs(base), abs(delta_base))
        new_entry = new_break_even
        pnl = pos.quote_entry_amount + delta_quote - new_break_even
    if kind == "close":
        pos.last_cumulative_funding_rate = 0
    elif kind in ("open", "flip"):
        pos.last_cumulative_funding_rate = cumulative[0] if new_base > 0 else cumulative[1]
    pos.quote_asset_amount += delta_quote
    pos.quote_entry_amount = new_entry
    pos.quote_break_even_amount = new_break_even
    pos.base_asset_amount = new_base
    return pnl
