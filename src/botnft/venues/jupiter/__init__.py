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
from botnft.venues.jupiter.settings import SOL_USDC, JupiterSettings
from botnft.venues.solana.journal import SendJournal
from botnft.venues.solana.keypair import WalletKey
from botnft.venues.solana.table import open_journal, solana_sender, wallet_table
from botnft.venues.swap_market import SwapMarket

__all__ = [
    "KEYED_URL",
    "KEYLESS_URL",
    "SOL_USDC",
    "JupiterApi",
    "JupiterApiError",
    "JupiterClient",
    "JupiterRateLimited",
    "JupiterSettings",
    "SwapMarket",
    "build_jupiter",
    "jupiter_from_table",
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
    rpc, sender = solana_sender(rpc_url, journal, rpc_timeout_s=rpc_timeout_s, skip_preflight=skip_preflight,
                                poll_interval_s=s.poll_interval_s, clock=clock)  # fmt: skip
    api = JupiterApi(base_url=s.base_url, api_key=s.api_key, timeout_s=s.timeout_s)
    return JupiterClient(api, rpc, sender, key, s, clock=clock)


def jupiter_from_table(
    table: Mapping[str, Any],
    *,
    journal: SendJournal | str | Path | None = None,
    clock: Callable[[], int] = time.time_ns,
) -> JupiterClient:
    """A `JupiterClient` from one config table (``[live.jupiter]``): ``rpc_url`` (required), the wallet as
    ``keypair_file`` or ``keypair_env`` (the name of a variable holding it), ``journal`` (the SQLite path;
    else the `journal` argument), ``skip_preflight`` (default false), ``rpc_timeout_s`` (default 10); every
    other key is a `JupiterSettings` key. Mistakes are one-line `UserError`s."""
    t = wallet_table(table, "jupiter", journal)
    settings = JupiterSettings.from_mapping(t.settings)
    return build_jupiter(settings, key=t.key, rpc_url=t.rpc_url, journal=open_journal(t.journal),
                         rpc_timeout_s=t.rpc_timeout_s, skip_preflight=t.skip_preflight,
                         clock=clock)  # fmt: skip
