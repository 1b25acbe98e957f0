"""SimJupiter: QuoteResponse-shaped quotes split across the simulated Raydium pools and OpenBook, swaps that
execute all legs or none against otherAmountThreshold, the network fee per transaction, latency, the venue
contract (rejections as events), the router's ladder, and a node run."""

from __future__ import annotations

import copy
from decimal import Decimal as D
from typing import Any

import numpy as np
import pytest

from botnft.backtest.driver import SimulationDriver
from botnft.bootstrap import load_market_data
from botnft.data.bars import BarBatch
from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.liquidity import PooledLiquidity
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.domain.portfolio import Portfolio
from botnft.engine.clock import SimClock
from botnft.engine.node import TradingNode
from botnft.ports import SimulatedVenue, VenueClient
from botnft.risk.gate import RiskGate, RiskLimits
from botnft.risk.sizing import CashFraction
from botnft.routing.adapt import to_source
from botnft.strategy.library import build as build_strategy
from botnft.venues.sim.jupiter import MINTS, JupiterQuoteError, JupiterSwapError, SimJupiter
from botnft.venues.sim.openbook import SimOpenBook
from botnft.venues.sim.raydium import SimRaydium
from botnft.venues.sim.raydium_config import from_price
from botnft.venues.sim.raydium_math import RaydiumMathError
from botnft.venues.sim.solana import LatencyModel, SolanaFees
from botnft.venues.sim.wallet import SolanaWallet

HOUR = 3_600_000_000_000
MINUTE = 60_000_000_000
T0 = 1_700_000_000 * 10**9
SOL, USDC = MINTS["SOL"], MINTS["USDC"]
POOLS = (("amm_v4", "RAYDIUM"), ("cpmm", "RAYDIUM_CPMM"), ("clmm", "RAYDIUM_CLMM"))
LAMPORTS, MICRO = 10**9, 10**6


def bars_of(*closes: float, interval: int = HOUR) -> BarBatch:
    """Continuous candles: each bar opens at the previous close and moves straight to its own close."""
    c = np.array(closes, dtype=np.float64)
    o = np.concatenate([c[:1], c[:-1]])
    hi, lo = np.maximum(o, c), np.minimum(o, c)
    return BarBatch(
        T0 + np.arange(len(c), dtype=np.int64) * interval, o, hi, lo, c, np.ones(len(c)), interval
    )


def venues(price: float = 150.0, *, book: bool = True) -> list[SimRaydium | SimOpenBook]:
    out: list[SimRaydium | SimOpenBook] = [SimRaydium(from_price(price, kind=k), name=n) for k, n in POOLS]
    if book:
        out.append(SimOpenBook())
    return out


def jupiter(
    *,
    sol: int = 100_000,
    usdc: int = 100_000_000,
    price: float = 150.0,
    book: bool = True,
    bars: BarBatch | None = None,
    **kw: Any,
) -> SimJupiter:
    """Default SOL/USDC pools (+ OpenBook) trading from one funded wallet, at a cursor on `price`."""
    wallet = SolanaWallet(("SOL", "USDC"))
    wallet.credit("SOL", sol * LAMPORTS)
    wallet.credit("USDC", usdc * MICRO)
    j = SimJupiter(venues(price, book=book), wallet=wallet, **kw)
    j.set_cursor(bars if bars is not None else bars_of(price, price), 0)
    return j


def state(j: SimJupiter) -> Any:
    """Everything a swap could change: wallet, pools, books, the aggregator's own counters."""
    parts: list[Any] = [dict(j.wallet.balances), dict(j.network_fees), j.transactions]
    for v in j.venues:
        if isinstance(v, SimRaydium):
            parts += [v.ledger(), list(v.engine.vault), v.engine.price(), len(v.swaps)]
        else:
            v.fetch_order_book()  # the book re-quotes lazily around a new reference: a market move, not ours
            led = v.ledger
            parts += [dict(led.counterparty), dict(led.fee_pool), v.book.depth(True), v.book.depth(False)]
    return parts


def is_native(s: object) -> bool:
    return isinstance(s, str) and s.isdigit() and str(int(s)) == s


# ------------------------------------------------------------------------------------------------ quote


