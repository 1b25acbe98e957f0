"""Smart order routing: split one order across liquidity sources (pure numeric kernel).

Imports only the standard library (numpy/scipy allowed, not needed) — never venues, storage or SDKs.
"""

from botnft.routing.sources import BookSource, ClmmSource, CpmmSource, PerpSource, Source
from botnft.routing.split import Split, optimal_split

__all__ = ["BookSource", "ClmmSource", "CpmmSource", "PerpSource", "Source", "Split", "optimal_split"]
