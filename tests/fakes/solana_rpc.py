"""A local Solana chain for tests: `solders.litesvm.LiteSVM` behind a JSON-RPC server on loopback (aiohttp),
so the unmodified `solana` client signs, sends and confirms real transactions offline.

Methods: getLatestBlockhash, getBlockHeight, sendTransaction, getSignatureStatuses, getTransaction (base64,
with meta: fee, pre/postBalances and pre/postTokenBalances computed from the accounts before and after),
getAccountInfo, getMultipleAccounts, getBalance, getTokenAccountBalance, getRecentPrioritizationFees (also as
a JSON-RPC batch); on a websocket at the same address (`ws_url`), accountSubscribe / accountUnsubscribe with
an ``accountNotification`` whenever a subscribed account changes (a landed transaction, a helper below), and
`drop_websockets()` to test reconnection; getSignaturesForAddress (newest first, ``limit``, ``before``,
``until``). Error responses carry ``error.data`` (solana 0.41's parser needs it).

Chain model. One block per landed transaction: the block height (= slot) goes up by one, and by `advance(n)`.
Each `getLatestBlockhash` after the height moved issues a fresh blockhash valid for 150 more blocks
(``lastValidBlockHeight``); the fake checks that validity itself (LiteSVM's own check is off, so older valid
hashes still work). A transaction whose blockhash is past its last valid height never lands: with preflight
the send is refused (``BlockhashNotFound``), without it is dropped. A transaction that fails in an
instruction lands as failed (fee paid, nothing else moved), like on mainnet.

Knobs: `advance(n)` (blocks pass: expiry), `drop_next(n)` (accepted, never lands), `hold_next(n, polls=k)`
(accepted, lands after `k` status queries that saw it unknown, or at `release_held()`), `inject(fault, n)` on
sendTransaction (``rate_limit``: 429 + Retry-After, ``server_error``: 503, both not executed; ``timeout``:
executed, answered after `slow_s`; ``lost_response``: executed, connection closed), `priority_fees`.
`sends[signature]` counts the sendTransaction requests that reached it (`on_send` callbacks see each one as
it arrives); `landed[signature]` is the record of a transaction in a block (`listeners` see each).

Programs without a binary here (Drift, OpenBook): `register_program(handler)` routes the instructions of a
transaction addressed to `handler.program_id` to `handler.execute(chain, calls, simulate=...)` (the
instructions decoded there with the program's IDL and applied to a simulated venue, which writes the
program's accounts into the chain in their on-chain layout with `svm.set_account` + `notify()`). The other
instructions (system, token, compute budget) run in LiteSVM first, in a copy of the transaction without the
handled instructions (the signatures are checked here, against the original message). A handler that raises
`ProgramFailed` fails the transaction like an on-chain error: the accounts it touched are restored, the fee
is paid, ``InstructionError [index, {"Custom": code}]``. One handled program per transaction is atomic; a
preflight simulation runs the instructions before the handled ones, then the handlers (nothing kept).
Instructions after the last handled one (closing a wrapped-SOL account after a settle) run after the
handlers, in LiteSVM; if they fail, a handler with ``checkpoint()`` / ``restore(mark)`` is put back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web
from solders.account import Account
from solders.account_decoder import UiTokenAmount
from solders.hash import Hash
from solders.instruction import AccountMeta
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.token.associated import get_associated_token_address
from solders.token.state import Mint, TokenAccount, TokenAccountState
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import (
    EncodedConfirmedTransactionWithStatusMeta,
    EncodedTransactionWithStatusMeta,
    InstructionErrorCustom,
    TransactionConfirmationStatus,
    TransactionErrorInstructionError,
    TransactionStatus,
    UiTransactionStatusMeta,
    UiTransactionTokenBalance,
)
from spl.token.constants import TOKEN_PROGRAM_ID

from botnft.venues.solana.sender import error_json

NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
BLOCKHASH_VALIDITY = 150
TOKEN_ACCOUNT_LEN = 165


@dataclass
class Landed:
    signature: str
    slot: int
    tx: VersionedTransaction
    err: Any  # None or a solders TransactionErrorType
    fee: int
    pre_balances: list[int]
    post_balances: list[int]
    pre_tokens: list[UiTransactionTokenBalance]
    post_tokens: list[UiTransactionTokenBalance]
    logs: list[str]
    units: int


@dataclass(frozen=True)
class ProgramCall:
    """One instruction of a transaction addressed to a handled program: its index in the transaction."""

    index: int
    program_id: Pubkey
    accounts: list[AccountMeta]
    data: bytes


class ProgramFailed(Exception):
    """Raised by a handler: instruction `index` failed with custom error `code`; `logs` are its log lines."""

    def __init__(self, index: int, code: int, logs: list[str]) -> None:
        super().__init__(f"instruction {index} failed with custom error {code}")
        self.index, self.code, self.logs = index, code, logs


class ProgramHandler(Protocol):
    program_id: Pubkey

    def execute(self, chain: LocalSolana, calls: list[ProgramCall], *, simulate: bool) -> list[str]:
        """Apply `calls` (all or none; nothing at all when `simulate`) and return the log lines, or raise
        `ProgramFailed`."""
        ...


def invoke_logs(program_id: Pubkey, lines: list[str], error: int | None = None) -> list[str]:
    """The runtime's log lines around one top-level instruction's own lines."""
    end = f"Program {program_id} success" if error is None else (
        f"Program {program_id} failed: custom program error: {error:#x}")  # fmt: skip
    return [f"Program {program_id} invoke [1]", *lines, end]


@dataclass
class _Held:
    tx: VersionedTransaction
    polls_left: int


@dataclass
class _Sub:
    key: str
    queue: asyncio.Queue[dict[str, Any]]
    last: Any


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


@dataclass
class LocalSolana:
    """The chain and its knobs (module docstring). `serve()` runs the JSON-RPC server."""

    svm: LiteSVM = field(default_factory=lambda: LiteSVM().with_blockhash_check(False))
    height: int = 1
    slow_s: float = 2.0
    priority_fees: list[int] = field(default_factory=lambda: [0, 100, 1_000, 5_000])
    sends: Counter[str] = field(default_factory=Counter)
    landed: dict[str, Landed] = field(default_factory=dict)
    listeners: list[Callable[[Landed], None]] = field(default_factory=list)
    on_send: list[Callable[[str], None]] = field(default_factory=list)
    programs: dict[Pubkey, ProgramHandler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rent_token = self.svm.minimum_balance_for_rent_exemption(TOKEN_ACCOUNT_LEN)
        self._hashes: dict[str, int] = {}
        self._issued_at = -1
        self._drop = 0
        self._hold: list[int] = []
        self._held: dict[str, _Held] = {}
        self._faults: list[str] = []
        self._subs: dict[int, _Sub] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._next_sub = 0
        self.url = ""
        self.ws_url = ""
        if self.svm.get_account(NATIVE_MINT) is None:
            self.create_mint(NATIVE_MINT, 9)

    # accounts -----------------------------------------------------------------------------------------
    def create_mint(self, mint: Pubkey, decimals: int) -> None:
        rent = self.svm.minimum_balance_for_rent_exemption(82)
        data = bytes(Mint(None, 0, decimals, True))
        self.svm.set_account(mint, Account(rent, data, TOKEN_PROGRAM_ID, False, 0))

    def airdrop(self, owner: Pubkey, lamports: int) -> None:
        acc = self.svm.get_account(owner)
        have = acc.lamports if acc is not None else 0
        self.svm.set_account(owner, Account(have + lamports, b"", Pubkey.default(), False, 0))
        self.notify()

    def set_token(self, owner: Pubkey, mint: Pubkey, amount: int) -> Pubkey:
        """Create or overwrite `owner`'s associated token account of `mint` holding `amount`."""
        ata = get_associated_token_address(owner, mint)
        native = self.rent_token if mint == NATIVE_MINT else None
        state = TokenAccount(mint, owner, amount, None, TokenAccountState.Initialized, native, 0)
        lamports = self.rent_token + (amount if native is not None else 0)
        self.svm.set_account(ata, Account(lamports, bytes(state), TOKEN_PROGRAM_ID, False, 0))
        self.notify()
        return ata

    def token_amount(self, owner: Pubkey, mint: Pubkey) -> int:
        acc = self.svm.get_account(get_associated_token_address(owner, mint))
        return TokenAccount.from_bytes(bytes(acc.data)).amount if acc is not None and acc.lamports else 0

    def lamports(self, key: Pubkey) -> int:
        return self.svm.get_balance(key) or 0

    def decimals(self, mint: Pubkey) -> int:
        acc = self.svm.get_account(mint)
        return Mint.from_bytes(bytes(acc.data)).decimals if acc is not None else 0

    def register_program(self, handler: ProgramHandler) -> None:
        """Handle the instructions addressed to `handler.program_id` (module docstring)."""
        self.programs[handler.program_id] = handler

    # knobs --------------------------------------------------------------------------------------------
    def advance(self, blocks: int) -> None:
        self.height += blocks

    def drop_next(self, n: int = 1) -> None:
        self._drop += n

    def hold_next(self, n: int = 1, *, polls: int = 1_000_000) -> None:
        self._hold.extend([polls] * n)

    def release_held(self) -> list[str]:
        out = list(self._held)
        for sig in out:
            self._land(self._held.pop(sig).tx)
        return out

    def inject(self, fault: str, count: int = 1) -> None:
        if fault not in ("rate_limit", "server_error", "timeout", "lost_response"):
            raise ValueError(f"unknown fault {fault}")
        self._faults.extend([fault] * count)

    # chain --------------------------------------------------------------------------------------------
    def latest_blockhash(self) -> tuple[Hash, int]:
        if self._issued_at != self.height:
            self.svm.expire_blockhash()
            self._issued_at = self.height
        h = self.svm.latest_blockhash()
        lvbh = self._hashes.setdefault(str(h), self.height + BLOCKHASH_VALIDITY)
        return h, lvbh

    def blockhash_valid(self, tx: VersionedTransaction) -> bool:
        lvbh = self._hashes.get(str(tx.message.recent_blockhash))
        return lvbh is not None and self.height <= lvbh

    def _keys(self, tx: VersionedTransaction) -> list[Pubkey]:
        return list(tx.message.account_keys)

    def _tokens(self, keys: list[Pubkey]) -> list[UiTransactionTokenBalance]:
        out = []
        for i, k in enumerate(keys):
            acc = self.svm.get_account(k)
            if acc is None or acc.owner != TOKEN_PROGRAM_ID or len(acc.data) != TOKEN_ACCOUNT_LEN:
                continue
            ta = TokenAccount.from_bytes(bytes(acc.data))
            d = self.decimals(ta.mint)
            ui = ta.amount / 10**d
            amount = UiTokenAmount(ui, d, str(ta.amount), repr(ui))
            out.append(UiTransactionTokenBalance(i, ta.mint, amount, ta.owner, TOKEN_PROGRAM_ID))
        return out

    def _calls(self, tx: VersionedTransaction) -> list[ProgramCall]:
        """The instructions of `tx` addressed to a handled program (static account keys only)."""
        if not self.programs:
            return []
        msg, keys = tx.message, self._keys(tx)
        h = msg.header
        signers = h.num_required_signatures

        def writable(a: int) -> bool:
            if a < signers:
                return a < signers - h.num_readonly_signed_accounts
            return a < len(keys) - h.num_readonly_unsigned_accounts

        out = []
        for i, ix in enumerate(msg.instructions):
            pid = keys[ix.program_id_index]
            if pid in self.programs:
                metas = [AccountMeta(keys[a], a < signers, writable(a)) for a in ix.accounts]
                out.append(ProgramCall(i, pid, metas, bytes(ix.data)))
        return out

    def _without(
        self, tx: VersionedTransaction, calls: list[ProgramCall], keep: range | None = None
    ) -> VersionedTransaction:
        """`tx` without the handled instructions (and outside `keep`, when given), carrying the original
        signatures (LiteSVM runs it with its signature check off: the signatures were checked against the
        original message)."""
        msg = tx.message
        skip = {c.index for c in calls}
        rest = [ix for i, ix in enumerate(msg.instructions) if i not in skip and (keep is None or i in keep)]
        h = msg.header
        stripped: Message | MessageV0
        if isinstance(msg, MessageV0):
            stripped = MessageV0(h, list(msg.account_keys), msg.recent_blockhash, rest,
                                 list(msg.address_table_lookups))  # fmt: skip
        else:
            stripped = Message.new_with_compiled_instructions(
                h.num_required_signatures, h.num_readonly_signed_accounts, h.num_readonly_unsigned_accounts,
                list(msg.account_keys), msg.recent_blockhash, rest,
            )  # fmt: skip
        return VersionedTransaction.populate(stripped, tx.signatures)

    def _run_programs(self, calls: list[ProgramCall], *, simulate: bool) -> list[str]:
        logs: list[str] = []
        for pid in dict.fromkeys(c.program_id for c in calls):
            logs += self.programs[pid].execute(self, [c for c in calls if c.program_id == pid],
                                               simulate=simulate)  # fmt: skip
        return logs

    def _execute(self, tx: VersionedTransaction, keys: list[Pubkey]) -> tuple[Any, list[str], int, int]:
        """(error or None, logs, units, fee) of executing `tx`; `_REFUSED` if it cannot run. The fee is what
        the LiteSVM part burned (a handler may create accounts: their rent is not the fee)."""
        calls = self._calls(tx)
        before = sum(self.lamports(k) for k in keys)
        if not calls:
            res = self.svm.send_transaction(tx)
        else:
            if not all(tx.verify_with_results()):
                return _REFUSED, [], 0, 0
            saved = {k: self.svm.get_account(k) for k in keys}
            tail = range(max(c.index for c in calls) + 1, len(tx.message.instructions))
            self.svm.with_sigverify(False)
            try:
                res = self.svm.send_transaction(self._without(tx, calls, range(tail.start)))
            finally:
                self.svm.with_sigverify(True)
        fee = before - sum(self.lamports(k) for k in keys)
        if isinstance(res, FailedTransactionMetadata):
            return res.err(), list(res.meta().logs()), int(res.meta().compute_units_consumed()), fee
        logs, units = list(res.logs()), int(res.compute_units_consumed())
        if calls:
            try:
                marks = {
                    p: h.checkpoint() for p, h in self.programs.items() if tail and hasattr(h, "checkpoint")
                }
                logs += self._run_programs(calls, simulate=False)
                if tail:  # instructions after the handled ones run after them (e.g. closing wrapped SOL)
                    logs, units = self._run_tail(tx, calls, tail, keys, marks, logs, units)
            except ProgramFailed as f:
                for k, acc in saved.items():
                    self.svm.set_account(k, acc or Account(0, b"", Pubkey.default(), False, 0))
                payer = saved[keys[0]]
                assert payer is not None
                self.svm.set_account(keys[0], Account(payer.lamports - fee, payer.data, payer.owner,
                                                      payer.executable, payer.rent_epoch))  # fmt: skip
                err = TransactionErrorInstructionError(f.index, InstructionErrorCustom(f.code))
                return err, logs + f.logs, units, fee
        return None, logs, units, fee

    def _run_tail(
        self, tx: VersionedTransaction, calls: list[ProgramCall], tail: range, keys: list[Pubkey],
        marks: dict[Pubkey, Any], logs: list[str], units: int,
    ) -> tuple[list[str], int]:  # fmt: skip
        """Run in LiteSVM the instructions that follow the handled ones, as a transaction of their own under
        a fresh signature (LiteSVM's history) whose fee goes back to the payer; a failure is `ProgramFailed`
        at its index, after the handlers' `restore(checkpoint)` (the caller restores the accounts)."""
        part = self._without(tx, calls, tail)
        part = VersionedTransaction.populate(part.message, [Signature.new_unique() for _ in tx.signatures])
        before = sum(self.lamports(k) for k in keys)
        self.svm.with_sigverify(False)
        try:
            res = self.svm.send_transaction(part)
        finally:
            self.svm.with_sigverify(True)
        refund = before - sum(self.lamports(k) for k in keys)
        payer = self.svm.get_account(keys[0])
        if payer is not None:
            self.svm.set_account(keys[0], Account(payer.lamports + refund, payer.data, payer.owner,
                                                  payer.executable, payer.rent_epoch))  # fmt: skip
        if isinstance(res, FailedTransactionMetadata):
            for pid, mark in marks.items():
                self.programs[pid].restore(mark)  # type: ignore[attr-defined]
            err = res.err()
            index = tail.start + int(getattr(err, "index", 0))
            raise ProgramFailed(index, 0, list(res.meta().logs()))
        return logs + list(res.logs()), units + int(res.compute_units_consumed())

    def _land(self, tx: VersionedTransaction) -> Landed | None:
        """Execute `tx` in a new block; None if it cannot land (blockhash expired, not executable)."""
        sig = str(tx.signatures[0])
        if sig in self.landed or not self.blockhash_valid(tx):
            return None
        keys = self._keys(tx)
        pre = [self.lamports(k) for k in keys]
        pre_tokens = self._tokens(keys)
        err, logs, units, fee = self._execute(tx, keys)
        if err is _REFUSED:
            return None
        post = [self.lamports(k) for k in keys]
        if err is not None and fee == 0 and "InstructionError" not in type(err).__name__:
            return None  # refused before execution (signature, fee payer): never in a block
        self.height += 1
        rec = Landed(sig, self.height, tx, err, fee, pre, post, pre_tokens, self._tokens(keys), logs, units)
        self.landed[sig] = rec
        self.notify()
        for cb in self.listeners:
            cb(rec)
        return rec

    def land(self, tx: VersionedTransaction) -> Landed | None:
        """Land `tx` at once, as if it had been sent (a keeper's or another wallet's transaction)."""
        return self._land(tx)

    def simulate(self, tx: VersionedTransaction) -> Any:
        calls = self._calls(tx)
        if not calls:
            res = self.svm.simulate_transaction(tx)
            return res.err() if isinstance(res, FailedTransactionMetadata) else None
        if not all(tx.verify_with_results()):
            return "SignatureFailure"
        keys = self._keys(tx)
        saved = {k: self.svm.get_account(k) for k in keys}
        head = self._without(tx, calls, range(max(c.index for c in calls) + 1))
        head = VersionedTransaction.populate(head.message, [Signature.new_unique() for _ in tx.signatures])
        self.svm.with_sigverify(False)
        try:  # the handlers see what the instructions before theirs did (wrapping SOL), then all is undone
            res = self.svm.send_transaction(head)
            if isinstance(res, FailedTransactionMetadata):
                return res.err()
            try:
                self._run_programs(calls, simulate=True)
            except ProgramFailed as f:
                return TransactionErrorInstructionError(f.index, InstructionErrorCustom(f.code))
            return None
        finally:
            self.svm.with_sigverify(True)
            for k, acc in saved.items():
                self.svm.set_account(k, acc or Account(0, b"", Pubkey.default(), False, 0))

    # JSON-RPC methods ----------------------------------------------------------------------------------
    def _ctx(self, value: Any) -> dict[str, Any]:
        return {"context": {"slot": self.height, "apiVersion": "2.2.0"}, "value": value}

    def m_getLatestBlockhash(self, params: list[Any]) -> Any:
        h, lvbh = self.latest_blockhash()
        return self._ctx({"blockhash": str(h), "lastValidBlockHeight": lvbh})

    def m_getBlockHeight(self, params: list[Any]) -> Any:
        return self.height

    def m_getSlot(self, params: list[Any]) -> Any:
        return self.height

    def m_getBalance(self, params: list[Any]) -> Any:
        return self._ctx(self.lamports(Pubkey.from_string(params[0])))

    def _account(self, key: str) -> Any:
        acc = self.svm.get_account(Pubkey.from_string(key))
        if acc is None or not acc.lamports:  # a closed account is gone, as on a real node
            return None
        return {
            "data": [base64.b64encode(bytes(acc.data)).decode(), "base64"],
            "executable": acc.executable,
            "lamports": acc.lamports,
            "owner": str(acc.owner),
            "rentEpoch": 0,
            "space": len(acc.data),
        }

    def m_getAccountInfo(self, params: list[Any]) -> Any:
        return self._ctx(self._account(params[0]))

    def m_getMultipleAccounts(self, params: list[Any]) -> Any:
        return self._ctx([self._account(k) for k in params[0]])

    def m_getTokenAccountBalance(self, params: list[Any]) -> Any:
        acc = self.svm.get_account(Pubkey.from_string(params[0]))
        if acc is None or not acc.lamports or acc.owner != TOKEN_PROGRAM_ID:
            raise RpcError(-32602, "Invalid param: could not find account", None)
        ta = TokenAccount.from_bytes(bytes(acc.data))
        d = self.decimals(ta.mint)
        ui = ta.amount / 10**d
        return self._ctx(
            {"amount": str(ta.amount), "decimals": d, "uiAmount": ui, "uiAmountString": repr(ui)}
        )

    def m_getRecentPrioritizationFees(self, params: list[Any]) -> Any:
        return [
            {"slot": max(0, self.height - len(self.priority_fees) + i), "prioritizationFee": f}
            for i, f in enumerate(self.priority_fees)
        ]

    def _status(self, sig: str) -> Any:
        held = self._held.get(sig)
        if held is not None:  # unknown to the first `polls` queries, landed before the next one
            if held.polls_left > 0:
                held.polls_left -= 1
                return None
            self._land(self._held.pop(sig).tx)
        rec = self.landed.get(sig)
        if rec is None:
            return None
        st = TransactionStatus(rec.slot, None, None, rec.err, TransactionConfirmationStatus.Confirmed)
        return json.loads(st.to_json())

    def m_getSignatureStatuses(self, params: list[Any]) -> Any:
        return self._ctx([self._status(s) for s in params[0]])

    def m_getTransaction(self, params: list[Any]) -> Any:
        rec = self.landed.get(params[0])
        if rec is None:
            return None
        meta = UiTransactionStatusMeta(
            rec.err, rec.fee, rec.pre_balances, rec.post_balances, [], rec.logs,
            rec.pre_tokens, rec.post_tokens, [], None, None, rec.units,
        )  # fmt: skip
        enc = EncodedConfirmedTransactionWithStatusMeta(
            rec.slot, EncodedTransactionWithStatusMeta(rec.tx, meta, 0), None
        )
        return json.loads(enc.to_json())

    def m_getSignaturesForAddress(self, params: list[Any]) -> Any:
        key = Pubkey.from_string(params[0])
        opts = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        limit, before, until = int(opts.get("limit") or 1000), opts.get("before"), opts.get("until")
        out: list[dict[str, Any]] = []
        started = before is None
        for rec in reversed(list(self.landed.values())):
            if not started:
                started = rec.signature == before
                continue
            if rec.signature == until or len(out) >= limit:
                break
            if key in self._keys(rec.tx):
                err = error_json(rec.err) if rec.err is not None else None
                out.append({"signature": rec.signature, "slot": rec.slot, "err": err, "memo": None,
                            "blockTime": None, "confirmationStatus": "confirmed"})  # fmt: skip
        return out

    def _send(self, params: list[Any]) -> str:
        opts = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        if opts.get("encoding", "base58") != "base64":
            raise RpcError(-32602, "only base64 transactions are supported here", None)
        try:
            tx = VersionedTransaction.from_bytes(base64.b64decode(params[0]))
        except Exception as exc:
            raise RpcError(-32602, f"invalid transaction: {exc}", None) from None
        sig = str(tx.signatures[0])
        self.sends[sig] += 1
        for cb in self.on_send:
            cb(sig)
        if sig in self.landed or sig in self._held:
            return sig
        if not opts.get("skipPreflight", False):
            if not self.blockhash_valid(tx):
                raise RpcError(-32002, "Transaction simulation failed: Blockhash not found",
                               _preflight("BlockhashNotFound"))  # fmt: skip
            err = self.simulate(tx)
            if err is not None:
                raise RpcError(-32002, "Transaction simulation failed", _preflight(error_json(err)))
        if self._drop:
            self._drop -= 1
            return sig
        if self._hold:
            self._held[sig] = _Held(tx, self._hold.pop(0))
            return sig
        self._land(tx)
        return sig

    # account subscriptions (websocket) ----------------------------------------------------------------
    def notify(self) -> None:
        """Queue an ``accountNotification`` for every subscribed account whose state changed."""
        for sid, sub in self._subs.items():
            now = self._account(sub.key)
            if now != sub.last:
                sub.last = now
                value = now or {
                    "data": ["", "base64"],
                    "executable": False,
                    "lamports": 0,
                    "owner": "11111111111111111111111111111111",
                    "rentEpoch": 0,
                    "space": 0,
                }
                params = {"result": self._ctx(value), "subscription": sid}
                sub.queue.put_nowait({"jsonrpc": "2.0", "method": "accountNotification", "params": params})

    async def drop_websockets(self) -> None:
        """Close every websocket (the client must reconnect and subscribe again)."""
        for ws in list(self._sockets):
            await ws.close()

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        mine: list[int] = []

        async def writer() -> None:
            while True:
                await ws.send_json(await queue.get())

        task = asyncio.create_task(writer())
        try:
            async for msg in ws:
                try:
                    body = json.loads(msg.data)
                    rid, method, params = body.get("id"), body.get("method"), body.get("params") or []
                except (ValueError, AttributeError):
                    queue.put_nowait(_error(None, -32700, "Parse error", None))
                    continue
                if method == "accountSubscribe":
                    self._next_sub += 1
                    sid = self._next_sub
                    self._subs[sid] = _Sub(params[0], queue, self._account(params[0]))
                    mine.append(sid)
                    queue.put_nowait({"jsonrpc": "2.0", "result": sid, "id": rid})
                elif method == "accountUnsubscribe":
                    ok = self._subs.pop(params[0], None) is not None
                    queue.put_nowait({"jsonrpc": "2.0", "result": ok, "id": rid})
                else:
                    queue.put_nowait(_error(rid, -32601, "Method not found", None))
        finally:
            task.cancel()
            for sid in mine:
                self._subs.pop(sid, None)
            self._sockets.discard(ws)
        return ws

    # server -------------------------------------------------------------------------------------------
    def _call(self, rid: Any, method: Any, params: list[Any]) -> dict[str, Any]:
        try:
            if method == "sendTransaction":
                result: Any = self._send(params)
            else:
                fn = getattr(self, f"m_{method}", None)
                if fn is None:
                    raise RpcError(-32601, "Method not found", None)
                result = fn(params)
            return {"jsonrpc": "2.0", "id": rid, "result": result}
        except RpcError as e:
            return _error(rid, e.code, e.message, e.data)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response(_error(None, -32700, "Parse error", None))
        if isinstance(body, list):  # a JSON-RPC batch (driftpy's polling account loader): no faults
            return web.json_response(
                [self._call(b.get("id"), b.get("method"), b.get("params") or []) for b in body]
            )
        rid, method, params = body.get("id"), body.get("method"), body.get("params") or []
        fault = None
        if method == "sendTransaction" and self._faults:
            fault = self._faults.pop(0)
            if fault == "rate_limit":
                return web.json_response(_error(rid, 429, "Too many requests", None), status=429,
                                         headers={"Retry-After": "1"})  # fmt: skip
            if fault == "server_error":
                return web.json_response(_error(rid, -32603, "Internal error", None), status=503)
        payload = self._call(rid, method, params)
        if fault == "timeout":
            await asyncio.sleep(self.slow_s)
        elif fault == "lost_response":
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0.05)
        return web.json_response(payload)

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 (ephemeral port) while the context is open; yields the URL."""
        app = web.Application()
        app.router.add_post("/", self._handle)
        app.router.add_get("/", self._ws)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"
        try:
            yield self.url
        finally:
            await self.drop_websockets()
            await runner.cleanup()


_REFUSED = object()


def _preflight(err: Any) -> dict[str, Any]:
    return {
        "err": err,
        "logs": [],
        "accounts": None,
        "unitsConsumed": 0,
        "returnData": None,
        "innerInstructions": None,
    }


def _error(rid: Any, code: int, message: str, data: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message, "data": data}}


def signature_of(tx: VersionedTransaction) -> Signature:
    return tx.signatures[0]
