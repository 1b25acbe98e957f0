"""Solana network fees (base fee per signature + ceil(CU price × CU limit / 1e6) priority fee) and the
seeded latency model of slots between a quote and its execution."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from botnft.domain.errors import UserError
from botnft.venues.sim.raydium import SOLANA_SWAP_FEE_USD
from botnft.venues.sim.solana import LatencyModel, SolanaFees, lamports_in_quote_native


def test_the_default_fee_is_the_5000_lamport_signature_plus_a_10000_lamport_priority_fee() -> None:
    f = SolanaFees()
    assert f.base_lamports == 5_000
    assert f.priority_lamports == 50_000 * 200_000 // 1_000_000 == 10_000
    assert f.lamports() == 15_000
    assert f.in_sol() == D("0.000015")


def test_the_default_fee_costs_what_the_raydium_venue_charges_the_router_at_150() -> None:
    assert SolanaFees().in_quote(D(150)) == SOLANA_SWAP_FEE_USD


def test_each_signature_pays_the_base_fee() -> None:
    assert SolanaFees(signatures=3, compute_unit_price_micro_lamports=0).lamports() == 15_000


def test_the_priority_fee_rounds_up_to_a_whole_lamport() -> None:
    assert SolanaFees(compute_unit_price_micro_lamports=1, compute_units=1).priority_lamports == 1
    assert SolanaFees(compute_unit_price_micro_lamports=3, compute_units=500_000).priority_lamports == 2


def test_a_fee_in_usdc_native_units_rounds_up_and_is_exact_when_it_can_be() -> None:
    assert SolanaFees().in_quote_native(D(150)) == 2_250
    assert lamports_in_quote_native(15_000, D("150.00000001")) == 2_251
    assert lamports_in_quote_native(0, D(150)) == 0


@pytest.mark.parametrize(
    "kw",
    [
        {"base_fee_lamports": -1},
        {"signatures": 0},
        {"compute_units": 1_400_001},
        {"compute_unit_price_micro_lamports": -5},
    ],
)
def test_impossible_fee_settings_are_a_user_error(kw: dict[str, int]) -> None:
    with pytest.raises(UserError):
        SolanaFees(**kw)


def test_a_fee_needs_a_positive_sol_price() -> None:
    with pytest.raises(UserError):
        SolanaFees().in_quote(D(0))


def test_a_fixed_latency_always_waits_the_same_slots_of_400_ms() -> None:
    m = LatencyModel(3)
    assert [m.next_slots() for _ in range(5)] == [3] * 5
    assert m.delay_ns(3) == 1_200_000_000
    assert m.mean_ms() == 1_200


def test_jittered_latency_is_the_same_sequence_for_the_same_seed_and_stays_in_range() -> None:
    m1, m2, m3 = (LatencyModel(1, jitter_slots=4, seed=s) for s in (7, 7, 8))
    s1 = [m1.next_slots() for _ in range(50)]
    assert s1 == [m2.next_slots() for _ in range(50)]
    assert s1 != [m3.next_slots() for _ in range(50)]
    assert set(s1) <= {1, 2, 3, 4, 5} and len(set(s1)) > 1


def test_latency_settings_must_be_possible() -> None:
    with pytest.raises(UserError):
        LatencyModel(-1)
    with pytest.raises(UserError):
        LatencyModel(1, slot_ms=0)
