"""The node's risk state and the risk events it publishes on the bus (state changes, denials)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class RiskState(Enum):
    """ACTIVE trades; REDUCING takes only risk-reducing orders; HALTED takes none but reductions."""

    ACTIVE = 0
    REDUCING = 1
    HALTED = 2


@dataclass(frozen=True, slots=True)
class RiskStateChanged:
    ts_ns: int
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class RiskDenial:
    ts_ns: int
    client_order_id: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class GuardDelever:
    """The guard sent a reduce-only order from ``before`` to ``after`` base units at ``price``."""

    ts_ns: int
    before: str
    after: str
    price: str
