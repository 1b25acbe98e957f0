"""JupiterClient end to end against the fake Jupiter API (SimJupiter quotes) and the LiteSVM chain: quote ->
swap -> sign -> journal -> send -> confirm, fills read from the landed transaction and checked against the
chain's own accounts, expiry, a dropped transaction, slippage failures (landed and refused by preflight), a
transaction that lands after its status said unknown, and restarts (in process and after SIGKILL) that
never send an order twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from solders.keypair import Keypair

from botnft.domain.errors import InsufficientFunds, InvalidOrder, OrderNotFound, RateLimited, Rejected
from botnft.domain.events import OrderExpired, OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, OrderType, Side
from botnft.venues.jupiter import JupiterClient, JupiterSettings, build_jupiter
from botnft.venues.jupiter.api import JupiterRateLimited
from botnft.venues.solana import SendJournal, WalletKey
from fakes.jupiter_api import USDC, FakeJupiter
from fakes.solana_rpc import BLOCKHASH_VALIDITY, NATIVE_MINT, LocalSolana

SOL_USDC = InstrumentId("SOL/USDC", "JUPITER")
LAMPORTS, MICRO = 10**9, 10**6
SIG_FEE = 5_000
BUDGET = "ComputeBudget111111111111111111111111111111"


@dataclass
class World:
    chain: LocalSolana
    api: FakeJupiter
    kp: Keypair
    journal: SendJournal
    rpc_url: str
    jup_url: str

    def client(self, **settings: Any) -> JupiterClient:
        cfg = {"base_url": self.jup_url, "poll_interval_s": 0.02, "timeout_s": 1.0, **settings}
        skip = bool(cfg.pop("skip_preflight", False))
        return build_jupiter(JupiterSettings.from_mapping(cfg), key=WalletKey(self.kp, "test"),
                             rpc_url=self.rpc_url, journal=self.journal, rpc_timeout_s=0.5,
                             skip_preflight=skip)  # fmt: skip

    def sol(self) -> int:
        """The wallet's SOL as the chain holds it: lamports + wrapped SOL (read from LiteSVM directly)."""
        return self.chain.lamports(self.kp.pubkey()) + self.chain.token_amount(self.kp.pubkey(), NATIVE_MINT)

    def usdc(self) -> int:
        return self.chain.token_amount(self.kp.pubkey(), USDC)


@asynccontextmanager
async def world(journal: SendJournal | None = None) -> AsyncIterator[World]:
    chain = LocalSolana(slow_s=0.8)
    api = FakeJupiter(chain)
    kp = Keypair()
    api.fund_user(kp.pubkey(), sol=Decimal(10), usdc=Decimal(1_000))
    async with chain.serve() as rpc_url, api.serve() as jup_url:
        yield World(chain, api, kp, journal or SendJournal(":memory:"), rpc_url, jup_url)


def run(fn: Callable[[World], Awaitable[None]], journal: SendJournal | None = None) -> None:
    async def main() -> None:
        async with world(journal) as w:
            await asyncio.wait_for(fn(w), 30)

    asyncio.run(main())


async def next_event(client: JupiterClient, timeout: float = 5.0) -> Any:
    return await asyncio.wait_for(anext(aiter(client.stream())), timeout)


def market(cid: str, side: Side, qty: str) -> Order:
    return Order(cid, SOL_USDC, side, Decimal(qty), 0)