def test_a_quote_is_shaped_like_jupiters_quote_response_with_native_amounts_as_strings() -> None:
    j = jupiter()
    q = j.quote(SOL, USDC, 123 * LAMPORTS, slippage_bps=100)
    assert set(q) == {
        "inputMint", "inAmount", "outputMint", "outAmount", "otherAmountThreshold", "swapMode",
        "slippageBps", "platformFee", "priceImpactPct", "routePlan", "contextSlot", "timeTaken",
    }  # fmt: skip
    assert (q["inputMint"], q["outputMint"], q["swapMode"], q["slippageBps"]) == (SOL, USDC, "ExactIn", 100)
    assert all(is_native(q[k]) for k in ("inAmount", "outAmount", "otherAmountThreshold"))
    assert q["inAmount"] == str(123 * LAMPORTS)
    assert int(q["otherAmountThreshold"]) == int(q["outAmount"]) * 9_900 // 10_000
    assert D(q["priceImpactPct"]) > 0 and q["platformFee"] is None
    assert isinstance(q["contextSlot"], int) and q["contextSlot"] > 250_000_000
    assert isinstance(q["timeTaken"], float)
    for step in q["routePlan"]:
        assert set(step) == {"swapInfo", "percent"} and isinstance(step["percent"], int)
        info = step["swapInfo"]
        assert set(info) == {
            "ammKey", "label", "inputMint", "outputMint", "inAmount", "outAmount", "feeAmount", "feeMint",
        }  # fmt: skip
        assert (info["inputMint"], info["outputMint"]) == (SOL, USDC)
        assert all(is_native(info[k]) for k in ("inAmount", "outAmount", "feeAmount"))
        assert info["feeMint"] in (SOL, USDC) and len(info["ammKey"]) >= 32


def test_an_exact_out_quote_caps_the_input_at_the_slippage_above_it() -> None:
    q = jupiter().quote(USDC, SOL, 5 * LAMPORTS, swap_mode="ExactOut", slippage_bps=50)
    assert q["outAmount"] == str(5 * LAMPORTS)
    assert int(q["otherAmountThreshold"]) == int(q["inAmount"]) * 10_050 // 10_000


@pytest.mark.parametrize("mode", ["ExactIn", "ExactOut"])
@pytest.mark.parametrize("sell", [True, False])
@pytest.mark.parametrize("size", [D("0.0123"), D(7), D(2_500), D(40_000)])
def test_route_plan_percents_sum_to_100_and_its_legs_sum_to_the_quoted_amounts(
    mode: str, sell: bool, size: D
) -> None:
    j = jupiter(book=size < 1000)
    if sell:
        amount = int(size * LAMPORTS) if mode == "ExactIn" else int(size * 150 * MICRO)
        q = j.quote(SOL, USDC, amount, swap_mode=mode)  # type: ignore[arg-type]
    else:
        amount = int(size * 150 * MICRO) if mode == "ExactIn" else int(size * LAMPORTS)
        q = j.quote(USDC, SOL, amount, swap_mode=mode)  # type: ignore[arg-type]
    plan = q["routePlan"]
    assert sum(s["percent"] for s in plan) == 100 and all(s["percent"] >= 1 for s in plan)
    assert sum(int(s["swapInfo"]["inAmount"]) for s in plan) == int(q["inAmount"])
    assert sum(int(s["swapInfo"]["outAmount"]) for s in plan) == int(q["outAmount"])
    assert int(q["inAmount" if mode == "ExactIn" else "outAmount"]) == amount
    assert len(plan) <= len(j.venues) and len({s["swapInfo"]["ammKey"] for s in plan}) == len(plan)


def alone(v: SimRaydium | SimOpenBook, side: Side, qty: D) -> int:
    """Quote native a venue alone pays (buy) or pays out (sell) for `qty` SOL, fees included: a pool by its
    engine's program math, a book by its own public market order on a copy of it."""
    worst = -1 if side is Side.SELL else 10**30
    if isinstance(v, SimRaydium):
        try:
            q = v.engine.quote_swap(
                int(qty * LAMPORTS), sell_base=side is Side.SELL, exact_in=side is Side.SELL
            )
        except RaydiumMathError:
            return worst
        return q.amount_out if side is Side.SELL else q.amount_in
    c = copy.deepcopy(v)
    fills = [
        e for e in c.create_order(Order("alone", c.instrument.id, side, qty, 0)) if isinstance(e, OrderFilled)
    ]
    if sum(f.qty for f in fills) != qty:
        return worst
    notional, fee = sum(f.notional for f in fills), sum(f.fee for f in fills)
    return int((notional + fee if side is Side.BUY else notional - fee) * MICRO)


