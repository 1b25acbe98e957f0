"""Factories for every VenueClient under contract: each builds a funded venue at a cursor on real bars.

A new venue joins the contract suite by adding one factory to FACTORIES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
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


def sim_spot() -> Subject:
    inst = Spot(
        InstrumentId("SOL/USDT", "SIM"), "SOL", "USDT", Decimal("0.0001"), Decimal("0.001"), Decimal("0.001")
    )
    v = SimSpot(inst, fill_model=CloseFill(), balances={"USDT": Decimal(1_000_000), "SOL": Decimal(1_000)})
    b = bars()
    v.set_cursor(b, 100)
    return Subject(v, inst.id, "SOL", "USDT", inst.lot_size, b, 100)


def sim_perp() -> Subject:
    inst = Perp(
        InstrumentId("SOL-PERP", "DRIFT"), "SOL", "USDC", Decimal("0.0001"), Decimal("0.01"), Decimal("0.01")
    )
    v = SimPerp(inst, fill_model=CloseFill(), collateral=Decimal(1_000_000))
    b = bars()
    v.set_cursor(b, 100)
    return Subject(v, inst.id, "SOL", "USDC", inst.lot_size, b, 100)


FACTORIES: dict[str, Callable[[], Subject]] = {"sim_spot": sim_spot, "sim_perp": sim_perp}
