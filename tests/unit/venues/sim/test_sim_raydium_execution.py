"""SimRaydium on chain: the swap lands slots after the decision at the price the next bar's path reaches, a
swap that misses its limit when it lands fails and still pays its fee, a sandwich takes up to the limit with
a probability that grows with size (a Jito bundle avoids it for a tip), arbitrage waits until it pays the
pool fee, the CEX fee and a transaction; every token conserved, and the same seed gives the same run."""

from __future__ import annotations

import math
from decimal import Decimal as D
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botnft.config import load_settings
from botnft.data.bars import BarBatch
from botnft.domain.errors import UserError
from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.orders import Order, Side
from botnft.domain.portfolio import Portfolio
from botnft.venues.sim.raydium import SimRaydium, to_units
from botnft.venues.sim.raydium_config import from_price
from botnft.venues.sim.solana import (
    ArbitrageTerms,
    MevModel,
    SolanaExecution,
    SolanaFees,
    latency_price,
    path_price,
)

SECOND = 1_000_000_000
LAMPORTS = 10**9
#: 5,000 + 50,000 µlamports × 200,000 CU / 1e6 = 15,000 lamports; at $100/SOL: 1,500 micro-USDC
FEE_AT_100 = 1_500


def bars(*ohlc: tuple[float, float, float, float], interval: int = SECOND) -> BarBatch:
    a = np.array(ohlc, dtype=np.float64)
    n = len(a)
    return BarBatch(np.arange(n, dtype=np.int64) * interval, *a.T, np.ones(n), interval)


def still(**kw) -> SolanaExecution:
    """No latency, no sandwich, pools arbitraged at the pool fee only; `kw` switches parts back on."""
    base = {
        "latency_slots": 0,
        "jitter_slots": 0,
        "mev": MevModel(enabled=False),
        "arbitrage": ArbitrageTerms(0),
    }
    return SolanaExecution(**{**base, **kw})


def pool(execution: SolanaExecution, price: float = 100.0, tvl: float = 2_000_000) -> SimRaydium:
    v = SimRaydium(from_price(price, tvl), execution=execution)
    v.account[0], v.account[1] = 10_000 * LAMPORTS, 10_000_000 * 10**6
    v.initial_totals = v.totals()
    return v


def buy(v: SimRaydium, qty: str, guard: str | None = None, cid: str = "b"):
    price = None if guard is None else D(guard)
    return list(v.create_order(Order(cid, v.instrument.id, Side.BUY, D(qty), 0, price=price)))


# --- the path -----------------------------------------------------------------------------------------