def test_buy_and_sell_fill_by_what_the_chain_moved() -> None:
    async def go(w: World) -> None:
        async with w.client(priority_fee="none") as c:
            sol0, usdc0 = w.sol(), w.usdc()
            ack = await c.create_order(market("b1", Side.BUY, "0.5"))
            ev = await next_event(c)
            assert isinstance(ev, OrderFilled) and ev.client_order_id == "b1" and ev.trade_id == ack.signature
            built = w.api.built[-1]
            assert built["ok"] and built["out"] == 500_000_000  # ExactOut: exactly the base amount
            sol1, usdc1 = w.sol(), w.usdc()
            fee = w.chain.landed[ack.signature].fee
            assert fee == SIG_FEE * 2  # the user's and the pool authority's signatures
            # the fill is what the chain moved, read independently from the accounts
            assert ev.qty == Decimal(sol1 - sol0 + fee) / LAMPORTS == Decimal("0.5")
            assert ev.quote_qty == Decimal(usdc0 - usdc1) / MICRO == Decimal(built["in"]) / MICRO
            assert ev.fee == Decimal(fee) / LAMPORTS and ev.fee_asset == "SOL"
            assert ev.price == (ev.quote_qty / ev.qty).quantize(Decimal("1e-8"), ROUND_HALF_EVEN)
            assert Decimal(145) < ev.price < Decimal(155)  # a pool at 150 plus fees
            rep = await c.fetch_order("b1")
            assert rep is not None and rep.status is OrderStatus.FILLED and rep.filled == Decimal("0.5")
            assert rep.signature == ack.signature and rep.average == ev.price

            ack2 = await c.create_order(market("s1", Side.SELL, "0.25"))
            ev2 = await next_event(c)
            assert isinstance(ev2, OrderFilled) and ev2.side is Side.SELL
            fee2 = w.chain.landed[ack2.signature].fee
            assert ev2.qty == Decimal(sol1 - w.sol() - fee2) / LAMPORTS == Decimal("0.25")
            assert (
                ev2.quote_qty == Decimal(w.usdc() - usdc1) / MICRO == Decimal(w.api.built[-1]["out"]) / MICRO
            )
            # the balances the port reports are the chain's
            bal = await c.fetch_balance()
            assert bal == {"SOL": Decimal(w.sol()) / LAMPORTS, "USDC": Decimal(w.usdc()) / MICRO}
            trades = await c.fetch_my_trades()
            assert [(t.client_order_id, t.qty, t.trade_id) for t in trades] == [
                ("b1", Decimal("0.5"), ack.signature),
                ("s1", Decimal("0.25"), ack2.signature),
            ]
            ms = await c.mass_status()
            assert {o.client_order_id: o.status for o in ms.orders} == {
                "b1": OrderStatus.FILLED,
                "s1": OrderStatus.FILLED,
            }
            assert dict(ms.balances) == dict(bal)

    run(go)


def test_selling_native_sol_wraps_it_in_the_transaction() -> None:
    async def go(w: World) -> None:
        wsol0 = w.chain.token_amount(w.kp.pubkey(), NATIVE_MINT)
        assert wsol0 == 0  # everything is native SOL: the swap has to wrap what it sells
        lamports0 = w.chain.lamports(w.kp.pubkey())
        async with w.client(priority_fee="none") as c:
            ack = await c.create_order(market("w1", Side.SELL, "1"))
            ev = await next_event(c)
        assert isinstance(ev, OrderFilled) and ev.qty == 1
        fee = w.chain.landed[ack.signature].fee
        assert w.chain.lamports(w.kp.pubkey()) == lamports0 - LAMPORTS - fee
        assert w.chain.token_amount(w.kp.pubkey(), NATIVE_MINT) == 0

    run(go)


def test_priority_fee_from_the_node_reaches_the_swap_and_the_fee_paid() -> None:
    async def go(w: World) -> None:
        w.chain.priority_fees = [500, 2_000, 1_000, 4_000]  # p75 (nearest rank) = 2 000
        async with w.client(priority_fee="auto", priority_percentile=75) as c:
            ack = await c.create_order(market("p1", Side.BUY, "0.1"))
            ev = await next_event(c)
        (body,) = [b for kind, b in w.api.requests if kind == "swap"]
        assert body["computeUnitPriceMicroLamports"] == 2_000
        # the landed transaction carries ComputeBudget SetComputeUnitPrice(2 000): tag 3, u64 little endian
        tx = w.chain.landed[ack.signature].tx
        keys = tx.message.account_keys
        budget = [
            bytes(ix.data) for ix in tx.message.instructions if str(keys[ix.program_id_index]) == BUDGET
        ]
        assert bytes([3]) + (2_000).to_bytes(8, "little") in budget
        # LiteSVM (solders 0.26) charges the signature fee only; the event reports what the chain charged
        assert ev.fee == Decimal(w.chain.landed[ack.signature].fee) / LAMPORTS == Decimal("0.00001")

    run(go)


