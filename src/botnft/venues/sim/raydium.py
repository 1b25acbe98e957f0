"""SimRaydium: one simulated Raydium pool (AMM v4, CPMM or CLMM) as a venue the trading node trades
against, held in native integers and kept at the market price by arbitrageurs.

Orders. A MARKET BUY of `amount` base is an exact-output swap (quote in), a SELL an exact-input swap, both
priced by the program math in `raydium_math`. ``order.price`` on a market order (or an IOC/FOK limit
order) is the worst acceptable average price, fees included, checked as the program checks
``other_amount_threshold`` (max input floor(price·qty), min output ceil(price·qty), in native units).
Amounts off the base mint's native grid are rejected ("off_lot"), never rounded. Every user mistake is
an `OrderRejected` event, never an exception.

Fees. The pool's fee is part of the swap (taken in the input token, as the programs do; CPMM's creator
fee and a CLMM with ``fee_on`` 1/2 may take it from the output). `OrderFilled.fee` reports it in the
quote asset: a fee in base is converted at the swap's own curve price (quote through the curve / base
through the curve) and rounded up to one native quote unit; that conversion is the only rounding, and it
only moves value between ``quote_qty`` and ``fee``: a BUY pays exactly ``quote_qty + fee`` and a SELL
receives exactly ``quote_qty - fee`` native quote (what the portfolio books). The exact native fees per
token are in `account_fees` and in each `SwapRecord`.

Replay. At `set_cursor(bars, j)` (and again before every swap) arbitrageurs trade the pool back to the
bar's close, the reference: with γ the share of a trade left after fees, there is no arbitrage while the
marginal price is within [ref·γ, ref/γ]; outside it they swap (exact input, program math) until it is
back on the band's edge, and the arbitrageur's ledger is the counterparty. The pool catches up once per
observation, not every bar: the intermediate arbitrage flow (and the LP fees it would pay) is ignored.
For a constant-product pool the reserves after catching up depend only on the final price, up to those
fees. A CLMM can also re-center its LP bands (see `raydium_pools.ClmmEngine.recenter`); the tokens LPs
take out or put in are in `liquidity_providers`.

Execution on chain (`SolanaExecution`, on when the venue is built with one, as `venue_builders` does). A
swap is simulated at the decision (a preflight: a swap whose quote misses its price limit is refused and
pays nothing), then lands a few slots later (`LatencyModel`): arbitrageurs first move the pool to where
the price has gone by then (`solana.latency_price`: a seeded draw of the decision bar's own intra-bar
volatility over the wait; nothing after the decision is read), and a swap that now
misses its limit fails on chain and still pays its network fee (`failed`, `failed_fees`). A landed public
swap may be sandwiched (`MevModel`): it then executes exactly at its limit and the attacker keeps the
difference (`sandwichers`, `sandwiches`). Arbitrageurs act only when it pays the pool fee, the CEX fee of
their hedge and their transaction (`ArbitrageTerms`).

Conservation, per token and to the native unit: account + vault + arbitrageur + liquidity_providers +
validators + sandwichers == the opening totals, where vault = reserves + protocol + fund + creator fees
(`SimRaydium.totals`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from types import MappingProxyType

from botnft.domain.errors import DataError, InsufficientFunds, InvalidOrder, Rejected, UserError
from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Spot
from botnft.domain.liquidity import ClmmLiquidity, CpmmLiquidity
from botnft.domain.money import to_decimal
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim.intmath import ceil_div
from botnft.venues.sim.raydium_config import ClmmPosition, PoolConfig, Token
from botnft.venues.sim.raydium_landing import SOLANA_SWAP_FEE_USD, SwapLanding, to_native, to_units
from botnft.venues.sim.raydium_math import RaydiumMathError
from botnft.venues.sim.raydium_pools import ClmmEngine, PoolEngine, SwapQuote, make_engine
from botnft.venues.sim.raydium_views import (
    SwapRecord,
    clmm_ranges,
    hedge_share,
    pool_fee_bps,
    references,
    reject_reason,
)
from botnft.venues.sim.solana import SolanaExecution, SolanaFees
from botnft.venues.sim.wallet import PairView, SolanaWallet

__all__ = ["PRICE_STEP", "SOLANA_SWAP_FEE_USD", "SimRaydium", "SwapRecord", "to_native", "to_units"]

PRICE_STEP = Decimal("0.00000001")
"""Average fill prices are shown rounded to 1e-8; the ledger uses the exact ``quote_qty``."""


class SimRaydium(SwapLanding):
    """One Raydium pool as a venue listing ``BASE/QUOTE.<name>``; see the module docstring."""

    has: Mapping[str, bool] = MappingProxyType(
        {"createOrder": True, "market": True, "limitIoc": True, "cancelOrder": False, "fetchBalance": True}
    )
    #: A pool has no work of its own between the driver's calls: `next_event_index` returns ``hi`` and
    #: `process` nothing, so the driver need not ask (a subclass that changes either sets it False).
    passive = True

    def __init__(
        self,
        pool: PoolConfig,
        *,
        name: str = "RAYDIUM",
        balances: Mapping[str, Decimal] | None = None,
        min_size: Decimal = Decimal("0.001"),
        solana_fees: SolanaFees | None = None,
        wallet: SolanaWallet | None = None,
        execution: SolanaExecution | None = None,
    ) -> None:
        """`balances`: the account's own opening balances; with a shared `wallet` they are moved into it
        and the pool trades from the wallet (see `use_wallet`). `execution`: latency, failed transactions,
        sandwiching and arbitrage costs (its fees replace `solana_fees`); None lands every swap at the
        decision price, unsandwiched."""
        self.name = name
        #: The network fee of each direct swap transaction (base + priority), paid in USDC at the reference
        #: price from the account to the validators; None = free (the math-only tests).
        self.solana_fees = execution.fees if execution is not None else solana_fees
        self.execution = execution
        self.latency = execution.latency(name) if execution is not None and execution.moves else None
        self._rng = execution.rng(name) if execution is not None else None
        self._move_rng = execution.rng(name, "move") if execution is not None else None
        self.validators = [0, 0]
        #: what sandwich attackers took from the account, per token
        self.sandwichers = [0, 0]
        self.sandwiches = 0
        #: swaps that passed the preflight but missed their limit when they landed, and the fees they paid
        self.failed = 0
        self.failed_fees = 0
        self.landed = 0
        self._bars: BarArrays | None = None
        self._cursor = -1
        self.config = pool
        self.engine: PoolEngine = make_engine(pool)
        self.tokens: tuple[Token, Token] = (pool.base, pool.quote)
        base, quote = self.tokens
        lot = Decimal(1).scaleb(-base.decimals)
        if min_size <= 0 or to_native(min_size, base) is None:
            raise UserError(f"min_size {min_size} must be a positive multiple of {lot} {base.symbol}")
        self.instrument = Spot(
            InstrumentId(f"{base.symbol}/{quote.symbol}", name),
            base.symbol,
            quote.symbol,
            tick_size=PRICE_STEP,
            lot_size=lot,
            min_size=min_size,
        )
        given = dict(balances or {})
        unknown = set(given) - {base.symbol, quote.symbol}
        if unknown:
            raise UserError(
                f"{name} holds only {base.symbol} and {quote.symbol}, not {', '.join(sorted(unknown))}"
            )
        self.account: list[int] | PairView = [0, 0]
        for i, tok in enumerate(self.tokens):
            n = to_native(to_decimal(given.get(tok.symbol, Decimal(0))), tok)
            if n is None or n < 0:
                raise UserError(
                    f"balance {given[tok.symbol]} {tok.symbol} is not a whole number of native units"
                )
            self.account[i] = n
        #: The market outside the pool: arbitrageurs pay in (negative) what they take out of the pool.
        self.arbitrageur = [0, 0]
        #: Tokens LPs withdrew (positive) or deposited (negative) when re-centering after the opening.
        self.liquidity_providers = [0, 0]
        #: Exact fees the account paid, per token (base, quote), native units.
        self.account_fees = [0, 0]
        self.swaps: list[SwapRecord] = []
        self.arbitrages = 0
        self.reference: Decimal | None = None
        self._reference_native: Fraction | None = None
        self._ts_ns = 0
        self._liquidity: tuple[tuple[object, ...], CpmmLiquidity | ClmmLiquidity] | None = None
        #: a CLMM's positions and the ranges the router is shown for them
        self._ranges: (
            tuple[list[tuple[int, ClmmPosition]], tuple[tuple[Decimal, Decimal, Decimal], ...]] | None
        ) = None
        #: (native reference, reference, pool state) of the last catch-up that changed nothing: the same
        #: inputs again change nothing again, so that catch-up is skipped
        self._settled: tuple[Fraction, Decimal | None, object] | None = None
        #: (fee factor, fee in bps) of the last snapshot
        self._bps_memo: tuple[Fraction, Decimal] | None = None
        if wallet is not None:
            self.use_wallet(wallet)
        self.initial_totals = self.totals()

    # wiring ---------------------------------------------------------------------------------------
    @property
    def wallet(self) -> SolanaWallet | None:
        """The shared Solana wallet the account is a view of, or None when the pool keeps its own."""
        return self.account.wallet if isinstance(self.account, PairView) else None

    def use_wallet(self, wallet: SolanaWallet) -> None:
        """Trade from `wallet` from now on: the balances the account held are credited to it and the
        account becomes a view of it. Nothing happens when the account already is a view of it."""
        if self.wallet is wallet:
            return
        b, q = (t.symbol for t in self.tokens)
        for sym, n in zip((b, q), list(self.account), strict=True):
            wallet.credit(sym, n)
        self.account = wallet.pair(b, q)

    # ccxt-style surface ---------------------------------------------------------------------------
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {self.instrument.id: self.instrument}

    def fetch_balance(self) -> Mapping[str, Decimal]:
        return {tok.symbol: to_units(n, tok) for tok, n in zip(self.tokens, self.account, strict=True)}

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return {}

    def fetch_open_orders(self) -> Sequence[Order]:
        return []

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        return []

    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        """Swap now; a refusal is an `OrderRejected` with a specific reason, never an exception."""
        paid = self.failed_fees
        try:
            return [self._swap(order)]
        except Rejected as exc:
            quote = self.tokens[1]
            fee = to_units(self.failed_fees - paid, quote)  # a landed swap that failed still paid its fee
            refusal = OrderRejected(
                order.ts_ns, order.client_order_id, order.instrument, exc.reason, str(exc), fee, quote.symbol
            )
            return [refusal]

    # driving by the backtest ----------------------------------------------------------------------
    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        return hi  # a pool has no resting work

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        return []

    def set_cursor(self, bars: BarArrays, j: int) -> None:
        """Take bar j's close as the reference and let arbitrageurs bring the pool to it."""
        close = float(bars.close[j])
        if not (math.isfinite(close) and close > 0):
            raise DataError(f"bar {j} has no usable close ({close}) to price the {self.name} pool against")
        self.reference, self._reference_native = references(close, *self.tokens)
        self._ts_ns = int(bars.ts_ns[j]) + int(bars.interval_ns)
        self._bars, self._cursor = bars, j
        self.catch_up()

    def liquidity(self, instrument: InstrumentId) -> CpmmLiquidity | ClmmLiquidity | None:
        """The pool as the router sees it, in base/quote units: reserves for a constant-product pool;
        price and positions (sqrt-price liquidity scaled by 10^-(decimals_base + decimals_quote)/2) for
        a CLMM. The fee is the pool's trade fee."""
        if instrument != self.instrument.id:
            return None
        self.catch_up()  # the pool as the next swap meets it: arbitrageurs act between blocks
        eng = self.engine
        state = eng.pool if isinstance(eng, ClmmEngine) else eng.reserves()  # a CLMM's pool is frozen
        key = (state, self._ts_ns, eng.fee_factor, self._network_fee_units())
        cached = self._liquidity
        prev = None
        if cached is not None:
            held = cached[0][0]
            if held is state or (isinstance(held, tuple) and held == state):
                if cached[0][1:] == key[1:]:
                    return cached[1]  # the pool has not changed: the same snapshot
                prev = cached[1]  # the same pool at another time or fee: its price and reserves again
        out = self._snapshot(prev)
        self._liquidity = (key, out)
        return out

    def _snapshot(self, prev: CpmmLiquidity | ClmmLiquidity | None = None) -> CpmmLiquidity | ClmmLiquidity:
        """The pool as the router sees it; `prev`, a snapshot of the pool in the same state, lends its
        price (a CLMM) or reserves (a constant-product pool), which depend on nothing else."""
        base, quote = self.tokens
        eng = self.engine
        ff = eng.fee_factor
        held_bps = getattr(self, "_bps_memo", None)  # (none on a venue pickled before it)
        if held_bps is not None and held_bps[0] is ff:
            fee_bps = held_bps[1]  # the same (cached, frozen) fee factor: no hash of the Fraction
        else:
            fee_bps = pool_fee_bps(ff)
            self._bps_memo = (ff, fee_bps)
        inst = self.instrument
        if isinstance(eng, ClmmEngine):
            held = self._ranges
            if held is not None and held[0] == eng.positions:
                ranges = held[1]  # the same positions: the same ranges
            else:
                ranges = clmm_ranges(eng.positions, base, quote)
                self._ranges = (list(eng.positions), ranges)
            if isinstance(prev, ClmmLiquidity):
                price = prev.price
            else:  # the marginal price sqrt²/2^128 · 10^(b - q) as one correctly rounded division (the
                # quotient of the exact integers, reduced or not: the same Decimal as from the Fraction)
                sq = eng.pool.sqrt_price_x64
                price = Decimal(sq * sq * 10**base.decimals) / Decimal((1 << 128) * 10**quote.decimals)
            return ClmmLiquidity(
                instrument=inst.id,
                ts_ns=self._ts_ns,
                fee_bps=fee_bps,
                lot=inst.lot_size,
                min_size=inst.min_size,
                network_fee=self._network_fee_units(),
                price=price,
                ranges=ranges,
            )
        if isinstance(prev, CpmmLiquidity) and prev.float_reserves is not None:
            base_reserve, quote_reserve = prev.base_reserve, prev.quote_reserve
            float_reserves = prev.float_reserves
        else:
            rb, rq = eng.reserves()
            base_reserve, quote_reserve = to_units(rb, base), to_units(rq, quote)
            float_reserves = (rb / 10**base.decimals, rq / 10**quote.decimals)
        return CpmmLiquidity(
            instrument=inst.id,
            ts_ns=self._ts_ns,
            fee_bps=fee_bps,
            lot=inst.lot_size,
            min_size=inst.min_size,
            network_fee=self._network_fee_units(),
            base_reserve=base_reserve,
            quote_reserve=quote_reserve,
            float_reserves=float_reserves,
        )

    # state ----------------------------------------------------------------------------------------
    def marginal_price(self) -> Fraction:
        """The pool's marginal price in quote per base (exact)."""
        base, quote = self.tokens
        n, d = self.engine.price_ratio()  # price() = n/d, d > 0: one Fraction of the same value
        return Fraction(n * 10**base.decimals, d * 10**quote.decimals)

    def reserves(self) -> dict[str, int]:
        return self._by_symbol(self.engine.reserves())

    def ledger(self) -> dict[str, dict[str, int]]:
        """Every account that holds the pool's tokens, native units, by token symbol."""
        e = self.engine
        return {
            "account": self._by_symbol(tuple(self.account)),
            "reserves": self.reserves(),
            "protocol_fees": self._by_symbol(e.protocol_fees),
            "fund_fees": self._by_symbol(e.fund_fees),
            "creator_fees": self._by_symbol(e.creator_fees),
            "arbitrageur": self._by_symbol(self.arbitrageur),
            "liquidity_providers": self._by_symbol(self.liquidity_providers),
            "lp_fees_earned": self._by_symbol(e.lp_fees),
            "account_fees": self._by_symbol(self.account_fees),
            "validators": self._by_symbol(self.validators),
            "sandwichers": self._by_symbol(self.sandwichers),
        }

    def totals(self) -> dict[str, int]:
        """Per token: account + vault + arbitrageur + liquidity providers (constant: conservation)."""
        parts = (
            self.account,
            self.engine.vault,
            self.arbitrageur,
            self.liquidity_providers,
            self.validators,
            self.sandwichers,
        )
        return self._by_symbol([sum(p[i] for p in parts) for i in (0, 1)])

    def _by_symbol(self, pair: Sequence[int]) -> dict[str, int]:
        return {self.tokens[0].symbol: pair[0], self.tokens[1].symbol: pair[1]}

    # an aggregator's legs ---------------------------------------------------------------------------
    def catch_up(self, reference: Fraction | None = None) -> None:
        """Let arbitrageurs trade the pool back to the reference (done before every swap of this venue;
        an aggregator calls it before it quotes the pool), or to `reference` (native) when given. With
        `ArbitrageTerms`, only while the trade pays the CEX hedge's fee and one transaction. No-op before
        the first `set_cursor`."""
        ref = self._reference_native if reference is None else reference
        if ref is None:
            return
        eng = self.engine
        state = eng.pool if isinstance(eng, ClmmEngine) else eng.reserves()  # (`_pool_state`, inline)
        settled = self._settled
        if settled is not None and (settled[0] is ref or settled[0] == ref) and settled[1] == self.reference:
            held = settled[2]
            if held is state or (isinstance(held, tuple) and held == state):
                return  # a pure function of these inputs, which last changed nothing
        self._settled = None
        hedge = Fraction(1) if self.execution is None else hedge_share(self.execution.arbitrage.cex_fee_bps)
        q = self.engine.arbitrage(ref, hedge)
        if q is not None and self.execution is not None:
            # what the arbitrageur's CEX leg makes of the trade, less what it paid, against one transaction
            network = self._network_native()
            rn, rd, hn, hd = ref.numerator, ref.denominator, hedge.numerator, hedge.denominator
            if hn <= 0:  # (a hedge that keeps nothing: as the Fractions compute it)
                if q.sell_base:
                    gain = q.amount_out - Fraction(q.amount_in) * ref / hedge
                else:
                    gain = Fraction(q.amount_out) * ref * hedge - q.amount_in
                paid = gain <= network
            elif q.sell_base:  # base bought on the CEX at ref / hedge, sold to the pool:
                # out - in·ref/hedge <= network, times rd·hn > 0
                paid = (q.amount_out - network) * rd * hn <= q.amount_in * rn * hd
            else:  # base bought from the pool, sold on the CEX at ref · hedge: out·ref·hedge - in <= network
                paid = q.amount_out * rn * hn <= (network + q.amount_in) * rd * hd
            if paid:
                q = None
        if q is not None:
            self.engine.apply(q)
            i_in, i_out = (0, 1) if q.sell_base else (1, 0)
            self.arbitrageur[i_in] -= q.amount_in
            self.arbitrageur[i_out] += q.amount_out
            self.arbitrages += 1
        out = self.engine.recenter(ref)
        self.liquidity_providers[0] += out[0]
        self.liquidity_providers[1] += out[1]
        after = self._pool_state()
        if q is None and out == (0, 0) and (after is state or (isinstance(state, tuple) and after == state)):
            self._settled = (ref, self.reference, state)

    def _pool_state(self) -> object:
        """What arbitrage and re-centering read of the pool: the reserves of a constant-product pool, the
        (frozen, replaced on every change) pool object of a CLMM."""
        eng = self.engine
        return eng.pool if isinstance(eng, ClmmEngine) else eng.reserves()

    def _same_state(self, state: object) -> bool:
        """Whether the pool is still in `state` (an earlier `_pool_state`): a swap quotes the same on it
        (a quote reads only that state, the reserves net of fees owed or the CLMM pool, and the frozen
        terms)."""
        now = self._pool_state()
        return now is state or (isinstance(state, tuple) and now == state)

    def fill_quote(self, quote: SwapQuote, client_order_id: str, ts_ns: int) -> OrderFilled:
        """Apply `quote` (priced by ``engine.quote_swap`` on the pool as it is now) to the pool and book it
        on the account, as one leg of a larger transaction: no catch-up, no slippage check and no
        network fee here (the transaction's payer checks and pays once). It also covers swaps a public
        order cannot express, such as an exact quote-token input."""
        before = self.marginal_price()
        self.engine.apply(quote)
        side = Side.SELL if quote.sell_base else Side.BUY
        base_amount = quote.amount_in if quote.sell_base else quote.amount_out
        order = Order(client_order_id, self.instrument.id, side, to_units(base_amount, self.tokens[0]), ts_ns)
        return self._book(order, quote, before)

    # internals ------------------------------------------------------------------------------------

    def _guard_price(self, order: Order) -> Decimal | None:
        """The worst acceptable average price, if the order sets one."""
        immediate = order.order_type is OrderType.LIMIT and order.tif in (TimeInForce.IOC, TimeInForce.FOK)
        if order.order_type is not OrderType.MARKET and not immediate:
            raise InvalidOrder(
                f"{self.name} swaps at once: market orders and IOC/FOK limit orders only, "
                f"not {order.order_type.value}/{order.tif.value}",
                reason="unsupported_order_type",
            )
        p = order.price
        if p is not None and not (p.is_finite() and p > 0):
            raise InvalidOrder(f"a price guard must be a positive number, got {p}", reason="invalid_price")
        return p

    def _swap(self, order: Order) -> OrderFilled:
        inst = self.instrument
        base = self.tokens[0]
        if order.instrument != inst.id:
            raise InvalidOrder(
                f"{self.name} lists {inst.id}, not {order.instrument}", reason="unknown_instrument"
            )
        guard = self._guard_price(order)
        amount = order.remaining
        if amount < inst.min_size:
            raise InvalidOrder(f"size {amount} is below the minimum {inst.min_size}", reason="below_min_size")
        native = to_native(amount, base)
        if native is None:
            raise InvalidOrder(
                f"size {amount} {base.symbol} is not a whole number of native units ({inst.lot_size})",
                reason="off_lot",
            )
        self.catch_up()
        sell = order.side is Side.SELL
        q = self._quote(native, sell, order, amount)
        if guard is not None:  # the preflight: refused before it is sent, nothing paid
            self._check_slippage(q, guard, amount)
        network = self._network_native()
        state = self._pool_state()
        if self._land() and not self._same_state(state):  # an unmoved pool quotes (and checks) the same
            q = self._quote(native, sell, order, amount)
            if guard is not None:
                try:
                    self._check_slippage(q, guard, amount)
                except InvalidOrder:
                    self._fail(network)
                    raise
        before = self.marginal_price()
        extra = self._sandwich(q, guard, native, network)
        i_in = 0 if sell else 1
        need_in = q.amount_in + (0 if sell else network + extra)
        if need_in > self.account[i_in] or (sell and network > self.account[1] + q.amount_out - extra):
            tok = self.tokens[i_in]
            need, have = to_units(need_in, tok), to_units(self.account[i_in], tok)
            raise InsufficientFunds(
                f"{order.side.value} of {amount} {base.symbol} needs {need} {tok.symbol} with the network "
                f"fee, have {have}"
            )
        try:
            self.engine.apply(q)
        except RaydiumMathError as exc:
            raise InvalidOrder(str(exc), reason="exceeds_reserves") from None
        fill = self._book(order, q, before, extra)
        self.sandwiches += extra > 0
        if not network:
            return fill
        self.account[1] -= network
        self.validators[1] += network
        return dataclasses.replace(fill, fee=fill.fee + to_units(network, self.tokens[1]))

    def _quote(self, native: int, sell: bool, order: Order, amount: Decimal) -> SwapQuote:
        try:
            return self.engine.quote_swap(native, sell_base=sell, exact_in=sell)
        except RaydiumMathError as exc:
            raise InvalidOrder(
                f"the pool cannot {order.side.value} {amount} {self.tokens[0].symbol}: {exc}",
                reason=reject_reason(exc, sell),
            ) from None

    def _book(self, order: Order, q: SwapQuote, before: Fraction, sandwiched: int = 0) -> OrderFilled:
        base, quote = self.tokens
        fee_b, fee_q = q.fee
        curve_b, curve_q = q.curve
        reported = fee_q + (ceil_div(fee_b * curve_q, curve_b) if fee_b else 0)
        if q.sell_base:
            base_delta, quote_delta = -q.amount_in, q.amount_out - sandwiched
            quote_qty = q.amount_out - sandwiched + reported
        else:
            base_delta, quote_delta = q.amount_out, -q.amount_in - sandwiched
            quote_qty = q.amount_in + sandwiched - reported
        self.sandwichers[1] += sandwiched
        self.account[0] += base_delta
        self.account[1] += quote_delta
        self.account_fees[0] += fee_b
        self.account_fees[1] += fee_q
        self.swaps.append(
            SwapRecord(
                order.client_order_id,
                order.side,
                base_delta,
                quote_delta,
                fee_b,
                fee_q,
                reported,
                before,
                sandwiched,
            )
        )
        qty = to_units(abs(base_delta), base)
        qq = to_units(quote_qty, quote)
        with localcontext() as ctx:
            ctx.prec = 60
            price = (qq / qty).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)
            ref = self.reference
            if ref is None:  # no market reference yet: the pool's own price before the swap
                ref = (Decimal(before.numerator) / before.denominator).quantize(PRICE_STEP)
        return OrderFilled(
            order.ts_ns,
            order.client_order_id,
            self.instrument.id,
            order.side,
            qty,
            price,
            to_units(reported, quote),
            quote.symbol,
            "taker",
            reference_price=ref,
            quote_qty=qq,
        )
