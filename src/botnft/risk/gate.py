"""The pre-trade risk gate: every order passes `RiskGate.check` before it reaches a venue.

It refuses (raises `RiskDenied`/`InvalidOrder`) rather than resizes: a refused order is an event the
strategy and the user can see. Spot books cannot go short; perp orders that add risk must keep leverage
under the limit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botnft.domain.errors import RiskDenied
from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO
from botnft.domain.orders import Order, Side
from botnft.risk.state import RiskDenial


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_leverage: Decimal = Decimal(10)
    max_position_notional: Decimal | None = None
    max_order_notional: Decimal | None = None
    #: market data older than this (ns) blocks new risk (None: not checked)
    max_data_age_ns: int | None = None


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the gate knows about the account when an order arrives."""

    price: Decimal
    position: Decimal  # signed base units
    cash: Decimal  # free quote at the venue (spot) or account equity (perp)
    equity: Decimal
    fee_rate: Decimal
    #: how old the market data the order was decided on is (ns), and whether the venue's oracle is valid
    data_age_ns: int = 0
    oracle_valid: bool = True


class RiskGate:
    __slots__ = ("checked", "denied", "limits", "publish", "reasons")

    def __init__(self, limits: RiskLimits | None = None) -> None:
        self.limits = limits or RiskLimits()
        self.checked = 0
        self.denied = 0
        #: denials by reason (reduce_only, order_notional, position_notional, spot_short, cash, equity,
        #: leverage, invalid_oracle, stale_data, invalid_order, risk_state)
        self.reasons: Counter[str] = Counter()
        #: where each denial is published as a `RiskDenial` event (the node's bus), if anywhere
        self.publish: Callable[[Any], None] | None = None

    def check(self, order: Order, instrument: Instrument, ctx: RiskContext) -> None:
        self.checked += 1
        try:
            self._check(order, instrument, ctx)
        except RiskDenied as exc:
            self._denied(order, _reason(str(exc)), str(exc))
            raise
        except Exception as exc:
            self._denied(order, "invalid_order", str(exc))
            raise

    def _denied(self, order: Order, reason: str, message: str) -> None:
        self.denied += 1
        self.reasons[reason] += 1
        if self.publish is not None:
            self.publish(RiskDenial(order.ts_ns, order.client_order_id, reason, message))

    def count_denial(
        self, reason: str, ts_ns: int, publish: Callable[[Any], None], order_id: str = ""
    ) -> None:
        """A denial decided outside `check` (the node's risk state), counted and published as an event."""
        self.denied += 1
        self.reasons[reason] += 1
        publish(RiskDenial(ts_ns, order_id, reason, f"risk state refuses new risk ({reason})"))

    def _check(self, order: Order, inst: Instrument, ctx: RiskContext) -> None:
        qty = inst.check_qty(order.amount)
        lim = self.limits
        old = ctx.position
        new = old + qty if order.side is Side.BUY else old - qty
        notional = qty * ctx.price
        if order.reduce_only and (abs(new) > abs(old) or (new != ZERO and (new > ZERO) != (old > ZERO))):
            raise RiskDenied(f"reduce-only order {order.client_order_id} would increase or flip the position")
        if lim.max_order_notional is not None and notional > lim.max_order_notional:
            raise RiskDenied(f"order notional {notional} exceeds the limit {lim.max_order_notional}")
        increases = abs(new) > abs(old)
        if increases and not ctx.oracle_valid:
            raise RiskDenied("invalid oracle: no new risk until the venue's oracle is valid again")
        if increases and lim.max_data_age_ns is not None and ctx.data_age_ns > lim.max_data_age_ns:
            age, limit = ctx.data_age_ns / 1e9, lim.max_data_age_ns / 1e9
            raise RiskDenied(f"stale market data ({age:.1f} s old, limit {limit:.1f} s): no new risk")
        if (
            lim.max_position_notional is not None
            and increases
            and abs(new) * ctx.price > lim.max_position_notional
        ):
            raise RiskDenied(
                f"position notional {abs(new) * ctx.price} would exceed the limit {lim.max_position_notional}"
            )
        if not inst.is_perp:
            if new < ZERO:
                raise RiskDenied(f"a spot book cannot go short: sell of {qty} with {old} {inst.base} held")
            if order.side is Side.BUY and notional * (1 + ctx.fee_rate) > ctx.cash:
                raise RiskDenied(
                    f"buy of {qty} {inst.base} needs about {notional * (1 + ctx.fee_rate):.2f} {inst.quote}, "
                    f"free cash is {ctx.cash:.2f}"
                )
            return
        if increases:
            if ctx.equity <= ZERO:
                raise RiskDenied(f"account equity is {ctx.equity}; no new risk")
            leverage = abs(new) * ctx.price / ctx.equity
            if leverage > lim.max_leverage:
                raise RiskDenied(f"leverage {leverage:.2f}x would exceed the limit {lim.max_leverage}x")


_REASONS = (
    ("invalid oracle", "invalid_oracle"),
    ("stale market data", "stale_data"),
    ("reduce-only", "reduce_only"),
    ("order notional", "order_notional"),
    ("position notional", "position_notional"),
    ("cannot go short", "spot_short"),
    ("free cash", "cash"),
    ("equity is", "equity"),
    ("leverage", "leverage"),
)


def _reason(message: str) -> str:
    return next((key for text, key in _REASONS if text in message), "other")
