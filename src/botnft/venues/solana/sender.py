"""Send and confirm self-signed transactions, with the journal written before anything leaves.

The recovery rule (live-and-ops §2.2): a transaction's signature and its blockhash's
``lastValidBlockHeight`` are journaled *before* it is sent. Its outcome is then one of
- ``landed`` / ``failed``: `getSignatureStatuses` found it (at ``confirmed`` or better), without or with an
  error (a failed transaction landed too: it paid its fee, and moved nothing else);
- ``expired``: the status is unknown *and* the block height read *before* asking was already past its last
  valid height, so it was not in any block then and can never be in one later;
- ``pending``: neither yet. A pending transaction may be re-broadcast (the same signed bytes: it lands at
  most once); it is never replaced by a new one.

After a restart `recover()` resolves every pending row that way before the caller sends anything new.
A send that fails in transport (timeout, reset, 5xx, 429) leaves the row pending and raises `Retryable`: the
node may have received it. A preflight refusal (the node simulated it and it failed: slippage, funds) means
the node did not forward it: the row is ``failed`` with the simulation's error and no slot (it paid no fee),
and the caller learns it from `status`. Any other refusal (`Rejected`) is raised and the row stays pending
(resolved by the rule like any other). A blockhash the node does not know leaves the row pending until the
height proves it expired.

Usage (also what the Raydium adapter does with its trade-API transactions)::

    sender = TransactionSender(SolanaRpc(url), SendJournal(path))
    await sender.recover()
    signed = key.sign(VersionedTransaction.from_bytes(base64.b64decode(swap["swapTransaction"])))
    sig = await sender.send(signed, swap["lastValidBlockHeight"], client_order_id="o-1", detail={...})
    outcome = await sender.confirm(sig, timeout_s=30)   # TxOutcome(state="landed", slot=..., err=None)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_status import TransactionConfirmationStatus, TransactionStatus

from botnft.domain.errors import Retryable
from botnft.venues.solana.journal import JournalEntry, SendJournal, TxState
from botnft.venues.solana.rpc import AlreadyProcessed, BlockhashExpired, PreflightFailed, SolanaRpc

__all__ = ["TransactionSender", "TxOutcome", "custom_error", "error_json", "error_text"]

_CONFIRMED = (TransactionConfirmationStatus.Confirmed, TransactionConfirmationStatus.Finalized)


@dataclass(frozen=True, slots=True)
class TxOutcome:
    signature: str
    state: TxState
    slot: int | None = None
    err: str | None = None

    @property
    def final(self) -> bool:
        return self.state != "pending"


def error_json(err: Any) -> Any:
    """A solders transaction error in the RPC's JSON form (``{"InstructionError": [2, {"Custom": 6001}]}``,
    ``"BlockhashNotFound"``): serialized through a `TransactionStatus`, whose JSON has the canonical form."""
    status = TransactionStatus(0, None, None, err, None)
    return json.loads(status.to_json())["err"]


def error_text(err: Any) -> str:
    """`error_json` as text; a JSON value from a node is passed through, anything else by its name."""
    if isinstance(err, str | dict | list):
        return json.dumps(err)
    try:
        return json.dumps(error_json(err))
    except (TypeError, ValueError):
        return json.dumps(str(err).rsplit(".", 1)[-1])


def custom_error(err: str | None) -> tuple[int, int] | None:
    """(instruction index, custom program error) of an ``InstructionError`` with a ``Custom`` code."""
    if not err:
        return None
    try:
        data = json.loads(err)
        index, inner = data["InstructionError"]
        return int(index), int(inner["Custom"])
    except (ValueError, KeyError, TypeError):
        return None


class TransactionSender:
    """See the module docstring. `clock` gives nanoseconds for the journal rows."""

    def __init__(
        self,
        rpc: SolanaRpc,
        journal: SendJournal,
        *,
        skip_preflight: bool = False,
        poll_interval_s: float = 0.4,
        rebroadcast_interval_s: float = 2.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.rpc = rpc
        self.journal = journal
        self.skip_preflight = skip_preflight
        self.poll_interval_s = poll_interval_s
        self.rebroadcast_interval_s = rebroadcast_interval_s
        self.clock = clock

    async def send(
        self,
        tx: VersionedTransaction,
        last_valid_block_height: int,
        *,
        client_order_id: str,
        detail: Mapping[str, Any] | None = None,
    ) -> str:
        """Journal `tx` (fully signed) and broadcast it; returns its signature. Raises `Retryable` when
        the broadcast's fate is unknown (the row stays pending: resolve it with `status`), `ValueError` if
        the order already has a pending or landed transaction."""
        sigs = tx.signatures
        if not sigs or any(s == Signature.default() for s in sigs):
            raise ValueError("the transaction is not fully signed")
        signature = str(sigs[0])
        entry = self.journal.record(
            signature, client_order_id, int(last_valid_block_height), bytes(tx), detail or {}, self.clock()
        )
        await self._broadcast(entry)
        return signature

    async def rebroadcast(self, signature: str) -> None:
        """Send the journaled bytes of a pending transaction again (the same signature; no-op otherwise)."""
        entry = self.journal.get(signature)
        if entry is not None and entry.state == "pending":
            await self._broadcast(entry)

    async def _broadcast(self, entry: JournalEntry) -> None:
        try:
            await self.rpc.send_raw(entry.tx, skip_preflight=self.skip_preflight)
        except (AlreadyProcessed, BlockhashExpired):
            return  # landed already / resolved by the height rule
        except Retryable:
            raise
        except PreflightFailed as exc:
            # the node simulated it and refused to forward it: it was not sent, so it cannot land
            self.journal.settle(entry.signature, "failed", err=error_text(exc.err))

    async def status(self, signature: str) -> TxOutcome:
        (out,) = await self.statuses([signature])
        return out

    async def statuses(self, signatures: Sequence[str]) -> list[TxOutcome]:
        """The outcome of each journaled signature, by the recovery rule (module docstring); final ones
        are written to the journal. Raises `Retryable` when the node cannot be asked."""
        entries = [self.journal.get(s) for s in signatures]
        missing = [s for s, e in zip(signatures, entries, strict=True) if e is None]
        if missing:
            raise KeyError(f"not in the send journal: {', '.join(missing)}")
        todo = [e for e in entries if e is not None and e.state == "pending"]
        found: dict[str, TxOutcome] = {}
        if todo:
            height = await self.rpc.block_height()  # before the statuses: see the module docstring
            sts = await self.rpc.signature_statuses([Signature.from_string(e.signature) for e in todo])
            for e, st in zip(todo, sts, strict=True):
                if st is not None and st.confirmation_status in _CONFIRMED:
                    if st.err is None:
                        self.journal.settle(e.signature, "landed", slot=st.slot)
                    else:
                        self.journal.settle(e.signature, "failed", slot=st.slot, err=error_text(st.err))
                elif st is None and height > e.last_valid_block_height:
                    self.journal.settle(e.signature, "expired")
                else:
                    found[e.signature] = TxOutcome(e.signature, "pending")
        out = []
        for s in signatures:
            if s in found:
                out.append(found[s])
                continue
            now = self.journal.get(s)
            assert now is not None
            out.append(TxOutcome(s, now.state, now.slot, now.err))
        return out

    async def confirm(self, signature: str, *, timeout_s: float) -> TxOutcome:
        """Poll `status` until final or `timeout_s` passes (then ``pending``), re-broadcasting the same
        bytes every `rebroadcast_interval_s`. Transport errors while polling are retried until the end."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout_s
        last_sent = loop.time()
        out = TxOutcome(signature, "pending")
        while True:
            try:
                out = await self.status(signature)
                if out.final:
                    return out
                if loop.time() - last_sent >= self.rebroadcast_interval_s:
                    await self.rebroadcast(signature)
                    last_sent = loop.time()
            except Retryable:
                pass
            if loop.time() >= end:
                return out
            await asyncio.sleep(min(self.poll_interval_s, max(0.0, end - loop.time())))

    async def recover(self) -> list[TxOutcome]:
        """Resolve every pending row (after a restart, before anything new is sent)."""
        pending = [e.signature for e in self.journal.entries("pending")]
        out: list[TxOutcome] = []
        for i in range(0, len(pending), 256):  # getSignatureStatuses takes up to 256
            out.extend(await self.statuses(pending[i : i + 256]))
        return out
