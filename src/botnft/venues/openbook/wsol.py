"""Wrapped SOL around an OpenBook transaction, as the OpenBook UI and SDK do for a SOL market: the market's
vaults hold wrapped SOL (the native mint), so a wallet holding native SOL pays through its wrapped-SOL
associated token account, created in the same transaction when missing (idempotent), funded with the
lamports the order needs (System ``transfer``) and synced (Token ``SyncNative``) before ``placeOrder``; after
``settleFunds`` the account is closed (Token ``CloseAccount``: its wrapped SOL and its rent back to the wallet
as native SOL), so what a buy brought is native SOL too; an account the wallet had before is then made again
(empty), so its rent stays deposited.

A transaction pays a base fee of 5,000 lamports per signature (ours: one) plus the priority fee; the rent of
the account is deposited at its creation and returned at its close in the same transaction, but must be
there when it is created.
"""

from __future__ import annotations

from typing import Final

from solders.instruction import Instruction
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.token.associated import get_associated_token_address
from spl.token.constants import TOKEN_PROGRAM_ID
from spl.token.instructions import (
    CloseAccountParams,
    SyncNativeParams,
    close_account,
    create_idempotent_associated_token_account,
    sync_native,
)

__all__ = [
    "NATIVE_MINT",
    "SIGNATURE_FEE",
    "TOKEN_ACCOUNT_RENT",
    "fee_reserve",
    "unwrap",
    "wrap",
    "wrap_needed",
    "wsol_account",
]

NATIVE_MINT: Final = Pubkey.from_string("So11111111111111111111111111111111111111112")
SIGNATURE_FEE: Final = 5_000  # lamports per signature (the runtime's base fee)
TOKEN_ACCOUNT_RENT: Final = 2_039_280  # rent-exempt minimum of a 165-byte token account (lamports)


def wsol_account(owner: Pubkey) -> Pubkey:
    return get_associated_token_address(owner, NATIVE_MINT)


def wrap(owner: Pubkey, lamports: int) -> list[Instruction]:
    """Create `owner`'s wrapped-SOL account when missing, then move `lamports` of native SOL into it."""
    ata = wsol_account(owner)
    ixs = [create_idempotent_associated_token_account(owner, owner, NATIVE_MINT)]
    if lamports > 0:
        ixs.append(transfer(TransferParams(from_pubkey=owner, to_pubkey=ata, lamports=lamports)))
        ixs.append(sync_native(SyncNativeParams(TOKEN_PROGRAM_ID, ata)))
    return ixs


def unwrap(owner: Pubkey, *, keep: bool = False) -> list[Instruction]:
    """Close `owner`'s wrapped-SOL account: all of it, and its rent, back to `owner` as native SOL; with
    `keep` (it existed before the transaction) it is made again, empty, so the rent the wallet had deposited
    stays deposited and its SOL balance moves by the trade and the fee only."""
    close = close_account(CloseAccountParams(TOKEN_PROGRAM_ID, wsol_account(owner), owner, owner))
    if not keep:
        return [close]
    return [close, create_idempotent_associated_token_account(owner, owner, NATIVE_MINT)]


def wrap_needed(need: int, wrapped: int, free: int) -> int:
    """Lamports to wrap so that `need` is covered: ``placeOrder`` takes the open-orders account's `free`
    balance first, then the `wrapped` SOL in the token account."""
    return max(0, need - free - wrapped)


def fee_reserve(priority_fee: int) -> int:
    """Lamports kept for a transaction's fee: one signature, and the priority fee (micro-lamports per compute
    unit) at the most compute units a transaction may use (1.4 M)."""
    return SIGNATURE_FEE + -(-priority_fee * 1_400_000 // 1_000_000)