@pytest.mark.parametrize("book", [True, False])
@pytest.mark.parametrize("qty", [D(10), D(100), D(1_000), D(8_000)])
def test_the_split_is_at_least_as_good_as_the_best_single_venue(book: bool, qty: D) -> None:
    j = jupiter(book=book)
    buy = j.quote(USDC, SOL, int(qty * LAMPORTS), swap_mode="ExactOut")
    sell = j.quote(SOL, USDC, int(qty * LAMPORTS))
    assert int(buy["inAmount"]) <= min(alone(v, Side.BUY, qty) for v in j.venues)
    assert int(sell["outAmount"]) >= max(alone(v, Side.SELL, qty) for v in j.venues)


def test_a_large_order_over_the_pools_is_split_and_beats_every_pool_alone() -> None:
    j = jupiter(book=False)
    qty = D(15_000)  # the CLMM's ±2 % band runs out: the AMM v4 pool takes a share
    q = j.quote(USDC, SOL, int(qty * LAMPORTS), swap_mode="ExactOut")
    assert len(q["routePlan"]) >= 2
    best = min(alone(v, Side.BUY, qty) for v in j.venues)
    assert int(q["inAmount"]) < best * (1 - D("0.01"))  # at least 100 bps better


def test_quoting_changes_nothing() -> None:
    j = jupiter()
    j.quote(USDC, SOL, 3 * LAMPORTS, swap_mode="ExactOut")
    before = state(j)
    for mode in ("ExactIn", "ExactOut"):
        j.quote(USDC, SOL, 300 * LAMPORTS, swap_mode=mode)  # type: ignore[arg-type]
        j.quote(SOL, USDC, 300 * MICRO * 150, swap_mode=mode)  # type: ignore[arg-type]
    assert state(j) == before


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((SOL, SOL, 10), "CIRCULAR_ARBITRAGE_IS_DISABLED"),
        ((SOL, "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263", 10), "TOKEN_NOT_TRADABLE"),
        ((SOL, USDC, 0), "INVALID_AMOUNT"),
        ((USDC, SOL, 10**15, "ExactOut"), "COULD_NOT_FIND_ANY_ROUTE"),
    ],
)
def test_a_quote_that_cannot_be_given_is_a_jupiter_error(args: tuple[Any, ...], code: str) -> None:
    with pytest.raises(JupiterQuoteError) as err:
        jupiter(book=False).quote(*args[:3], swap_mode=args[3] if len(args) > 3 else "ExactIn")
    assert err.value.code == code


# ------------------------------------------------------------------------------------------------- swap


@pytest.mark.parametrize("mode", ["ExactIn", "ExactOut"])
def test_a_swap_within_slippage_moves_the_wallet_by_the_quoted_amounts(mode: str) -> None:
    j = jupiter()
    before = dict(j.wallet.balances)
    q = j.quote(USDC, SOL, 4_321 * MICRO if mode == "ExactIn" else 29 * LAMPORTS, swap_mode=mode)  # type: ignore[arg-type]
    r = j.swap(q)
    assert (r["inAmount"], r["outAmount"]) == (q["inAmount"], q["outAmount"])
    w = j.wallet.balances
    assert w["SOL"] - before["SOL"] == int(q["outAmount"])
    assert before["USDC"] - w["USDC"] == int(q["inAmount"]) + 2_250
    assert j.totals() == j.initial_totals


