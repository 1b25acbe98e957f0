"""Funding carry: per-vehicle targets (long spot + short perp when funding pays shorts, short perp's
mirror when it pays longs) and the net-delta monitor that re-hedges what is left on the cheapest venue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from botnft.domain.errors import UserError
from botnft.domain.money import ZERO
from botnft.ports import BarArrays
from botnft.strategy.base import Signal


@dataclass(frozen=True, slots=True)
class CarryParams:
    """`notional`: quote per leg; `entry_rate`: the hourly funding rate (magnitude) that opens the carry;
    `band`: the |net delta| allowed, as a share of one leg's base quantity."""

    notional: Decimal = Decimal(1000)
    entry_rate: Decimal = Decimal("0.00001")
    band: Decimal = Decimal("0.02")

    def __post_init__(self) -> None:  # `--param k=v` arrives as text
        for name in ("notional", "entry_rate", "band"):
            raw = getattr(self, name)
            try:
                object.__setattr__(self, name, Decimal(str(raw)))
            except ArithmeticError:
                raise UserError(f"parameter {name} must be a number, got {raw!r}") from None

    def check(self) -> None:
        if self.notional <= ZERO:
            raise UserError(f"parameter notional must be positive, got {self.notional}")
        if self.entry_rate < ZERO:
            raise UserError(f"parameter entry_rate must be zero or more, got {self.entry_rate}")
        if not ZERO < self.band < 1:
            raise UserError(f"parameter band must be in (0, 1), got {self.band}")


@dataclass(frozen=True, slots=True)
class LegTargets:
    """What each vehicle should hold, in base units: spot (never below zero) and the signed perp."""

    spot: Decimal
    perp: Decimal

    @property
    def net(self) -> Decimal:
        return self.spot + self.perp


class FundingCarry:
    """Two legs at once. Funding paying shorts (rate > 0: longs pay): buy `q` spot, short `q` perp.
        Funding paying longs: long `q` perp and sell `q` of the spot `inventory` (a spot book cannot go short,
        so this side is capped at the inventory). An open carry is kept until the funding turns against it;
    then, below `entry_rate` the other way, both legs go back to the inventory."""

    name = "funding_carry"
    Params = CarryParams

    def __init__(
        self, params: CarryParams, lot: Decimal = Decimal("0.01"), inventory: Decimal = ZERO
    ) -> None:
        params.check()
        self.params = params
        self.lot = lot
        self.inventory = inventory
        self.legs = LegTargets(inventory, ZERO)

    def on_bars(self, bars: BarArrays) -> list[Signal]:
        """A wake-up at every bar: the node hands each one to its carry runner (the exposure is unused)."""
        return [(i, 0.0) for i in range(len(bars))]

    def leg_qty(self, price: Decimal) -> Decimal:
        """One leg's base quantity at `price`, on the lot grid (rounded down)."""
        return (self.params.notional / price / self.lot).to_integral_value(rounding=ROUND_FLOOR) * self.lot

    def on_funding(self, rate: Decimal, price: Decimal) -> LegTargets | None:
        """New targets when the funding `rate` (hourly, paid by longs when positive) changes the carry's
        direction, else None."""
        inv = self.inventory
        if rate > ZERO and rate >= self.params.entry_rate:
            q = self.leg_qty(price)
            legs = LegTargets(inv + q, -q)
        elif rate < ZERO and -rate >= self.params.entry_rate and inv > ZERO:
            q = min(self.leg_qty(price), inv)
            legs = LegTargets(inv - q, q)
        else:
            legs = LegTargets(inv, ZERO)
        held = self.legs.perp
        if held != ZERO and (legs.perp * held > ZERO or (legs.perp == ZERO and rate * held <= ZERO)):
            return None  # kept until the funding turns against the carry; the monitor handles the drift
        if legs == self.legs:
            return None
        self.legs = legs
        return legs

    def band_units(self, price: Decimal) -> Decimal:
        return self.params.band * self.leg_qty(price)


#: (venue, side "buy"/"sell", qty) -> expected cost in quote, or None if that venue cannot take it
CostFn = Callable[[str, str, Decimal], Decimal | None]


@dataclass(frozen=True, slots=True)
class Rehedge:
    venue: str
    side: str
    qty: Decimal
    cost: Decimal


_DAY_NS = 86_400 * 10**9


@dataclass(slots=True)
class NetDeltaMonitor:
    """Watches spot + perp - inventory against a band (base units). Outside the band it proposes the
    order that brings the net delta back to zero on the venue whose expected cost is lowest."""

    venues: Sequence[str]
    cost: CostFn
    lot: Decimal
    inventory: Decimal = ZERO
    observed: int = 0
    inside: int = 0
    max_abs: Decimal = ZERO
    rehedges: int = 0
    #: per UTC day (days since the epoch), the largest |net delta| seen
    daily_max: dict[int, Decimal] = field(default_factory=dict)

    def observe(self, ts_ns: int, spot: Decimal, perp: Decimal, band: Decimal) -> Rehedge | None:
        net = spot + perp - self.inventory
        size = abs(net)
        self.observed += 1
        self.max_abs = max(self.max_abs, size)
        day = ts_ns // _DAY_NS
        self.daily_max[day] = max(self.daily_max.get(day, ZERO), size)
        if size <= band:
            self.inside += 1
            return None
        qty = (size / self.lot).to_integral_value(rounding=ROUND_FLOOR) * self.lot
        if qty == ZERO:
            self.inside += 1
            return None
        side = "sell" if net > ZERO else "buy"
        quotes = [(c, v) for v in self.venues if (c := self.cost(v, side, qty)) is not None]
        if not quotes:
            return None
        cost, venue = min(quotes)
        self.rehedges += 1
        return Rehedge(venue, side, qty, cost)

    def summary(self) -> dict[str, object]:
        share = self.inside / self.observed if self.observed else 1.0
        return {
            "observed": self.observed,
            "max_abs_net_delta": str(self.max_abs),
            "share_inside_band": round(share, 6),
            "rehedges": self.rehedges,
            "daily_max_abs_net_delta": {str(d): str(v) for d, v in sorted(self.daily_max.items())},
        }
