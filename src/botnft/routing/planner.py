"""From a split to child orders: quantize each venue's share to its lot and place the residual where
a lot grid can take it. Pure given the snapshots."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import AnyLiquidity
from botnft.domain.money import ZERO, floor_to, to_decimal
from botnft.routing.split import optimal_split

ToSource = Callable[[AnyLiquidity, str], object]


@dataclass(frozen=True, slots=True)
class Child:
    instrument: InstrumentId
    qty: Decimal


@dataclass(frozen=True, slots=True)
class RoutePlan:
    side: str
    qty: Decimal
    children: tuple[Child, ...]
    remainder: Decimal  # base that no venue could take (never dropped silently)
    expected_avg_price: float


def plan_route(
    snapshots: Sequence[AnyLiquidity],
    side: str,
    qty: Decimal,
    to_source: ToSource,
    grid: Decimal | None = None,
) -> RoutePlan:
    """Split `qty` base across `snapshots` at the best total price, quantized to each venue's lot.

    A buy is exact output (receive `qty` base, spend the least quote); a sell is exact input. Each share is
    floored to its venue's lot and dropped below its minimum; the residual goes to the venue with the finest
    lot that divides it, else is reported as `remainder`. `grid`, when given, is a coarser size grid every
    child lands on (the book's sizing lot), so a venue with a 1-lamport lot still gets round sizes.
    """
    if not snapshots:
        return RoutePlan(side, qty, (), qty, float("nan"))
    sources = [to_source(s, side) for s in snapshots]
    split = optimal_split(sources, side, float(qty), "base", quantize=False)  # type: ignore[arg-type]
    shares = split.outputs if side == "buy" else split.allocations
    qtys: list[Decimal] = []
    lots = [snap.lot if grid is None or grid <= snap.lot else grid for snap in snapshots]
    for snap, lot, share in zip(snapshots, lots, shares, strict=True):
        q = floor_to(to_decimal(max(share, 0.0)), lot)
        qtys.append(q if q >= snap.min_size else ZERO)
    residual = qty - sum(qtys, ZERO)
    if residual < ZERO:  # float shares summed above qty: take the excess off the largest
        k = max(range(len(qtys)), key=lambda i: qtys[i])
        qtys[k] += residual
        residual = ZERO
    if residual > ZERO:
        order = sorted(range(len(snapshots)), key=lambda i: (lots[i], -qtys[i]))
        for i in order:
            snap = snapshots[i]
            if residual % lots[i] == ZERO and qtys[i] + residual >= snap.min_size:
                qtys[i] += residual
                residual = ZERO
                break
    children = tuple(Child(s.instrument, q) for s, q in zip(snapshots, qtys, strict=True) if q > ZERO)
    return RoutePlan(side, qty, children, residual, split.avg_price)