@pytest.mark.parametrize("mode", ["ExactIn", "ExactOut"])
def test_a_swap_past_other_amount_threshold_fails_and_changes_nothing(mode: str) -> None:
    j = jupiter()
    q = j.quote(SOL, USDC, 50 * LAMPORTS if mode == "ExactIn" else 5_000 * MICRO, swap_mode=mode)  # type: ignore[arg-type]
    edge = int(q["outAmount"]) + 1 if mode == "ExactIn" else int(q["inAmount"]) - 1
    before = state(j)
    with pytest.raises(JupiterSwapError) as err:
        j.swap({**q, "otherAmountThreshold": str(edge)})
    e = err.value
    assert (e.code, e.name, e.hex, e.reason) == (6001, "SlippageToleranceExceeded", "0x1771", "slippage")
    assert state(j) == before
    j.swap(
        {**q, "otherAmountThreshold": str(edge - 1 if mode == "ExactIn" else edge + 1)}
    )  # at the edge: fills
    assert j.totals() == j.initial_totals


def test_an_exact_out_swap_delivers_exactly_the_amount_even_when_split() -> None:
    j = jupiter(book=False)
    amount = 15_234_567_890_123  # 15234.567890123 SOL, not on any lot grid
    before = j.wallet.balances["SOL"]
    q = j.quote(USDC, SOL, amount, swap_mode="ExactOut")
    assert len(q["routePlan"]) >= 2
    j.swap(q)
    assert j.wallet.balances["SOL"] - before == amount


def test_an_exact_out_usdc_amount_is_delivered_exactly_too() -> None:
    j = jupiter()
    before = j.wallet.balances["USDC"]
    j.swap(j.quote(SOL, USDC, 777_777_777, swap_mode="ExactOut"))
    assert j.wallet.balances["USDC"] - before == 777_777_777 - 2_250


def test_a_swap_the_wallet_cannot_pay_fails_with_insufficient_funds_and_changes_nothing() -> None:
    j = jupiter(sol=1, usdc=0)
    q = j.quote(SOL, USDC, 2 * LAMPORTS)
    before = state(j)
    with pytest.raises(JupiterSwapError) as err:
        j.swap(q)
    assert (err.value.code, err.value.reason) == (6024, "insufficient_funds")
    assert state(j) == before


def test_a_tampered_route_plan_is_refused() -> None:
    j = jupiter()
    q = j.quote(SOL, USDC, 2 * LAMPORTS)
    bad = {**q, "routePlan": [{**q["routePlan"][0], "percent": 50}]}
    with pytest.raises(JupiterSwapError) as err:
        j.swap(bad)
    assert err.value.code == 6010


def test_the_network_fee_is_charged_once_per_transaction_not_per_leg() -> None:
    j = jupiter(book=False, fees=SolanaFees(compute_unit_price_micro_lamports=1_000_000))
    per_tx = 5_000 + 200_000
    fee_usdc = per_tx * 150 * MICRO // LAMPORTS
    for i in range(1, 4):
        q = j.quote(USDC, SOL, 15_000 * LAMPORTS, swap_mode="ExactOut")
        assert len(q["routePlan"]) >= 2
        before = j.wallet.balances["USDC"]
        r = j.swap(q)
        assert r["networkFeeLamports"] == per_tx and int(r["networkFeeCharged"]) == fee_usdc
        assert before - j.wallet.balances["USDC"] == int(q["inAmount"]) + fee_usdc
        assert (j.transactions, j.network_fee_lamports, j.network_fees["USDC"]) == (
            i,
            i * per_tx,
            i * fee_usdc,
        )
    assert j.totals() == j.initial_totals


# ---------------------------------------------------------------------------------------------- latency


def test_latency_lets_the_price_move_along_the_bar_so_a_stale_quote_fails() -> None:
    path = bars_of(150.0, 153.0, interval=MINUTE)  # +2 % over the next minute
    slow = jupiter(bars=path, latency=LatencyModel(150))  # 150 slots x 400 ms = the whole minute
    q = slow.quote(USDC, SOL, 10 * LAMPORTS, swap_mode="ExactOut", slippage_bps=50)
    with pytest.raises(JupiterSwapError) as err:
        slow.swap(q)
    assert err.value.reason == "slippage"
    assert slow.wallet.balances == jupiter().wallet.balances  # the account did not move
    fast = jupiter(bars=path, latency=LatencyModel(1))  # 0.4 s: the price moved 1.3 bps
    r = fast.swap(fast.quote(USDC, SOL, 10 * LAMPORTS, swap_mode="ExactOut", slippage_bps=50))
    assert int(r["inAmount"]) > int(q["inAmount"]) and r["latencySlots"] == 1
    assert r["slot"] == q["contextSlot"] + 1
    assert fast.totals() == fast.initial_totals


