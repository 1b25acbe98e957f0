"""Raydium pool state in native integers: swap quotes with the program math, vault and fee accounts, the
arbitrage swap that brings the pool back to a reference price, and the CLMM's LP re-centering.

Token index 0 is the base (AMM v4 coin, CPMM/CLMM token 0), index 1 the quote. Vaults hold every token
the pool owns; `reserves()` are the vaults less the protocol, fund and creator fees owed (what the
programs price with). A quote is pure; `apply` commits it. Invariants: vaults never go negative, and
per token ``vault == reserves + protocol + fund + creator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt

from botnft.venues.sim.intmath import U64_MAX, ceil_div
from botnft.venues.sim.raydium_config import (
    AmmV4Terms,
    ClmmPosition,
    ClmmTerms,
    CpmmTerms,
    PoolConfig,
    clmm_band,
    clmm_liquidity_for_value,
    clmm_price,
    sqrt_x64,
)
from botnft.venues.sim.raydium_math import (
    FEE_RATE_DENOMINATOR_VALUE,
    ClmmPool,
    ClmmSwapResult,
    RaydiumMathError,
    amm_v4_swap_base_in,
    amm_v4_swap_base_out,
    cpmm_swap_base_input,
    cpmm_swap_base_output,
    get_delta_amount_0_unsigned,
    get_delta_amount_1_unsigned,
    get_sqrt_price_at_tick,
    get_tick_at_sqrt_price,
)

Pair = tuple[int, int]
"""(base, quote) amounts in native units."""


@dataclass(frozen=True, slots=True)
class SwapQuote:
    """One swap as the program would execute it. ``amount_in`` is what the trader pays (input-side fees
    included), ``amount_out`` what it receives (output-side fees withheld). Fee splits are (base, quote)."""

    sell_base: bool
    amount_in: int
    amount_out: int
    lp_fee: Pair
    protocol_fee: Pair
    fund_fee: Pair
    creator_fee: Pair
    clmm: ClmmPool | None = None

    @property
    def fee(self) -> Pair:
        """Total fee per token (base, quote)."""
        lp, pf, ff, cf = self.lp_fee, self.protocol_fee, self.fund_fee, self.creator_fee
        return lp[0] + pf[0] + ff[0] + cf[0], lp[1] + pf[1] + ff[1] + cf[1]

    @property
    def curve(self) -> Pair:
        """(base, quote) that went through the curve: the trader's legs with the fees taken out."""
        fb, fq = self.fee
        if self.sell_base:
            return self.amount_in - fb, self.amount_out + fq
        return self.amount_out + fb, self.amount_in - fq


def _side(sell_base: bool, on_input: int, on_output: int) -> Pair:
    """Place fee amounts in (base, quote) order: the input token is base when selling base."""
    return (on_input, on_output) if sell_base else (on_output, on_input)