def test_dropped_transaction_expires_and_is_never_resent() -> None:
    async def go(w: World) -> None:
        w.chain.drop_next(2)  # the send and the re-broadcast of the retry below are both lost
        async with w.client(priority_fee="none") as c:
            sol0, usdc0 = w.sol(), w.usdc()
            ack = await c.create_order(market("d1", Side.BUY, "0.5"))
            await asyncio.sleep(0.2)
            rep = await c.fetch_order("d1")
            assert rep is not None and rep.status is OrderStatus.SUBMITTED and rep.filled == 0
            assert [r.client_order_id for r in await c.fetch_open_orders()] == ["d1"]
            again = await c.create_order(market("d1", Side.BUY, "0.5"))  # the engine's retry: same tx
            assert again.signature == ack.signature and w.chain.sends[ack.signature] == 2
            assert len(w.api.built) == 1  # no second quote/swap was turned into a transaction
            w.chain.advance(BLOCKHASH_VALIDITY + 1)
            ev = await next_event(c)
            assert isinstance(ev, OrderExpired) and ev.client_order_id == "d1"
            rep = await c.fetch_order("d1")
            assert rep is not None and rep.status is OrderStatus.EXPIRED
            third = await c.create_order(market("d1", Side.BUY, "0.5"))  # still no new transaction
            assert third.signature == ack.signature and len(w.api.built) == 1
            with pytest.raises(InvalidOrder, match="already used"):  # the same id for another order
                await c.create_order(market("d1", Side.SELL, "0.5"))
            assert await c.fetch_open_orders() == []
        assert (w.sol(), w.usdc()) == (sol0, usdc0) and w.chain.landed == {}

    run(go)


def test_transaction_landing_after_unknown_status_fills_once() -> None:
    async def go(w: World) -> None:
        w.chain.hold_next(polls=3)
        async with w.client(priority_fee="none") as c:
            ack = await c.create_order(market("h1", Side.BUY, "0.5"))
            ev = await next_event(c)
            assert isinstance(ev, OrderFilled) and ev.qty == Decimal("0.5")
            assert w.chain.sends[ack.signature] >= 1 and len(w.chain.landed) == 1
            await asyncio.sleep(0.1)
            assert c.sender.journal.get(ack.signature).state == "landed"  # type: ignore[union-attr]
            # no second event for the same transaction
            with pytest.raises(TimeoutError):
                await next_event(c, timeout=0.2)

    run(go)


@pytest.mark.parametrize("skip_preflight", [True, False])
def test_slippage_failure_is_a_rejection_without_fill(skip_preflight: bool) -> None:
    async def go(w: World) -> None:
        async with w.client(priority_fee="none", skip_preflight=skip_preflight) as c:
            sol0, usdc0 = w.sol(), w.usdc()
            w.api.fail_next_slippage()
            ack = await c.create_order(market("x1", Side.SELL, "0.5"))
            ev = await next_event(c)
            assert isinstance(ev, OrderRejected) and ev.client_order_id == "x1"
            assert ev.reason == "transaction_failed" and '"Custom": 1' in ev.message
            rep = await c.fetch_order("x1")
            assert rep is not None and rep.status is OrderStatus.REJECTED and rep.filled == 0
            assert await c.fetch_my_trades() == []
            if skip_preflight:  # it landed, failed at the check, and paid its fee only
                rec = w.chain.landed[ack.signature]
                assert rec.err is not None and ev.fee == Decimal(rec.fee) / LAMPORTS
                assert (w.sol(), w.usdc()) == (sol0 - rec.fee, usdc0)
            else:  # the node's simulation refused it: nothing landed, nothing paid
                assert ack.signature not in w.chain.landed and ev.fee == 0
                assert (w.sol(), w.usdc()) == (sol0, usdc0)

    run(go)


