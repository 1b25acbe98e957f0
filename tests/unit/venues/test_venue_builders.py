"""The venue builders hand back venues built whole by their constructors, the on-chain ones sharing one
Solana wallet through the run's `SolanaContext`; and a venue joins a shared wallet only through its own
public `use_wallet`."""

from __future__ import annotations

import pickle
from decimal import Decimal as D

import numpy as np
import pytest

from botnft.backtest.spec import BacktestSpec
from botnft.data.bars import BarBatch, MarketData
from botnft.domain.errors import UserError
from botnft.venue_builders import VENUE_BUILDERS, BuildContext, SolanaContext
from botnft.venues.sim.jupiter import SimJupiter
from botnft.venues.sim.openbook import SimOpenBook
from botnft.venues.sim.raydium import SimRaydium
from botnft.venues.sim.raydium_config import from_price
from botnft.venues.sim.solana import SolanaFees
from botnft.venues.sim.wallet import SolanaWallet

HOUR = 3_600_000_000_000
T0 = 1_700_000_000 * 10**9
SOLANA = ("raydium", "raydium_cpmm", "raydium_clmm", "openbook")


def context() -> BuildContext:
    c = np.full(4, 150.0)
    bars = BarBatch(T0 + np.arange(4, dtype=np.int64) * HOUR, c, c, c, c, np.ones(4), HOUR)
    return BuildContext(MarketData("test", "spot", "SOL", bars, None), BacktestSpec())


def test_the_onchain_venues_of_one_context_trade_from_its_one_wallet() -> None:
    ctx = context()
    builds = [VENUE_BUILDERS[name](ctx) for name in (*SOLANA, "jupiter")]
    venues = [b.venue for b in builds]
    wallet = ctx.solana.wallet
    assert all(v.wallet is wallet for v in venues)
    assert ctx.solana.venues == venues[:4]  # listed in build order; the aggregator routes over them
    jupiter = venues[4]
    assert isinstance(jupiter, SimJupiter) and list(jupiter.venues) == venues[:4]
    assert {b.account for b in builds} == {"SOLANA"}


def test_funding_any_onchain_venue_credits_the_shared_wallet_in_micro_usdc() -> None:
    ctx = context()
    pool, book = VENUE_BUILDERS["raydium"](ctx), VENUE_BUILDERS["openbook"](ctx)
    pool.fund(D("12.5"))
    book.fund(D("0.000001"))
    assert ctx.solana.wallet.balances == {"SOL": 0, "USDC": 12_500_001}
    assert pool.venue.fetch_balance()["USDC"] == book.venue.fetch_balance()["USDC"] == D("12.500001")


@pytest.mark.parametrize("amount", [D("0.0000005"), D("-1"), D("NaN")])
def test_funding_the_wallet_off_the_micro_usdc_grid_is_an_error_not_a_rounding(amount: D) -> None:
    ctx = context()
    with pytest.raises(UserError, match="whole micro-USDC"):
        ctx.solana.fund(amount)
    assert ctx.solana.wallet.balances["USDC"] == 0


def test_the_onchain_venues_pay_the_solana_network_fee_from_their_constructor() -> None:
    ctx = context()
    assert VENUE_BUILDERS["raydium_clmm"](ctx).venue.solana_fees == SolanaFees()
    assert VENUE_BUILDERS["openbook"](ctx).venue.solana_fees == SolanaFees()
    assert VENUE_BUILDERS["cex"](ctx).venue.solana_fees is None


def test_jupiter_alone_builds_its_default_venues_on_the_wallet_without_listing_them() -> None:
    ctx = context()
    jupiter = VENUE_BUILDERS["jupiter"](ctx).venue
    assert isinstance(jupiter, SimJupiter)
    assert [v.name for v in jupiter.venues] == ["RAYDIUM", "RAYDIUM_CPMM", "RAYDIUM_CLMM", "OPENBOOK"]
    assert all(v.wallet is ctx.solana.wallet for v in jupiter.venues)
    assert ctx.solana.venues == []


def test_two_contexts_share_nothing() -> None:
    a, b = context(), context()
    VENUE_BUILDERS["raydium"](a).fund(D(1))
    assert a.solana.wallet is not b.solana.wallet and b.solana.wallet.balances["USDC"] == 0
    assert SolanaContext().wallet is not SolanaContext().wallet


@pytest.mark.parametrize("name", [*SOLANA, "jupiter", "cex", "sim", "perp", "drift"])
def test_every_built_venue_pickles_with_its_state(name: str) -> None:
    ctx = context()
    build = VENUE_BUILDERS[name](ctx)
    build.fund(D(1000))
    copy = pickle.loads(pickle.dumps(build.venue))
    assert copy.fetch_balance() == build.venue.fetch_balance()


def test_a_pool_built_with_balances_and_a_wallet_moves_its_balances_into_the_wallet() -> None:
    wallet = SolanaWallet(("SOL", "USDC"))
    wallet.credit("USDC", 5 * 10**6)
    pool = SimRaydium(from_price(150), balances={"USDC": D(100), "SOL": D(2)}, wallet=wallet)
    assert wallet.balances == {"SOL": 2 * 10**9, "USDC": 105 * 10**6}
    assert pool.wallet is wallet and pool.fetch_balance() == {"SOL": D(2), "USDC": D(105)}


def test_a_book_built_with_balances_and_a_wallet_moves_its_balances_into_the_wallet() -> None:
    wallet = SolanaWallet(("SOL", "USDC"))
    book = SimOpenBook(balances={"USDC": D(50), "SOL": D(1)}, wallet=wallet)
    assert wallet.balances == {"SOL": 10**9, "USDC": 50 * 10**6}
    assert book.wallet is wallet and book.fetch_balance() == {"SOL": D(1), "USDC": D(50)}


def test_joining_the_same_wallet_twice_moves_nothing_twice() -> None:
    wallet = SolanaWallet(("SOL", "USDC"))
    pool = SimRaydium(from_price(150), balances={"USDC": D(100)})
    book = SimOpenBook(balances={"USDC": D(50)})
    for venue in (pool, book, pool, book):
        venue.use_wallet(wallet)
    assert wallet.balances == {"SOL": 0, "USDC": 150 * 10**6}
    assert pool.fetch_balance()["USDC"] == book.fetch_balance()["USDC"] == D(150)
