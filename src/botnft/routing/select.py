"""Venue selection for a single-venue order: the venue that lists the instrument.

The smart order router (costs, perp vs spot, splits) builds on this; until a trade has more than one
place to go, routing is the identity on the venue named in the instrument id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from botnft.domain.errors import InvalidOrder
from botnft.domain.ids import InstrumentId

V = TypeVar("V")


def venue_for(instrument: InstrumentId, venues: Mapping[str, V]) -> V:
    try:
        return venues[instrument.venue]
    except KeyError:
        raise InvalidOrder(
            f"no venue {instrument.venue} for {instrument}; configured: {', '.join(venues) or 'none'}",
            reason="unknown_venue",
        ) from None
