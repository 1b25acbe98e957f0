"""Raydium as a live venue: the data API v3 and trade API client (`api`), decoders of the on-chain pool
accounts (`layouts`), decoded pools priced with the project's program math (`pools`) and read from the
chain (`chain.load_pool`), the adapter's settings (`settings`) and `RaydiumClient`, the `ExecutionClient`
that swaps through the trade API and the Solana sender (`client`; `build_raydium` wires it from settings).

`api`, `layouts`, `pools` and `settings` need only httpx; `chain`, `RaydiumClient` and `build_raydium`
import `solana`/`solders` (the ``solana`` extra), the last two when first used from here. `botnft` itself
never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botnft.venues.raydium.api import RaydiumApi, RaydiumApiSettings
from botnft.venues.raydium.settings import SOL_USDC, RaydiumSettings
from botnft.venues.swap_market import SwapMarket

if TYPE_CHECKING:
    from botnft.venues.raydium.client import RaydiumClient, build_raydium

__all__ = [
    "SOL_USDC",
    "RaydiumApi",
    "RaydiumApiSettings",
    "RaydiumClient",
    "RaydiumSettings",
    "SwapMarket",
    "build_raydium",
]


def __getattr__(name: str) -> Any:
    if name in ("RaydiumClient", "build_raydium"):
        from botnft.venues.raydium import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
