"""The Solana base for the on-chain venues (Jupiter, Raydium): the wallet's keypair (`keypair`), an async RPC
wrapper over the unmodified `solana` client (`rpc`), the durable send journal (`journal`) and the sender that
journals every transaction before broadcasting it and resolves it by the recovery rule (`sender`).

Importing this package imports `solana`/`solders` (the ``solana`` extra); `botnft` itself never does.
"""

from botnft.venues.solana.journal import JournalEntry, SendJournal
from botnft.venues.solana.keypair import WalletKey, load_keypair
from botnft.venues.solana.rpc import NATIVE_MINT, BlockhashExpired, BlockhashInfo, SolanaRpc
from botnft.venues.solana.sender import TransactionSender, TxOutcome, custom_error

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
