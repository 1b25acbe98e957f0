"""What a landed transaction did to one wallet, read from the transaction itself (``getTransaction`` meta),
never from a quote: the change of each mint the wallet holds, in native units.

For a token mint: the sum over the wallet's token accounts (``owner`` = the wallet) of post minus pre amount
(an account created or closed inside the transaction counts as 0 on the side where it does not exist).
For SOL (the wrapped-SOL mint) the wallet's lamports count too, with the network fee added back when the
wallet paid it: wrapping, unwrapping and temporary wrapped-SOL accounts then net out, and the fee is
reported on its own. Rent is reported on its own too (`TxEffect.rent`): the lamports the wallet put into
token accounts of its own that the transaction opened, less those it got back from the ones it closed (a
wrapped-SOL account left by an earlier swap and closed by this one's unwrap). The SOL change is then the
trade's alone, and the wallet's SOL as balances count it (lamports + wrapped SOL) moved by
``deltas[SOL] - fee - rent`` (fee when the wallet paid it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from solders.pubkey import Pubkey
from solders.transaction_status import EncodedConfirmedTransactionWithStatusMeta, UiTransactionTokenBalance

from botnft.venues.solana.rpc import NATIVE_MINT

__all__ = ["TxEffect", "wallet_effect"]


@dataclass(frozen=True, slots=True)
class TxEffect:
    """`deltas[mint]`: native change of the wallet; `fee`: lamports the fee payer paid; `err` is None
    when the transaction succeeded; `slot` where it landed; `block_time` seconds (if the node has it)."""

    slot: int
    fee: int
    fee_payer_is_wallet: bool
    deltas: dict[str, int]
    err: object | None
    block_time: int | None
    #: lamports the wallet deposited as rent in token accounts it owns (negative: rent returned)
    rent: int = 0

    @property
    def sol_cost(self) -> int:
        """What the transaction cost the wallet in lamports besides the trade: its fee (when the wallet
        paid it) plus the rent it deposited (less any returned)."""
        return (self.fee if self.fee_payer_is_wallet else 0) + self.rent


def _account_keys(tx: EncodedConfirmedTransactionWithStatusMeta) -> list[Pubkey]:
    inner = tx.transaction.transaction
    message = getattr(inner, "message", None)
    keys = list(getattr(message, "account_keys", []) or [])
    meta = tx.transaction.meta
    loaded = getattr(meta, "loaded_addresses", None) if meta is not None else None
    if loaded is not None:
        keys += list(loaded.writable) + list(loaded.readonly)
    return [k if isinstance(k, Pubkey) else Pubkey.from_string(str(k)) for k in keys]


def _sum(balances: Sequence[UiTransactionTokenBalance] | None, owner: Pubkey) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = {}
    for b in balances or ():
        if b.owner == owner:
            out[(b.account_index, str(b.mint))] = int(b.ui_token_amount.amount)
    return out


def wallet_effect(tx: EncodedConfirmedTransactionWithStatusMeta, owner: Pubkey) -> TxEffect:
    """The effect of a landed transaction on `owner` (module docstring). Raises `ValueError` without meta."""
    meta = tx.transaction.meta
    if meta is None:
        raise ValueError("the transaction has no status meta")
    keys = _account_keys(tx)
    pre, post = _sum(meta.pre_token_balances, owner), _sum(meta.post_token_balances, owner)
    native = str(NATIVE_MINT)
    deltas: dict[str, int] = {}
    rent = 0
    for key in set(pre) | set(post):
        index, mint = key
        change = post.get(key, 0) - pre.get(key, 0)
        deltas[mint] = deltas.get(mint, 0) + change
        if index < len(meta.pre_balances):  # the account's lamports beyond its wrapped SOL are rent
            lamports = meta.post_balances[index] - meta.pre_balances[index]
            rent += lamports - (change if mint == native else 0)
    payer = bool(keys) and keys[0] == owner
    if owner in keys:
        i = keys.index(owner)
        lamports = meta.post_balances[i] - meta.pre_balances[i] + (meta.fee if payer else 0) + rent
        deltas[native] = deltas.get(native, 0) + lamports
    return TxEffect(tx.slot, int(meta.fee), payer, deltas, meta.err, tx.block_time, rent)
