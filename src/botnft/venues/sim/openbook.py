"""`SimOpenBook`: the order-book venue in OpenBook v2's native units and integer fee math.

Prices are in price lots and sizes in base lots (``base_lot_size`` / ``quote_lot_size`` native units per
lot, both powers of ten); balances are native integers (SOL 9 decimals, USDC 6), so every fill's Decimal
qty, price and fee are native integers / 10**decimals exactly. Fees are in millionths
(``FEES_SCALE_FACTOR``) through `openbook_math`, as ``state/orderbook/book.rs::Orderbook::new_order``
(read @ 001fd69f) and ``state/open_orders_account.rs::execute_maker`` charge them (openbook-dex/openbook-v2):

* the taker fee is ``taker_fees_ceil`` of the order's whole non-self-trade quote, once per order; this
  venue reports it split over the per-level fills as differences of the ceiled running total, so the
  fills add up to the program's single fee exactly;
* a maker rebate (negative ``maker_fee``) is ``maker_rebate_floor`` per match, a positive maker fee
  ``maker_fees_floor`` per fill and ``maker_fees_ceil`` locked when a bid rests;
* self-trades follow ``SelfTradeBehavior::DecrementTake``, the program's ``#[default]``
  (``state/orderbook/order_type.rs``): the match happens, its quote is left out of the taker fee
  (``decremented_quote_lots``) and ``execute_maker`` pays no maker fee or rebate on it (``is_self_trade``);
  ``CancelProvide`` is `SelfTradeMode.CANCEL_MAKER`, ``AbortTransaction`` (``WouldSelfTrade``)
  `SelfTradeMode.ABORT`; ``tests/cases/test_self_trade.rs`` (@ 163d9604) is mirrored in the tests.

Differences from the chain, on purpose: the makers are credited at once (the sim cranks every fill event
immediately); a post-only order that would cross is reported as ``OrderRejected("post_only_would_cross")``
where the program silently skips posting; a fill-or-kill that cannot fill is ``OrderCanceled
("fok_unfillable")`` where the program aborts the transaction with ``WouldExecutePartially``; a bid's
quote budget is the exact amount it needs (the order is refused with "insufficient_funds" rather than
partly filled when the account cannot pay); a cancelled bid frees all of its locked maker fee.
Defaults: fees 0 / 0 (``venues.md`` §4: "mainnet markets commonly use 0 / 0"); 0.001 SOL lots and a
0.000001 USDC tick (``base_lot_size`` 1,000,000, ``quote_lot_size`` 1). The SOL/USDC market the bot routes to
(``CFSMrBssNG8Ud1edW59jNLnq2cwrQ9uY5cM3wXmqRJj3``) is built with `SOL_USDC_FEES` by `venue_builders`: its
``create_market`` terms as a public OpenBook v2 client test reproduces them ("imitates wsol/usdc market
CFSMrBss…": ``base_lot_size 1_000_000, quote_lot_size 1, maker_fee 1000, taker_fee 1000``), i.e. 10 bps
taker and 10 bps maker; not read from the live account: configure ``[liquidity.openbook]`` to change them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from botnft.domain.errors import UserError
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Spot
from botnft.venues.sim.book_market import DepthProfile
from botnft.venues.sim.book_replay import BookVenue
from botnft.venues.sim.clob import SelfTradeMode
from botnft.venues.sim.openbook_math import (
    OpenBookMathError,
    fill_fees,
    maker_fees_ceil,
    maker_fees_floor,
    maker_rebate_floor,
    taker_fees_ceil,
)
from botnft.venues.sim.solana import SolanaExecution, SolanaFees
from botnft.venues.sim.wallet import SolanaWallet

__all__ = ["MAX_OPEN_ORDERS", "SOL_USDC_FEES", "OpenBookFees", "SimOpenBook"]

MAX_OPEN_ORDERS = 24
"""``state/open_orders_account.rs``: orders one OpenOrdersAccount can hold (``OpenOrdersFull`` beyond)."""


@dataclass(frozen=True, slots=True)
class OpenBookFees:
    """A market's ``taker_fee`` and ``maker_fee`` in millionths (100 = 1 bps; negative maker = rebate)."""

    taker_rate: int = 0
    maker_rate: int = 0

    def __post_init__(self) -> None:
        try:
            fill_fees(0, maker_fee_rate=self.maker_rate, taker_fee_rate=self.taker_rate)
        except OpenBookMathError as exc:
            raise UserError(f"OpenBook fee levels refused by create_market: {exc}") from None

    def taker_fees(self, quotes: Sequence[int]) -> list[int]:
        """One ``taker_fees_ceil`` on the summed quote, allocated to the fills as ceiled running totals."""
        out: list[int] = []
        running = charged = 0
        for q in quotes:
            running += q
            total = taker_fees_ceil(running, self.taker_rate)
            out.append(total - charged)
            charged = total
        return out

    def maker_fee(self, quote: int) -> int:
        return maker_fees_floor(quote, self.maker_rate) - maker_rebate_floor(quote, self.maker_rate)

    def bid_lock(self, quote: int) -> int:
        return maker_fees_ceil(quote, self.maker_rate)