class PoolEngine:
    """State and accounts shared by the three kinds; subclasses price swaps."""

    def __init__(self, config: PoolConfig, vault: Pair) -> None:
        self.config = config
        self.vault = list(vault)
        self.protocol_fees = [0, 0]
        self.fund_fees = [0, 0]
        self.creator_fees = [0, 0]
        self.lp_fees = [0, 0]

    def reserves(self) -> Pair:
        v, p, f, c = self.vault, self.protocol_fees, self.fund_fees, self.creator_fees
        return v[0] - p[0] - f[0] - c[0], v[1] - p[1] - f[1] - c[1]

    def price(self) -> Fraction:
        """Marginal price in quote native per base native."""
        b, q = self.reserves()
        return Fraction(q, b)

    def price_ratio(self) -> Pair:
        """`price` as (numerator, denominator > 0), not reduced: for exact comparisons without a Fraction."""
        b, q = self.reserves()
        if b > 0:
            return q, b
        p = self.price()  # (raises as `price` does)
        return p.numerator, p.denominator

    @property
    def fee_factor(self) -> Fraction:
        """γ: the share of a marginal trade's value left after fees. No arbitrage while the pool's
        price is within [reference × γ, reference / γ]."""
        raise NotImplementedError

    def quote_swap(self, amount: int, *, sell_base: bool, exact_in: bool) -> SwapQuote:
        """Raises RaydiumMathError where the program would fail."""
        raise NotImplementedError

    def apply(self, q: SwapQuote) -> None:
        i_in, i_out = (0, 1) if q.sell_base else (1, 0)
        if q.amount_out > self.reserves()[i_out]:
            raise RaydiumMathError("InsufficientVault", "swap output exceeds the pool's reserves")
        self.vault[i_in] += q.amount_in
        self.vault[i_out] -= q.amount_out
        for acct, fee in (
            (self.protocol_fees, q.protocol_fee),
            (self.fund_fees, q.fund_fee),
            (self.creator_fees, q.creator_fee),
            (self.lp_fees, q.lp_fee),
        ):
            acct[0] += fee[0]
            acct[1] += fee[1]

    def arbitrage(self, reference: Fraction, hedge: Fraction = Fraction(1)) -> SwapQuote | None:
        """The exact-in swap an arbitrageur makes to bring the price into the fee band around
        `reference` (quote native per base native), or None when it is already there. `hedge` is the
        share a hedge elsewhere leaves (1 − a CEX fee): it widens the band by that fee."""
        ff = self.fee_factor
        held = getattr(self, "_gamma", None)
        if held is None or held[0] is not ff or held[1] is not hedge:
            held = self._gamma = (ff, hedge, ff * hedge)  # γ, once per fee and hedge
        gamma = held[2]
        if gamma.numerator <= 0:  # (no band: as the Fractions compare it)
            price = self.price()
            if price < reference * gamma:
                return self._arb(buy_base=True, target=reference * gamma)
            if price > reference / gamma:
                return self._arb(buy_base=False, target=reference / gamma)
            return None
        band = getattr(self, "_band", None)
        if band is None or band[0] is not reference or band[1] is not gamma:
            # the edges ref·γ and ref/γ as unreduced ratios with positive denominators, once per reference
            rn, rd, gn, gd = reference.numerator, reference.denominator, gamma.numerator, gamma.denominator
            band = self._band = (reference, gamma, rn * gn, rd * gd, rn * gd, rd * gn)
        n, d = self.price_ratio()  # price = n/d, d > 0: compared exactly by cross-multiplication
        if n * band[3] < band[2] * d:
            return self._arb(buy_base=True, target=reference * gamma)
        if n * band[5] > band[4] * d:
            return self._arb(buy_base=False, target=reference / gamma)
        return None

    def _arb(self, *, buy_base: bool, target: Fraction) -> SwapQuote | None:
        raise NotImplementedError

    def recenter(self, reference: Fraction) -> Pair:
        """LP rebalancing after arbitrage; returns the tokens LPs took out of the vaults (< 0: put in)."""
        return 0, 0


