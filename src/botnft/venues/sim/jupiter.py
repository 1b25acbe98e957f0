"""SimJupiter: a Jupiter-like aggregator over the simulated Solana venues (Raydium pools, OpenBook), speaking
Jupiter's Quote API v6 / Metis ``/swap/v1`` shapes and acting as a `SimulatedVenue` for ``SOL/USDC.JUPITER``.

Quote. ``quote(inputMint, outputMint, amount, slippage_bps=, swap_mode=)`` returns a dict shaped as the
API's ``QuoteResponse`` (``venues.md`` §2): native integer amounts as strings, ``otherAmountThreshold`` =
``floor(out·(10⁴−bps)/10⁴)`` (ExactIn minimum output) or ``floor(in·(10⁴+bps)/10⁴)`` (ExactOut maximum
input), ``priceImpactPct`` = ``1 − (out/in)/spot`` as a decimal string (spot: the cursor's reference price),
``platformFee`` null, ``contextSlot`` the cursor's slot (400 ms slots since mainnet-beta genesis, an
approximation), ``timeTaken`` 0.0 (no wall clock, DESIGN C4). Every leg is priced by its venue's own math
without touching the account: ``PoolEngine.quote_swap`` (the program integer math) for a pool, a walk of
the book's levels with the venue's ``FeeSchedule.taker_fees`` for a book. As `SimRaydium` does before every
swap, arbitrageurs first bring the pools back to the reference, and a book re-quotes lazily around a new
reference: market moves, never the account's.

Split. Direct SOL/USDC routes only (no multi-hop). Jupiter routes an amount as the optimal split across
its venues' curves (`jupiter_split`): each venue's liquidity snapshot (pool curve or book levels, fees
inside) read as output against input, and every venue used filled to the same marginal rate. That is
also what `liquidity` publishes (the venues' own snapshots), so the router, solving the same split
(`routing.sources.PooledSource`), predicts the fill. Percents are whole and sum to 100 (largest
remainder). A book trades whole lots: what it leaves, and the rounding to native units, go to the
largest pool leg that can take it (else another pool, as one more leg); a pool used to the end of its
liquidity takes the most its integer math allows. With only books, an ExactIn route leaves the dust
unspent (``inAmount`` < amount) and an ExactOut amount off the lot grid has no route. A book never
quotes ExactOut of the quote token (selling base for an exact USDC amount); and a book on which the
account has its own resting orders is left out (no self-trades).
On mainnet Jupiter offers ExactOut only on Whirlpool, Raydium CLMM and Raydium CPMM; here every venue does.

Swap. ``swap(quote)`` executes as the Jupiter program would, all legs or none: the latency model (if any)
first moves the market (below), then every leg is re-simulated on the state it will meet (ExactIn legs keep
their input, ExactOut legs their output; a book leg spending USDC buys the lots its input pays for then,
any change stays in the wallet), and the transaction fails with ``SlippageToleranceExceeded``
(6001, 0x1771) when the total output is below ``otherAmountThreshold`` (ExactIn) or the total input above it
(ExactOut), or with ``InsufficientFunds`` (6024) when the wallet cannot pay; nothing changes then. Otherwise
the legs are committed on their venues, whose ledgers move. The Solana network fee (`SolanaFees`, one
transaction per swap) is charged in USDC from the wallet, converted at the execution price and rounded up
to the micro-USDC; on chain it is paid in SOL. The choice keeps the portfolio (which books fees in the quote
asset) equal to the wallet to the unit. A failed swap is modeled as caught by preflight simulation: it pays
no fee (a failed transaction that lands pays its fee on chain).

Latency. The quote is taken at the cursor (bar j's close). With a `LatencyModel` the swap lands k slots
later, at the price the next bar's intra-bar path reaches after ``k × slot_ms`` (`solana.path_price`:
open → low → high → close, or open → high → low → close for a falling bar); all venues are
re-referenced to it (pools arbitraged back to it, books re-quoted around it) before the legs execute, so a
stale quote can fail its threshold. At the last bar of a batch there is no next bar, and no move.

Wallet. The venues trade from one `SolanaWallet` (``wallet.py``): each venue's account is a view of it, as
``venue_builders`` builds them (``wallet=``). A venue built with its own balances is bound to the wallet
(its ``use_wallet``) and its balances are added to it. ``fetch_balance`` is the wallet's SOL and USDC.
Conservation per token, to the native unit (`totals`): wallet + pools (vaults, arbitrageur, LPs) + books
(counterparty, fee pool) + network fees.

Modules: `jupiter_api` (mints, errors, the swap's summary), `jupiter_legs` (one venue per leg),
`jupiter_split` (the split search); this one is the venue. The legs use their venues' public surface
only: ``SimRaydium.fill_quote`` commits a pool leg (a `SwapQuote`, which also covers the USDC-in swaps a
pool's orders cannot express), ``SimRaydium.catch_up`` runs its arbitrageurs, ``BookVenue.ensure_quoted``
re-quotes a book before a walk, and ``BookVenue.match_order`` commits a book leg without the network fee
(the swap pays it once).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from numbers import Integral
from types import MappingProxyType
from typing import Any

from botnft.domain.errors import InvalidOrder, Rejected, UserError
from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument, Spot
from botnft.domain.liquidity import PooledLiquidity
from botnft.domain.money import to_decimal
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim.book_replay import BookVenue
from botnft.venues.sim.jupiter_api import (
    BPS,
    GENESIS_NS,
    MINTS,
    PRICE_STEP,
    JupiterError,
    JupiterQuoteError,
    JupiterSwapError,
    SwapMode,
    SwapResult,
    percents,
)
from botnft.venues.sim.jupiter_legs import BookLeg, Leg, LegQuote, OneBar, PoolLeg
from botnft.venues.sim.jupiter_split import Snapshot, best_route
from botnft.venues.sim.raydium import SimRaydium, to_native, to_units
from botnft.venues.sim.raydium_config import Token
from botnft.venues.sim.solana import LatencyModel, SolanaFees, path_price
from botnft.venues.sim.wallet import SolanaWallet

__all__ = [
    "MINTS",
    "JupiterError",
    "JupiterQuoteError",
    "JupiterSwapError",
    "SimJupiter",
    "SwapResult",
]

Venue = SimRaydium | BookVenue


# ==================================================================================================
# The aggregator
# ==================================================================================================


class SimJupiter:
    """Jupiter over simulated Solana venues; the model is in the module docstring.

    `venues`: SimRaydium pools and book venues of one pair (distinct names); `fees`: the network fee per
    transaction (`SolanaFees()` if None); `latency`: slots from quote to execution (None: none);
    `default_slippage_bps`: for orders without a price guard; `wallet`: the shared `SolanaWallet` (a new
    one if None). `seed` is accepted for the venue builders' common signature: nothing here draws
    randomness but `latency`, which has its own seed."""

    has: Mapping[str, bool] = MappingProxyType(
        {"createOrder": True, "market": True, "limitIoc": True, "cancelOrder": False, "fetchBalance": True}
    )
    #: A swap is immediate: `next_event_index` returns ``hi`` and `process` nothing, so the driver need not
    #: ask (a subclass that changes either sets it False).
    passive = True

    def __init__(
        self,
        venues: Sequence[Venue],
        *,
        name: str = "JUPITER",
        fees: SolanaFees | None = None,
        latency: LatencyModel | None = None,
        default_slippage_bps: int = 50,
        min_size: Decimal = Decimal("0.001"),
        wallet: SolanaWallet | None = None,
        seed: int = 0,
    ) -> None:
        if not venues:
            raise UserError("SimJupiter needs at least one venue to route over")
        if not 0 <= default_slippage_bps <= BPS:
            raise UserError(f"slippage must be in [0, 10000] bps, got {default_slippage_bps}")
        self.name = name
        self.fees = fees if fees is not None else SolanaFees()
        self.latency = latency
        self.default_slippage_bps = default_slippage_bps
        self.seed = seed
        self.base, self.quote_token = self._pair(venues)
        base, quote = self.base, self.quote_token
        self.mints = {self._mint(t): t for t in (base, quote)}
        self.wallet = wallet if wallet is not None else SolanaWallet((base.symbol, quote.symbol))
        self.venues = tuple(venues)
        self.legs: list[PoolLeg | BookLeg] = []
        for v in venues:
            v.use_wallet(self.wallet)  # a venue holding its own balances moves them into the wallet
            self.legs.append(PoolLeg(v) if isinstance(v, SimRaydium) else BookLeg(v, base, quote))
        if len({leg.name for leg in self.legs}) != len(self.legs):
            raise UserError("SimJupiter's venues need distinct names")
        self._by_key = {leg.amm_key: leg for leg in self.legs}
        lot = Decimal(1).scaleb(-base.decimals)
        if min_size <= 0 or to_native(min_size, base) is None:
            raise UserError(f"min_size {min_size} must be a positive multiple of {lot} {base.symbol}")
        self.instrument = Spot(
            InstrumentId(f"{base.symbol}/{quote.symbol}", name), base.symbol, quote.symbol,
            tick_size=PRICE_STEP, lot_size=lot, min_size=min_size,
        )  # fmt: skip
        #: Network fees paid, per token symbol, native units (validators and the burn).
        self.network_fees = {base.symbol: 0, quote.symbol: 0}
        self.network_fee_lamports = 0
        self.transactions = 0
        self.reference: Decimal | None = None
        self._bars: BarArrays | None = None
        self._j = 0
        self._now = 0
        self._liquidity: PooledLiquidity | None = None
        self.initial_totals = self.totals()

    # wiring -----------------------------------------------------------------------------------------
    @staticmethod
    def _pair(venues: Sequence[Venue]) -> tuple[Token, Token]:
        pairs = set()
        for v in venues:
            if isinstance(v, SimRaydium):
                pairs.add(v.tokens)
            elif isinstance(v, BookVenue):
                inst = v.instrument
                pairs.add((Token(inst.base, v.base_decimals), Token(inst.quote, v.quote_decimals)))
            else:
                raise UserError(f"SimJupiter routes over SimRaydium and book venues, not {type(v).__name__}")
        if len(pairs) != 1:
            raise UserError(f"SimJupiter's venues must trade one pair with the same decimals, got {pairs}")
        (pair,) = pairs
        return pair

    # ccxt-style surface -----------------------------------------------------------------------------
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {self.instrument.id: self.instrument}

    def fetch_balance(self) -> Mapping[str, Decimal]:
        """The shared wallet's balances of the pair's two tokens."""
        return {
            t.symbol: to_units(self.wallet.balances.get(t.symbol, 0), t)
            for t in (self.base, self.quote_token)
        }

    def fetch_positions(self) -> Mapping[InstrumentId, Decimal]:
        return {}

    def fetch_open_orders(self) -> Sequence[Order]:
        return []

    def cancel_order(self, client_order_id: str) -> Sequence[VenueEvent]:
        return []

    def deposit(self, symbol: str, amount: Decimal) -> None:
        """Credit the wallet (and the conservation baseline)."""
        tok = self._token_by_symbol(symbol)
        n = to_native(to_decimal(amount), tok)
        if n is None or n < 0:
            raise UserError(f"deposit {amount} {symbol} is not a whole number of native units")
        self.wallet.credit(symbol, n)
        self.initial_totals[symbol] += n

    # driving by the backtest ------------------------------------------------------------------------
    def set_cursor(self, bars: BarArrays, j: int) -> None:
        """Bar j's close is the reference; every underlying venue moves to it."""
        for v in self.venues:
            v.set_cursor(bars, j)
        self._bars, self._j = bars, j
        self.reference = to_decimal(float(bars.close[j]))
        self._now = int(bars.ts_ns[j]) + int(bars.interval_ns)

    def next_event_index(self, bars: BarArrays, lo: int, hi: int) -> int:
        return hi  # a swap is immediate: no resting work

    def process(self, bars: BarArrays, j: int) -> Sequence[VenueEvent]:
        return []

    # the Quote API ----------------------------------------------------------------------------------
    def quote(
        self,
        input_mint: str,
        output_mint: str,
        amount: int,
        *,
        slippage_bps: int = 50,
        swap_mode: SwapMode = "ExactIn",
    ) -> dict[str, Any]:
        """A ``QuoteResponse``: see the module docstring. Raises `JupiterQuoteError`."""
        tin, tout = self._token(input_mint), self._token(output_mint)
        if tin == tout:
            raise JupiterQuoteError(
                "input and output mints are the same", code="CIRCULAR_ARBITRAGE_IS_DISABLED"
            )
        if isinstance(amount, bool) or not isinstance(amount, Integral) or amount <= 0:
            raise JupiterQuoteError(
                f"amount must be a positive integer, got {amount!r}", code="INVALID_AMOUNT"
            )
        if not 0 <= slippage_bps <= BPS:
            raise JupiterQuoteError(f"slippageBps {slippage_bps} not in [0, 10000]", code="INVALID_SLIPPAGE")
        if swap_mode not in ("ExactIn", "ExactOut"):
            raise JupiterQuoteError(f"unknown swapMode {swap_mode!r}", code="INVALID_SWAP_MODE")
        sell_base, exact_in = tin == self.base, swap_mode == "ExactIn"
        self._catch_up()
        legs = self._route(int(amount), sell_base=sell_base, exact_in=exact_in)
        total_in = sum(q.amount_in for q in legs)
        total_out = sum(q.amount_out for q in legs)
        if exact_in:
            threshold = total_out * (BPS - slippage_bps) // BPS
        else:
            threshold = total_in * (BPS + slippage_bps) // BPS
        given = [q.amount_in if exact_in else q.amount_out for q in legs]
        return {
            "inputMint": self._mint(tin),
            "inAmount": str(total_in),
            "outputMint": self._mint(tout),
            "outAmount": str(total_out),
            "otherAmountThreshold": str(threshold),
            "swapMode": swap_mode,
            "slippageBps": slippage_bps,
            "platformFee": None,
            "priceImpactPct": self._impact(total_in, total_out, sell_base),
            "routePlan": [
                {
                    "swapInfo": {
                        "ammKey": q.leg.amm_key,
                        "label": q.leg.label,
                        "inputMint": self._mint(tin),
                        "outputMint": self._mint(tout),
                        "inAmount": str(q.amount_in),
                        "outAmount": str(q.amount_out),
                        "feeAmount": str(q.fee_amount),
                        "feeMint": self._mint(self._token_by_symbol(q.fee_symbol)),
                    },
                    "percent": pct,
                }
                for q, pct in zip(legs, percents(given), strict=True)
            ],
            "contextSlot": self._slot(self._now),
            "timeTaken": 0.0,
        }

    # the Swap API -----------------------------------------------------------------------------------
    def swap(
        self, quote_response: Mapping[str, Any], *, user_public_key: str | None = None
    ) -> dict[str, Any]:
        """Execute a quote, unchanged from `quote` or with a tighter ``otherAmountThreshold``, as one
        transaction from the shared wallet (`user_public_key` is only echoed). Returns the confirmed
        transaction (`SwapResult.as_dict`); raises `JupiterSwapError` when it fails, changing nothing."""
        result = self._execute(quote_response, f"{self.name}-tx-{self.transactions + 1}", self._now)
        result.user = user_public_key
        return result.as_dict()

    def _execute(self, quote: Mapping[str, Any], cid: str, ts_ns: int) -> SwapResult:
        sell_base, exact_in, steps, threshold = self._parse(quote)
        slots = self.latency.next_slots() if self.latency is not None else 0
        price = self._move_market(slots)
        legs: list[LegQuote] = []
        for leg, amount_in, amount_out in steps:
            given = amount_in if exact_in else amount_out
            q = leg.quote(given, sell_base=sell_base, exact_in=exact_in)
            if q is None or (not exact_in and q.amount_out != amount_out):
                raise JupiterSwapError(
                    JupiterSwapError.SLIPPAGE,
                    f"{leg.label} ({leg.name}) can no longer fill its leg of {given}",
                )
            legs.append(q)
        total_in = sum(q.amount_in for q in legs)
        total_out = sum(q.amount_out for q in legs)
        if (total_out < threshold) if exact_in else (total_in > threshold):
            what = f"output {total_out} < minimum" if exact_in else f"input {total_in} > maximum"
            raise JupiterSwapError(JupiterSwapError.SLIPPAGE, f"{what} {threshold} (otherAmountThreshold)")
        lamports = self.fees.lamports()
        fee_quote = self._network_fee_native(price)
        tin, tout = (self.base, self.quote_token) if sell_base else (self.quote_token, self.base)
        post = {t.symbol: self._free(t.symbol) for t in (self.base, self.quote_token)}
        post[tin.symbol] -= total_in
        post[tout.symbol] += total_out
        post[self.quote_token.symbol] -= fee_quote
        short = {s: -n for s, n in post.items() if n < 0 and s in (tin.symbol, self.quote_token.symbol)}
        if short:
            raise JupiterSwapError(
                JupiterSwapError.INSUFFICIENT_FUNDS,
                "the wallet is short of "
                + ", ".join(f"{n} native {s}" for s, n in short.items())
                + f" for a swap of {total_in} {tin.symbol} plus the network fee",
            )
        fills = [(q, q.leg.commit(q, f"{cid}/{i}", ts_ns)) for i, q in enumerate(legs)]
        w = self.wallet.balances
        w[self.quote_token.symbol] -= fee_quote
        self.network_fees[self.quote_token.symbol] += fee_quote
        self.network_fee_lamports += lamports
        self.transactions += 1
        delay = self.latency.delay_ns(slots) if self.latency is not None else 0
        return SwapResult(
            f"sim-{self.name}-{self.transactions}", "ExactIn" if exact_in else "ExactOut", sell_base,
            fills, total_in, total_out, lamports, fee_quote, self._slot(self._now + delay), slots, price,
            ts_ns + delay, self._mint(self.quote_token),
        )  # fmt: skip

    def _parse(self, quote: Mapping[str, Any]) -> tuple[bool, bool, list[tuple[Leg, int, int]], int]:
        bad = JupiterSwapError.INVALID_ROUTE_PLAN
        try:
            tin, tout = self._token(quote["inputMint"]), self._token(quote["outputMint"])
            mode = quote["swapMode"]
            threshold = int(quote["otherAmountThreshold"])
            steps: list[tuple[Leg, int, int]] = []
            percent = 0
            for step in quote["routePlan"]:
                info = step["swapInfo"]
                leg = self._by_key[info["ammKey"]]
                if self._token(info["inputMint"]) != tin or self._token(info["outputMint"]) != tout:
                    raise JupiterSwapError(
                        bad, f"leg {info['ammKey']} is not a direct {tin.symbol}->{tout.symbol} hop"
                    )
                steps.append((leg, int(info["inAmount"]), int(info["outAmount"])))
                percent += int(step["percent"])
        except (KeyError, TypeError, ValueError, JupiterQuoteError) as exc:
            raise JupiterSwapError(bad, f"malformed quoteResponse: {exc!r}") from None
        if tin == tout or mode not in ("ExactIn", "ExactOut") or not steps or percent != 100 or threshold < 0:
            raise JupiterSwapError(bad, "a route needs two mints, a swapMode, legs whose percents sum to 100")
        if len({leg.name for leg, _, _ in steps}) != len(steps) or any(a <= 0 or b <= 0 for _, a, b in steps):
            raise JupiterSwapError(bad, "each venue appears once, with positive amounts")
        return tin == self.base, bool(mode == "ExactIn"), steps, threshold

    # orders -----------------------------------------------------------------------------------------
    def create_order(self, order: Order) -> Sequence[VenueEvent]:
        """A BUY of qty base is an ExactOut quote of it, a SELL an ExactIn quote; then the swap. One
        `OrderFilled` (legs' fees + the network fee in the quote asset) or one `OrderRejected`."""
        try:
            return [self._order(order)]
        except Rejected as exc:
            return [OrderRejected(order.ts_ns, order.client_order_id, order.instrument, exc.reason, str(exc))]

    def _order(self, order: Order) -> OrderFilled:
        inst, base, quote = self.instrument, self.base, self.quote_token
        if order.instrument != inst.id:
            raise InvalidOrder(
                f"{self.name} lists {inst.id}, not {order.instrument}", reason="unknown_instrument"
            )
        immediate = order.order_type is OrderType.LIMIT and order.tif in (TimeInForce.IOC, TimeInForce.FOK)
        if order.order_type is not OrderType.MARKET and not immediate:
            raise InvalidOrder(
                f"{self.name} swaps at once: market orders and IOC/FOK limit orders only",
                reason="unsupported_order_type",
            )
        guard = order.price
        if guard is not None and not (guard.is_finite() and guard > 0):
            raise InvalidOrder(
                f"a price guard must be a positive number, got {guard}", reason="invalid_price"
            )
        amount = order.remaining
        if amount < inst.min_size:
            raise InvalidOrder(f"size {amount} is below the minimum {inst.min_size}", reason="below_min_size")
        native = to_native(amount, base)
        if native is None:
            raise InvalidOrder(
                f"size {amount} {base.symbol} is off the lot {inst.lot_size}", reason="off_lot"
            )
        buy = order.side is Side.BUY
        mints = (self._mint(quote), self._mint(base))
        q = self.quote(*(mints if buy else mints[::-1]), native, slippage_bps=self.default_slippage_bps,
                       swap_mode="ExactOut" if buy else "ExactIn")  # fmt: skip
        if not buy and int(q["inAmount"]) != native:
            raise JupiterQuoteError(
                f"the route would sell only {q['inAmount']} of {native} native {base.symbol}",
                code="ROUTE_PLAN_DOES_NOT_CONSUME_ALL_THE_AMOUNT",
            )
        if guard is not None:  # the worst average price, pool fees included, as the threshold
            bound = Fraction(guard) * Fraction(amount) * 10**quote.decimals
            q = {**q, "otherAmountThreshold": str(math.floor(bound) if buy else math.ceil(bound))}
        ex = self._execute(q, order.client_order_id, order.ts_ns)
        leg_fee = sum(f.fee_quote for _, f in ex.legs)
        quote_qty = sum(f.quote_qty for _, f in ex.legs)
        fee = leg_fee + ex.fee_quote
        qty = to_units(native, base)
        qq = to_units(quote_qty, quote)
        with localcontext() as ctx:
            ctx.prec = 60
            price = (qq / qty).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)
        return OrderFilled(
            ex.ts_ns, order.client_order_id, inst.id, order.side, qty, price, to_units(fee, quote),
            quote.symbol, "taker", reference_price=self.reference, quote_qty=qq,
        )  # fmt: skip

    # the router's view ------------------------------------------------------------------------------
    def liquidity(self, instrument: InstrumentId) -> PooledLiquidity | None:
        """The venues Jupiter routes over, each as its own snapshot (after the arbitrageurs' catch-up): it
        fills an order with the optimal split across them (`jupiter_split`), which the router computes
        from the same parts. ``fee_bps`` 0 (the parts hold their fees); ``network_fee`` is one
        transaction's fee in the quote token."""
        if instrument != self.instrument.id:
            return None
        self._catch_up()
        parts = tuple(p for _, p in self._parts())
        if not parts:
            return None
        ref = self.reference if self.reference is not None else self._spot()
        network = Decimal(0) if ref is None else to_units(self._network_fee_native(ref), self.quote_token)
        held = self._liquidity
        if (
            held is not None
            and held.ts_ns == self._now
            and held.network_fee.as_tuple() == network.as_tuple()
            and len(held.parts) == len(parts)
            and all(a is b for a, b in zip(held.parts, parts, strict=True))
        ):
            return held  # the same venues' snapshots (each venue reuses its own while unchanged)
        self._liquidity = PooledLiquidity(
            instrument=self.instrument.id, ts_ns=self._now, fee_bps=Decimal(0), lot=self.instrument.lot_size,
            min_size=self.instrument.min_size, network_fee=network, parts=parts,
        )  # fmt: skip
        return self._liquidity

    # accounting ---------------------------------------------------------------------------------------
    def totals(self) -> dict[str, int]:
        """Per token: wallet + pools (vaults, arbitrageur, LPs) + books (counterparty, fee pool) + network
        fees paid. Constant: conservation to the native unit."""
        out = {}
        for t in (self.base, self.quote_token):
            s, i = t.symbol, (0 if t == self.base else 1)
            n = self.wallet.balances.get(s, 0) + self.network_fees[s]
            for v in self.venues:
                if isinstance(v, SimRaydium):
                    n += v.engine.vault[i] + v.arbitrageur[i] + v.liquidity_providers[i]
                else:
                    n += v.ledger.counterparty.get(s, 0) + v.ledger.fee_pool.get(s, 0)
            out[s] = n
        return out

    # internals ----------------------------------------------------------------------------------------
    def _route(self, amount: int, *, sell_base: bool, exact_in: bool) -> list[LegQuote]:
        """The optimal split over the usable legs (`jupiter_split.best_route`)."""
        pairs = self._parts()
        legs, parts = [leg for leg, _ in pairs], [p for _, p in pairs]
        return best_route(
            legs, parts, amount, sell_base=sell_base, exact_in=exact_in, tokens=(self.base, self.quote_token)
        )

    def _parts(self) -> list[tuple[Leg, Snapshot]]:
        """The usable legs with their venues' snapshots (a book with an empty side has none)."""
        out: list[tuple[Leg, Snapshot]] = []
        for leg in self.legs:
            if leg.usable():
                snap = leg.venue.liquidity(leg.venue.instrument.id)
                if snap is not None:
                    out.append((leg, snap))
        return out

    def _catch_up(self) -> None:
        """Arbitrageurs bring each pool back to its reference (what `SimRaydium` does before any swap)."""
        for leg in self.legs:
            if isinstance(leg, PoolLeg):
                leg.catch_up()

    def _move_market(self, slots: int) -> Decimal | None:
        """Move every venue to the price the bar path reaches `slots` slots after the cursor; return the
        execution reference price."""
        bars, j = self._bars, self._j
        if slots and bars is not None and self.latency is not None and j + 1 < len(bars):
            interval = int(bars.interval_ns)
            price = path_price(bars, j + 1, self.latency.delay_ns(slots))
            moved = OneBar.at(price, self._now + self.latency.delay_ns(slots), interval)
            for v in self.venues:
                v.set_cursor(moved, 0)
            return to_decimal(price)
        self._catch_up()
        return self.reference if self.reference is not None else self._spot()

    def _spot(self) -> Decimal | None:
        mids = [m for m in (leg.mid() for leg in self.legs) if m is not None]
        if not mids:
            return None
        m = sum(mids, Fraction(0)) / len(mids)
        return Decimal(m.numerator) / Decimal(m.denominator)

    def _impact(self, total_in: int, total_out: int, sell_base: bool) -> str:
        spot = self.reference if self.reference is not None else self._spot()
        if spot is None or spot <= 0:
            return "0"
        b, q = self.base, self.quote_token
        with localcontext() as ctx:
            ctx.prec = 40
            if sell_base:
                rate = to_units(total_out, q) / to_units(total_in, b) / spot
            else:
                rate = to_units(total_out, b) / to_units(total_in, q) * spot
            impact = (1 - rate).quantize(Decimal("1e-12"), rounding=ROUND_HALF_EVEN).normalize()
        return format(impact, "f")

    def _network_fee_native(self, price: Decimal | None) -> int:
        if price is None:
            raise JupiterSwapError(
                JupiterSwapError.INVALID_ROUTE_PLAN, "no SOL price to convert the network fee"
            )
        return self.fees.in_quote_native(price, self.quote_token.decimals)

    def _free(self, symbol: str) -> int:
        """Wallet balance not locked by our resting orders on the books."""
        locked = sum(v.ledger.locked.get(symbol, 0) for v in self.venues if isinstance(v, BookVenue))
        return self.wallet.balances.get(symbol, 0) - locked

    def _slot(self, ts_ns: int) -> int:
        if ts_ns <= GENESIS_NS:
            return 0
        slot_ns = self.latency.slot_ns if self.latency is not None else 400_000_000
        return (ts_ns - GENESIS_NS) // slot_ns

    def _token(self, mint: object) -> Token:
        if isinstance(mint, str):
            if mint in self.mints:
                return self.mints[mint]
            for t in (self.base, self.quote_token):
                if mint == t.symbol:
                    return t
        raise JupiterQuoteError(f"{mint!r} is not traded by {self.name}", code="TOKEN_NOT_TRADABLE")

    @staticmethod
    def _mint(token: Token) -> str:
        return MINTS.get(token.symbol, token.symbol)

    def _token_by_symbol(self, symbol: str) -> Token:
        for t in (self.base, self.quote_token):
            if t.symbol == symbol:
                return t
        raise UserError(
            f"{self.name} holds only {self.base.symbol} and {self.quote_token.symbol}, not {symbol}"
        )