def test_the_price_walks_open_low_high_close_on_a_rising_bar_at_constant_speed():
    b = bars((100.0, 103.0, 99.0, 102.0))  # path 100 → 99 → 103 → 102: legs 1, 4, 1 (total 6)
    assert path_price(b, 0, 0) == 100.0
    assert path_price(b, 0, SECOND // 6) == pytest.approx(99.0)  # a sixth of the bar: the low
    assert path_price(b, 0, SECOND // 2) == pytest.approx(101.0)  # half: 3 of 6 walked, 2 up from the low
    assert path_price(b, 0, 2 * SECOND) == 102.0


def test_a_falling_bar_visits_its_high_first():
    b = bars((100.0, 101.0, 96.0, 97.0))  # 100 → 101 → 96 → 97: legs 1, 5, 1
    assert path_price(b, 0, SECOND // 7) == pytest.approx(101.0)


# --- latency and failed transactions --------------------------------------------------------------------


class Draw:
    """A stand-in for the venue's seeded normal draws: always `z`."""

    def __init__(self, z: float) -> None:
        self.z = z

    def gauss(self, mu: float, sigma: float) -> float:
        return mu + sigma * self.z


VOLATILE = bars((100.0, 110.0, 100.0, 100.0))  # the decision bar ranged 10 %, closed at 100


def test_the_landing_price_is_the_close_moved_by_the_decision_bars_own_volatility_over_the_wait():
    sigma_bar = math.log(1.10) / (2 * math.sqrt(math.log(2)))  # Parkinson, per bar
    assert latency_price(VOLATILE, 0, SECOND, 1.0) == pytest.approx(100.0 * math.exp(sigma_bar))
    quarter = latency_price(VOLATILE, 0, SECOND // 4, -2.0)  # a quarter bar: half the bar's sigma
    assert quarter == pytest.approx(100.0 * math.exp(-2.0 * sigma_bar * 0.5))
    assert latency_price(VOLATILE, 0, 0, 3.0) == 100.0


def landing(z: float, **kw) -> SimRaydium:
    v = pool(still(latency_slots=2, **kw))
    v.set_cursor(VOLATILE, 0)
    v._move_rng = Draw(z)  # type: ignore[assignment]
    return v


def test_a_swap_lands_where_the_price_has_gone_while_it_waited():
    up = latency_price(VOLATILE, 0, 2 * 400_000_000, 2.0)  # 2 slots of a 1 s bar, a 2-sigma rise
    fill = buy(landing(2.0), "1")[0]
    assert isinstance(fill, OrderFilled) and fill.reference_price == D("100")
    # arbitrageurs first brought the pool up to the edge of its fee band below that price (25 bps)
    assert float(fill.price) >= up * 0.9975 and up > 103.0


def test_a_swap_whose_pool_did_not_move_while_it_waited_is_not_quoted_again():
    """A landing move inside the pool's fee band leaves the pool as it was: the fill is the one of a swap
    landing at once, from the preflight's quote (one quote, not two); a move outside it re-quotes."""
    quotes = []

    def counted(v: SimRaydium) -> SimRaydium:
        quote = v.engine.quote_swap

        def count(*a, **k):
            if a[0] == 10**9:  # the account's 1 SOL, not the arbitrageurs' swaps
                quotes.append(a)
            return quote(*a, **k)

        v.engine.quote_swap = count  # type: ignore[method-assign]
        return v

    at_once = pool(still())
    at_once.set_cursor(VOLATILE, 0)
    want = buy(at_once, "1")[0]
    v = counted(landing(0.01))  # a 0.01-sigma move: about 0.2 bps, well inside the 25 bps band
    state = v.engine.reserves()
    got = buy(v, "1")[0]
    assert isinstance(got, OrderFilled) and got == want
    assert v.landed == 1 and v.arbitrages == 0 and len(quotes) == 1
    assert v.engine.reserves() != state  # (the swap itself moved it)
    quotes.clear()
    moved = counted(landing(2.0))
    assert isinstance(buy(moved, "1")[0], OrderFilled)
    assert moved.arbitrages == 1 and len(quotes) == 2


def test_a_swap_that_misses_its_limit_when_it_lands_fails_and_still_pays_its_fee():
    v = landing(2.0)
    usdc = v.account[1]
    ev = buy(v, "1", guard="101")[0]  # fine at the decision (the preflight passes), 3 % off when it lands
    assert isinstance(ev, OrderRejected) and ev.reason == "slippage"
    assert (v.failed, v.failed_fees) == (1, FEE_AT_100)
    assert v.account[1] == usdc - FEE_AT_100 and v.validators[1] == FEE_AT_100
    assert v.totals() == v.initial_totals
    assert (ev.fee, ev.fee_asset) == (D(FEE_AT_100).scaleb(-6), "USDC")  # the refusal says what it cost


def test_the_portfolio_books_the_fee_a_failed_swap_paid_and_still_mirrors_the_wallet():
    v = landing(2.0)
    pf = Portfolio({v.instrument.id: v.instrument})
    pf.deposit(v.instrument.id.venue, "USDC", to_units(v.account[1], v.tokens[1]))
    pf.deposit(v.instrument.id.venue, "SOL", to_units(v.account[0], v.tokens[0]))
    ev = buy(v, "1", guard="101")[0]
    pf.apply_rejection(ev)
    assert pf.balance(v.instrument.id.venue, "USDC") == to_units(v.account[1], v.tokens[1])
    assert pf.fees_paid == D("0.0015")
    refused = buy(landing(2.0), "1", guard="99")[0]  # refused at the decision: nothing sent, nothing paid
    assert isinstance(refused, OrderRejected) and refused.fee == 0


def test_a_swap_refused_by_the_preflight_pays_nothing():
    v = landing(2.0)
    usdc = v.account[1]
    ev = buy(v, "1", guard="99")[0]  # below the pool's price already at the decision
    assert isinstance(ev, OrderRejected) and ev.reason == "slippage"
    assert v.account[1] == usdc and v.failed == 0


def test_a_failing_jito_bundle_never_lands_and_pays_nothing():
    v = landing(2.0, mev=MevModel(jito_tip_lamports=10_000))
    usdc = v.account[1]
    assert isinstance(buy(v, "1", guard="101")[0], OrderRejected)
    assert v.failed == 1 and v.account[1] == usdc


# --- sandwiches ------------------------------------------------------------------------------------------


def always() -> MevModel:
    return MevModel(max_probability=1.0, half_ratio=1e-12)


def test_a_sandwiched_buy_pays_exactly_its_limit_and_the_attacker_keeps_the_difference():
    ref = pool(still(), tvl=20_000)  # $10k of depth a side: a $1k order is worth attacking
    ref.set_cursor(bars((100.0,) * 4), 0)
    honest = buy(ref, "10")[0]
    v = pool(still(mev=always()), tvl=20_000)
    v.set_cursor(bars((100.0,) * 4), 0)
    fill = buy(v, "10", guard="115")[0]  # 10 SOL move this small pool ~11 %; the limit allows 15 %
    assert isinstance(fill, OrderFilled) and isinstance(honest, OrderFilled)
    limit = math.floor(Fraction(115) * 10 * 10**6)  # the most 10 SOL may cost at 115: 1,150 USDC
    paid = (fill.quote_qty + fill.fee).scaleb(6) - FEE_AT_100  # what the swap took, without the network fee
    assert paid == limit
    honest_paid = (honest.quote_qty + honest.fee).scaleb(6) - FEE_AT_100
    assert v.sandwichers[1] == limit - honest_paid > 0 and v.sandwiches == 1
    assert v.totals() == v.initial_totals


def test_a_small_order_on_a_deep_pool_is_not_worth_the_attackers_pool_fees():
    v = pool(still(mev=always()))  # $1M a side: moving it 1 % and back costs more than 1 % of $1k
    v.set_cursor(bars((100.0,) * 4), 0)
    assert isinstance(buy(v, "10", guard="101")[0], OrderFilled) and v.sandwiches == 0


def test_an_unguarded_swap_gives_away_the_default_tolerance():
    v = pool(still(mev=always()), tvl=20_000)
    v.set_cursor(bars((100.0,) * 4), 0)
    fill = buy(v, "10")[0]
    assert isinstance(fill, OrderFilled)
    swap_in = -v.swaps[0].quote_delta - v.sandwichers[1]
    assert v.sandwichers[1] == math.floor(Fraction(swap_in) * Fraction(50, 10_000))  # 50 bps


def test_a_jito_bundle_is_not_sandwiched_and_pays_its_tip():
    v = pool(still(mev=MevModel(max_probability=1.0, half_ratio=1e-12, jito_tip_lamports=10_000)), tvl=20_000)
    v.set_cursor(bars((100.0,) * 4), 0)
    fill = buy(v, "10", guard="115")[0]
    assert isinstance(fill, OrderFilled) and v.sandwiches == 0
    assert v.validators[1] == FEE_AT_100 + 1_000  # 15,000 + 10,000 lamports at $100


def test_the_chance_of_a_sandwich_grows_with_the_orders_share_of_the_pool():
    m = MevModel(max_probability=0.2, half_ratio=0.01)
    assert m.probability(0.0) == 0.0
    assert m.probability(0.01) == pytest.approx(0.1)  # half the maximum at the half ratio
    ps = [m.probability(r) for r in (1e-5, 1e-3, 1e-2, 1e-1, 1.0)]
    assert ps == sorted(ps) and ps[-1] < 0.2
    assert MevModel(enabled=False).probability(1.0) == 0.0


# --- arbitrage -------------------------------------------------------------------------------------------


def test_arbitrage_waits_until_the_gap_pays_the_pool_fee_the_cex_fee_and_a_transaction():
    b = bars((100.0,) * 4, (100.3,) * 4, (101.0,) * 4)
    cheap = pool(still())  # pool fee only: 25 bps
    costly = pool(still(arbitrage=ArbitrageTerms(cex_fee_bps=10.0)))
    for v in (cheap, costly):
        v.set_cursor(b, 0)
        v.set_cursor(b, 1)  # 30 bps away: beyond 25 bps, inside 25 + 10
    assert cheap.arbitrages == 1 and costly.arbitrages == 0
    costly.set_cursor(b, 2)  # 100 bps away: worth it
    assert costly.arbitrages == 1
    gamma = Fraction(9975, 10_000) * Fraction(9990, 10_000)  # the pool's and the CEX's fee shares
    assert float(costly.marginal_price()) == pytest.approx(101.0 * float(gamma), rel=1e-6)


# --- determinism and conservation -------------------------------------------------------------------------

ON = SolanaExecution(latency_slots=1, jitter_slots=3, mev=MevModel(max_probability=0.5, half_ratio=1e-4))
op = st.one_of(
    st.tuples(
        st.sampled_from(["buy", "sell"]), st.integers(1_000_000, 3_000 * LAMPORTS), st.integers(0, 300)
    ),
    st.tuples(st.just("bar"), st.integers(0, 6), st.just(0)),
)
PATH = bars(*[(100.0 + d, 102.0 + d, 98.0 + d, 101.0 + d) for d in (0, 1, -2, 3, -4, 2, 0, 5)])


def run(v: SimRaydium, ops: list[tuple[str, int, int]]) -> list:
    out = []
    v.set_cursor(PATH, 0)
    for n, (kind, x, slip_bps) in enumerate(ops):
        if kind == "bar":
            v.set_cursor(PATH, x)
            continue
        side = Side.BUY if kind == "buy" else Side.SELL
        ref = float(v.reference)
        guard = D(repr(round(ref * (1 + (slip_bps if side is Side.BUY else -slip_bps) / 1e4), 6)))
        out += v.create_order(Order(f"o{n}", v.instrument.id, side, to_units(x, v.tokens[0]), n, price=guard))
        assert v.totals() == v.initial_totals
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_every_token_is_conserved_with_latency_failures_and_sandwiches_on(ops):
    v = pool(ON)
    events = run(v, ops)
    fills = [e for e in events if isinstance(e, OrderFilled)]
    # the account moved by exactly what its fills say, less the fees of the transactions that failed
    moved = sum((f.quote_qty - f.fee if f.side is Side.SELL else -(f.quote_qty + f.fee) for f in fills), D(0))
    assert v.account[1] == 10_000_000 * 10**6 + int(moved.scaleb(6)) - v.failed_fees


def test_the_same_seed_gives_the_same_run_bit_for_bit_and_another_seed_another():
    ops = [("buy", 50 * LAMPORTS, 150), ("sell", 80 * LAMPORTS, 150), ("bar", 3, 0)] * 8
    a, b = run(pool(ON), ops), run(pool(ON), ops)
    assert a == b and sum(isinstance(e, OrderFilled) for e in a) >= 8
    other = SolanaExecution(latency_slots=1, jitter_slots=3, mev=ON.mev, seed=7)
    assert run(pool(other), ops) != a


# --- settings ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("latency_slots = 151", "liquidity.solana.latency_slots"),
        ("jitter_slots = -1", "liquidity.solana.jitter_slots"),
        ("sandwich_max_probability = 1.5", "liquidity.solana.sandwich_max_probability"),
        ("compute_units = 2000000", "liquidity.solana.compute_units"),
        ("jito_tip_lamports = -5", "liquidity.solana.jito_tip_lamports"),
        ("arbitrage_cex_fee_bps = nan", "liquidity.solana.arbitrage_cex_fee_bps"),
        ("slots = 3", "liquidity.solana.slots"),
    ],
)
def test_an_out_of_range_solana_setting_is_one_line_naming_the_field(tmp_path, monkeypatch, line, field):
    cfg = tmp_path / "bot.toml"
    cfg.write_text(f"[liquidity.solana]\n{line}\n")
    monkeypatch.setenv("BOT_CONFIG", str(cfg))
    with pytest.raises(UserError) as err:
        load_settings()
    msg = str(err.value)
    assert field in msg and "\n" not in msg


def test_the_one_solana_fee_is_what_the_pools_charge():
    s = load_settings().liquidity.solana
    fees = SolanaFees(s.base_fee_lamports, 1, s.compute_unit_price_micro_lamports, s.compute_units)
    assert fees == SolanaExecution().fees and fees.lamports() == 15_000


def test_the_network_fee_follows_the_execution_it_is_converted_from():
    """The fee's conversion is kept per reference and (frozen) execution: another execution with
    another fee converts again, the same fee from another execution gives the same amount."""
    v = pool(still())
    v.set_cursor(VOLATILE, 0)
    assert v._network_native() == FEE_AT_100 and v._network_native() == FEE_AT_100
    v.execution = still(fees=SolanaFees(compute_unit_price_micro_lamports=0))  # 5,000 lamports only
    assert v._network_native() == 500
    v.execution = still(fees=SolanaFees(compute_unit_price_micro_lamports=0), seed=3)
    assert v._network_native() == 500
    v.execution = still()
    assert v._network_native() == FEE_AT_100
