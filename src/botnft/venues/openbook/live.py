"""`openbook_from_table`: an `OpenBookClient` from one ``[live.openbook]`` config table, as `bot live` builds
its venues (the Jupiter adapter's `jupiter_from_table` is the pattern)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from botnft.domain.errors import UserError
from botnft.venues.openbook.client import OpenBookClient, build_openbook
from botnft.venues.openbook.settings import OpenBookSettings
from botnft.venues.solana.journal import SendJournal
from botnft.venues.solana.keypair import load_keypair

__all__ = ["TABLE_KEYS", "openbook_from_table"]

TABLE_KEYS = ("rpc_url", "keypair_file", "keypair_env", "journal", "skip_preflight", "rpc_timeout_s")


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
    rpc_url = table.get("rpc_url")
    if not isinstance(rpc_url, str) or not rpc_url.startswith(("http://", "https://")):
        raise UserError("openbook.rpc_url must be the http(s) URL of a Solana RPC node")
    if table.get("keypair_file"):
        key = load_keypair(path=str(table["keypair_file"]))
    elif table.get("keypair_env"):
        key = load_keypair(env=str(table["keypair_env"]))
    else:
        raise UserError("openbook needs a wallet: keypair_file or keypair_env")
    where = table.get("journal", journal)
    if where is None:
        raise UserError("openbook needs a send journal: journal = <path of its SQLite file>")
    skip = table.get("skip_preflight", False)
    timeout = table.get("rpc_timeout_s", 10.0)
    if not isinstance(skip, bool):
        raise UserError("openbook.skip_preflight must be true or false")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 1e6:
        raise UserError(f"openbook.rpc_timeout_s must be a positive number, got {timeout!r}")
    settings = OpenBookSettings.from_mapping({k: v for k, v in table.items() if k not in TABLE_KEYS})
    j = where if isinstance(where, SendJournal) else SendJournal(str(where))
    return build_openbook(
        settings,
        key=key,
        rpc_url=rpc_url,
        journal=j,
        rpc_timeout_s=float(timeout),
        skip_preflight=skip,
        clock=clock,
    )
