"""SimRaydium invariants under random swaps and price moves: k never decreases on constant-product pools,
every token is conserved to the native unit, and events equal the ledger's integers exactly. Plus the
liquidity model's defaults and overrides."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botnft.data.bars import BarBatch
from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.orders import Order, Side
from botnft.venues.sim.raydium import SimRaydium, to_units
from botnft.venues.sim.raydium_config import (
    DEFAULT_TVL_USD,
    ClmmRange,
    ClmmTerms,
    CpmmTerms,
    from_price,
)

HOUR = 3_600_000_000_000
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# an operation: ("buy" | "sell", lamports) or ("move", reference price in cents)
op = st.one_of(
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1_000_000, 3_000 * 10**9)),
    st.tuples(st.just("move"), st.integers(3_000, 60_000)),
)


def bars_of(*closes: float) -> BarBatch:
    c = np.array(closes, dtype=np.float64)
    return BarBatch(np.arange(len(c), dtype=np.int64) * HOUR, c, c, c, c, np.ones(len(c)), HOUR)


def k_of(v: SimRaydium) -> int:
    r = v.reserves()
    return r["SOL"] * r["USDC"]


def run_ops(v: SimRaydium, ops: list[tuple[str, int]], check_k: bool) -> None:
    base, quote = v.tokens
    account = v.ledger()["account"]
    for n, (kind, x) in enumerate(ops):
        k = k_of(v)
        if kind == "move":
            v.set_cursor(bars_of(x / 100), 0)
            evs = []
        else:
            side = Side.BUY if kind == "buy" else Side.SELL
            evs = list(v.create_order(Order(f"o{n}", v.instrument.id, side, to_units(x, base), n)))
        if check_k:
            assert k_of(v) >= k
        assert v.totals() == v.initial_totals
        led = v.ledger()
        for token in (base.symbol, quote.symbol):
            parts = ("account", "reserves", "arbitrageur", "liquidity_providers")
            fees = ("protocol_fees", "fund_fees", "creator_fees")
            assert sum(led[p][token] for p in parts + fees) == v.initial_totals[token]
            assert all(led[p][token] >= 0 for p in ("reserves", *fees, "lp_fees_earned", "account"))
        for ev in evs:
            if isinstance(ev, OrderRejected):
                assert led["account"] == account
                continue
            assert isinstance(ev, OrderFilled) and ev.quote_qty is not None
            rec = v.swaps[-1]
            assert ev.qty == to_units(abs(rec.base_delta), base) == to_units(x, base)
            assert ev.fee == to_units(rec.fee_reported, quote)
            if ev.side is Side.BUY:
                assert ev.quote_qty + ev.fee == to_units(-rec.quote_delta, quote)
            else:
                assert ev.quote_qty - ev.fee == to_units(rec.quote_delta, quote)
            assert led["account"]["SOL"] == account["SOL"] + rec.base_delta
            assert led["account"]["USDC"] == account["USDC"] + rec.quote_delta
            assert v.fetch_balance() == {
                "SOL": to_units(led["account"]["SOL"], base),
                "USDC": to_units(led["account"]["USDC"], quote),
            }
        account = led["account"]


def fresh(kind: str, **kw: object) -> SimRaydium:
    cfg = from_price(150, kind=kind, **kw)  # type: ignore[arg-type]
    return SimRaydium(cfg, balances={"USDC": D(10**8), "SOL": D(10**6)})


@SETTINGS
@given(ops=st.lists(op, min_size=1, max_size=20))
def test_k_never_decreases_and_every_token_is_conserved_on_an_amm_v4_pool(ops: list[tuple[str, int]]) -> None:
    run_ops(fresh("amm_v4"), ops, check_k=True)


@SETTINGS
@given(ops=st.lists(op, min_size=1, max_size=20), creator_on_input=st.booleans())
def test_k_never_decreases_and_every_token_is_conserved_on_a_cpmm_pool(
    ops: list[tuple[str, int]], creator_on_input: bool
) -> None:
    terms = CpmmTerms(creator_fee_rate=500, creator_fee_on_input=creator_on_input)
    run_ops(fresh("cpmm", terms=terms), ops, check_k=True)


@SETTINGS
@given(ops=st.lists(op, min_size=1, max_size=20), fee_on=st.sampled_from([0, 1, 2]))
def test_every_token_is_conserved_on_a_clmm_pool_that_recenters(
    ops: list[tuple[str, int]], fee_on: int
) -> None:
    run_ops(fresh("clmm", terms=ClmmTerms(fee_on=fee_on)), ops, check_k=False)


@SETTINGS
@given(price_cents=st.integers(500, 100_000), kind=st.sampled_from(["amm_v4", "cpmm", "clmm"]))
def test_arbitrage_lands_the_pool_inside_the_fee_band_from_any_price(price_cents: int, kind: str) -> None:
    v = fresh(kind)
    v.set_cursor(bars_of(price_cents / 100), 0)
    ref = Fraction(price_cents, 100)
    gamma = v.engine.fee_factor
    assert ref * gamma <= v.marginal_price() <= ref / gamma
    assert v.totals() == v.initial_totals


# ------------------------------------------------------------------------------------- liquidity model


def value_usd(v: SimRaydium, price: Fraction) -> Fraction:
    r = v.reserves()
    return Fraction(r["SOL"], 10**9) * price + Fraction(r["USDC"], 10**6)


@pytest.mark.parametrize("kind", ["amm_v4", "cpmm", "clmm"])
def test_default_pools_hold_their_documented_tvl_at_the_reference_price(kind: str) -> None:
    v = SimRaydium(from_price(150, kind=kind))
    assert value_usd(v, Fraction(150)) == pytest.approx(float(DEFAULT_TVL_USD[kind]), rel=1e-6)  # type: ignore[arg-type]
    assert float(v.marginal_price()) == pytest.approx(150, rel=1e-9)


def test_a_user_overrides_tvl_fees_and_ranges_and_deeper_pools_cost_less() -> None:
    shallow = SimRaydium(from_price(150, 1_000_000, "amm_v4"), balances={"USDC": D(10**6)})
    deep = SimRaydium(from_price(150, 50_000_000, "amm_v4"), balances={"USDC": D(10**6)})
    costs = []
    for v in (shallow, deep):
        v.set_cursor(bars_of(150.0), 0)
        v.create_order(Order("b", v.instrument.id, Side.BUY, D(100), 0))
        costs.append(-v.swaps[-1].quote_delta)
    assert costs[1] < costs[0]
    cheap = from_price(150, kind="cpmm", terms=CpmmTerms(trade_fee_rate=100))
    assert SimRaydium(cheap).engine.fee_factor == Fraction(999_900, 10**6)
    narrow = from_price(150, 1_000_000, "clmm", ranges=(ClmmRange(D("0.01"), D(1)),))
    assert len(narrow.positions) == 1 and narrow.tvl_usd == D(1_000_000)
    assert replace(narrow, recenter=False).recenter is False
