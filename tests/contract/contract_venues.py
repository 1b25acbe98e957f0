"""Factories for every VenueClient under contract: each builds a funded venue at a cursor on real bars
(1,000,000 in quote and, on a spot venue, `sol` SOL).

A new venue joins the contract suite by adding one factory to FACTORIES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial
from typing import Any

from botnft.data import bundle
from botnft.data.bars import BarBatch
from botnft.data.loader import load_candles
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp, Spot
from botnft.venues.sim.fill_models import CloseFill
from botnft.venues.sim.perp import SimPerp
from botnft.venues.sim.spot import SimSpot


@dataclass
class Subject:
    venue: Any
    instrument: InstrumentId
    base: str
    quote: str
    lot: Decimal
    bars: BarBatch
    j: int


@cache
def bars() -> BarBatch:
    return load_candles(bundle.get("sol-spot-1h").path).slice(40_000, 40_500)


SOL_HELD = Decimal(1_000)


def sim_spot(sol: Decimal = SOL_HELD) -> Subject:
    inst = Spot(
        InstrumentId("SOL/USDT", "SIM"), "SOL", "USDT", Decimal("0.0001"), Decimal("0.001"), Decimal("0.001")
    )
    v = SimSpot(inst, fill_model=CloseFill(), balances={"USDT": Decimal(1_000_000), "SOL": sol})
    b = bars()
    v.set_cursor(b, 100)
    return Subject(v, inst.id, "SOL", "USDT", inst.lot_size, b, 100)


def sim_perp(sol: Decimal = SOL_HELD) -> Subject:
    inst = Perp(
        InstrumentId("SOL-PERP", "DRIFT"), "SOL", "USDC", Decimal("0.0001"), Decimal("0.01"), Decimal("0.01")
    )
    v = SimPerp(inst, fill_model=CloseFill(), collateral=Decimal(1_000_000))
    b = bars()
    v.set_cursor(b, 100)
    return Subject(v, inst.id, "SOL", "USDC", inst.lot_size, b, 100)


def sim_drift(sol: Decimal = SOL_HELD) -> Subject:
    from botnft.venues.sim.drift import SimDrift
    from botnft.venues.sim.drift_params import SOL_PERP

    v = SimDrift([SOL_PERP], collateral=Decimal(1_000_000))
    inst = SOL_PERP.instrument()
    b = bars()
    v.set_cursor(b, 100)
    return Subject(v, inst.id, "SOL", "USDC", inst.lot_size, b, 100)


def sim_raydium(sol: Decimal = SOL_HELD, kind: str = "amm_v4") -> Subject:
    from botnft.venues.sim.raydium import SimRaydium
    from botnft.venues.sim.raydium_config import from_price

    b = bars()
    v = SimRaydium(
        from_price(Decimal(repr(float(b.close[100]))), kind=kind),  # type: ignore[arg-type]
        balances={"USDC": Decimal(1_000_000), "SOL": sol},
    )
    v.set_cursor(b, 100)
    return Subject(v, v.instrument.id, "SOL", "USDC", v.instrument.lot_size, b, 100)


def sim_clob(sol: Decimal = SOL_HELD) -> Subject:
    from botnft.venues.sim.book_replay import SimClob

    inst = Spot(
        InstrumentId("SOL/USDT", "CEX"), "SOL", "USDT", Decimal("0.0001"), Decimal("0.001"), Decimal("0.001")
    )
    v = SimClob(inst, balances={"USDT": Decimal(1_000_000), "SOL": sol})
    b = bars()
    v.set_cursor(b, 100)
    return Subject(v, inst.id, "SOL", "USDT", inst.lot_size, b, 100)


def sim_openbook(sol: Decimal = SOL_HELD) -> Subject:
    from botnft.venues.sim.openbook import SimOpenBook

    v = SimOpenBook(balances={"USDC": Decimal(1_000_000), "SOL": sol})
    b = bars()
    v.set_cursor(b, 100)
    return Subject(v, v.instrument.id, "SOL", "USDC", v.instrument.lot_size, b, 100)


def sim_jupiter(sol: Decimal = SOL_HELD) -> Subject:
    from botnft.venues.sim.jupiter import SimJupiter
    from botnft.venues.sim.openbook import SimOpenBook
    from botnft.venues.sim.raydium import SimRaydium
    from botnft.venues.sim.raydium_config import from_price
    from botnft.venues.sim.wallet import SolanaWallet

    b = bars()
    px = Decimal(repr(float(b.close[100])))
    wallet = SolanaWallet(("SOL", "USDC"))
    pools = [SimRaydium(from_price(px, kind=k), name=f"R{i}") for i, k in enumerate(("amm_v4", "clmm"))]
    book = SimOpenBook()
    for p in pools:
        p.account = wallet.pair("SOL", "USDC")
    book.ledger.account = wallet.mapping(("SOL", "USDC"))
    v = SimJupiter([*pools, book], wallet=wallet)
    v.deposit("USDC", Decimal(1_000_000))
    if sol:
        v.deposit("SOL", sol)
    v.set_cursor(b, 100)
    return Subject(v, v.instrument.id, "SOL", "USDC", v.instrument.lot_size, b, 100)


FACTORIES: dict[str, Callable[..., Subject]] = {
    "sim_jupiter": sim_jupiter,
    "sim_spot": sim_spot,
    "sim_perp": sim_perp,
    "sim_drift": sim_drift,
    "sim_raydium": sim_raydium,
    "sim_raydium_cpmm": partial(sim_raydium, kind="cpmm"),
    "sim_raydium_clmm": partial(sim_raydium, kind="clmm"),
    "sim_clob": sim_clob,
    "sim_openbook": sim_openbook,
}