def test_jupiter_program_error_6001_is_reported_as_slippage() -> None:
    async def go(w: World) -> None:
        async with w.client(priority_fee="none") as c:
            j = c.sender.journal
            detail = {
                "venue": "JUPITER",
                "instrument": str(SOL_USDC),
                "side": "buy",
                "amount": "1",
                "ts_ns": 0,
            }
            j.record("SIG6001", "j1", 10, b"\x00", detail, 0)
            j.settle("SIG6001", "failed", err=json.dumps({"InstructionError": [3, {"Custom": 6001}]}))
            (ev,) = await c.poll(also=["SIG6001"])
        assert isinstance(ev, OrderRejected) and ev.reason == "slippage" and ev.fee == 0

    run(go)


def test_invalid_orders_are_refused_before_anything_is_sent() -> None:
    async def go(w: World) -> None:
        async with w.client() as c:
            spec = c.instruments()[SOL_USDC]
            assert spec.lot_size == Decimal("1e-9") and spec.min_size == Decimal("0.001")
            for order, reason in [
                (market("g1", Side.BUY, "0.0010000005"), "not a multiple"),
                (market("g2", Side.BUY, "0.0005"), "below"),
                (
                    Order(
                        "g3",
                        SOL_USDC,
                        Side.BUY,
                        Decimal(1),
                        0,
                        order_type=OrderType.LIMIT,
                        price=Decimal(150),
                    ),
                    "market orders only",
                ),
                (Order("g4", InstrumentId("SOL/USDT", "JUPITER"), Side.BUY, Decimal(1), 0), "lists"),
            ]:
                with pytest.raises(InvalidOrder, match=reason):
                    await c.create_order(order)
            with pytest.raises(InsufficientFunds):
                await c.create_order(market("g5", Side.SELL, "50"))  # holds 10 SOL
            with pytest.raises(Rejected):  # far beyond the pools: no route
                await c.create_order(market("g6", Side.BUY, "100000000"))
            assert w.api.swaps == 0 and not w.chain.sends
            assert await c.fetch_order("g1") is None
            with pytest.raises(OrderNotFound):
                await c.cancel_order("g1")

    run(go)


def test_rate_limited_swap_build_is_retryable_then_sent_once() -> None:
    async def go(w: World) -> None:
        async with w.client(priority_fee="none") as c:
            w.api.inject("rate_limit")
            with pytest.raises(RateLimited) as e:
                await c.create_order(market("r1", Side.BUY, "0.5"))
            assert isinstance(e.value, JupiterRateLimited) and e.value.retry_after_s == 1.0
            assert c.sender.journal.for_order("r1") == [] and not w.chain.sends
            await c.create_order(market("r1", Side.BUY, "0.5"))
            ev = await next_event(c)
            assert isinstance(ev, OrderFilled)
            assert len(c.sender.journal.for_order("r1")) == 1 and len(w.chain.landed) == 1

    run(go)


def test_restart_in_process_resolves_then_never_resends(tmp_path: Path) -> None:
    path = tmp_path / "sends.sqlite"

    async def go(w: World) -> None:
        w.chain.hold_next()  # the first run's swap stays unknown
        c1 = w.client(priority_fee="none")
        await c1.start()
        ack = await c1.create_order(market("k1", Side.BUY, "0.5"))
        await c1.close()
        w.journal.close()
        w.journal = SendJournal(path)
        c2 = w.client(priority_fee="none")
        assert await c2.start() == []  # still unknown, not expired: nothing decided, nothing sent
        again = await c2.create_order(market("k1", Side.BUY, "0.5"))
        assert again.signature == ack.signature and len(w.api.built) == 1
        w.chain.release_held()
        ev = await next_event(c2)
        assert isinstance(ev, OrderFilled) and ev.trade_id == ack.signature
        assert list(w.chain.landed) == [ack.signature]
        await c2.close()

    run(go, journal=SendJournal(path))


