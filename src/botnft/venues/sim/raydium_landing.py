"""What a SimRaydium swap meets on its way to the chain: the network fee of its transaction, the latency
before it lands (arbitrageurs move the pool to where the price has gone by then), a failed transaction's
fee when it misses its limit, the sandwich that takes the room to its limit, and the slippage check. Also
the native-unit conversions of the pool's tokens. `SimRaydium` inherits `SwapLanding`."""

from __future__ import annotations

import math
import random
from decimal import Decimal, localcontext
from fractions import Fraction

from botnft.domain.errors import InvalidOrder
from botnft.ports import BarArrays
from botnft.venues.sim.raydium_config import Token
from botnft.venues.sim.raydium_pools import ClmmEngine, PoolEngine, SwapQuote
from botnft.venues.sim.solana import (
    LatencyModel,
    SolanaExecution,
    SolanaFees,
    lamports_in_quote_native,
    latency_price,
)
from botnft.venues.sim.wallet import PairView

#: What one swap transaction costs on Solana, in USD, when the pool has no `SolanaFees` to price it with:
#: `SolanaFees()` (15,000 lamports) at $150/SOL.
SOLANA_SWAP_FEE_USD = Decimal("0.00225")


def to_native(amount: Decimal, token: Token) -> int | None:
    """`amount` in native units, or None when it is not a whole number of them."""
    if not amount.is_finite():
        return None
    num, den = amount.as_integer_ratio()  # (what Fraction(amount) reduces to)
    num *= 10**token.decimals
    return num // den if num % den == 0 else None


_BIG = 10**70


def to_units(native: int, token: Token) -> Decimal:
    """A native amount as an exact Decimal of the token (``native / 10**decimals``)."""
    dec = token.decimals
    if dec >= 0 and -_BIG < native < _BIG:
        # the coefficient `native` at exponent -dec, as the quantize below gives it (a string converts
        # exactly, without the context)
        return Decimal(f"{native}e-{dec}")
    with localcontext() as ctx:
        ctx.prec = 80
        return Decimal(native).scaleb(-token.decimals).quantize(Decimal(1).scaleb(-token.decimals))


