"""The portfolio's per-bar paths: funding booked through the cached (instrument, book, position) of the last
funding event, and `linear_equity` summing the balances and the perps on a base. Expected figures are worked
by hand, or come from the definitions the fast paths replace (kept here as the reference)."""

import random
from decimal import Decimal as D

from botnft.domain.events import FundingApplied, OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp, Spot
from botnft.domain.money import ZERO
from botnft.domain.orders import Side
from botnft.domain.portfolio import Portfolio

DRIFT = InstrumentId("SOL-PERP", "DRIFT")
OTHER = InstrumentId("SOL-PERP", "HYPER")
SPOT = InstrumentId("SOL/USDC", "RAYDIUM")
STEP = D("0.000001")


def book() -> Portfolio:
    return Portfolio(
        {
            DRIFT: Perp(DRIFT, "SOL", "USDC", STEP, STEP, STEP),
            OTHER: Perp(OTHER, "SOL", "USDC", STEP, STEP, STEP),
            SPOT: Spot(SPOT, "SOL", "USDC", STEP, STEP, STEP),
        }
    )


def funding(inst: InstrumentId, payment: str) -> FundingApplied:
    return FundingApplied(0, inst, D(1), D("0.0001"), D(100), D(payment))


def test_funding_alternating_between_instruments_lands_on_each_ones_account_and_position() -> None:
    pf = book()
    pf.deposit("DRIFT", "USDC", D(1000))
    pf.deposit("HYPER", "USDC", D(500))
    pf.apply_funding(funding(DRIFT, "1.5"))  # DRIFT pays 1.5
    pf.apply_funding(funding(OTHER, "-0.25"))  # HYPER receives 0.25
    pf.apply_funding(funding(DRIFT, "0.5"))
    # an equal instrument id that is another object: the same instrument
    pf.apply_funding(funding(InstrumentId("SOL-PERP", "DRIFT"), "2"))
    pf.apply_funding(funding(OTHER, "1"))
    assert pf.balance("DRIFT", "USDC") == D(1000) - D("1.5") - D("0.5") - D(2) == D(996)
    assert pf.balance("HYPER", "USDC") == D(500) + D("0.25") - D(1) == D("499.25")
    assert pf.positions[DRIFT].funding == D(4)
    assert pf.positions[OTHER].funding == D("0.75")
    assert pf.funding_paid == D("4.75")


def reference_linear(pf: Portfolio, base: str) -> tuple[float, float]:
    """`linear_equity` as it was defined: sums over generators, the perps found by scanning instruments."""
    balances = pf._balances  # the reference reads the same state
    cash = sum((a for b in balances.values() for s, a in b.items() if s != base), ZERO)
    held = sum((b.get(base, ZERO) for b in balances.values()), ZERO)
    for inst_id, inst in pf.instruments.items():
        if inst.is_perp and inst.base == base:
            pos = pf.positions[inst_id]
            cash -= pos.qty * pos.avg_entry
            held += pos.qty
    return float(cash), float(held)


def test_linear_equity_is_the_equity_at_any_price_worked_by_hand() -> None:
    pf = book()
    pf.deposit("DRIFT", "USDC", D(1000))
    pf.deposit("RAYDIUM", "USDC", D(300))
    pf.apply_fill(OrderFilled(1, "a", DRIFT, Side.BUY, D(2), D(100), D(1), "USDC", "taker"))
    pf.apply_fill(OrderFilled(2, "b", SPOT, Side.BUY, D(1), D(110), ZERO, "USDC", "taker"))
    pf.apply_funding(funding(DRIFT, "3"))
    # cash: 1000 - 1 fee - 3 funding (DRIFT) + 300 - 110 (RAYDIUM) - 2 * 100 entry = 986; held: 2 + 1 SOL
    assert pf.linear_equity("SOL") == (986.0, 3.0)
    # equity at 120: 996 + 190 USDC, 1 SOL at 120, the perp's 2 * (120 - 100): 1346 = 986 + 3 * 120
    assert pf.equity({DRIFT: D(120), OTHER: D(120), SPOT: D(120)}) == D(1346)


def test_linear_equity_matches_its_definition_bit_for_bit_along_random_books() -> None:
    rng = random.Random(11)
    pf = book()
    pf.deposit("DRIFT", "USDC", D(1000))
    pf.deposit("HYPER", "USDC", D("777.123456"))
    pf.deposit("RAYDIUM", "USDC", D(250))
    assert pf.linear_equity("SOL") == reference_linear(pf, "SOL")
    for k in range(400):
        inst = rng.choice([DRIFT, OTHER, SPOT])
        if rng.random() < 0.4:
            pf.apply_funding(funding(inst, str(D(rng.randrange(-(10**6), 10**6)).scaleb(-6))))
        else:
            qty = D(rng.randrange(1, 3 * 10**6)).scaleb(-6)
            price = D(rng.randrange(50 * 10**6, 250 * 10**6)).scaleb(-6)
            fee = (qty * price * D("0.0005")).quantize(STEP)
            side = rng.choice([Side.BUY, Side.SELL])
            pf.apply_fill(OrderFilled(k, str(k), inst, side, qty, price, fee, "USDC", "taker"))
        assert pf.linear_equity("SOL") == reference_linear(pf, "SOL")
        assert pf.linear_equity("USDC") == reference_linear(pf, "USDC")
    assert pf.positions[DRIFT].qty and pf.positions[OTHER].qty  # both perps held something on the way