def test_a_move_in_the_traders_favour_does_not_fail_the_swap() -> None:
    j = jupiter(bars=bars_of(150.0, 153.0, interval=MINUTE), latency=LatencyModel(150))
    q = j.quote(SOL, USDC, 10 * LAMPORTS, slippage_bps=10)
    r = j.swap(q)
    assert int(r["outAmount"]) > int(q["outAmount"])


# ------------------------------------------------------------------------------------- venue contract


def order(j: SimJupiter, side: Side, qty: str, cid: str = "C-1", **kw: Any) -> Order:
    return Order(cid, j.instrument.id, side, D(qty), T0, **kw)


def test_jupiter_speaks_the_venue_protocol() -> None:
    j = jupiter()
    assert isinstance(j, VenueClient) and isinstance(j, SimulatedVenue)
    assert InstrumentId("SOL/USDC", "JUPITER") in j.instruments()
    assert j.fetch_balance() == {"SOL": D("100000.000000000"), "USDC": D("100000000.000000")}
    assert list(j.fetch_open_orders()) == [] and list(j.cancel_order("never-sent")) == []
    bars = bars_of(150.0, 151.0, 152.0)
    assert j.next_event_index(bars, 0, 3) == 3 and list(j.process(bars, 1)) == []


def test_the_underlying_venues_trade_from_the_one_wallet() -> None:
    pool = SimRaydium(from_price(150), balances={"USDC": D(100)})
    book = SimOpenBook(balances={"USDC": D(50), "SOL": D(1)})
    j = SimJupiter([pool, book])
    assert j.fetch_balance() == {"SOL": D(1), "USDC": D(150)}
    assert pool.fetch_balance() == {"SOL": D(1), "USDC": D(150)}
    assert book.fetch_balance() == {"SOL": D(1), "USDC": D(150)}


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_a_market_order_is_one_fill_that_moves_the_wallet_by_notional_and_fee(side: Side) -> None:
    j = jupiter()
    before = j.fetch_balance()
    (f,) = j.create_order(order(j, side, "250.5"))
    assert isinstance(f, OrderFilled) and f.instrument == j.instrument.id and f.qty == D("250.5")
    assert f.quote_qty is not None and f.reference_price == D(150) and f.fee_asset == "USDC"
    after = j.fetch_balance()
    sign = 1 if side is Side.BUY else -1
    assert after["SOL"] - before["SOL"] == sign * f.qty
    assert before["USDC"] - after["USDC"] == (
        f.quote_qty + f.fee if side is Side.BUY else f.fee - f.quote_qty
    )
    assert f.fee >= D("0.00225")  # the network fee at least
    assert j.totals() == j.initial_totals


def test_a_fill_fee_is_the_legs_fees_plus_the_network_fee() -> None:
    j = jupiter(book=False)
    (f,) = j.create_order(order(j, Side.BUY, "15000"))
    assert isinstance(f, OrderFilled)
    legs = [v.swaps[-1].fee_reported for v in j.venues if isinstance(v, SimRaydium) and v.swaps]
    assert len(legs) >= 2
    assert f.fee == (D(sum(legs)) + 2_250) / MICRO


