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
``[0, jitter_slots]`` extra. Same seed, same sequence of draws (DESIGN C4).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.errors import UserError

__all__ = [
    "DEFAULT_MS_PER_SLOT",
    "LAMPORTS_PER_SOL",
    "MAX_COMPUTE_UNIT_LIMIT",
    "MICRO_LAMPORTS_PER_LAMPORT",
    "LatencyModel",
    "SolanaFees",
    "lamports_in_quote_native",
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
