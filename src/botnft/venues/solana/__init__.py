"""The Solana base for the on-chain venues (Jupiter, Raydium, OpenBook, Drift): the wallet's keypair
(`keypair`), an async RPC wrapper over the unmodified `solana` client (`rpc`), the durable send journal
(`journal`), the sender that journals every transaction before broadcasting it and resolves it by the recovery
rule (`sender`), what a landed transaction did to the wallet (`deltas`), the clients' shared watcher
(`watcher`) and swap client (`swaps`), and the settings checks the venues share (`settings`, `table`).

`settings` is plain data (no SDK): a venue's settings are checked before any Solana library is imported. So
this package imports nothing when imported; the names below load their module (and `solana`/`solders`, the
``solana`` extra) when first used. `botnft` itself never imports this package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botnft.venues.solana.journal import JournalEntry, SendJournal
    from botnft.venues.solana.keypair import WalletKey, load_keypair
    from botnft.venues.solana.rpc import NATIVE_MINT, BlockhashExpired, BlockhashInfo, SolanaRpc
    from botnft.venues.solana.sender import TransactionSender, TxOutcome, custom_error

#: each public name and the module that defines it
_HOMES = {
    "NATIVE_MINT": "rpc",
    "BlockhashExpired": "rpc",
    "BlockhashInfo": "rpc",
    "SolanaRpc": "rpc",
    "JournalEntry": "journal",
    "SendJournal": "journal",
    "WalletKey": "keypair",
    "load_keypair": "keypair",
    "TransactionSender": "sender",
    "TxOutcome": "sender",
    "custom_error": "sender",
}

__all__ = [
    "NATIVE_MINT",
    "BlockhashExpired",
    "BlockhashInfo",
    "JournalEntry",
    "SendJournal",
    "SolanaRpc",
    "TransactionSender",
    "TxOutcome",
    "WalletKey",
    "custom_error",
    "load_keypair",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
