"""SimJupiter under random swaps, orders and price moves: every token is conserved to the native unit
across the wallet, the pools, the books and the network fees; a failed swap moves nothing of the account."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from botnft.data.bars import BarBatch
from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.orders import Order, Side
from botnft.venues.sim.jupiter import MINTS, JupiterError, SimJupiter
from botnft.venues.sim.openbook import SimOpenBook
from botnft.venues.sim.raydium import SimRaydium
from botnft.venues.sim.raydium_config import from_price
from botnft.venues.sim.solana import LatencyModel
from botnft.venues.sim.wallet import SolanaWallet

MINUTE = 60_000_000_000
T0 = 1_700_000_000 * 10**9
SOL, USDC = MINTS["SOL"], MINTS["USDC"]

swap_op = st.tuples(
    st.just("swap"),
    st.booleans(),  # sell SOL
    st.sampled_from(["ExactIn", "ExactOut"]),
    st.floats(min_value=0.001, max_value=20_000),  # size in SOL
    st.sampled_from([None, 0, 50, 10_000]),  # threshold override: None keeps the quote's, 0 = 1 past it
)
order_op = st.tuples(
    st.just("order"),
    st.booleans(),
    st.just(""),
    st.floats(min_value=0.001, max_value=5_000),
    st.sampled_from([None, 0, 50, 10_000]),
)
move_op = st.tuples(st.just("move"), st.booleans(), st.just(""), st.floats(0, 1), st.none())


@settings(max_examples=60, deadline=None)
@given(
    closes=st.lists(st.floats(min_value=120, max_value=180), min_size=8, max_size=8),
    ops=st.lists(st.one_of(swap_op, order_op, move_op), min_size=1, max_size=12),
    book=st.booleans(),
    jitter=st.integers(0, 200),
)
def test_random_swaps_conserve_every_token_to_the_native_unit(
    closes: list[float], ops: list[tuple[str, bool, str, float, int | None]], book: bool, jitter: int
) -> None:
    c = np.round(np.array(closes, dtype=np.float64), 3)
    bars = BarBatch(T0 + np.arange(len(c), dtype=np.int64) * MINUTE, c, c, c, c, np.ones(len(c)), MINUTE)
    wallet = SolanaWallet(("SOL", "USDC"))
    wallet.credit("SOL", 30_000 * 10**9)
    wallet.credit("USDC", 3_000_000 * 10**6)
    price = float(c[0])
    venues: list[SimRaydium | SimOpenBook] = [
        SimRaydium(from_price(price, kind=k), name=k.upper()) for k in ("amm_v4", "cpmm", "clmm")
    ]
    if book:
        venues.append(SimOpenBook())
    j = SimJupiter(venues, wallet=wallet, latency=LatencyModel(0, jitter_slots=jitter, seed=3))
    cursor = 0
    j.set_cursor(bars, cursor)
    for n, (kind, sell, mode, size, override) in enumerate(ops):
        before = dict(wallet.balances)
        if kind == "move":
            cursor = min(len(c) - 1, cursor + 1 + int(size * 3))
            j.set_cursor(bars, cursor)
        elif kind == "swap":
            amount = int(size * 10**9) if (sell == (mode == "ExactIn")) else int(size * price * 10**6)
            try:
                q = j.quote(SOL if sell else USDC, USDC if sell else SOL, amount, swap_mode=mode)  # type: ignore[arg-type]
                if override is not None:
                    edge = int(q["outAmount"] if mode == "ExactIn" else q["inAmount"])
                    past = edge + 1 if mode == "ExactIn" else edge - 1
                    q["otherAmountThreshold"] = str(past if override == 0 else q["otherAmountThreshold"])
                r = j.swap(q)
                # one unit past the quote fails unless latency moved the market in the trader's favour
                assert override != 0 or r["latencySlots"] > 0
            except JupiterError:
                assert wallet.balances == before
        else:
            qty = D(str(round(size, 9)))
            o = Order(f"o{n}", j.instrument.id, Side.SELL if sell else Side.BUY, qty, T0)
            (ev,) = j.create_order(o)
            if isinstance(ev, OrderRejected):
                assert wallet.balances == before
            else:
                assert isinstance(ev, OrderFilled) and ev.quote_qty is not None
                sign = -1 if sell else 1
                assert (wallet.balances["SOL"] - before["SOL"]) == sign * int(qty * 10**9)
                paid = ev.quote_qty + ev.fee if not sell else ev.fee - ev.quote_qty
                assert before["USDC"] - wallet.balances["USDC"] == int(paid * 10**6)
        assert j.totals() == j.initial_totals
        assert all(v >= 0 for v in wallet.balances.values())
