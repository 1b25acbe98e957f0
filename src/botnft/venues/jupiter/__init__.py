"""Jupiter (Swap API v1) as a live venue: `JupiterApi` (httpx, ``/quote`` and ``/swap``), `JupiterSettings`,
and `JupiterClient`, the `ExecutionClient` that quotes, builds, signs, journals and sends swaps and reads
their fills from the landed transactions. `build_jupiter` wires them from settings.

Importing this package imports `solana`/`solders` and `httpx` (the ``solana`` extra); `botnft` never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from botnft.venues.jupiter.api import KEYED_URL, KEYLESS_URL, JupiterApi, JupiterApiError, JupiterRateLimited
from botnft.venues.jupiter.client import JupiterClient
from botnft.venues.jupiter.settings import SOL_USDC, JupiterMarket, JupiterSettings
from botnft.venues.solana.journal import SendJournal
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender

__all__ = [
    "KEYED_URL",
    "KEYLESS_URL",
    "SOL_USDC",
    "JupiterApi",
    "JupiterApiError",
    "JupiterClient",
    "JupiterMarket",
    "JupiterRateLimited",
    "JupiterSettings",
    "build_jupiter",
]


def build_jupiter(
    settings: JupiterSettings | Mapping[str, Any],
    *,
    key: WalletKey,
    rpc_url: str,
    journal: SendJournal | str | Path,
    rpc_timeout_s: float = 10.0,
    skip_preflight: bool = False,
    clock: Callable[[], int] = time.time_ns,
) -> JupiterClient:
    """A `JupiterClient` over its own `SolanaRpc` and a `TransactionSender` on `journal` (a `SendJournal`,
    shareable with the other Solana venues, or the path of its SQLite file). Call ``await client.start()``
    (or ``async with``) before trading: it resolves what a previous run left pending."""
    s = settings if isinstance(settings, JupiterSettings) else JupiterSettings.from_mapping(settings)
    rpc = SolanaRpc(rpc_url, timeout_s=rpc_timeout_s)
    j = journal if isinstance(journal, SendJournal) else SendJournal(journal)
    sender = TransactionSender(
        rpc, j, skip_preflight=skip_preflight, poll_interval_s=s.poll_interval_s, clock=clock
    )
    api = JupiterApi(base_url=s.base_url, api_key=s.api_key, timeout_s=s.timeout_s)
    return JupiterClient(api, rpc, sender, key, s, clock=clock)
