"""The Solana base against the local LiteSVM chain: the unmodified `solana` client through `SolanaRpc`, the
journal written before every send, confirmation by `getSignatureStatuses`, the recovery rule (found, or
provably expired by block height, before anything is re-sent), RPC failures mapped to Retryable/Rejected,
balances with wrapped SOL, and priority fees."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from botnft.domain.errors import NetworkError, Rejected, RequestTimeout, Retryable
from botnft.venues.solana import SendJournal, SolanaRpc, TransactionSender, WalletKey
from botnft.venues.solana.rpc import SolanaRpcRateLimited
from botnft.venues.solana.sender import custom_error, error_text
from fakes.solana_rpc import BLOCKHASH_VALIDITY, NATIVE_MINT, LocalSolana

LAMPORTS = 10**9
SIG_FEE = 5_000  # lamports per signature (the runtime's default)


def run(fn: Callable[..., Awaitable[None]], **kw: Any) -> None:
    """Start a chain with a funded wallet, run `fn(chain, rpc, sender, key)` bounded in time."""

    async def main() -> None:
        chain = LocalSolana(slow_s=0.6)
        kp = Keypair()
        chain.airdrop(kp.pubkey(), 10 * LAMPORTS)
        journal = kw.get("journal") or SendJournal(":memory:")
        async with chain.serve() as url:
            rpc = SolanaRpc(url, timeout_s=0.3)
            sender = TransactionSender(rpc, journal, poll_interval_s=0.02, rebroadcast_interval_s=0.05,
                                       skip_preflight=kw.get("skip_preflight", False))  # fmt: skip
            try:
                await asyncio.wait_for(fn(chain, rpc, sender, WalletKey(kp, "test")), 30)
            finally:
                await rpc.close()

    asyncio.run(main())


async def pay(rpc: SolanaRpc, key: WalletKey, to: Pubkey, lamports: int) -> tuple[VersionedTransaction, int]:
    bh = await rpc.latest_blockhash()
    ix = transfer(TransferParams(from_pubkey=key.pubkey, to_pubkey=to, lamports=lamports))
    msg = MessageV0.try_compile(key.pubkey, [ix], [], bh.blockhash)
    return key.sign(VersionedTransaction.populate(msg, [Signature.default()])), bh.last_valid_block_height


def test_send_confirm_and_journal_written_before_the_send() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        seen: list[tuple[str, str | None]] = []
        chain.on_send.append(lambda sig: seen.append((sig, getattr(sender.journal.get(sig), "state", None))))
        dest = Pubkey.new_unique()
        before = chain.lamports(key.pubkey)
        tx, lvbh = await pay(rpc, key, dest, 12_345)
        assert lvbh == chain.height + BLOCKHASH_VALIDITY
        sig = await sender.send(tx, lvbh, client_order_id="c1", detail={"why": "test"})
        assert seen == [(sig, "pending")]  # the row was there when the node first saw the transaction
        out = await sender.confirm(sig, timeout_s=5)
        assert (out.state, out.err) == ("landed", None) and out.slot == chain.landed[sig].slot
        assert chain.lamports(dest) == 12_345
        assert chain.lamports(key.pubkey) == before - 12_345 - SIG_FEE
        row = sender.journal.get(sig)
        assert row is not None and row.state == "landed" and row.detail == {"why": "test"}
        assert row.last_valid_block_height == lvbh and row.tx == bytes(tx)
        with pytest.raises(ValueError, match="pending or landed"):
            await sender.send(tx, lvbh, client_order_id="c1")
        assert chain.sends[sig] == 1

    run(go)


def test_dropped_transaction_stays_pending_until_provably_expired() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        chain.drop_next()
        tx, lvbh = await pay(rpc, key, Pubkey.new_unique(), 1_000)
        sig = await sender.send(tx, lvbh, client_order_id="drop")
        sender.rebroadcast_interval_s = 1e9  # no re-broadcast: the drop is for good
        out = await sender.confirm(sig, timeout_s=0.3)
        assert out.state == "pending"
        chain.advance(lvbh - chain.height)  # at the last valid height: it could still land
        assert (await sender.status(sig)).state == "pending"
        chain.advance(1)  # past it: unknown and can never land
        out = await sender.status(sig)
        assert out.state == "expired" and out.slot is None
        assert sender.journal.get(sig).state == "expired"  # type: ignore[union-attr]
        # a re-broadcast of an expired row sends nothing
        n = chain.sends[sig]
        await sender.rebroadcast(sig)
        assert chain.sends[sig] == n
        # and the order may now go out again, as a new transaction
        tx2, lvbh2 = await pay(rpc, key, Pubkey.new_unique(), 1_000)
        sig2 = await sender.send(tx2, lvbh2, client_order_id="drop")
        assert (await sender.confirm(sig2, timeout_s=5)).state == "landed"
        assert [e.attempt for e in sender.journal.for_order("drop")] == [1, 2]

    run(go)


def test_expired_blockhash_is_refused_by_preflight_and_resolved_by_height() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        tx, lvbh = await pay(rpc, key, Pubkey.new_unique(), 1_000)
        chain.advance(BLOCKHASH_VALIDITY + 1)
        sig = await sender.send(tx, lvbh, client_order_id="late")  # BlockhashNotFound: not landed, not final
        assert sig not in chain.landed
        assert (await sender.status(sig)).state == "expired"

    run(go)


def test_transaction_that_lands_after_its_status_said_unknown() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        chain.hold_next(polls=2)
        tx, lvbh = await pay(rpc, key, Pubkey.new_unique(), 1_000)
        sig = await sender.send(tx, lvbh, client_order_id="late-land")
        assert (await sender.status(sig)).state == "pending"
        assert (await sender.status(sig)).state == "pending"
        out = await sender.status(sig)  # the chain landed it after the second unknown
        assert out.state == "landed"
        assert sig in chain.landed and len(chain.landed) == 1

    run(go)


def test_landed_failed_transaction_is_failed_with_its_error() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        before = chain.lamports(key.pubkey)
        tx, lvbh = await pay(rpc, key, Pubkey.new_unique(), 100 * LAMPORTS)  # more than it has
        sig = await sender.send(tx, lvbh, client_order_id="poor")
        out = await sender.confirm(sig, timeout_s=5)
        assert out.state == "failed" and out.slot is not None
        assert custom_error(out.err) == (0, 1)  # system program: ResultWithNegativeLamports is Custom(1)
        assert chain.lamports(key.pubkey) == before - SIG_FEE  # a landed failure pays its fee

    run(go, skip_preflight=True)


def test_preflight_refusal_is_failed_without_landing() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        before = chain.lamports(key.pubkey)
        tx, lvbh = await pay(rpc, key, Pubkey.new_unique(), 100 * LAMPORTS)
        sig = await sender.send(tx, lvbh, client_order_id="poor")
        out = await sender.status(sig)
        assert out.state == "failed" and out.slot is None and custom_error(out.err) == (0, 1)
        assert sig not in chain.landed and chain.lamports(key.pubkey) == before

    run(go)


@pytest.mark.parametrize(
    ("fault", "error", "executed"),
    [
        ("rate_limit", SolanaRpcRateLimited, False),
        ("server_error", NetworkError, False),
        ("timeout", RequestTimeout, True),
        ("lost_response", NetworkError, True),
    ],
)
def test_send_faults_are_retryable_and_never_make_a_second_transaction(
    fault: str, error: type[Exception], executed: bool
) -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        chain.inject(fault)
        tx, lvbh = await pay(rpc, key, Pubkey.new_unique(), 1_000)
        with pytest.raises(error) as e:
            await sender.send(tx, lvbh, client_order_id=fault)
        assert isinstance(e.value, Retryable)
        if isinstance(e.value, SolanaRpcRateLimited):
            assert e.value.retry_after_s == 1.0
        sig = str(tx.signatures[0])
        assert sender.journal.get(sig).state == "pending"  # type: ignore[union-attr]
        assert (sig in chain.landed) is executed
        out = await sender.confirm(sig, timeout_s=5)  # re-broadcasts the same bytes if needed
        assert out.state == "landed"
        assert len(chain.landed) == 1 and chain.sends[sig] >= 1

    run(go)


def test_restart_recovery_resolves_before_anything_is_resent(tmp_path: Path) -> None:
    path = tmp_path / "sends.sqlite"

    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        chain.hold_next()  # will land later
        held_tx, lvbh = await pay(rpc, key, Pubkey.new_unique(), 1_000)
        held = await sender.send(held_tx, lvbh, client_order_id="held")
        chain.drop_next()  # never lands
        lost_tx, lvbh2 = await pay(rpc, key, Pubkey.new_unique(), 2_000)
        lost = await sender.send(lost_tx, lvbh2, client_order_id="lost")
        sender.journal.close()  # the process "dies": only the file remains

        fresh = TransactionSender(rpc, SendJournal(path))
        outs = {o.signature: o.state for o in await fresh.recover()}
        assert outs == {held: "pending", lost: "pending"}  # neither found nor provably expired yet
        chain.release_held()
        chain.advance(BLOCKHASH_VALIDITY + 1)
        outs = {o.signature: o.state for o in await fresh.recover()}
        assert outs == {held: "landed", lost: "expired"}
        assert chain.sends == {held: 1, lost: 1}  # recovery itself sends nothing
        assert list(chain.landed) == [held]

    run(go, journal=SendJournal(path))


def test_journal_survives_a_process_kill(tmp_path: Path) -> None:
    path = tmp_path / "sends.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from botnft.venues.solana.journal import SendJournal
        j = SendJournal({str(path)!r})
        j.record("SIG1", "order-1", 1234, b"\\x01\\x02", {{"k": "v"}}, 42)
        print("recorded", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL and proc.stdout.strip() == "recorded"
    row = SendJournal(path).get("SIG1")
    assert row is not None
    got = (row.client_order_id, row.last_valid_block_height, row.tx, row.state)
    assert got == ("order-1", 1234, b"\x01\x02", "pending")
    assert dict(row.detail) == {"k": "v"} and row.created_ns == 42
    assert os.path.getsize(path) > 0


def test_balances_count_wrapped_sol_and_missing_accounts_as_zero() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        usdc = Pubkey.new_unique()
        chain.create_mint(usdc, 6)
        assert await rpc.balances(key.pubkey, {"SOL": NATIVE_MINT, "USDC": usdc}) == {
            "SOL": 10 * LAMPORTS,
            "USDC": 0,
        }
        chain.set_token(key.pubkey, NATIVE_MINT, 3 * LAMPORTS)
        chain.set_token(key.pubkey, usdc, 1_500_000)
        got = await rpc.balances(key.pubkey, {"SOL": NATIVE_MINT, "USDC": usdc})
        assert got == {"SOL": 13 * LAMPORTS, "USDC": 1_500_000}
        assert await rpc.token_balance(key.pubkey, usdc) == 1_500_000
        assert Decimal(got["USDC"]).scaleb(-6) == Decimal("1.5")

    run(go)


def test_priority_fee_percentile_and_cap() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        chain.priority_fees = [40, 10, 30, 20]
        # nearest rank on the sorted fees [10, 20, 30, 40]: p50 -> 2nd, p75 -> 3rd, p100 -> 4th, p0 -> 1st
        assert await rpc.priority_fee(percentile=50) == 20
        assert await rpc.priority_fee(percentile=75) == 30
        assert await rpc.priority_fee(percentile=100) == 40
        assert await rpc.priority_fee(percentile=0) == 10
        assert await rpc.priority_fee(percentile=100, max_micro_lamports=25) == 25
        chain.priority_fees = []
        assert await rpc.priority_fee() == 0

    run(go)


def test_unreachable_node_and_refusals_are_mapped() -> None:
    async def main() -> None:
        rpc = SolanaRpc("http://127.0.0.1:9", timeout_s=0.5)  # nothing listens on the discard port
        try:
            with pytest.raises(NetworkError):
                await rpc.block_height()
            with pytest.raises(NetworkError):
                await rpc.priority_fee()
        finally:
            await rpc.close()

    asyncio.run(asyncio.wait_for(main(), 20))

    async def refused(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        with pytest.raises(Rejected):
            await rpc.raw("noSuchMethod", [])
        with pytest.raises(Rejected):
            await rpc.send_raw(b"\x00garbage")

    run(refused)


def test_error_text_is_the_rpc_json_form() -> None:
    from solders.transaction_status import InstructionErrorCustom, TransactionErrorInstructionError

    err = TransactionErrorInstructionError(3, InstructionErrorCustom(6001))
    assert error_text(err) == '{"InstructionError": [3, {"Custom": 6001}]}'
    assert custom_error(error_text(err)) == (3, 6001)
    assert custom_error('"BlockhashNotFound"') is None and custom_error(None) is None


def test_account_data_single_and_multiple() -> None:
    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        from solders.token.state import TokenAccount

        usdc = Pubkey.new_unique()
        chain.create_mint(usdc, 6)
        ata = chain.set_token(key.pubkey, usdc, 42)
        missing = Pubkey.new_unique()
        raw = await rpc.account_data(ata)
        assert raw is not None and TokenAccount.from_bytes(raw).amount == 42
        assert await rpc.account_data(missing) is None
        many = await rpc.accounts_data([ata, missing, key.pubkey])
        assert many[0] == raw and many[1] is None and many[2] == b""

    run(go)


@pytest.mark.filterwarnings(
    "ignore:websockets.legacy is deprecated:DeprecationWarning"
)  # solana 0.36's client
def test_account_subscription_notifies_changes_and_drops() -> None:
    from solana.rpc.websocket_api import connect
    from solders.rpc.responses import AccountNotification, SubscriptionResult
    from solders.token.state import TokenAccount
    from websockets.exceptions import ConnectionClosed

    async def go(chain: LocalSolana, rpc: SolanaRpc, sender: TransactionSender, key: WalletKey) -> None:
        usdc = Pubkey.new_unique()
        chain.create_mint(usdc, 6)
        ata = chain.set_token(key.pubkey, usdc, 1)
        dest = Pubkey.new_unique()
        async with connect(chain.ws_url) as ws:
            await ws.account_subscribe(ata, encoding="base64")
            await ws.account_subscribe(dest, encoding="base64")
            (first,) = await ws.recv()
            (second,) = await ws.recv()
            assert isinstance(first, SubscriptionResult) and isinstance(second, SubscriptionResult)
            chain.set_token(key.pubkey, usdc, 77)
            (note,) = await asyncio.wait_for(ws.recv(), 5)
            assert isinstance(note, AccountNotification) and note.subscription == first.result
            assert TokenAccount.from_bytes(bytes(note.result.value.data)).amount == 77
            tx, lvbh = await pay(rpc, key, dest, 5_000_000)  # a landed transaction moves `dest`
            sig = await sender.send(tx, lvbh, client_order_id="ws")
            (note2,) = await asyncio.wait_for(ws.recv(), 5)
            assert note2.subscription == second.result and note2.result.value.lamports == 5_000_000
            assert (await sender.confirm(sig, timeout_s=5)).state == "landed"
            await chain.drop_websockets()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)

    run(go)
