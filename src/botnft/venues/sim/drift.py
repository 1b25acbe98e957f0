"""SimDrift: a simulated Drift Protocol v2 perp venue that reproduces the program's integer math.

Build one for a backtest on the bundled SOL perp candles (with mark candles attached)::

    venue = SimDrift([SOL_PERP], collateral=Decimal(1000))       # primary market: SOL-PERP
    venue = SimDrift([SOL_PERP, BTC_PERP], collateral=..., feeds={"BTC-PERP": btc_bars})

The primary market's oracle path comes from the node's bars; other markets' from ``feeds`` (candles
aligned by timestamp). The integer ledger (``DriftAccount``) is authoritative and every event's Decimal
equals it exactly (native / 10**precision). The parts:

* ``drift_params``  market and state parameters (mainnet-like defaults, with sources);
* ``drift_oracle``  the oracle path inside a bar, staleness, Drift's oracle validity rules;
* ``drift_market``  TWAPs and hourly funding (``funding_rate``, ``funding_rate_long_short``): an
  external series where it covers the time, else Drift's formula on the tape's (modelled) mark;
* ``drift_curve``   the finite taker curve that fills orders and that ``liquidity()`` publishes;
* ``drift_account`` positions, margin (IMF size premium), funding settlement, the ledger;
* ``drift_orders``  order checks and the auction/JIT/vAMM fill model;
* ``drift_execution`` the timeline inside a bar; ``drift_liquidation`` the liquidation engine.

Timing: ``process(j)`` walks bar j from its open to its close; the node then may call ``create_order``
at the close. A taker's auction starts at the close it was placed at, so it fills from the next bar.
``next_event_index`` wakes the node for a waiting taker, a funding update of a held market, a bar
that reaches a resting limit or a trigger, and a bar whose extremes could breach maintenance margin.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from decimal import Decimal

from botnft.domain.events import OrderAccepted, OrderCanceled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.domain.liquidity import PerpLiquidity
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_account import DriftAccount, MarginCalc, MarketQuote, position_margin_ratio
from botnft.venues.sim.drift_core import QUOTE, DriftCore, dec
from botnft.venues.sim.drift_execution import run_bar
from botnft.venues.sim.drift_liquidation import Liquidation, liquidation_scan
from botnft.venues.sim.drift_market import ExternalFunding, MarketState
from botnft.venues.sim.drift_oracle import MarkBasis, OracleInjection
from botnft.venues.sim.drift_orders import (
    DriftOrder,
    breaches_oracle_band,
    crosses,
    is_risk_increasing,
    start_auction,
    static_check,
    taker_fill,
    to_native,
)
from botnft.venues.sim.drift_params import SOL_PERP, VENUE, DriftMarketParams, DriftStateParams
from botnft.venues.sim.drift_subaccounts import SubAccounts
from botnft.venues.sim.drift_triggers import TriggerConditions, checked_trigger

_P = dm.PRICE_PRECISION
# a market order used only to derive the published curve (its auction prices and limit)
_PROBE = Order("probe", InstrumentId("SOL-PERP", VENUE), Side.BUY, Decimal(1), 0)


class SimDrift:
    """The simulated venue (``ports.SimulatedVenue``); see the module docstring."""

    has: Mapping[str, bool] = {
        "createOrder": True,
        "cancelOrder": True,
        "fetchBalance": True,
        "fetchPositions": True,
        "fetchOpenOrders": True,
        "market": True,
        "limit": True,
        "stopMarket": True,
        "triggerOrders": True,
        "transferDeposit": True,
        "postOnly": True,
        "reduceOnly": True,
        "ioc": True,
        "fok": True,
    }

    def __init__(
        self,
        markets: Sequence[DriftMarketParams] = (SOL_PERP,),
        *,
        collateral: Decimal | int = 0,
        primary: str | None = None,
        feeds: Mapping[str, BarArrays] | None = None,
        state: DriftStateParams | None = None,
        mark_basis_bps: float = 0.0,
        external_funding: Mapping[str, ExternalFunding] | None = None,
        oracle_injections: Mapping[str, Sequence[OracleInjection]] | None = None,
        high_leverage: bool = False,
        mark_basis: Mapping[str, MarkBasis] | None = None,
    ) -> None:
        self.name = VENUE
        self._liquidity_cache: dict[InstrumentId, tuple[tuple[int, ...], PerpLiquidity]] = {}
        self.trigger_conditions = TriggerConditions()  # drift_triggers: armed before create_order
        self.sub_accounts = SubAccounts()  # drift_subaccounts: reserve collateral of the same authority
        self.core = DriftCore(
            markets,
            collateral=collateral,
            primary=primary,
            feeds=feeds,
            state=state,
            mark_basis_bps=mark_basis_bps,
            external_funding=external_funding,
            oracle_injections=oracle_injections,
            high_leverage=high_leverage,
            mark_basis=mark_basis,
        )

    # state, for inspection -------------------------------------------------------------------------
    @property
    def account(self) -> DriftAccount:
        return self.core.account

    @property
    def markets(self) -> Mapping[int, MarketState]:
        return self.core.markets

    def funding_sources(self) -> dict[str, dict[str, int]]:
        """Per market, how many hourly funding updates each source made (for reports): the external
        series (e.g. ``drift-funding-daily``) where it covered the time, else ``drift formula``."""
        return {self.core.params[i].symbol: dict(m.funding_sources) for i, m in self.core.markets.items()}

    @property
    def liquidations(self) -> Sequence[Liquidation]:
        return self.core.liquidations

    def ledger(self) -> dict[str, int]:
        """Where every quote unit is (native 1e6): account cash, fee pool, insurance fund, counterparty.
        ``account + fee_pool + insurance_fund + counterparty == deposits`` always."""
        a = self.core.account
        return {
            "deposits": a.deposits,
            "account": a.cash,
            "fee_pool": a.fee_pool,
            "insurance_fund": a.insurance_fund,
            "counterparty": a.counterparty_quote,
        }

    # ccxt-style surface ------------------------------------------------------------------------------
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return dict(self.core.instruments)

    def fetch_balance(self) -> Mapping[str, Decimal]:
        """USDC: deposits + realized PnL - fees - funding paid (what the portfolio mirrors)."""
        return {QUOTE: dec(self.core.account.balance, 6)}

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        core = self.core
        return {
            core.params[i].instrument_id: dec(p.base_asset_amount, 9)
            for i, p in core.account.positions.items()
            if p.base_asset_amount
        }

    def fetch_open_orders(self) -> Sequence[Order]:
        return [r.order for r in self.core.orders.values()]

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        rec = self.core.orders.get(client_order_id)
        if rec is None:
            return []
        self.core.close(rec)
        return [OrderCanceled(self.core.now, client_order_id)]

    def arm_trigger(self, client_order_id: str, condition: str) -> None:
        """The trigger condition (``above`` / ``below``) of the trigger order ``create_order`` is about to
        receive under ``client_order_id`` (``drift_triggers``)."""
        self.trigger_conditions.arm(client_order_id, condition)

    def modify_trigger(self, client_order_id: str, trigger_price: Decimal) -> str | None:
        """Move an untriggered trigger order's trigger price (``modify_order``): None, else why not."""
        rec = self.core.orders.get(client_order_id)
        if rec is None or not rec.is_trigger or rec.triggered:
            return f"no untriggered trigger order {client_order_id}"
        native = checked_trigger(trigger_price, self.core.params[rec.market_index].order_tick_size, _P)
        if isinstance(native, str):
            return native
        rec.trigger_price = native
        rec.order.trigger_price = trigger_price
        return None

    def deposit_sub_account(self, sub: int, amount: Decimal) -> None:
        """Fund reserve sub-account ``sub`` (1, 2, ...) of the same authority with ``amount`` USDC."""
        native = to_native(Decimal(amount), dm.QUOTE_PRECISION)
        if native is None or native < 0:
            raise ValueError(f"deposit {amount} must be a non-negative whole number of USDC units")
        self.sub_accounts.deposit(sub, native)

    def sub_account_balance(self, sub: int) -> Decimal:
        """USDC of sub-account ``sub`` (0: the trading account's balance)."""
        if sub == 0:
            return dec(self.core.account.balance, 6)
        return dec(self.sub_accounts.balance(sub), 6)

    def transfer_deposit(self, from_sub: int, to_sub: int, amount: Decimal) -> str | None:
        """``transfer_deposit`` of ``amount`` USDC between two sub-accounts (``drift_subaccounts``): None
        when done, else why the program refuses it."""
        native = to_native(Decimal(amount), dm.QUOTE_PRECISION)
        if native is None:
            return f"amount {amount} is not a whole number of USDC units"
        return self.sub_accounts.transfer(self.core, from_sub, to_sub, native)

    def deposit(self, amount: Decimal) -> None:
        native = to_native(Decimal(amount), dm.QUOTE_PRECISION)
        if native is None or native < 0:
            raise ValueError(f"deposit {amount} must be a non-negative whole number of USDC units")
        self.core.account.deposit(native)

    # margin queries at the venue's clock -------------------------------------------------------------
    def margin(self, kind: str = "initial") -> MarginCalc:
        """Total collateral, margin requirement and free collateral of ``kind`` (initial,
        maintenance, fill) at the venue's clock."""
        core = self.core
        quotes = core.quotes(core.now, core.held() | {core.primary}, action="twap")
        if quotes is None:
            raise RuntimeError("no oracle price yet: drive the venue with bars first")
        return core.account.margin(quotes, kind)

    def liquidation_price(self, symbol: str) -> Decimal | None:
        """``perp_liquidation_price`` of the position in ``symbol``, other markets held still; None
        without a position or a liquidation price."""
        core = self.core
        idx = core.symbol[symbol]
        base = core.account.base(idx)
        quotes = core.quotes(core.now, core.held() | {idx}, action="twap")
        if base == 0 or quotes is None:
            return None
        mc = core.account.margin(quotes, "maintenance")
        worst = abs(core.account.positions[idx].worst_case_base())
        ratio = position_margin_ratio(core.params[idx], worst, "maintenance", core.account.high_leverage)
        free = mc.total_collateral - mc.margin_requirement
        liq = dm.perp_liquidation_price(quotes[idx].oracle_price, free, base, ratio)
        return None if liq < 0 else dec(liq, 6)

    def oracle_valid(self, instrument: InstrumentId, t_ns: int) -> bool:
        """Whether the oracle of ``instrument``'s market at ``t_ns`` passes Drift's margin validity (the
        risk gate refuses new risk otherwise); True for a market not listed or a time without a sample."""
        idx = self.core.index.get(instrument)
        if idx is None:
            return True
        s, ok = self.core.markets[idx].oracle_valid(t_ns, "margin")
        return s is None or ok

    # driving by the node -----------------------------------------------------------------------------
    def set_cursor(self, bars: BarArrays, j: int) -> None:
        self.core.ingest(bars)
        self.core.now = max(self.core.now, int(bars.ts_ns[j]) + int(bars.interval_ns))
        self._ref = Decimal(repr(float(bars.close[j])))
        self._ref_ts = int(bars.ts_ns[j]) + int(bars.interval_ns)

    def liquidity(self, instrument: InstrumentId) -> PerpLiquidity | None:
        """Exactly what a market order placed now meets: the taker curve of each side from the oracle
        ``create_order`` would read (``drift_curve``: JIT, resting orders, vAMM bands, up to the auction
        end), the tier's taker fee, the last hourly funding rate as a fraction of the oracle TWAP, and
        the market's initial margin ratio at zero size (the size premium is ``drift_margin``'s)."""
        core = self.core
        idx = core.index.get(instrument)
        if idx is None or getattr(self, "_ref", None) is None:
            return None
        params = core.params[idx]
        st = core.markets[idx]
        t = self._ref_ts  # the close the node decides at: where create_order reads the oracle
        s = core.tapes[idx].sample(t)
        if s is None:
            return None
        key = (idx, t, s.price, st.last_funding_rate, st.oracle_twap)
        cached = self._liquidity_cache.get(instrument)
        if cached is not None and cached[0] == key:
            return cached[1]
        sides = {}
        for direction in (1, -1):
            rec = DriftOrder(_PROBE, "", idx, direction, 0)
            start_auction(rec, s.price, t, params, core.state)
            _, levels = taker_fill(rec, s.price, params, core.state)
            sides[direction] = tuple((dec(p, 6), dec(b, 9)) for p, b, _ in levels)
        rate = Decimal(0)
        if st.oracle_twap > 0:
            rate = (
                Decimal(st.last_funding_rate)
                / dm.FUNDING_RATE_PRECISION
                / (Decimal(st.oracle_twap) / dm.PRICE_PRECISION)
            )
        inst = core.instruments[instrument]
        snap = PerpLiquidity(
            instrument=instrument,
            ts_ns=t,
            fee_bps=Decimal(core.state.fee_tier.fee_numerator * 10_000) / core.state.fee_tier.fee_denominator,
            lot=inst.lot_size,
            min_size=inst.min_size,
            oracle_price=dec(s.price, 6),
            funding_rate_hourly=rate,
            initial_margin=Decimal(params.margin_ratio_initial) / dm.MARGIN_PRECISION,
            bids=sides[-1],
            asks=sides[1],
        )
        self._liquidity_cache[instrument] = (key, snap)  # the curve is a pure function of the key
        return snap

    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        core = self.core
        core.ingest(bars)
        if lo >= hi:
            return hi
        if core.orders and any(r.taker for r in core.orders.values()):
            return lo
        ts = core.batch_ts(bars)  # the batch's open times as Python ints: bisect is searchsorted
        interval = int(bars.interval_ns)
        bound = hi
        for idx, pos in core.account.positions.items():
            if pos.base_asset_amount:  # a held market (core.held()) with a position
                nxt = core.markets[idx].next_funding_ns()
                bound = min(bound, max(lo, bisect_left(ts, nxt - interval)))
        if bound <= lo:
            return lo
        t0, t1 = ts[lo], ts[bound - 1] + interval
        for rec in core.orders.values():
            level, below = (
                (rec.trigger_price, rec.trigger_below)
                if rec.is_trigger and not rec.triggered
                else (rec.price, rec.direction > 0)
            )
            hit = core.tapes[rec.market_index].first_bar_through(t0, t1, level, below)
            if hit is not None:
                bound = min(bound, max(lo, bisect_right(ts, hit) - 1))
        if bound <= lo:
            return lo
        return liquidation_scan(core, bars, lo, bound)

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        self.core.ingest(bars)
        return run_bar(self.core, bars, j)

    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        """Check the order as Drift would and accept it; a taker's auction starts now and fills from the
        next bar. A bad order is never raised: it comes back as ``OrderRejected`` with its reason."""
        core = self.core
        pre: list[VenueEvent] = []

        def reject(reason: str, message: str) -> list[VenueEvent]:
            return [
                *pre,
                OrderRejected(order.ts_ns, order.client_order_id, order.instrument, reason, message),
            ]

        idx = core.index.get(order.instrument)
        if idx is None:
            return reject("unknown_market", f"{self.name} lists no market {order.instrument}")
        if order.client_order_id in core.orders:
            return reject("duplicate_order_id", f"order {order.client_order_id} is already open")
        params = core.params[idx]
        checked = static_check(order, params)
        if isinstance(checked[0], str):
            return reject(str(checked[0]), str(checked[1]))
        base, price, trigger = (int(x) for x in checked)
        t = core.now
        pre.extend(core.goto(t))
        quotes = core.quotes(t, core.held() | {idx}, action="margin")
        if quotes is None:
            return reject("oracle_invalid", "the oracle is missing, stale, too uncertain or too volatile")
        oracle = quotes[idx].oracle_price
        direction = order.side.sign
        pos = core.account.position(idx)
        held = pos.base_asset_amount
        if order.reduce_only and not (held * direction < 0 and base <= abs(held)):
            return reject(
                "reduce_only_would_increase",
                f"reduce-only {order.side.value} {order.amount} vs {dec(held, 9)}",
            )
        if order.order_type is OrderType.LIMIT and order.trigger_price is None:
            if order.tif is TimeInForce.POST_ONLY and crosses(direction, price, oracle):
                return reject(
                    "post_only_would_cross", f"post-only {price / _P} crosses the oracle {oracle / _P}"
                )
            if breaches_oracle_band(price, direction, oracle, params.margin_ratio_initial):
                band = params.margin_ratio_initial / 100
                return reject(
                    "outside_oracle_band", f"limit {price / _P} is {band}%+ past the oracle {oracle / _P}"
                )
        if sum(p.open_orders for p in core.account.positions.values()) >= core.state.max_open_orders:
            return reject("too_many_orders", f"at most {core.state.max_open_orders} open orders")
        rec = DriftOrder(order, f"{self.name}-{core.order_count + 1}", idx, direction, base, price, trigger)
        rec.trigger_below = self.trigger_conditions.take(order) == "below"
        if is_risk_increasing(direction, base, held, pos.open_bids, pos.open_asks, order.reduce_only):
            short = self._initial_shortfall(rec, quotes)
            if short > 0:
                return reject(
                    "insufficient_collateral", f"initial margin short by {dec(short, 6)} USDC after fees"
                )
        core.order_count += 1
        core.orders[order.client_order_id] = rec
        pos.open_orders += 1
        if not rec.is_trigger:
            core.book(rec)
            if not rec.is_limit or rec.immediate or crosses(direction, price, oracle):
                start_auction(rec, oracle, t, params, core.state)
        return [*pre, OrderAccepted(order.ts_ns, order.client_order_id, rec.venue_order_id)]

    def _initial_shortfall(self, rec: DriftOrder, quotes: dict[int, MarketQuote]) -> int:
        """Initial-margin shortfall with ``rec`` counted as an open order, after its estimated taker fee
        (``meets_place_order_margin_requirement``)."""
        account = self.core.account
        pos = account.position(rec.market_index)
        saved = (pos.open_orders, pos.open_bids, pos.open_asks)
        pos.open_orders += 1
        if rec.direction > 0:
            pos.open_bids += rec.base
        else:
            pos.open_asks -= rec.base
        try:
            mc = account.margin(quotes, "initial")
        finally:
            pos.open_orders, pos.open_bids, pos.open_asks = saved
        ref = rec.price or rec.trigger_price or quotes[rec.market_index].oracle_price
        fee, _ = dm.tier_fees(rec.base * ref // dm.BASE_PRECISION, self.core.state.fee_tier)
        return mc.margin_requirement - (mc.total_collateral - fee)
