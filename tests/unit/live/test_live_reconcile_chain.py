"""Start-of-life reconciliation rules the on-chain venues need: an order a venue reports submitted but
holds none of (an id reserved before a crash, its transaction never sent) is counted as never reached,
not cancelled; a wallet's fee asset (a Solana wallet's SOL) may be short of the journal's account by the
network fees its transactions paid, and by no more."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from botnft.backtest.spec import BacktestSpec
from botnft.bootstrap import build_backtest
from botnft.domain.errors import OrderNotFound
from botnft.domain.orders import Order, OrderStatus
from botnft.domain.reports import CancelAck, OrderAck, OrderStatusReport
from botnft.live.reconcile import TX_FEE
from botnft.live.run import LiveSettings
from botnft.live.session import LiveLife, open_life
from botnft.storage import make_engine, upgrade
from botnft.storage.journal import PaperStore

from .double import SOL, DoubleExchange, ListFeed
from .test_live_bridge import HOUR, PATH, bars


@pytest.fixture
def store(tmp_path: Path) -> PaperStore:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    s = PaperStore(make_engine(url))
    s.create_run("live-1", {}, 0)
    return s


def life(store: PaperStore, ex: DoubleExchange, closes: list[float], **kw: object) -> LiveLife:
    session = build_backtest(BacktestSpec(strategy="sma_cross", params={"fast": "2", "slow": "4"}, size=D(1)))
    node = session.node
    return open_life(
        store=store, run_id="live-1", feed=ListFeed(bars(closes), ex, pause_s=0.08),
        strategy=node.strategy, sizer=node.sizer, gate=node.risk, fee_rate=D("0.001"),
        settings=LiveSettings(HOUR, settle_s=1.0, **kw),  # type: ignore[arg-type]
        clients={"DOUBLE": ex}, timeout_s=0.3, poll_s=0.02, log=lambda _: None,
    )  # fmt: skip


def first_life(store: PaperStore, ex: DoubleExchange, **kw: object) -> None:
    lf = life(store, ex, PATH[:13], max_bars=12, **kw)
    try:
        lf.run.run()
    finally:
        lf.close()


class Phantom(DoubleExchange):
    """Its first order is reported submitted but never executes; cancelling it: OrderNotFound. With
    `closes`, the order is reported canceled once a cancel was tried (it closed meanwhile)."""

    def __init__(self, closes: bool = False) -> None:
        super().__init__()
        self.phantom: str | None = None
        self.closes = closes
        self.cancels: list[str] = []

    async def create_order(self, order: Order) -> OrderAck:
        if self.phantom is None:
            self.phantom = coid = order.client_order_id
            self.creates[coid] += 1
            self.orders[coid] = OrderStatusReport(
                self._tick(), coid, None, SOL.id, order.side, order.amount, D(0), OrderStatus.SUBMITTED, None
            )
            return OrderAck(self._tick(), coid)
        return await super().create_order(order)

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        self.cancels.append(client_order_id)
        if client_order_id == self.phantom:
            if self.closes:
                old = self.orders[client_order_id]
                self.orders[client_order_id] = OrderStatusReport(
                    self._tick(), old.client_order_id, None, SOL.id, old.side, old.amount, D(0),
                    OrderStatus.CANCELED, None,
                )  # fmt: skip
            raise OrderNotFound(f"no order {client_order_id}")
        return await super().cancel_order(client_order_id)


def test_an_order_reported_submitted_that_the_venue_does_not_hold_never_reached_it(store):
    ex = Phantom()
    first_life(store, ex)
    assert ex.phantom is not None
    lf = life(store, ex, PATH)
    try:
        rec = lf.run.started
        assert rec is not None
        assert ex.phantom in ex.cancels  # asked once, refused: nothing to cancel
        assert rec.never_reached == 1 and rec.canceled == 0, rec.actions
        assert any(ex.phantom in a and "never reached" in a for a in rec.actions)
    finally:
        lf.close()


def test_an_order_that_closed_while_reconciling_was_found(store):
    ex = Phantom(closes=True)
    first_life(store, ex)
    lf = life(store, ex, PATH)
    try:
        rec = lf.run.started
        assert rec is not None
        assert rec.never_reached == 0 and rec.canceled == 0, rec.actions
        assert any("closed while reconciling" in a for a in rec.actions)
    finally:
        lf.close()


@pytest.mark.parametrize(
    ("short", "reserve", "mismatch"),
    [
        (D("0.00001"), True, False),  # two signatures' fees: the wallet's
        (D("0.00001"), False, True),  # no reserve: that asset pays no fees, it is a mismatch
        (D("0.05"), True, True),  # more than every transaction could have cost
        (D("-0.00001"), True, True),  # more than the journal accounts for is never fees
    ],
)
def test_a_fee_assets_shortfall_within_the_transactions_fees_is_no_mismatch(store, short, reserve, mismatch):
    ex = DoubleExchange()
    kw = {"reserves": {"DOUBLE": {"SOL": D("0.001")}}} if reserve else {}
    first_life(store, ex, **kw)
    assert ex.creates and D("0.05") > TX_FEE * 3
    ex.balances["SOL"] -= short
    lf = life(store, ex, PATH, **kw)
    try:
        rec = lf.run.started
        assert rec is not None
        assert (rec.mismatches >= 1) is mismatch, rec.actions
    finally:
        lf.close()
