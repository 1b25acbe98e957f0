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

from botnft.domain.errors import UserError
from botnft.venues.jupiter.api import KEYED_URL, KEYLESS_URL, JupiterApi, JupiterApiError, JupiterRateLimited
from botnft.venues.jupiter.client import JupiterClient
from botnft.venues.jupiter.settings import SOL_USDC, JupiterSettings
from botnft.venues.solana.journal import SendJournal
from botnft.venues.solana.keypair import WalletKey, load_keypair
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender
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

#: keys of a ``[live.jupiter]`` table that are not `JupiterSettings`
TABLE_KEYS = ("rpc_url", "keypair_file", "keypair_env", "journal", "skip_preflight", "rpc_timeout_s")


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
    rpc_url = table.get("rpc_url")
    if not isinstance(rpc_url, str) or not rpc_url.startswith(("http://", "https://")):
        raise UserError("jupiter.rpc_url must be the http(s) URL of a Solana RPC node")
    if table.get("keypair_file"):
        key = load_keypair(path=str(table["keypair_file"]))
    elif table.get("keypair_env"):
        key = load_keypair(env=str(table["keypair_env"]))
    else:
        raise UserError("jupiter needs a wallet: keypair_file or keypair_env")
    where = table.get("journal", journal)
    if where is None:
        raise UserError("jupiter needs a send journal: journal = <path of its SQLite file>")
    skip = table.get("skip_preflight", False)
    timeout = table.get("rpc_timeout_s", 10.0)
    if not isinstance(skip, bool):
        raise UserError("jupiter.skip_preflight must be true or false")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 1e6:
        raise UserError(f"jupiter.rpc_timeout_s must be a positive number, got {timeout!r}")
    settings = JupiterSettings.from_mapping({k: v for k, v in table.items() if k not in TABLE_KEYS})
    j = where if isinstance(where, SendJournal) else SendJournal(str(where))
    return build_jupiter(settings, key=key, rpc_url=rpc_url, journal=j, rpc_timeout_s=float(timeout),
                         skip_preflight=skip, clock=clock)  # fmt: skip