def test_a_price_guard_is_the_threshold_and_a_breach_is_a_slippage_rejection() -> None:
    j = jupiter()
    before = state(j)
    (r,) = j.create_order(
        order(j, Side.BUY, "10", order_type=OrderType.LIMIT, price=D(150), tif=TimeInForce.IOC)
    )
    assert isinstance(r, OrderRejected) and r.reason == "slippage"
    assert state(j) == before
    (f,) = j.create_order(order(j, Side.BUY, "10", cid="C-2", price=D("150.01")))
    assert isinstance(f, OrderFilled) and f.quote_qty is not None
    assert f.quote_qty + f.fee - D("0.00225") <= D("1500.1")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda j: Order("R", InstrumentId("DOGE/USDC", "NOWHERE"), Side.BUY, D(1), 0), "unknown_instrument"),
        (lambda j: order(j, Side.BUY, "0.0000000015"), "below_min_size"),
        (lambda j: order(j, Side.BUY, "1.0000000005"), "off_lot"),
        (lambda j: order(j, Side.SELL, "200000"), "insufficient_funds"),
        (lambda j: order(j, Side.BUY, "20000000"), "no_route"),
        (
            lambda j: order(j, Side.BUY, "1", order_type=OrderType.LIMIT, price=D(150)),
            "unsupported_order_type",
        ),
    ],
)
def test_a_refused_order_is_one_rejection_event_and_changes_nothing(make: Any, reason: str) -> None:
    j = jupiter()
    before = state(j)
    o = make(j)
    events = j.create_order(o)
    assert len(events) == 1 and isinstance(events[0], OrderRejected), events
    assert events[0].reason == reason and events[0].client_order_id == o.client_order_id
    assert state(j) == before


# ------------------------------------------------------------------------------------------- liquidity


def test_the_published_liquidity_is_each_venues_own_snapshot_and_one_network_fee() -> None:
    j = jupiter()
    liq = j.liquidity(j.instrument.id)
    assert isinstance(liq, PooledLiquidity) and liq.fee_bps == 0 and liq.network_fee == D("0.00225")
    assert liq.parts == tuple(v.liquidity(v.instrument.id) for v in j.venues)
    assert j.liquidity(InstrumentId("SOL/USDC", "RAYDIUM")) is None


@pytest.mark.parametrize("book", [True, False])
@pytest.mark.parametrize("qty", [D("0.5"), D(10), D(1_000), D(8_000), D(30_000)])
def test_a_quote_is_the_best_split_the_router_computes_from_the_published_parts(book: bool, qty: D) -> None:
    j = jupiter(book=book)
    liq = j.liquidity(j.instrument.id)
    assert liq is not None
    buy = j.quote(USDC, SOL, int(qty * LAMPORTS), swap_mode="ExactOut")
    sell = j.quote(SOL, USDC, int(qty * LAMPORTS))
    cost = to_source(liq, "buy").input_for("buy", float(qty))
    proceeds = to_source(liq, "sell").output("sell", float(qty))
    assert int(buy["inAmount"]) / 1e6 == pytest.approx(cost, rel=1e-6)  # 0.01 bp
    assert int(sell["outAmount"]) / 1e6 == pytest.approx(proceeds, rel=1e-6)


# ------------------------------------------------------------------------------------------------- node


@pytest.fixture(scope="module")
def sol_bars() -> BarBatch:
    return load_market_data("sol-spot-1h").bars.slice(20_000, 21_500)


def test_the_node_trades_through_jupiter_and_the_portfolio_mirrors_the_wallet(sol_bars: BarBatch) -> None:
    cash = D(10_000)
    wallet = SolanaWallet(("SOL", "USDC"))
    wallet.credit("USDC", int(cash * MICRO))
    j = SimJupiter(venues(float(sol_bars.close[0])), wallet=wallet, latency=LatencyModel(2, jitter_slots=3))
    portfolio = Portfolio({j.instrument.id: j.instrument})
    portfolio.deposit("JUPITER", "USDC", cash)
    clock = SimClock(int(sol_bars.ts_ns[0]))
    node = TradingNode(
        clock=clock,
        strategy=build_strategy("ema_cross"),
        instrument=j.instrument,
        venues={"JUPITER": j},
        portfolio=portfolio,
        sizer=CashFraction(D("0.9")),
        risk=RiskGate(RiskLimits()),
        fee_rate=D("0.003"),
    )
    record = SimulationDriver(node, clock, {"JUPITER": j}).run(sol_bars.chunks(500))
    assert len(record.fills) > 5 and not record.rejections
    assert portfolio.balance("JUPITER", "USDC") == j.fetch_balance()["USDC"]
    assert portfolio.balance("JUPITER", "SOL") == j.fetch_balance()["SOL"]
    assert j.transactions == len(record.fills)
    assert j.totals() == j.initial_totals
