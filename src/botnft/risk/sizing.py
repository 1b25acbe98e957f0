"""Position sizing: turn a strategy's target exposure in [-1, 1] into a target position in base units,
on the instrument's lot grid."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from botnft.domain.errors import UserError
from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO, floor_to, to_decimal


@dataclass(frozen=True, slots=True)
class FixedSize:
    """Target = exposure × `qty` base units (e.g. `--size 100`)."""

    qty: Decimal

    def target(
        self, exposure: float, price: Decimal, equity: Decimal, fee_rate: Decimal, inst: Instrument
    ) -> Decimal:
        if exposure == 0:
            return ZERO
        return floor_to(to_decimal(exposure) * self.qty, inst.lot_size)


@dataclass(frozen=True, slots=True)
class CashFraction:
    """Target = exposure × the lots that `fraction` of equity buys at `price` after the fee."""

    fraction: Decimal

    def target(
        self, exposure: float, price: Decimal, equity: Decimal, fee_rate: Decimal, inst: Instrument
    ) -> Decimal:
        if exposure == 0 or equity <= ZERO:
            return ZERO
        qty = inst.size_down(equity * self.fraction / (price * (1 + fee_rate)))
        return floor_to(to_decimal(exposure) * qty, inst.lot_size)


def check_fixed_size(qty: Decimal | None, inst: Instrument) -> None:
    """A fixed `--size` must be a tradable order on `inst`: at least its minimum and on its lot grid (off-grid
    is an error, never rounded). `None` (size by cash fraction) passes."""
    if qty is None:
        return
    if qty < inst.min_size:
        raise UserError(f"--size {qty} is below the minimum order size {inst.min_size} of {inst.id}")
    if qty % inst.lot_size != ZERO:
        raise UserError(f"--size {qty} is not a multiple of the lot size {inst.lot_size} of {inst.id}")


@dataclass(frozen=True, slots=True)
class MarginCapped:
    """Another sizer's target, capped where the venue's initial margin (size premium included, from the
    one Drift margin table) plus the taker fee would exceed ``usable`` of equity: an order the venue
    would reject is never sized."""

    inner: FixedSize | CashFraction
    margin_fraction: Callable[[float], float]  # |base| -> initial margin ratio at that size
    usable: Decimal = Decimal("0.98")

    def target(
        self, exposure: float, price: Decimal, equity: Decimal, fee_rate: Decimal, inst: Instrument
    ) -> Decimal:
        want = self.inner.target(exposure, price, equity, fee_rate, inst)
        if want == ZERO or equity <= ZERO:
            return want
        budget = float(equity * self.usable)
        px, fee = float(price), float(fee_rate)

        def fits(q: float) -> bool:
            return q * px * (self.margin_fraction(q) + fee) <= budget

        if fits(float(abs(want))):
            return want
        lo, hi = 0.0, float(abs(want))
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        capped = floor_to(to_decimal(hi), inst.lot_size)
        if not fits(float(capped)):
            capped = floor_to(to_decimal(lo), inst.lot_size)
        if capped < inst.min_size:
            return ZERO
        return capped if want > ZERO else -capped


Sizer = FixedSize | CashFraction | MarginCapped


def vol_target_leverage(target_vol: float, realized_vol: float, max_leverage: float) -> float:
    """Volatility targeting: the leverage that makes the position's volatility ``target_vol`` (both over
    the same horizon), at most ``max_leverage``; none without a volatility estimate."""
    if realized_vol <= 0.0 or target_vol <= 0.0:
        return 0.0
    return min(max_leverage, target_vol / realized_vol)


def kelly_fraction(mean: float, variance: float, *, scale: float = 0.5, cap: float = 1.0) -> float:
    """A capped, scaled Kelly fraction of equity: ``scale`` × mean / variance of the per-period return,
    clamped to ±``cap`` (half Kelly by default: the full fraction overbets an estimated edge)."""
    if variance <= 0.0:
        return 0.0
    return max(-cap, min(cap, scale * mean / variance))


def risk_capped_qty(
    equity: Decimal, risk_share: Decimal, stop_distance: Decimal, inst: Instrument
) -> Decimal:
    """The largest size on ``inst``'s lot grid whose loss at the stop (``stop_distance`` in price) is at
    most ``risk_share`` of equity (max risk per trade); zero below the minimum order."""
    if stop_distance <= ZERO or equity <= ZERO:
        return ZERO
    qty = floor_to(equity * risk_share / stop_distance, inst.lot_size)
    return qty if qty >= inst.min_size else ZERO


def risk_capped_leverage(risk_share: float, price: float, stop_distance: float, max_leverage: float) -> float:
    """Max risk per trade as a leverage (notional / equity): ``risk_capped_qty``'s size, ``equity ×
    risk_share / stop_distance``, times the price over equity; at most ``max_leverage``, none without a
    stop distance."""
    if stop_distance <= 0.0 or risk_share <= 0.0 or price <= 0.0:
        return 0.0
    return min(max_leverage, risk_share * price / stop_distance)