SOL_USDC_FEES = OpenBookFees(taker_rate=1_000, maker_rate=1_000)
"""OpenBook v2 SOL/USDC's fee terms in millionths (10 bps taker, 10 bps maker; module docstring)."""


def _power_of_ten(n: int, what: str) -> None:
    if n <= 0 or 10 ** (len(str(n)) - 1) != n:
        raise UserError(f"{what} must be a power of ten, got {n}")


class SimOpenBook(BookVenue):
    """OpenBook v2 SOL/USDC (by default) as a simulated venue named "OPENBOOK"."""

    def __init__(
        self,
        *,
        base: str = "SOL",
        quote: str = "USDC",
        base_decimals: int = 9,
        quote_decimals: int = 6,
        base_lot_size: int = 1_000_000,
        quote_lot_size: int = 1,
        taker_fee: int = 0,
        maker_fee: int = 0,
        profile: DepthProfile | None = None,
        balances: Mapping[str, Decimal] | None = None,
        self_trade: SelfTradeMode = SelfTradeMode.DECREMENT_TAKE,
        seed: int = 0,
        max_open_orders: int = MAX_OPEN_ORDERS,
        name: str = "OPENBOOK",
        solana_fees: SolanaFees | None = None,
        wallet: SolanaWallet | None = None,
        execution: SolanaExecution | None = None,
    ) -> None:
        """`solana_fees`: the network fee of each order transaction that takes liquidity (None: free, the
        math-only tests); `wallet`: a shared Solana wallet the account trades from; `execution`: the
        latency its orders land after (and the fee, replacing `solana_fees`)."""
        _power_of_ten(base_lot_size, "base_lot_size")
        _power_of_ten(quote_lot_size, "quote_lot_size")
        tick = Fraction(quote_lot_size * 10**base_decimals, base_lot_size * 10**quote_decimals)
        lot = Decimal(base_lot_size).scaleb(-base_decimals)
        instrument = Spot(
            InstrumentId(f"{base}/{quote}", name),
            base,
            quote,
            tick_size=Decimal(tick.numerator) / Decimal(tick.denominator),
            lot_size=lot,
            min_size=lot,
        )
        super().__init__(
            instrument,
            name=name,
            fees=OpenBookFees(taker_fee, maker_fee),
            profile=profile if profile is not None else DepthProfile(),
            balances=balances,
            base_decimals=base_decimals,
            quote_decimals=quote_decimals,
            self_trade=self_trade,
            seed=seed,
            max_open_orders=max_open_orders,
            solana_fees=solana_fees,
            wallet=wallet,
            execution=execution,
        )
        self.base_lot_size = base_lot_size
        self.quote_lot_size = quote_lot_size

    def native_balances(self) -> dict[str, int]:
        """Total balances in native units (lamports, micro-USDC)."""
        return dict(self.ledger.account)

    @property
    def fees_accrued(self) -> int:
        """Quote native the market keeps: taker fees less maker rebates plus maker fees (``fees_accrued``)."""
        return self.ledger.fee_pool[self.instrument.quote]