class SwapLanding:
    """The transaction side of a swap; the attributes below are the venue's own (see `SimRaydium`)."""

    reference: Decimal | None
    execution: SolanaExecution | None
    solana_fees: SolanaFees | None
    tokens: tuple[Token, Token]
    engine: PoolEngine
    latency: LatencyModel | None
    account: list[int] | PairView
    validators: list[int]
    landed: int
    failed: int
    failed_fees: int
    _bars: BarArrays | None
    _cursor: int
    _rng: random.Random | None
    _move_rng: random.Random | None
    #: (reference, lamports, the fee in native quote, the same in units, the frozen execution or fees it
    #: came from) of the last conversion
    _fee_memo: tuple[Decimal, int, int, Decimal, object] | None = None

    def catch_up(self, reference: Fraction | None = None) -> None:
        raise NotImplementedError

    def _network_native(self) -> int:
        """One transaction's fee (and Jito tip) in native quote at the reference; 0 without fees."""
        ref = self.reference
        if ref is None:
            return 0
        execution = self.execution
        source: object = execution if execution is not None else self.solana_fees
        if source is None:
            return 0
        memo = self._fee_memo
        if memo is not None and memo[0] is ref and memo[4] is source:
            return memo[2]  # the same reference and the same (frozen) fees as last time: the same conversion
        if execution is not None:
            lamports = execution.tx_lamports()
        else:
            assert self.solana_fees is not None
            lamports = self.solana_fees.lamports()
        if memo is not None and memo[0] is ref and memo[1] == lamports:
            native = memo[2]  # the same reference and fee from other fees: the same conversion
        else:
            native = lamports_in_quote_native(lamports, ref, self.tokens[1].decimals)
        self._fee_memo = (ref, lamports, native, to_units(native, self.tokens[1]), source)
        return native

    def _network_fee_units(self) -> Decimal:
        """The network fee the router is shown: this pool's own, or the documented default before a price."""
        if self.reference is None or (self.execution is None and self.solana_fees is None):
            return SOLANA_SWAP_FEE_USD
        native = self._network_native()
        memo = self._fee_memo
        return memo[3] if memo is not None and memo[2] == native else to_units(native, self.tokens[1])

    def _land(self) -> bool:
        """Wait the latency's slots and let arbitrageurs move the pool to where the price has gone by then
        (`solana.latency_price`); False when nothing moves (no latency, no cursor yet)."""
        if self.latency is None or self._bars is None or self._move_rng is None:
            return False
        slots = self.latency.next_slots()
        z = self._move_rng.gauss(0.0, 1.0)
        self.landed += 1
        if slots == 0:
            return False
        price = latency_price(self._bars, self._cursor, self.latency.delay_ns(slots), z)
        if not (math.isfinite(price) and price > 0):
            return False
        # native_price(Fraction(Decimal(repr(price)))) as one Fraction: the same value, so the same Fraction
        n, d = Decimal(repr(price)).as_integer_ratio()
        base, quote = self.tokens
        self.catch_up(Fraction(n * 10**quote.decimals, d * 10**base.decimals))
        return True

    def _fail(self, network: int) -> None:
        """A landed swap missed its limit: the transaction fails and pays its fee (not as a bundle)."""
        self.failed += 1
        if self.execution is not None and self.execution.mev.jito:
            return  # a bundle that would fail is dropped, never lands
        fee = min(network, self.account[1])
        self.account[1] -= fee
        self.validators[1] += fee
        self.failed_fees += fee

    def _sandwich(self, q: SwapQuote, guard: Decimal | None, native: int, network: int) -> int:
        """Quote native a sandwich takes from this swap (0 when it is not sandwiched): the whole room to
        the order's limit (or to the default tolerance), when that pays the attacker's pool fees and two
        transactions."""
        if self.execution is None or self._rng is None:
            return 0
        mev = self.execution.mev
        p = mev.probability(native / self._depth_native())
        if p <= 0.0 or self._rng.random() >= p:
            return 0
        dec = 10 ** self.tokens[1].decimals
        if guard is not None:
            bound = Fraction(guard) * Fraction(to_units(native, self.tokens[0])) * dec
            room = q.amount_out - math.ceil(bound) if q.sell_base else math.floor(bound) - q.amount_in
        else:
            tol = Fraction(Decimal(repr(mev.default_tolerance_bps))) / 10_000
            room = math.floor((q.amount_out if q.sell_base else q.amount_in) * tol)
        if room <= 0:
            return 0
        # the attacker pushes the price by about the tolerance t through the pool's (virtual) depth and back,
        # paying the pool fee both ways: about fee × t × depth; it only attacks when what it takes pays that
        # and its two transactions
        victim = q.amount_out if q.sell_base else q.amount_in
        depth_quote = Fraction(self._depth_native()) * self.engine.price()
        attacker_cost = (1 - self.engine.fee_factor) * Fraction(room, max(victim, 1)) * depth_quote
        return room if room > 2 * network + attacker_cost else 0

    def _depth_native(self) -> int:
        """The pool's (virtual) base reserve: the reserve of a constant-product pool, L/√P of a CLMM."""
        eng = self.engine
        if isinstance(eng, ClmmEngine):
            return max(eng.pool.liquidity * 2**64 // eng.pool.sqrt_price_x64, 1)
        return max(eng.reserves()[0], 1)

    def _check_slippage(self, q: SwapQuote, guard: Decimal, amount: Decimal) -> None:
        quote = self.tokens[1]
        # guard · amount · 10^decimals as num/den (den > 0): its ceiling and floor, exactly
        (gn, gd), (an, ad) = guard.as_integer_ratio(), amount.as_integer_ratio()
        num, den = gn * an * 10**quote.decimals, gd * ad
        if q.sell_base:
            least = -(-num // den)
            if q.amount_out < least:
                raise InvalidOrder(
                    f"sell would receive {to_units(q.amount_out, quote)} {quote.symbol}, "
                    f"below the {to_units(least, quote)} that price {guard} allows",
                    reason="slippage",
                )
        elif q.amount_in > num // den:
            raise InvalidOrder(
                f"buy would pay {to_units(q.amount_in, quote)} {quote.symbol}, "
                f"above the {to_units(num // den, quote)} that price {guard} allows",
                reason="slippage",
            )
