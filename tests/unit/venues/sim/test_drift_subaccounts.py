"""SimDrift sub-accounts (``drift_subaccounts``): ``transfer_deposit`` between the trading sub-account and
a reserve of the same authority, with the source's checks (its deposit, its initial margin)."""

from __future__ import annotations

from decimal import Decimal

from test_sim_drift import bars_from, drive, order, place

from botnft.domain.orders import Side
from botnft.venues.sim.drift import SimDrift
from botnft.venues.sim.drift_params import SOL_PERP


def test_a_reserve_moves_usdc_into_the_trading_account_and_the_ledger_stays_closed() -> None:
    venue = SimDrift([SOL_PERP], collateral=Decimal(1_000))
    venue.deposit_sub_account(1, Decimal(500))
    bars = bars_from([100.0] * 3)
    venue.set_cursor(bars, 1)
    assert venue.transfer_deposit(1, 0, Decimal("123.456789")) is None
    assert venue.sub_account_balance(1) == Decimal("376.543211")
    assert venue.sub_account_balance(0) == Decimal("1123.456789")
    assert venue.account.conservation_residual() == 0
    assert venue.ledger()["deposits"] == 1_123_456_789
    # more than the reserve holds, the same sub-account, an unknown one, off the USDC grid: refused, no move
    assert venue.transfer_deposit(1, 0, Decimal("376.543212")) is not None
    assert venue.transfer_deposit(1, 1, Decimal(1)) is not None
    assert venue.transfer_deposit(2, 0, Decimal(1)) is not None
    assert venue.transfer_deposit(1, 0, Decimal("0.0000001")) is not None
    assert venue.sub_account_balance(1) == Decimal("376.543211")


def test_the_trading_account_sends_only_what_keeps_its_initial_margin() -> None:
    bars = bars_from([100.0] * 4)
    venue = SimDrift([SOL_PERP], collateral=Decimal(100))
    venue.deposit_sub_account(1, Decimal(0))
    place(venue, bars, 0, order(Side.BUY, "5"))  # 500 notional on 100 USDC: 5x
    drive(venue, bars, 1, 2)
    venue.set_cursor(bars, 2)
    mc = venue.margin("initial")
    free = mc.total_collateral - mc.margin_requirement  # native 1e6: the source's initial free collateral
    assert free > 0
    too_much = Decimal(free + 1) / 10**6
    assert venue.transfer_deposit(0, 1, too_much) is not None  # one unit more would miss initial margin
    assert venue.sub_account_balance(1) == 0
    assert venue.transfer_deposit(0, 1, Decimal(free) / 10**6) is None
    assert venue.sub_account_balance(1) == Decimal(free) / 10**6
    after = venue.margin("initial")
    assert after.total_collateral == after.margin_requirement  # exactly at the requirement
    assert venue.account.conservation_residual() == 0
