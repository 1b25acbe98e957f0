"""An order whose user order id was taken but whose transaction was never journaled (the process died between
the two, or the send failed before the journal row): never sent, so reported never reached, its id free
again, and a re-submit under the same client order id sends it exactly once.

The crash is the files as they were at that instant: a wrapper around ``refresh`` (the first step after the id
is taken, before the transaction is built and journaled) copies the id file and the send journal with
SQLite's backup API, then a new venue starts on the copies against the same chain."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from botnft.domain.errors import NetworkError
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderStatus, Side
from botnft.venues.drift import build_drift
from botnft.venues.drift.ids import OrderIds
from botnft.venues.solana import SendJournal, WalletKey
from fakes.drift_world import drift_world, funded_venue

SOL = InstrumentId("SOL-PERP", "DRIFT")
QTY = Decimal("0.1")


def _copy(src: str, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


class Crash(BaseException):
    """The process dies here."""


def test_a_crash_between_the_id_and_the_journal_row_frees_the_id(tmp_path: Path) -> None:
    async def main() -> None:
        async with drift_world(tmp=tmp_path) as (chain, _drift, kp, journal, url):
            venue = await funded_venue(kp, journal, url, deposit=1_000)
            await venue.create_order(Order("a", SOL, Side.BUY, QTY, 0))
            first_uid = venue.ids.get("a").user_order_id
            crash_dir = tmp_path / "at-crash"
            crash_dir.mkdir()
            real_refresh = venue.refresh

            async def dies() -> None:
                _copy(venue.ids.path, crash_dir / "sends.drift-ids.sqlite")
                _copy(journal.path, crash_dir / "sends.sqlite")
                raise Crash

            venue.refresh = dies
            sent_before = sum(chain.sends.values())
            with pytest.raises(Crash):
                await venue.create_order(Order("b", SOL, Side.BUY, QTY, 0))
            venue.refresh = real_refresh
            assert sum(chain.sends.values()) == sent_before  # nothing reached the chain
            await venue.close()

            # what the dead process left: "b" holds an id, no journal row carries it
            left = OrderIds(crash_dir / "sends.drift-ids.sqlite")
            b_slot = left.get("b")
            assert b_slot is not None and b_slot.open
            b_uid = b_slot.user_order_id
            assert b_uid != first_uid
            left.close()
            j2 = SendJournal(str(crash_dir / "sends.sqlite"))
            assert j2.for_order("b") == []

            again = build_drift(
                {"poll_interval_s": 0.05, "confirm_timeout_s": 5},
                key=WalletKey(kp, "restart"),
                rpc_url=url,
                journal=j2,
                rpc_timeout_s=1.5,
            )
            await again.start()
            try:
                assert await again.fetch_order("b") is None  # never reached the venue
                assert again.ids.get("b") is None
                statuses = {r.client_order_id: r.status for r in (await again.mass_status()).orders}
                assert "b" not in statuses and statuses["a"] is OrderStatus.FILLED
                # b's id is free ("a" filled, so no open order holds any): the next order takes the lowest
                assert again.ids.open_by_user_id(b_uid) is None and again.ids.slots(open_only=True) == []
                await again.create_order(Order("c", SOL, Side.BUY, QTY, 0))
                assert again.ids.get("c").user_order_id == 1
                # the engine re-submits "b" by client order id: sent once, lands once
                await again.create_order(Order("b", SOL, Side.BUY, QTY, 0))
                await again.create_order(Order("b", SOL, Side.BUY, QTY, 0))
                (row,) = j2.for_order("b")
                assert chain.sends[row.signature] == 1
                for cid in ("b", "c"):
                    for _ in range(100):
                        rep = await again.fetch_order(cid)
                        if rep is not None and rep.status is OrderStatus.FILLED:
                            break
                        await asyncio.sleep(0.05)
                    assert rep is not None and rep.status is OrderStatus.FILLED, (cid, rep)
                landed_b = [e for e in j2.for_order("b") if e.signature in chain.landed]
                assert len(landed_b) == 1
                pos = await again.fetch_positions()
                assert [p.qty for p in pos if p.instrument == SOL] == [3 * QTY]
            finally:
                await again.close()
                j2.close()

    asyncio.run(asyncio.wait_for(main(), 90))


def test_a_send_that_fails_before_the_journal_row_frees_the_id_at_once() -> None:
    async def main() -> None:
        async with drift_world() as (chain, _drift, kp, journal, url):
            venue = await funded_venue(kp, journal, url, deposit=1_000)
            try:
                real = venue.rpc.latest_blockhash

                async def down(*a: Any, **k: Any) -> Any:
                    raise NetworkError("node unreachable")

                venue.rpc.latest_blockhash = down
                with pytest.raises(NetworkError):
                    await venue.create_order(Order("x", SOL, Side.BUY, QTY, 0))
                assert venue.ids.get("x") is None and await venue.fetch_order("x") is None
                venue.rpc.latest_blockhash = real
                await venue.create_order(Order("x", SOL, Side.BUY, QTY, 0))
                slot = venue.ids.get("x")
                assert slot is not None and slot.user_order_id == 1
                (row,) = journal.for_order("x")
                assert chain.sends[row.signature] == 1
            finally:
                await venue.close()

    asyncio.run(asyncio.wait_for(main(), 60))