class ConstantProductEngine(PoolEngine):
    """AMM v4 and CPMM: x·y = k on the reserves, fee on the input (CPMM's creator fee on either side).

    AMM v4 keeps its whole fee in the vaults (k grows); the protocol's 12 % of that growth is taken by
    ``withdraw_pnl`` (``need_take_pnl``), which this simulator does not run, so `lp_fees` holds it all.
    """

    def __init__(self, config: PoolConfig) -> None:
        super().__init__(config, (config.base_reserve, config.quote_reserve))
        self._fee_factor: tuple[object, Fraction] | None = None

    @property
    def fee_factor(self) -> Fraction:
        t = self.config.terms
        # (an engine pickled before the cache has none)
        cached: tuple[object, Fraction] | None = getattr(self, "_fee_factor", None)
        if cached is not None and cached[0] is t:  # the terms are frozen: computed once per terms
            return cached[1]
        if isinstance(t, AmmV4Terms):
            factor = Fraction(t.fee_denominator - t.fee_numerator, t.fee_denominator)
        else:
            assert isinstance(t, CpmmTerms)
            d = FEE_RATE_DENOMINATOR_VALUE
            on_in = t.trade_fee_rate + (t.creator_fee_rate if t.creator_fee_on_input else 0)
            on_out = 0 if t.creator_fee_on_input else t.creator_fee_rate
            factor = Fraction(d - on_in, d) * Fraction(d - on_out, d)
        self._fee_factor = (t, factor)
        return factor

    def quote_swap(self, amount: int, *, sell_base: bool, exact_in: bool) -> SwapQuote:
        rb, rq = self.reserves()
        r_in, r_out = (rb, rq) if sell_base else (rq, rb)
        t = self.config.terms
        zero = (0, 0)
        if isinstance(t, AmmV4Terms):
            num, den = t.fee_numerator, t.fee_denominator
            if exact_in:
                out = amm_v4_swap_base_in(amount, r_in, r_out, num, den)
                paid, fee = amount, ceil_div(amount * num, den)
            else:
                paid = amm_v4_swap_base_out(amount, r_in, r_out, num, den)
                out, fee = amount, paid - ceil_div(r_in * amount, r_out - amount)
            return SwapQuote(sell_base, paid, out, _side(sell_base, fee, 0), zero, zero, zero)
        assert isinstance(t, CpmmTerms)
        swap = cpmm_swap_base_input if exact_in else cpmm_swap_base_output
        r = swap(
            amount,
            r_in,
            r_out,
            trade_fee_rate=t.trade_fee_rate,
            protocol_fee_rate=t.protocol_fee_rate,
            fund_fee_rate=t.fund_fee_rate,
            creator_fee_rate=t.creator_fee_rate,
            creator_fee_on_input=t.creator_fee_on_input,
        )
        creator_in = r.creator_fee if r.creator_fee_on_input else 0
        return SwapQuote(
            sell_base,
            r.input_amount,
            r.output,
            lp_fee=_side(sell_base, r.trade_fee - r.protocol_fee - r.fund_fee, 0),
            protocol_fee=_side(sell_base, r.protocol_fee, 0),
            fund_fee=_side(sell_base, r.fund_fee, 0),
            creator_fee=_side(sell_base, creator_in, r.creator_fee - creator_in),
        )

    def _price_after(self, q: SwapQuote) -> Fraction:
        return Fraction(*self._after_ratio(q))

    def _after_ratio(self, q: SwapQuote, reserves: Pair | None = None) -> Pair:
        """The marginal price after `q` as (numerator, denominator), not reduced; `reserves` are the
        pool's (read by the caller, the pool unchanged since)."""
        b, qt = self.reserves() if reserves is None else reserves
        pf, ff, cf = q.protocol_fee, q.fund_fee, q.creator_fee
        fb, fq = pf[0] + ff[0] + cf[0], pf[1] + ff[1] + cf[1]
        if q.sell_base:
            return qt - q.amount_out - fq, b + q.amount_in - fb
        return qt + q.amount_in - fq, b - q.amount_out - fb

    def _arb(self, *, buy_base: bool, target: Fraction) -> SwapQuote | None:
        """The smallest exact-in amount that moves the price to `target` or past it (the price after a
        swap is monotone in its size), found on the program math: secant steps from the constant-product
        answer with the fee come within a few units of it, then a gallop brackets it and a bisection of
        the bracket pins it. It is the amount a doubling search from the fee-free answer finds, and None
        where that search gives up (its doubling passes u64 before reaching the target)."""
        reserves = b, q = self.reserves()
        k = b * q
        tn, td = target.numerator, target.denominator  # td > 0
        # buying base: quote in until q'/b' >= target; selling: base in until q'/b' <= target (the floor of
        # k·target or k/target from the integers: isqrt_fraction of the Fraction, without building it)
        if buy_base:
            guess = isqrt(k * tn // td) - q
        elif tn > 0:
            guess = isqrt(k * td // tn) - b
        else:
            guess = isqrt_fraction(k / target) - b  # (raises as the Fraction does)
        start = max(1, guess)
        ff = self.fee_factor

        quoted: dict[int, SwapQuote | None] = {}  # the pool does not change during the search

        def quote_at(amount: int) -> SwapQuote | None:
            if amount in quoted:
                return quoted[amount]
            out: SwapQuote | None = None
            if amount <= U64_MAX:
                try:
                    out = self.quote_swap(amount, sell_base=not buy_base, exact_in=True)
                except RaydiumMathError:  # too small to trade (or, past u64, too big): not a usable quote
                    out = None
            quoted[amount] = out
            return out

        def reached(amount: int) -> SwapQuote | None:
            quote = quote_at(amount)
            if quote is None:
                return None
            n, d = self._after_ratio(quote, reserves)
            if d > 0:  # n/d against the target, exactly, by cross-multiplication
                return quote if (n * td >= tn * d if buy_base else n * td <= tn * d) else None
            after = Fraction(n, d)
            return quote if (after >= target if buy_base else after <= target) else None

        def gap(amount: int) -> float | None:
            quote = quote_at(amount)
            if quote is None:
                return None
            n, d = self._after_ratio(quote, reserves)
            if d > 0:  # the rational n/d - target, correctly rounded as float(Fraction) rounds it
                return (n * td - tn * d) / (d * td)
            return float(Fraction(n, d) - target)

        closed = self._arb_estimate(b, q, buy_base, tn, td)
        if closed is not None:  # within a few units of the answer: the bracket below makes it exact
            estimate, step = closed, 1
        else:
            estimate = max(1, start * ff.denominator // ff.numerator)
            step = max(1, estimate >> 20)
            xa, fa = estimate, gap(estimate)
            xb = estimate + step
            fb = gap(xb)
            for _ in range(8):  # only a starting point: the bracket below makes the answer exact
                if fa is None or fb is None or fa == fb:
                    break
                x = xb - fb * (xb - xa) / (fb - fa)
                if not 1.0 <= x <= U64_MAX:
                    break
                nxt = round(x)
                if nxt == xb:
                    break
                xa, fa, xb, fb = xb, fb, nxt, gap(nxt)
                if abs(xb - xa) <= 1:
                    break
            if fb is not None:
                estimate, step = xb, max(1, abs(xb - xa))
        best = reached(estimate)
        if best is None:  # gallop up: lo stays short of the target
            lo, hi = estimate, estimate + step
            while (best := reached(hi)) is None:
                if hi > U64_MAX:
                    return None
                step *= 2
                lo, hi = hi, hi + step
        else:  # gallop down: hi reaches it
            lo, hi = estimate - step, estimate
            while lo > 0 and (found := reached(lo)) is not None:
                best, hi = found, lo
                step *= 2
                lo = max(0, lo - step)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            found = reached(mid)
            if found is None:
                lo = mid
            else:
                hi, best = mid, found
        doubled = start << ((hi - 1) // start).bit_length()  # the first doubling at or past hi
        return best if doubled <= U64_MAX else None

    def _arb_estimate(self, b: int, q: int, buy_base: bool, tn: int, td: int) -> int | None:
        """The arbitrage amount of the continuous model of the program math, rounded: with a share g of
        the input going through the curve and a share h of it staying in the reserves (the rest is
        protocol, fund and creator fees), the price after an exact-in `a` is (q + ha)(q + ga)/(bq)
        when buying base, bq/((b + ha)(b + ga)) when selling it, so `a` solves
        gh·a² + r(g + h)·a + r² − K = 0 (r the input reserve, K = target·bq or bq/target), taken in the
        form without cancellation 2(K − r²)/(r(g + h) + √(r²(g − h)² + 4ghK)). The rounding of the
        program's fees and output moves the answer by a few units; the search around it is exact, so
        this only decides where it starts. None when the model gives nothing usable (the search then
        starts from the secant steps)."""
        t = self.config.terms
        if isinstance(t, AmmV4Terms):
            if not 0 <= t.fee_numerator < t.fee_denominator:
                return None
            g, h = (t.fee_denominator - t.fee_numerator) / t.fee_denominator, 1.0
        else:
            assert isinstance(t, CpmmTerms)
            d = FEE_RATE_DENOMINATOR_VALUE
            creator_in = t.creator_fee_rate if t.creator_fee_on_input else 0
            g = (d - t.trade_fee_rate - creator_in) / d
            h = 1 - (t.trade_fee_rate * (t.protocol_fee_rate + t.fund_fee_rate) / d + creator_in) / d
        if not (0 < g <= 1 and 0 < h <= 1) or b <= 0 or q <= 0 or tn <= 0:
            return None
        if buy_base:  # K − r² = (tn·b·q − td·q²)/td
            r, excess = q, (tn * b * q - td * q * q) / td
        else:  # K − r² = (td·b·q − tn·b²)/tn
            r, excess = b, (td * b * q - tn * b * b) / tn
        if not excess > 0:
            return None
        try:
            k = excess + float(r) * r
            a = 2 * excess / (r * (g + h) + math.sqrt((r * (g - h)) ** 2 + 4 * g * h * k))
        except OverflowError:
            return None
        if not (math.isfinite(a) and 1.0 <= a <= U64_MAX >> 4):
            return None
        return math.ceil(a)


def isqrt_fraction(x: Fraction) -> int:
    """floor(√x) for a non-negative rational."""
    return isqrt(x.numerator // x.denominator)


class ClmmEngine(PoolEngine):
    """A CLMM pool: `ClmmPool` swap math across initialized ticks plus the LP positions behind them.

    The vaults open with the positions' deposits (rounded up); LP fees stay in the vaults (owed to
    LPs through fee growth). Token 0 is the base.
    """

    def __init__(self, config: PoolConfig) -> None:
        assert isinstance(config.terms, ClmmTerms)
        self.terms: ClmmTerms = config.terms
        self.positions: list[tuple[int, ClmmPosition]] = list(enumerate(config.positions))
        sqrt_price = config.sqrt_price_x64
        self.pool = self._build(sqrt_price, get_tick_at_sqrt_price(sqrt_price), 0, 0)
        deposits = [self._amounts(p, round_up=True) for _, p in self.positions]
        super().__init__(config, (sum(d[0] for d in deposits), sum(d[1] for d in deposits)))

    def _build(self, sqrt_price: int, tick: int, growth0: int, growth1: int) -> ClmmPool:
        ticks: dict[int, int] = {}
        liquidity = 0
        for _, p in self.positions:
            ticks[p.tick_lower] = ticks.get(p.tick_lower, 0) + p.liquidity
            ticks[p.tick_upper] = ticks.get(p.tick_upper, 0) - p.liquidity
            if p.tick_lower <= tick < p.tick_upper:
                liquidity += p.liquidity
        t = self.terms
        return ClmmPool(
            sqrt_price_x64=sqrt_price,
            tick_current=tick,
            liquidity=liquidity,
            tick_spacing=t.tick_spacing,
            fee_rate=t.trade_fee_rate,
            ticks=ticks,
            protocol_fee_rate=t.protocol_fee_rate,
            fund_fee_rate=t.fund_fee_rate,
            fee_on=t.fee_on,
            fee_growth_global_0_x64=growth0,
            fee_growth_global_1_x64=growth1,
        )

    def _amounts(self, p: ClmmPosition, *, round_up: bool) -> tuple[int, int]:
        """Tokens behind a position at the pool's state (``LiquidityChangeResult`` in the program)."""
        s = self.pool.sqrt_price_x64
        tick = self.pool.tick_current
        s_lo, s_hi = get_sqrt_price_at_tick(p.tick_lower), get_sqrt_price_at_tick(p.tick_upper)
        if tick < p.tick_lower:
            return get_delta_amount_0_unsigned(s_lo, s_hi, p.liquidity, round_up), 0
        if tick < p.tick_upper:
            return (
                get_delta_amount_0_unsigned(s, s_hi, p.liquidity, round_up),
                get_delta_amount_1_unsigned(s_lo, s, p.liquidity, round_up),
            )
        return 0, get_delta_amount_1_unsigned(s_lo, s_hi, p.liquidity, round_up)

    def price(self) -> Fraction:
        return clmm_price(self.pool.sqrt_price_x64)

    def price_ratio(self) -> Pair:
        s = self.pool.sqrt_price_x64
        return s * s, 1 << 128  # clmm_price, not reduced

    @property
    def fee_factor(self) -> Fraction:
        t = self.terms
        cached: tuple[object, Fraction] | None = getattr(self, "_fee_factor", None)
        if cached is not None and cached[0] is t:  # the terms are frozen: computed once per terms
            return cached[1]
        d = FEE_RATE_DENOMINATOR_VALUE
        factor = Fraction(d - t.trade_fee_rate, d)
        self._fee_factor = (t, factor)
        return factor

    def quote_swap(self, amount: int, *, sell_base: bool, exact_in: bool) -> SwapQuote:
        return _clmm_quote(self.pool.swap(amount, sell_base, exact_in, require_full_fill=True), sell_base)

    def apply(self, q: SwapQuote) -> None:
        super().apply(q)
        assert q.clmm is not None
        self.pool = q.clmm

    def _arb(self, *, buy_base: bool, target: Fraction) -> SwapQuote | None:
        """Swap with the target as the sqrt-price limit (what an on-chain arbitrageur does), clamped to the
        last initialized tick in that direction: beyond it there is no liquidity left to trade."""
        pool = self.pool
        ticks = pool.sorted_ticks()
        if not ticks:
            return None
        if buy_base:
            limit = sqrt_x64(target, ceil=True)
            if ticks[-1] <= pool.tick_current:  # no initialized tick above
                return None
            limit = min(limit, get_sqrt_price_at_tick(ticks[-1]))  # the highest
            if limit <= pool.sqrt_price_x64:
                return None
        else:
            limit = sqrt_x64(target, ceil=False)
            if ticks[0] > pool.tick_current:  # none at or below
                return None
            limit = max(limit, get_sqrt_price_at_tick(ticks[0]))  # the lowest
            if limit >= pool.sqrt_price_x64:
                return None
        r = pool.swap(U64_MAX, not buy_base, True, limit)
        if r.amount_in == 0 and r.amount_out == 0:
            self.pool = r.pool  # crossed empty ticks only: a price move without a trade
            return None
        return _clmm_quote(r, not buy_base)

    def recenter(self, reference: Fraction) -> Pair:
        """Withdraw every position the price has left (rounded down, as ``decrease_liquidity``) and deposit
        it again around the price (rounded up) at its share of ``tvl_usd``. If no position is left in
        range the pool is empty, so its price moves to the reference at no cost before the deposits."""
        cfg = self.config
        if not cfg.recenter or cfg.tvl_usd is None:
            return 0, 0
        tick = self.pool.tick_current
        gone = [(i, p) for i, p in self.positions if not p.tick_lower <= tick < p.tick_upper]
        if not gone:
            return 0, 0
        flow = [0, 0]
        for _, p in gone:
            a0, a1 = self._amounts(p, round_up=False)
            flow[0] += a0
            flow[1] += a1
        self.positions = [(i, p) for i, p in self.positions if (i, p) not in gone]
        pool = self.pool
        sqrt_price, tick = pool.sqrt_price_x64, pool.tick_current
        if not self.positions:
            sqrt_price = sqrt_x64(reference, ceil=False)
            tick = get_tick_at_sqrt_price(sqrt_price)
        g0, g1 = pool.fee_growth_global_0_x64, pool.fee_growth_global_1_x64
        self.pool = self._build(sqrt_price, tick, g0, g1)
        tvl = Fraction(cfg.tvl_usd) * 10**cfg.quote.decimals
        for i, _ in gone:
            rng = cfg.ranges[i]
            lower, upper = clmm_band(sqrt_price, tick, rng.width, self.terms.tick_spacing)
            liquidity = max(1, clmm_liquidity_for_value(sqrt_price, lower, upper, Fraction(rng.weight) * tvl))
            new = ClmmPosition(lower, upper, liquidity)
            self.positions.append((i, new))
            self.pool = self._build(sqrt_price, tick, g0, g1)
            a0, a1 = self._amounts(new, round_up=True)
            flow[0] -= a0
            flow[1] -= a1
        self.positions.sort(key=lambda ip: ip[0])
        self.vault[0] -= flow[0]
        self.vault[1] -= flow[1]
        return flow[0], flow[1]


def _clmm_quote(r: ClmmSwapResult, sell_base: bool) -> SwapQuote:
    def place(x: int) -> Pair:
        return (x, 0) if r.fee_on_token0 else (0, x)

    return SwapQuote(
        sell_base,
        r.amount_in,
        r.amount_out,
        place(r.lp_fee),
        place(r.protocol_fee),
        place(r.fund_fee),
        (0, 0),
        r.pool,
    )


def make_engine(config: PoolConfig) -> PoolEngine:
    """The engine for `config`'s kind."""
    return ClmmEngine(config) if config.kind == "clmm" else ConstantProductEngine(config)