CHILD = """
import asyncio, json, sys
from decimal import Decimal
from solders.keypair import Keypair
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, Side
from botnft.venues.jupiter import JupiterSettings, build_jupiter
from botnft.venues.solana import SendJournal, WalletKey

cfg = json.loads(sys.argv[1])
kp = Keypair.from_bytes(bytes(cfg["key"]))
async def main():
    s = JupiterSettings.from_mapping({"base_url": cfg["jup"], "priority_fee": "none"})
    c = build_jupiter(s, key=WalletKey(kp, "child"), rpc_url=cfg["rpc"], journal=SendJournal(cfg["journal"]),
                      rpc_timeout_s=30)
    print("sending", flush=True)
    await c.create_order(Order("kill-1", InstrumentId("SOL/USDC", "JUPITER"), Side.BUY, Decimal("0.5"), 0))
    print("acked", flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""


@pytest.mark.parametrize("when", ["in_flight", "after_ack"])
def test_sigkill_then_restart_reconciles_with_nothing_sent_twice(tmp_path: Path, when: str) -> None:
    """A process is SIGKILLed while its sendTransaction is in flight (the chain executed it, the answer was
    not back), or right after the ack; a new process on the same journal finds the swap filled and sends
    nothing (no new transaction, no re-broadcast of a decided one)."""
    path = tmp_path / "sends.sqlite"

    async def go(w: World) -> None:
        w.chain.slow_s = 20.0
        if when == "in_flight":
            w.chain.inject("timeout")  # executes, then holds the answer
        arg = json.dumps({"key": list(bytes(w.kp)), "jup": w.jup_url, "rpc": w.rpc_url, "journal": str(path)})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", textwrap.dedent(CHILD), arg, stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"sending"
        if when == "in_flight":
            for _ in range(500):
                if w.chain.landed:
                    break
                await asyncio.sleep(0.01)
        else:
            assert (await asyncio.wait_for(proc.stdout.readline(), 20)).strip() == b"acked"
        assert len(w.chain.landed) == 1
        os.kill(proc.pid, signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL
        (sig,) = list(w.chain.landed)
        assert w.chain.sends[sig] == 1

        w.journal = SendJournal(path)
        c = w.client(priority_fee="none")
        events = await c.start()  # the recovery rule before anything else
        assert [(type(e), e.client_order_id) for e in events] == [(OrderFilled, "kill-1")]
        ack = await c.create_order(market("kill-1", Side.BUY, "0.5"))
        assert ack.signature == sig
        rep = await c.fetch_order("kill-1")
        assert rep is not None and rep.status is OrderStatus.FILLED and rep.filled == Decimal("0.5")
        await c.close()
        assert w.chain.sends[sig] == 1 and len(w.chain.landed) == 1 and len(w.api.built) == 1

    run(go, journal=SendJournal(":memory:"))


def test_built_from_a_config_table_trades(tmp_path: Path) -> None:
    from botnft.domain.errors import UserError
    from botnft.venues.jupiter import jupiter_from_table

    async def go(w: World) -> None:
        keyfile = tmp_path / "id.json"
        keyfile.write_text(json.dumps(list(bytes(w.kp))))
        keyfile.chmod(0o600)
        table = {
            "rpc_url": w.rpc_url,
            "keypair_file": str(keyfile),
            "journal": str(tmp_path / "j.sqlite"),
            "base_url": w.jup_url,
            "slippage_bps": 30,
            "priority_fee": "none",
            "poll_interval_s": 0.02,
        }
        c = jupiter_from_table(table)
        assert c.key.pubkey == w.kp.pubkey() and c.settings.slippage_bps == 30
        async with c:
            ack = await c.create_order(market("t1", Side.SELL, "0.1"))
            ev = await next_event(c)
        assert isinstance(ev, OrderFilled) and ev.trade_id == ack.signature
        (q,) = [b for kind, b in w.api.requests if kind == "quote"]
        assert q["slippageBps"] == "30"
        assert SendJournal(tmp_path / "j.sqlite").for_order("t1")[0].state == "landed"
        for bad, needle in [
            ({k: v for k, v in table.items() if k != "rpc_url"}, "rpc_url"),
            ({k: v for k, v in table.items() if k != "keypair_file"}, "wallet"),
            ({k: v for k, v in table.items() if k != "journal"}, "journal"),
            ({**table, "skip_preflight": "yes"}, "skip_preflight"),
            ({**table, "slipage": 1}, "unknown setting"),
        ]:
            with pytest.raises(UserError, match=needle):
                jupiter_from_table(bad)

    run(go)
