"""What the Solana venues' builders share: the wallet, node and journal keys of a ``[live.<venue>]`` config
table (`wallet_table`, with one-line `UserError`s naming the venue), and a `SolanaRpc` with a
`TransactionSender` on a send journal (`solana_sender`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botnft.domain.errors import UserError
from botnft.venues.solana.journal import SendJournal
from botnft.venues.solana.keypair import WalletKey, load_keypair
from botnft.venues.solana.rpc import SolanaRpc
from botnft.venues.solana.sender import TransactionSender

__all__ = ["TABLE_KEYS", "WalletTable", "open_journal", "solana_sender", "wallet_table"]

#: keys of a ``[live.<venue>]`` table that are not the venue's settings
TABLE_KEYS = ("rpc_url", "keypair_file", "keypair_env", "journal", "skip_preflight", "rpc_timeout_s")


def open_journal(journal: SendJournal | str | Path) -> SendJournal:
    """`journal` itself, or the journal in the SQLite file at that path."""
    return journal if isinstance(journal, SendJournal) else SendJournal(str(journal))


@dataclass(frozen=True, slots=True)
class WalletTable:
    """A table's node, wallet and journal (not opened yet: `open_journal`), and its other keys
    (`settings`)."""

    rpc_url: str
    key: WalletKey
    journal: SendJournal | str | Path
    skip_preflight: bool
    rpc_timeout_s: float
    settings: Mapping[str, Any]


def wallet_table(
    table: Mapping[str, Any], venue: str, journal: SendJournal | str | Path | None = None
) -> WalletTable:
    """``rpc_url`` (required), the wallet as ``keypair_file`` or ``keypair_env`` (the name of a variable
    holding it), ``journal`` (the SQLite path; else the `journal` argument), ``skip_preflight`` (default
    false), ``rpc_timeout_s`` (default 10); every other key is left in `WalletTable.settings`."""
    rpc_url = table.get("rpc_url")
    if not isinstance(rpc_url, str) or not rpc_url.startswith(("http://", "https://")):
        raise UserError(f"{venue}.rpc_url must be the http(s) URL of a Solana RPC node")
    if table.get("keypair_file"):
        key = load_keypair(path=str(table["keypair_file"]))
    elif table.get("keypair_env"):
        key = load_keypair(env=str(table["keypair_env"]))
    else:
        raise UserError(f"{venue} needs a wallet: keypair_file or keypair_env")
    where = table.get("journal", journal)
    if where is None:
        raise UserError(f"{venue} needs a send journal: journal = <path of its SQLite file>")
    skip = table.get("skip_preflight", False)
    timeout = table.get("rpc_timeout_s", 10.0)
    if not isinstance(skip, bool):
        raise UserError(f"{venue}.skip_preflight must be true or false")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 1e6:
        raise UserError(f"{venue}.rpc_timeout_s must be a positive number, got {timeout!r}")
    rest = {k: v for k, v in table.items() if k not in TABLE_KEYS}
    return WalletTable(rpc_url, key, where, skip, float(timeout), rest)


def solana_sender(
    rpc_url: str,
    journal: SendJournal | str | Path,
    *,
    rpc_timeout_s: float,
    skip_preflight: bool,
    poll_interval_s: float,
    clock: Callable[[], int] = time.time_ns,
) -> tuple[SolanaRpc, TransactionSender]:
    """A `SolanaRpc` on `rpc_url` and a `TransactionSender` through it on `journal` (a `SendJournal`,
    shareable with the other Solana venues, or the path of its SQLite file)."""
    rpc = SolanaRpc(rpc_url, timeout_s=rpc_timeout_s)
    sender = TransactionSender(
        rpc,
        open_journal(journal),
        skip_preflight=skip_preflight,
        poll_interval_s=poll_interval_s,
        clock=clock,
    )
    return rpc, sender
