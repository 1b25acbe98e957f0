"""What a Solana transaction costs (`SolanaFees`) and how many slots pass between a quote and the slot its
transaction lands in (`LatencyModel`), for the simulated on-chain venues.

Fees (solana.com/docs/core/fees, ``fee-structure``; agave ``fee/src/lib.rs::calculate_fee_details``):
``total = signatures × lamports_per_signature + ceil(cu_price × cu_limit / 1_000_000)``, paid in SOL by the
fee payer, whether the transaction succeeds or fails (the simulator's venues model a failing swap as caught
by the preflight simulation, so they charge nothing for it). Defaults and where they come from:

* ``base_fee_lamports = 5_000``: ``lamports_per_signature`` (docs: "currently 5,000"); ``signatures = 1``:
  a swap signed by the wallet alone.
* ``compute_units = 200_000``: ``DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT`` (docs' limits table), the limit a
  transaction gets per instruction without a SetComputeUnitLimit; the CU *limit*, not the CUs used, is
  what the priority fee is charged on. The ceiling is ``MAX_COMPUTE_UNIT_LIMIT = 1_400_000``.
* ``compute_unit_price_micro_lamports = 50_000``: an assumption (a moderate priority level, not read from
  the chain), chosen so the total, 15_000 lamports, matches `raydium.SOLANA_SWAP_FEE_USD` at $150/SOL and
  the router compares the on-chain venues on the same network cost. Jupiter's own ``/swap`` doc example
  reports ``prioritizationFeeLamports: 254600`` (its automatic "veryHigh"-style level): pass a larger price to
  model a congested market.

Latency: a slot is ``DEFAULT_MS_PER_SLOT = 400`` ms (``solana_program::clock``). `LatencyModel` says how many
slots pass between the quote (taken at the cursor) and execution: ``slots`` fixed plus a seeded-uniform
``[0, jitter_slots]`` extra. Same seed, same sequence of draws (DESIGN C4). The price a swap lands at is the
decision bar's close moved by a seeded draw of its own intra-bar volatility over the wait (`latency_price`:
nothing after the decision is read, so a backtest fed one bar at a time, paper and live agree);
`path_price` walks a bar's own path (SimJupiter's latency).

`SolanaExecution` is the one configuration of how a swap reaches the chain (bot.toml ``[liquidity.solana]``):
the fee, the latency, sandwiching (`MevModel`) and the arbitrage that keeps pools at the market
(`ArbitrageTerms`). Defaults are `SolanaExecution.default()`; the router prices the network the same way.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botnft.domain.errors import UserError

__all__ = [
    "DEFAULT_MS_PER_SLOT",
    "LAMPORTS_PER_SOL",
    "MAX_COMPUTE_UNIT_LIMIT",
    "MICRO_LAMPORTS_PER_LAMPORT",
    "ArbitrageTerms",
    "LatencyModel",
    "MevModel",
    "SolanaExecution",
    "SolanaFees",
    "lamports_in_quote_native",
    "latency_price",
    "path_price",
]

LAMPORTS_PER_SOL = 1_000_000_000
MICRO_LAMPORTS_PER_LAMPORT = 1_000_000
MAX_COMPUTE_UNIT_LIMIT = 1_400_000
DEFAULT_MS_PER_SLOT = 400


def lamports_in_quote_native(lamports: int, sol_price: Decimal, quote_decimals: int = 6) -> int:
    """`lamports` worth of SOL in native units of the quote token (1e-6 USDC by default) at `sol_price`
    (quote per SOL), rounded up: the fee payer never pays less than the fee is worth."""
    if lamports < 0:
        raise UserError(f"a fee cannot be negative, got {lamports} lamports")
    if not (sol_price.is_finite() and sol_price > 0):
        raise UserError(f"the SOL price must be positive, got {sol_price}")
    num, den = sol_price.as_integer_ratio()
    num *= lamports * 10**quote_decimals
    den *= LAMPORTS_PER_SOL
    return int(-(-num // den))


@dataclass(frozen=True, slots=True)
class SolanaFees:
    """The network fee of one transaction; defaults and their sources are in the module docstring."""

    base_fee_lamports: int = 5_000
    signatures: int = 1
    compute_unit_price_micro_lamports: int = 50_000
    compute_units: int = 200_000

    def __post_init__(self) -> None:
        if self.base_fee_lamports < 0 or self.compute_unit_price_micro_lamports < 0:
            raise UserError(f"Solana fees cannot be negative: {self}")
        if self.signatures < 1:
            raise UserError(f"a transaction has at least one signature, got {self.signatures}")
        if not 0 <= self.compute_units <= MAX_COMPUTE_UNIT_LIMIT:
            raise UserError(
                f"compute_units must be in [0, {MAX_COMPUTE_UNIT_LIMIT}] (MAX_COMPUTE_UNIT_LIMIT), "
                f"got {self.compute_units}"
            )

    @property
    def base_lamports(self) -> int:
        return self.base_fee_lamports * self.signatures

    @property
    def priority_lamports(self) -> int:
        """``ceil(cu_price × cu_limit / 1_000_000)`` lamports, all to the leader."""
        return -(-self.compute_unit_price_micro_lamports * self.compute_units // MICRO_LAMPORTS_PER_LAMPORT)

    def lamports(self) -> int:
        """The whole fee of one transaction, in lamports."""
        return self.base_lamports + self.priority_lamports

    def in_sol(self) -> Decimal:
        return Decimal(self.lamports()).scaleb(-9)

    def in_quote(self, sol_price: Decimal) -> Decimal:
        """The fee in the quote token (e.g. USDC) at `sol_price` quote per SOL, exact (no rounding)."""
        if not (sol_price.is_finite() and sol_price > 0):
            raise UserError(f"the SOL price must be positive, got {sol_price}")
        return Decimal(self.lamports()).scaleb(-9) * sol_price

    def in_quote_native(self, sol_price: Decimal, quote_decimals: int = 6) -> int:
        """The fee in native quote units, rounded up (see `lamports_in_quote_native`)."""
        return lamports_in_quote_native(self.lamports(), sol_price, quote_decimals)


class LatencyModel:
    """Slots between a quote and the slot its transaction executes in: ``slots`` plus a uniform draw in
    ``[0, jitter_slots]`` from a RNG seeded with `seed` (deterministic). Each slot is ``slot_ms``."""

    __slots__ = ("_rng", "draws", "jitter_slots", "seed", "slot_ms", "slots")

    def __init__(
        self, slots: int = 2, *, jitter_slots: int = 0, slot_ms: int = DEFAULT_MS_PER_SLOT, seed: int = 0
    ):
        if slots < 0 or jitter_slots < 0:
            raise UserError(f"latency slots must be >= 0, got {slots} (+ up to {jitter_slots})")
        if slot_ms <= 0:
            raise UserError(f"a slot must last a positive time, got {slot_ms} ms")
        self.slots = slots
        self.jitter_slots = jitter_slots
        self.slot_ms = slot_ms
        self.seed = seed
        self.draws = 0
        self._rng = random.Random(seed)

    @property
    def slot_ns(self) -> int:
        return self.slot_ms * 1_000_000

    def next_slots(self) -> int:
        """The slots the next transaction waits (advances the seeded sequence when there is jitter)."""
        self.draws += 1
        extra = self._rng.randint(0, self.jitter_slots) if self.jitter_slots else 0
        return self.slots + extra

    def delay_ns(self, slots: int) -> int:
        return slots * self.slot_ns

    def mean_ms(self) -> float:
        return (self.slots + self.jitter_slots / 2) * self.slot_ms

    def __repr__(self) -> str:
        return (
            f"LatencyModel(slots={self.slots}, jitter_slots={self.jitter_slots}, "
            f"slot_ms={self.slot_ms}, seed={self.seed})"
        )


def path_price(bars: Any, j: int, elapsed_ns: int) -> float:
    """The price ``elapsed_ns`` into bar ``j`` along its intra-bar path: open → low → high → close for a bar
    that closes at or above its open, open → high → low → close otherwise, at a constant speed along the
    path (each leg takes time in proportion to its length). Beyond the bar: its close."""
    o, h, lo, c = (float(bars.open[j]), float(bars.high[j]), float(bars.low[j]), float(bars.close[j]))
    pts = (o, lo, h, c) if c >= o else (o, h, lo, c)
    legs = [abs(pts[i + 1] - pts[i]) for i in range(3)]
    total = sum(legs)
    frac = elapsed_ns / float(bars.interval_ns)
    if total <= 0.0 or frac <= 0.0:
        return o
    if frac >= 1.0:
        return c
    walk = frac * total
    for i, leg in enumerate(legs):
        if walk <= leg:
            return pts[i] + (pts[i + 1] - pts[i]) * (walk / leg if leg else 0.0)
        walk -= leg
    return c


def latency_price(bars: Any, j: int, elapsed_ns: int, z: float) -> float:
    """Where the price is ``elapsed_ns`` after bar ``j``'s close, for a standard normal draw ``z``: the close
    moved by ``z`` standard deviations of the decision bar's own intra-bar volatility over that time
    (Parkinson's estimate from its high and low, ``ln(H/L) / (2·√ln 2)`` per bar, scaled by the square root
    of the elapsed share of a bar). It reads nothing after bar ``j``: the next bar is not known when the
    transaction is sent, in a backtest fed one bar at a time, in paper or live, so the model is the same in
    all of them."""
    h, lo, c = float(bars.high[j]), float(bars.low[j]), float(bars.close[j])
    if not (lo > 0.0 and h >= lo and c > 0.0) or elapsed_ns <= 0:
        return c
    sigma_bar = math.log(h / lo) / (2.0 * math.sqrt(math.log(2.0)))
    return c * math.exp(sigma_bar * math.sqrt(elapsed_ns / float(bars.interval_ns)) * z)


@dataclass(frozen=True, slots=True)
class MevModel:
    """Sandwiching of a public swap on a pool. An attacker front-runs and back-runs the swap so that it
    executes exactly at the swap's slippage limit, taking the whole tolerance: the limit price set on the
    order, or ``default_tolerance_bps`` from the quote for an order without one (Jupiter's default
    ``slippageBps``, venues.md §2). It happens with probability ``max_probability·r/(r + half_ratio)``,
    where ``r`` is the order's base over the pool's (virtual) base reserve: small orders are rarely worth
    it, large ones often are; and only when what it takes pays the attacker's two transactions and the
    pool fee on its front- and back-run (about fee × tolerance × the pool's virtual depth: the trade that
    moves the price by the tolerance and back). Both probability figures are assumptions (no public
    per-pool sandwich rate was found), configurable. A swap sent as a Jito bundle (``jito_tip_lamports >
    0``; off by default) is not sandwiched: it pays the tip on top of the fee (Jito's minimum tip is 1,000
    lamports, per Alchemy's Jito bundle docs) and, a bundle being all-or-nothing, a swap that would fail
    does not land and pays nothing."""

    enabled: bool = True
    max_probability: float = 0.2
    half_ratio: float = 0.01
    default_tolerance_bps: float = 50.0
    jito_tip_lamports: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_probability <= 1.0:
            raise UserError(f"mev max_probability must be in [0, 1], got {self.max_probability}")
        if not self.half_ratio > 0.0:
            raise UserError(f"mev half_ratio must be > 0, got {self.half_ratio}")
        if not 0.0 <= self.default_tolerance_bps <= 10_000.0:
            raise UserError(
                f"mev default_tolerance_bps must be in [0, 10000], got {self.default_tolerance_bps}"
            )
        if self.jito_tip_lamports < 0:
            raise UserError(f"jito_tip_lamports must be >= 0, got {self.jito_tip_lamports}")

    @property
    def jito(self) -> bool:
        return self.jito_tip_lamports > 0

    def probability(self, size_ratio: float) -> float:
        """The chance a public swap of ``size_ratio`` (order base / pool base) is sandwiched."""
        if not self.enabled or self.jito or size_ratio <= 0.0:
            return 0.0
        return self.max_probability * size_ratio / (size_ratio + self.half_ratio)


@dataclass(frozen=True, slots=True)
class ArbitrageTerms:
    """What an arbitrageur pays to bring a pool back to the market: the pool's own fee (in the pool math),
    ``cex_fee_bps`` on the hedge leg on a centralised exchange (10 bps: a base-tier spot taker fee, an
    assumption), and one Solana transaction. A pool is left off the market while that does not pay."""

    cex_fee_bps: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.cex_fee_bps <= 1_000.0:
            raise UserError(f"arbitrage cex_fee_bps must be in [0, 1000], got {self.cex_fee_bps}")


@dataclass(frozen=True, slots=True)
class SolanaExecution:
    """How a transaction reaches the chain: its fee, the slots it waits, sandwiching and pool arbitrage.
    ``latency_slots = 0`` and ``jitter_slots = 0`` land at the decision price; ``mev.enabled = False`` turns
    sandwiching off. Randomness (jitter, sandwiches) comes from ``seed`` and the venue's name only."""

    fees: SolanaFees = SolanaFees()
    latency_slots: int = 2
    jitter_slots: int = 2
    mev: MevModel = MevModel()
    arbitrage: ArbitrageTerms = ArbitrageTerms()
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.latency_slots <= 150 or not 0 <= self.jitter_slots <= 150:
            raise UserError(
                f"latency_slots and jitter_slots must be in [0, 150] (a blockhash expires after 150 slots), "
                f"got {self.latency_slots} and {self.jitter_slots}"
            )

    @classmethod
    def default(cls, seed: int = 0) -> SolanaExecution:
        return cls(seed=seed)

    @classmethod
    def off(cls, fees: SolanaFees | None = None) -> SolanaExecution:
        """Land at the decision price, never sandwiched, pools arbitraged to the pool fee band only."""
        return cls(
            fees=fees or SolanaFees(),
            latency_slots=0,
            jitter_slots=0,
            mev=MevModel(enabled=False),
            arbitrage=ArbitrageTerms(cex_fee_bps=0.0),
        )

    @property
    def moves(self) -> bool:
        return self.latency_slots > 0 or self.jitter_slots > 0

    def latency(self, name: str) -> LatencyModel:
        return LatencyModel(self.latency_slots, jitter_slots=self.jitter_slots, seed=_seed(self.seed, name))

    def rng(self, name: str, stream: str = "mev") -> random.Random:
        """The venue's own seeded stream for `stream` ("mev": sandwich draws; "move": the price move while
        a transaction waits), independent of the latency draws and of each other."""
        return random.Random(_seed(self.seed, f"{name}/{stream}"))

    def tx_lamports(self) -> int:
        """One transaction's cost: the fee plus the Jito tip when bundled."""
        return self.fees.lamports() + self.mev.jito_tip_lamports


def _seed(seed: int, name: str) -> int:
    """A stable per-venue seed (``hash`` of a str is salted per process; this is not)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "big")
