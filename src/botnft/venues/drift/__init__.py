"""Drift v2 perps as a live venue (`DriftVenue`), over driftpy (the ``drift`` extra) and the Solana base.

Importing this package imports driftpy (~3 s): only `bot live` with a ``[live.drift]`` table does, never
``import botnft`` or ``bot --help``. `settings` and `ids` alone do not.

Build one from a ``[live.drift]`` table::

    venue = drift_from_table({"rpc_url": "http://127.0.0.1:8899", "keypair_file": "wallet.json",
                              "journal": "state/solana-sends.sqlite", "markets": ["SOL-PERP"]})
    await venue.start()      # recovery, subscription, markets, the log history since the last run
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from botnft.domain.errors import UserError
from botnft.venues.drift.client import ERROR_REASONS, DriftVenue
from botnft.venues.drift.ids import IdSpaceExhausted, OrderIds
from botnft.venues.drift.settings import TABLE_KEYS, DriftSettings
from botnft.venues.solana import SendJournal, SolanaRpc, TransactionSender, WalletKey, load_keypair

__all__ = [
    "ERROR_REASONS",
    "DriftSettings",
    "DriftVenue",
    "IdSpaceExhausted",
    "OrderIds",
    "build_drift",
    "drift_from_table",
]


def build_drift(
    settings: DriftSettings | Mapping[str, Any],
    *,
    key: WalletKey,
    rpc_url: str,
    journal: SendJournal | str | Path,
    ids: OrderIds | str | Path | None = None,
    rpc_timeout_s: float = 10.0,
    skip_preflight: bool = False,
    clock: Callable[[], int] = time.time_ns,
) -> DriftVenue:
    """A `DriftVenue` over its own `SolanaRpc` and a `TransactionSender` on `journal` (shareable with the
    other Solana venues); its user-order-id map and log history in `ids` (default: the file beside the
    journal)."""
    s = settings if isinstance(settings, DriftSettings) else DriftSettings.from_mapping(settings)
    rpc = SolanaRpc(rpc_url, timeout_s=rpc_timeout_s)
    j = journal if isinstance(journal, SendJournal) else SendJournal(journal)
    sender = TransactionSender(
        rpc, j, skip_preflight=skip_preflight, poll_interval_s=min(0.4, s.poll_interval_s), clock=clock
    )
    store = (
        ids if isinstance(ids, OrderIds) else OrderIds(ids if ids is not None else OrderIds.beside(j.path))
    )
    return DriftVenue(rpc, sender, key, store, s, clock=clock)


def drift_from_table(
    table: Mapping[str, Any],
    *,
    journal: SendJournal | str | Path | None = None,
    clock: Callable[[], int] = time.time_ns,
) -> DriftVenue:
    """A `DriftVenue` from one ``[live.drift]`` table: ``rpc_url`` (required), the wallet as
    ``keypair_file`` or ``keypair_env``, ``journal`` (the send journal's SQLite path; else the `journal`
    argument), ``skip_preflight`` (default false), ``rpc_timeout_s`` (default 10); every other key a
    `DriftSettings` key. Mistakes are one-line `UserError`s."""
    rpc_url = table.get("rpc_url")
    if not isinstance(rpc_url, str) or not rpc_url.startswith(("http://", "https://")):
        raise UserError("drift.rpc_url must be the http(s) URL of a Solana RPC node")
    if table.get("keypair_file"):
        key = load_keypair(path=str(table["keypair_file"]))
    elif table.get("keypair_env"):
        key = load_keypair(env=str(table["keypair_env"]))
    else:
        raise UserError("drift needs a wallet: keypair_file or keypair_env")
    where = table.get("journal", journal)
    if where is None:
        raise UserError("drift needs a send journal: journal = <path of its SQLite file>")
    skip = table.get("skip_preflight", False)
    timeout = table.get("rpc_timeout_s", 10.0)
    if not isinstance(skip, bool):
        raise UserError("drift.skip_preflight must be true or false")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 1e6:
        raise UserError(f"drift.rpc_timeout_s must be a positive number, got {timeout!r}")
    settings = DriftSettings.from_mapping({k: v for k, v in table.items() if k not in TABLE_KEYS})
    j = where if isinstance(where, SendJournal) else SendJournal(str(where))
    return build_drift(
        settings,
        key=key,
        rpc_url=rpc_url,
        journal=j,
        rpc_timeout_s=float(timeout),
        skip_preflight=skip,
        clock=clock,
    )
