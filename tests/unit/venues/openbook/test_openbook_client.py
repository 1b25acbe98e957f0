"""OpenBookClient beyond the live contract: a restart that finds its resting order and the fills made while it
was down (the fill events already consumed by a cranker, so read from the book), idempotence across the
restart, program errors as rejection reasons, a market bid the book cannot fill refused before sending; the
tracking rules on hand-made reads; settings errors in one line."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address

from botnft.domain.errors import Rejected, UserError
from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, OrderType, Side, TimeInForce
from botnft.venues.openbook import instructions as ix
from botnft.venues.openbook.client import OpenBookClient, build_openbook, client_id_u64
from botnft.venues.openbook.layouts import BookOrder, FillEvent, OpenOrdersAccount, OpenOrderSlot, node_key
from botnft.venues.openbook.settings import OpenBookSettings
from botnft.venues.openbook.tracking import OrderTrack, Progress, order_status, progress
from botnft.venues.solana import SendJournal, WalletKey
from botnft.venues.solana.journal import JournalEntry
from fakes.openbook_chain import OpenBookChain
from fakes.solana_rpc import NATIVE_MINT, LocalSolana

IID = InstrumentId("SOL/USDC", "OPENBOOK")


def limit(cid: str, side: Side, price: str, qty: str, tif: TimeInForce = TimeInForce.GTC) -> Order:
    return Order(cid, IID, side, Decimal(qty), 0, order_type=OrderType.LIMIT, price=Decimal(price), tif=tif)


def world() -> tuple[LocalSolana, OpenBookChain, Keypair]:
    chain = LocalSolana(slow_s=1.0)
    ob = OpenBookChain(chain, taker_fee=1_000, maker_fee=-200)
    maker = ob.participant()
    ob.place(maker, False, 150_000, 1_000)  # 1 SOL offered at 150
    kp = Keypair()
    chain.airdrop(kp.pubkey(), 5 * 10**9)
    chain.set_token(kp.pubkey(), NATIVE_MINT, 2 * 10**9)
    chain.set_token(kp.pubkey(), ob.quote_mint, 1_000 * 10**6)
    return chain, ob, kp


def client(ob: OpenBookChain, kp: Keypair, url: str, journal: SendJournal) -> OpenBookClient:
    s = {"market": str(ob.market), "poll_interval_s": 0.05}
    return build_openbook(s, key=WalletKey(kp, "t"), rpc_url=url, journal=journal, rpc_timeout_s=0.5)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_a_restart_finds_the_resting_order_and_the_fills_made_while_down(tmp_path: Path) -> None:
    async def main() -> None:
        chain, ob, kp = world()
        path = tmp_path / "journal.db"
        async with chain.serve() as url:
            journal = SendJournal(path)
            async with client(ob, kp, url, journal) as a:
                assert a.instruments()[IID].tick_size == Decimal("0.001")  # 1 quote lot per 0.001 SOL lot
                assert a.instruments()[IID].lot_size == Decimal("0.001")
                await a.create_order(limit("r-1", Side.BUY, "145", "0.010"))
                rep = await a.fetch_order("r-1")
                assert rep is not None and rep.status is OrderStatus.ACCEPTED
            journal.close()
            sends = len(chain.sends)
            # while it is down: 4 lots trade against the bid, and a cranker consumes the fill event
            ob.place(ob.participant(), False, 145_000, 4, kind="ImmediateOrCancel")
            ob.crank()
            journal = SendJournal(path)
            b = client(ob, kp, url, journal)
            await b.start()
            try:
                rep = await b.fetch_order("r-1")
                assert rep is not None and rep.status is OrderStatus.PARTIALLY_FILLED
                assert rep.filled == Decimal("0.004") and rep.average == Decimal("145")
                trades = await b.fetch_my_trades()
                assert [(t.qty, t.price, t.fee, t.liquidity) for t in trades] == [
                    (
                        Decimal("0.004"),
                        Decimal("145"),
                        Decimal("-0.000116"),
                        "maker",
                    )  # rebate floor(580_000*2e-4)
                ]
                # the same client order id again: nothing new is sent
                ack = await b.create_order(limit("r-1", Side.BUY, "145", "0.010"))
                assert ack.signature == rep.signature and len(chain.sends) == sends
                await b.cancel_order("r-1")
                for _ in range(100):
                    rep = await b.fetch_order("r-1")
                    if rep is not None and rep.status is OrderStatus.CANCELED:
                        break
                    await asyncio.sleep(0.05)
                assert (
                    rep is not None and rep.status is OrderStatus.CANCELED and rep.filled == Decimal("0.004")
                )
                oo = ix.open_orders_address(kp.pubkey(), 1)
                assert client_id_u64("r-1") not in [o.client_order_id for o in ob.book_orders(True)]
                assert ob.open_orders(oo).orders == ()
            finally:
                await b.close()
                journal.close()

    run(main())


def test_program_errors_are_rejection_reasons_and_thin_books_are_refused_before_sending() -> None:
    async def main() -> None:
        chain, ob, kp = world()
        async with chain.serve() as url:
            journal = SendJournal(":memory:")
            async with client(ob, kp, url, journal) as c:
                events: list[Any] = []

                async def read() -> None:
                    async for ev in c.stream():
                        events.append(ev)

                task = asyncio.create_task(read())
                # FOK for 2 SOL when 1 is offered: the program's WouldExecutePartially (6043); the transaction
                # landed failed (it paid its fee), so the preflight is skipped by asking without it
                c.sender.skip_preflight = True
                await c.create_order(limit("fok", Side.BUY, "150", "2", TimeInForce.FOK))
                for _ in range(100):
                    if any(isinstance(e, OrderRejected) for e in events):
                        break
                    await asyncio.sleep(0.05)
                rej = [e for e in events if isinstance(e, OrderRejected)]
                assert [(r.reason, r.fee_asset) for r in rej] == [("fok_unfillable", "SOL")] and rej[
                    0
                ].fee > 0
                before = len(chain.sends)
                with pytest.raises(Rejected, match="less than 2000 lots") as e:
                    await c.create_order(Order("mkt", IID, Side.BUY, Decimal("2"), 0))
                assert e.value.reason == "no_liquidity" and len(chain.sends) == before
                # a market bid that fits: filled at the book's price with the taker fee
                await c.create_order(Order("mkt2", IID, Side.BUY, Decimal("0.5"), 0))
                for _ in range(100):
                    if any(isinstance(e, OrderFilled) and e.client_order_id == "mkt2" for e in events):
                        break
                    await asyncio.sleep(0.05)
                fill = next(e for e in events if isinstance(e, OrderFilled))
                assert (fill.qty, fill.price, fill.fee, fill.liquidity) == (
                    Decimal("0.5"),
                    Decimal("150"),
                    Decimal("0.075"),
                    "taker",
                )
                task.cancel()
            journal.close()

    run(main())


# ---------------------------------------------------------------------------------------------- tracking
US = Pubkey.new_unique()


def track(kind: str = "Limit", lots: int = 10, taker: int = 0) -> OrderTrack:
    detail = {"lots": lots, "type": kind, "cid_u64": "7", "price_lots": 100, "side": "buy", "amount": "0.01"}
    e = JournalEntry("sig", "c", 1, 0, b"", detail, "landed", 5, None, 0)
    return OrderTrack.of(e) if not taker else OrderTrack(e, lots, kind, taker=(taker, taker * 100, 1))


def oo(*slots: OpenOrderSlot) -> OpenOrdersAccount:
    return OpenOrdersAccount(US, Pubkey.new_unique(), 1, orders=slots)


def fill(qty: int, seq: int) -> FillEvent:
    return FillEvent(1, False, 0, 1_000 + seq, seq, US, 900, Pubkey.new_unique(), 0, 100, qty, 7)


SLOT = OpenOrderSlot(0, node_key(True, 100, 1), 7, 100, 0)


def leaf(qty: int) -> dict[int, BookOrder]:
    return {7: BookOrder(node_key(True, 100, 1), US, 0, qty, 900, 7)}


def test_fills_from_the_heap_and_from_the_book_never_count_a_lot_twice() -> None:
    t = track(taker=2)  # 2 lots taken at once, 8 posted
    p = progress(t, oo(SLOT), leaf(5), [fill(3, 1)], US)  # 3 traded, its event still on the heap
    assert p.fills == (("1:0:1001", 3, 100),) and p.resting and not p.closed
    t.maker.update({tid: (lots, price, 0) for tid, lots, price in p.fills})
    p = progress(t, oo(SLOT), leaf(1), [], US)  # 4 more traded, their event consumed before we read it
    assert p.fills == (("book:7:7", 4, 100),)
    t.maker.update({tid: (lots, price, 0) for tid, lots, price in p.fills})
    p = progress(t, oo(), {}, [], US)  # gone, not canceled by us: the last lot traded
    assert p.fills == (("book:7:8", 1, 100),) and p.closed and p.cancel_reason is None
    t.maker.update({tid: (lots, price, 0) for tid, lots, price in p.fills})
    assert t.filled_lots == 10 and order_status(t) is OrderStatus.FILLED


def test_remainders_that_do_not_rest() -> None:
    p = progress(track("ImmediateOrCancel", taker=4), oo(), {}, [], US)
    assert (p.fills, p.closed, p.cancel_reason) == ((), True, "ioc_remainder")
    p = progress(track("PostOnly"), oo(), {}, [], US)
    assert (p.fills, p.closed, p.cancel_reason) == ((), True, "post_only_would_cross")
    t = track()
    t.canceled = True
    assert progress(t, oo(), {}, [], US).cancel_reason == "canceled"
    t = track()
    t.cancel_pending = True  # gone while our cancel is undecided: neither filled nor canceled yet
    assert progress(t, oo(), {}, [fill(2, 1)], US) == Progress((("1:0:1001", 2, 100),), False, False, None)
    assert progress(track(), oo(SLOT), leaf(10), [], US) == progress(track(), oo(SLOT), leaf(10), [], US)
    assert order_status(track()) is OrderStatus.ACCEPTED


def test_settings_errors_are_one_line() -> None:
    s = OpenBookSettings.from_mapping({})
    assert (s.market, s.symbol, s.account_num) == (
        "CFSMrBssNG8Ud1edW59jNLnq2cwrQ9uY5cM3wXmqRJj3",
        "SOL/USDC",
        1,
    )
    for bad, match in [
        ({"market": "nope"}, "not a Solana address"),
        ({"symbol": "SOLUSDC"}, "BASE/QUOTE"),
        ({"account_num": 0}, "account_num"),
        ({"poll_interval_s": 0}, "poll_interval_s"),
        ({"fees": 1}, "unknown keys: fees"),
        ({"priority_fee": True}, "priority_fee"),
    ]:
        with pytest.raises(UserError, match=match) as e:
            OpenBookSettings.from_mapping(bad)
        assert "\n" not in str(e.value)


def test_a_client_from_a_live_table_trades_on_the_local_chain(tmp_path: Path) -> None:
    from botnft.venues.openbook.live import openbook_from_table

    async def main() -> None:
        chain, ob, kp = world()
        keyfile = tmp_path / "id.json"
        keyfile.write_text(json.dumps(list(bytes(kp))))
        keyfile.chmod(0o600)
        async with chain.serve() as url:
            table = {
                "rpc_url": url,
                "keypair_file": str(keyfile),
                "journal": str(tmp_path / "j.db"),
                "market": str(ob.market),
                "poll_interval_s": 0.05,
                "rpc_timeout_s": 2,
            }
            async with openbook_from_table(table) as c:
                await c.create_order(Order("t-1", IID, Side.BUY, Decimal("0.1"), 0))
                rep = await c.fetch_order("t-1")
                for _ in range(100):
                    if rep is not None and rep.status is OrderStatus.FILLED:
                        break
                    await asyncio.sleep(0.05)
                    rep = await c.fetch_order("t-1")
                assert rep is not None and rep.status is OrderStatus.FILLED and rep.filled == Decimal("0.1")
                assert (await c.fetch_balance())["USDC"] == Decimal("1000") - Decimal("15.015")

    run(main())


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({}, "rpc_url"),
        ({"rpc_url": "http://x"}, "needs a wallet"),
        ({"rpc_url": "http://x", "keypair_env": "NOPE_NOT_SET_OB"}, "NOPE_NOT_SET_OB"),
        ({"rpc_url": "ftp://x"}, "http"),
        ({"rpc_url": "http://x", "keypair_env": "OB_KEY"}, "journal"),
        (
            {"rpc_url": "http://x", "keypair_env": "OB_KEY", "journal": ":memory:", "skip_preflight": "no"},
            "true or false",
        ),
        (
            {"rpc_url": "http://x", "keypair_env": "OB_KEY", "journal": ":memory:", "markets": 1},
            "unknown keys",
        ),
    ],
)
def test_live_table_mistakes_are_one_line(
    table: dict[str, Any], match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botnft.venues.openbook.live import openbook_from_table

    monkeypatch.setenv("OB_KEY", json.dumps(list(bytes(Keypair()))))
    with pytest.raises(UserError, match=match) as e:
        openbook_from_table(table)
    assert "\n" not in str(e.value)


def test_the_balance_counts_the_open_orders_account_and_unconsumed_fills_and_settle_moves_them_home() -> None:
    async def main() -> None:
        chain, ob, kp = world()
        async with chain.serve() as url:
            journal = SendJournal(":memory:")
            async with client(ob, kp, url, journal) as c:
                start = await c.fetch_balance()
                assert start["USDC"] == Decimal("1000")
                lamports0, wrapped0 = (
                    chain.lamports(kp.pubkey()),
                    chain.token_amount(kp.pubkey(), NATIVE_MINT),
                )
                ata_rent0 = chain.lamports(get_associated_token_address(kp.pubkey(), NATIVE_MINT)) - wrapped0
                landed0 = set(chain.landed)
                await c.create_order(limit("b-1", Side.BUY, "145", "0.010"))
                for _ in range(100):
                    rep = await c.fetch_order("b-1")
                    if rep is not None and rep.status is OrderStatus.ACCEPTED:
                        break
                    await asyncio.sleep(0.05)
                locked = await c.fetch_balance()
                assert locked["USDC"] == Decimal("1000")  # 1.45 USDC locked in the bid still counts
                ob.place(ob.participant(), False, 145_000, 4, kind="ImmediateOrCancel")  # 4 lots into our bid
                # unconsumed: 0.58 USDC paid for 0.004 SOL, rebate floor(580_000 * 2e-4) = 116 micro-USDC
                moved = await c.fetch_balance()
                assert moved["USDC"] == Decimal("1000") - Decimal("0.58") + Decimal("0.000116")
                assert moved["SOL"] - locked["SOL"] == Decimal("0.004")
                ob.crank()
                assert await c.fetch_balance() == moved  # consumed: the same total, now in the free balance
                # 2 more lots; settle() cranks our event and moves the free balances into the wallet
                ob.place(ob.participant(), False, 145_000, 2, kind="ImmediateOrCancel")
                sig = await c.settle()
                assert sig is not None and (await c.sender.confirm(sig, timeout_s=10)).state == "landed"
                # wallet: 1000 - 1.45 locked at placing + rebates 116 + floor(290_000 * 2e-4) = 58 micro-USDC
                assert chain.token_amount(kp.pubkey(), ob.quote_mint) == 998_550_174
                # wrap_sol: each transaction closed the wrapped-SOL account (its 2 SOL back to native) and,
                # as the wallet had it, made it again empty (its rent stays in it); the 6 bought lots
                # (0.006 SOL) came back native; each transaction cost 5,000 lamports
                assert chain.token_amount(kp.pubkey(), NATIVE_MINT) == 0
                assert chain.lamports(get_associated_token_address(kp.pubkey(), NATIVE_MINT)) == ata_rent0
                ours = [r for sig, r in chain.landed.items() if sig not in landed0]
                assert len(ours) == 2  # the bid, the settle
                assert chain.lamports(kp.pubkey()) == lamports0 + wrapped0 + 6_000_000 - 5_000 * len(ours)
                after = await c.fetch_balance()
                assert after["USDC"] == Decimal("1000") - Decimal("0.87") + Decimal("0.000174")
                assert await c.settle() is None  # nothing left to consume or settle
            journal.close()

    run(main())
