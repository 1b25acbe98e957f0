"""LocalSolana's program-handler hook: a transaction mixing a system transfer with instructions for a program
that has no binary here runs the transfer in LiteSVM and hands the rest to the registered handler; a handler
failure fails the whole transaction like an on-chain error (transfer undone, fee paid); preflight sees it;
getSignaturesForAddress lists the transactions that named an address."""

from __future__ import annotations

import asyncio
from typing import Any

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from fakes.solana_rpc import LocalSolana, ProgramCall, ProgramFailed, invoke_logs

SIG_FEE = 5_000


class Counter:
    """A toy program: data [n] adds n to a counter stored in `state`; n == 0xFF fails with error 6001."""

    def __init__(self) -> None:
        self.program_id = Pubkey.new_unique()
        self.state = Pubkey.new_unique()
        self.value = 0
        self.seen: list[ProgramCall] = []

    def execute(self, chain: LocalSolana, calls: list[ProgramCall], *, simulate: bool) -> list[str]:
        value, logs = self.value, []
        for c in calls:
            if c.data[0] == 0xFF:
                raise ProgramFailed(c.index, 6001, invoke_logs(self.program_id, ["Program log: no"], 6001))
            value += c.data[0]
            logs += invoke_logs(self.program_id, [f"Program log: now {value}"])
        if not simulate:
            self.value = value
            self.seen += calls
            chain.svm.set_account(
                self.state, Account(1, value.to_bytes(8, "little"), self.program_id, False, 0)
            )
        return logs


def tx(chain: LocalSolana, kp: Keypair, dest: Pubkey, prog: Counter, *data: int) -> VersionedTransaction:
    bh, _ = chain.latest_blockhash()
    ixs = [transfer(TransferParams(from_pubkey=kp.pubkey(), to_pubkey=dest, lamports=1_000_000))]
    metas = [AccountMeta(prog.state, False, True), AccountMeta(kp.pubkey(), True, False)]
    ixs += [Instruction(prog.program_id, bytes([d]), metas) for d in data]
    return VersionedTransaction(MessageV0.try_compile(kp.pubkey(), ixs, [], bh), [kp])


def test_handled_instructions_go_to_the_handler_and_the_rest_to_litesvm() -> None:
    chain, prog, kp, dest = LocalSolana(), Counter(), Keypair(), Pubkey.new_unique()
    chain.register_program(prog)
    chain.airdrop(kp.pubkey(), 10**9)
    rec = chain._land(tx(chain, kp, dest, prog, 3, 4))
    assert rec is not None and rec.err is None
    assert chain.lamports(dest) == 1_000_000 and chain.lamports(kp.pubkey()) == 10**9 - 1_000_000 - SIG_FEE
    assert prog.value == 7 and [c.index for c in prog.seen] == [1, 2]
    call = prog.seen[0]
    # writability is the message's: the fee payer is writable whatever the instruction said
    assert call.accounts == [AccountMeta(prog.state, False, True), AccountMeta(kp.pubkey(), True, True)]
    assert bytes(chain.svm.get_account(prog.state).data) == (7).to_bytes(8, "little")
    pid = str(prog.program_id)
    assert rec.logs[-6:] == [
        f"Program {pid} invoke [1]",
        "Program log: now 3",
        f"Program {pid} success",
        f"Program {pid} invoke [1]",
        "Program log: now 7",
        f"Program {pid} success",
    ]


def test_a_handler_failure_undoes_the_transfer_and_keeps_the_fee() -> None:
    chain, prog, kp, dest = LocalSolana(), Counter(), Keypair(), Pubkey.new_unique()
    chain.register_program(prog)
    chain.airdrop(kp.pubkey(), 10**9)
    t = tx(chain, kp, dest, prog, 3, 0xFF)
    assert str(chain.simulate(t)) == str(chain.simulate(t))  # no state change by simulating
    assert "6001" in str(chain.simulate(t)) and prog.value == 0
    rec = chain._land(t)
    assert rec is not None
    assert (
        str(rec.err) == "TransactionErrorInstructionError((2, Tagged(Custom(InstructionErrorCustom(6001)))))"
    )
    assert chain.lamports(dest) == 0 and chain.lamports(kp.pubkey()) == 10**9 - SIG_FEE
    assert prog.value == 0 and rec.logs[-1].endswith("failed: custom program error: 0x1771")


def test_a_bad_signature_is_refused_before_the_handler() -> None:
    chain, prog, kp, dest = LocalSolana(), Counter(), Keypair(), Pubkey.new_unique()
    chain.register_program(prog)
    chain.airdrop(kp.pubkey(), 10**9)
    good = tx(chain, kp, dest, prog, 1)
    forged = VersionedTransaction.populate(tx(chain, kp, dest, prog, 2).message, good.signatures)
    assert chain._land(forged) is None and prog.value == 0


def test_signatures_for_address_newest_first_with_paging() -> None:
    async def main() -> None:
        import httpx

        chain, prog, kp, dest = LocalSolana(), Counter(), Keypair(), Pubkey.new_unique()
        chain.register_program(prog)
        chain.airdrop(kp.pubkey(), 10**9)
        sigs = []
        for d in (1, 2, 3):
            chain.advance(1)
            rec = chain._land(tx(chain, kp, dest, prog, d))
            assert rec is not None
            sigs.append(rec.signature)
        async with chain.serve() as url, httpx.AsyncClient() as http:

            async def ask(*params: Any) -> list[str]:
                body = {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "getSignaturesForAddress",
                    "params": list(params),
                }
                return [r["signature"] for r in (await http.post(url, json=body)).json()["result"]]

            assert await ask(str(prog.state)) == sigs[::-1]
            assert await ask(str(prog.state), {"limit": 2}) == sigs[:0:-1]
            assert await ask(str(prog.state), {"before": sigs[2]}) == [sigs[1], sigs[0]]
            assert await ask(str(prog.state), {"until": sigs[0]}) == [sigs[2], sigs[1]]
            assert await ask(str(Pubkey.new_unique())) == []

    asyncio.run(asyncio.wait_for(main(), 20))
