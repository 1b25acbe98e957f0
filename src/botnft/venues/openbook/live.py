"""`openbook_from_table`: an `OpenBookClient` from one ``[live.openbook]`` config table, as `bot live` builds
its venues (the Jupiter adapter's `jupiter_from_table` is the pattern)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from botnft.venues.openbook.client import OpenBookClient, build_openbook
from botnft.venues.openbook.settings import OpenBookSettings
from botnft.venues.solana.journal import SendJournal
from botnft.venues.solana.table import open_journal, wallet_table

__all__ = ["openbook_from_table"]


def openbook_from_table(
    table: Mapping[str, Any],
    *,
    journal: SendJournal | str | Path | None = None,
    clock: Callable[[], int] = time.time_ns,
) -> OpenBookClient:
    """``rpc_url`` (required), the wallet as ``keypair_file`` or ``keypair_env``, ``journal`` (the SQLite
    path; else the `journal` argument, which may be the journal shared with the other Solana venues),
    ``skip_preflight`` (default false), ``rpc_timeout_s`` (default 10); every other key is an
    `OpenBookSettings` key. Mistakes are one-line `UserError`s. ``await client.start()`` before trading."""
    t = wallet_table(table, "openbook", journal)
    settings = OpenBookSettings.from_mapping(t.settings)
    return build_openbook(
        settings,
        key=t.key,
        rpc_url=t.rpc_url,
        journal=open_journal(t.journal),
        rpc_timeout_s=t.rpc_timeout_s,
        skip_preflight=t.skip_preflight,
        clock=clock,
    )
