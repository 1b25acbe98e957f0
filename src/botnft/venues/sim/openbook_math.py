"""OpenBook v2 lot/native conversions and fee math, mirrored from the on-chain program.

Sources (``openbook-dex/openbook-v2``; ``/work/shared/venues.md`` section 4):

* ``programs/openbook-v2/src/state/market.rs``: ``FEES_SCALE_FACTOR``, ``lot_to_native_price``,
  ``native_price_to_lot``, ``subtract_taker_fees``, ``taker_fees_ceil``, ``maker_fees_ceil``,
  ``maker_fees_floor``, ``maker_rebate_floor``, ``max_base_lots_from_lamports``.
* ``programs/openbook-v2/src/state/orderbook/book.rs`` (``Orderbook::new_order``): a match of
  ``base_lots`` at ``price_lots`` moves ``base_lots * price_lots`` quote lots; the taker fee is
  charged once on the taker's total quote native, each maker rebate per match, and
  ``fees_accrued`` grows by ``taker_fee - rebates``.
* ``programs/openbook-v2/src/state/open_orders_account.rs`` (``execute_maker``): a positive maker
  fee is ``maker_fees_floor`` of the fill's quote native and also accrues to the market.
* ``programs/openbook-v2/src/instructions/create_market.rs``: ``taker_fee >= 0`` and a negative
  maker fee no larger in size than the taker fee (``InvalidFeesError``).

Fee rates are integers in millionths (``FEES_SCALE_FACTOR = 1_000_000``: a 1 bps taker fee is 100).
Amounts are Python ints; Rust's truncating ``/`` is reproduced with :func:`intmath.tdiv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from botnft.venues.sim.intmath import tdiv

__all__ = [
    "FEES_SCALE_FACTOR",
    "PENALTY_EVENT_HEAP",
    "FillFees",
    "OpenBookMathError",
    "base_lots_to_native",
    "fill_fees",
    "maker_fees_ceil",
    "maker_fees_floor",
    "maker_rebate",
    "maker_rebate_floor",
    "native_price_to_lots",
    "native_price_to_ui",
    "native_to_base_lots",
    "native_to_quote_lots",
    "price_lots_to_native",
    "price_lots_to_ui",
    "quote_lots_to_native",
    "quote_native_for_fill",
    "subtract_taker_fees",
    "taker_fee",
    "taker_fees_ceil",
    "ui_price_to_native",
    "ui_price_to_price_lots",
]

FEES_SCALE_FACTOR = 1_000_000
"""``state/market.rs``: "For a 1bps taker fee, set taker_fee to 100"."""
PENALTY_EVENT_HEAP = 500
"""``state/market.rs``: lamports a taker pays for each transaction that adds to the event heap."""

Price = int | Fraction | Decimal


class OpenBookMathError(ValueError):
    """The OpenBook v2 program would reject this input; ``code`` is the program's error name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def _require_lot_size(name: str, lot_size: int) -> None:
    if not isinstance(lot_size, int) or isinstance(lot_size, bool) or lot_size <= 0:
        raise OpenBookMathError("InvalidInputLots", f"{name} must be a positive int, got {lot_size!r}")


def _require_non_negative(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise OpenBookMathError("InvalidInputLots", f"{name} must be a non-negative int, got {value!r}")


# --------------------------------------------------------------------------------------------------
# Lots and native units
# --------------------------------------------------------------------------------------------------


def base_lots_to_native(base_lots: int, base_lot_size: int) -> int:
    """Base native units in ``base_lots`` lots (``book.rs``: ``base_lots * market.base_lot_size``)."""
    _require_lot_size("base_lot_size", base_lot_size)
    return base_lots * base_lot_size


def native_to_base_lots(base_native: int, base_lot_size: int) -> int:
    """Whole base lots in ``base_native`` (``Market::max_base_lots_from_lamports``, rounds down)."""
    _require_lot_size("base_lot_size", base_lot_size)
    _require_non_negative("base_native", base_native)
    return base_native // base_lot_size


def quote_lots_to_native(quote_lots: int, quote_lot_size: int) -> int:
    """Quote native units in ``quote_lots`` lots (``quote_lots * market.quote_lot_size``)."""
    _require_lot_size("quote_lot_size", quote_lot_size)
    return quote_lots * quote_lot_size


def native_to_quote_lots(quote_native: int, quote_lot_size: int) -> int:
    """Whole quote lots in ``quote_native`` (``Market::max_quote_lots_from_lamports``, rounds down)."""
    _require_lot_size("quote_lot_size", quote_lot_size)
    _require_non_negative("quote_native", quote_native)
    return quote_native // quote_lot_size


def quote_native_for_fill(base_lots: int, price_lots: int, quote_lot_size: int) -> int:
    """Quote native moved by a fill: ``base_lots * price_lots * quote_lot_size`` (``book.rs``)."""
    _require_lot_size("quote_lot_size", quote_lot_size)
    _require_non_negative("base_lots", base_lots)
    _require_non_negative("price_lots", price_lots)
    return base_lots * price_lots * quote_lot_size


def price_lots_to_native(price_lots: int, base_lot_size: int, quote_lot_size: int) -> Fraction:
    """Native price (quote native per base native) of a book price (``Market::lot_to_native_price``).

    ``price_lots * quote_lot_size / base_lot_size``, returned exactly; the program computes it in
    ``I80F48`` (48 fractional bits), which can differ from the exact value by less than 2^-48.
    """
    _require_lot_size("base_lot_size", base_lot_size)
    _require_lot_size("quote_lot_size", quote_lot_size)
    return Fraction(price_lots * quote_lot_size, base_lot_size)


def native_price_to_lots(native_price: Price, base_lot_size: int, quote_lot_size: int) -> int:
    """Book price in lots of a native price (``Market::native_price_to_lot``), rounded down.

    ``native_price * base_lot_size / quote_lot_size``; the program's ``I80F48::to_num`` floors.
    Raises ``InvalidOraclePrice`` for a negative price or one beyond ``i64``.
    """
    _require_lot_size("base_lot_size", base_lot_size)
    _require_lot_size("quote_lot_size", quote_lot_size)
    value = Fraction(native_price) * base_lot_size / quote_lot_size
    lots = value.numerator // value.denominator
    if lots < 0 or lots >= 1 << 63:
        raise OpenBookMathError("InvalidOraclePrice", f"native price {native_price} maps to {lots} lots")
    return lots


def ui_price_to_native(ui_price: Price, base_decimals: int, quote_decimals: int) -> Fraction:
    """Native price of a UI price: ``ui * 10^(quote_decimals - base_decimals)``.

    The same decimal adjustment as ``Market::oracle_price_from_a`` (``power_of_ten_float``).
    """
    return Fraction(ui_price) * Fraction(10) ** (quote_decimals - base_decimals)


def native_price_to_ui(native_price: Price, base_decimals: int, quote_decimals: int) -> Fraction:
    """UI price of a native price: ``native * 10^(base_decimals - quote_decimals)``."""
    return Fraction(native_price) * Fraction(10) ** (base_decimals - quote_decimals)


def price_lots_to_ui(
    price_lots: int, *, base_lot_size: int, quote_lot_size: int, base_decimals: int, quote_decimals: int
) -> Fraction:
    """UI price of a book price.

    ``price_lots * quote_lot_size * 10^base_decimals / (base_lot_size * 10^quote_decimals)``; one
    lot of price is the market's UI tick (``state/market.rs`` doc of ``quote_lot_size``).
    """
    native = price_lots_to_native(price_lots, base_lot_size, quote_lot_size)
    return native_price_to_ui(native, base_decimals, quote_decimals)


def ui_price_to_price_lots(
    ui_price: Price, *, base_lot_size: int, quote_lot_size: int, base_decimals: int, quote_decimals: int
) -> int:
    """Book price in lots of a UI price, rounded down like :func:`native_price_to_lots`."""
    native = ui_price_to_native(ui_price, base_decimals, quote_decimals)
    return native_price_to_lots(native, base_lot_size, quote_lot_size)


# --------------------------------------------------------------------------------------------------
# Fees (state/market.rs)
# --------------------------------------------------------------------------------------------------


def _ceil_fee_division(numerator: int) -> int:
    """``Market::ceil_fee_division``: ``(numerator + (FEES_SCALE_FACTOR - 1)) / FEES_SCALE_FACTOR``."""
    return tdiv(numerator + (FEES_SCALE_FACTOR - 1), FEES_SCALE_FACTOR)


def taker_fee(quote_native: int, taker_fee_rate: int) -> int:
    """Taker fee on ``quote_native`` (``Market::taker_fees_ceil``): ``ceil(quote * rate / 1e6)``."""
    _require_non_negative("quote_native", quote_native)
    if taker_fee_rate < 0:
        raise OpenBookMathError("InvalidFeesError", f"taker_fee must be >= 0, got {taker_fee_rate}")
    return _ceil_fee_division(quote_native * taker_fee_rate)


taker_fees_ceil = taker_fee


def maker_rebate(quote_native: int, maker_fee_rate: int) -> int:
    """Maker rebate on ``quote_native`` (``Market::maker_rebate_floor``): ``floor(quote * |rate| / 1e6)``.

    Zero when the maker fee is positive (the maker pays instead of receiving).
    """
    _require_non_negative("quote_native", quote_native)
    if maker_fee_rate > 0:
        return 0
    return quote_native * -maker_fee_rate // FEES_SCALE_FACTOR


maker_rebate_floor = maker_rebate


def maker_fees_floor(quote_native: int, maker_fee_rate: int) -> int:
    """Positive maker fee charged on a fill (``Market::maker_fees_floor``); 0 for a rebate market."""
    _require_non_negative("quote_native", quote_native)
    if maker_fee_rate <= 0:
        return 0
    return quote_native * maker_fee_rate // FEES_SCALE_FACTOR


def maker_fees_ceil(amount: int, maker_fee_rate: int) -> int:
    """Positive maker fee rounded up (``Market::maker_fees_ceil``); locked when a bid is posted."""
    if maker_fee_rate <= 0:
        return 0
    return _ceil_fee_division(amount * maker_fee_rate)


def subtract_taker_fees(quote: int, taker_fee_rate: int) -> int:
    """``Market::subtract_taker_fees``: ``quote * 1e6 / (1e6 + taker_fee)``, truncated.

    Used on a bid's ``max_quote_lots_including_fees`` to get the lots it may spend before fees.
    """
    if taker_fee_rate < 0:
        raise OpenBookMathError("InvalidFeesError", f"taker_fee must be >= 0, got {taker_fee_rate}")
    return tdiv(quote * FEES_SCALE_FACTOR, FEES_SCALE_FACTOR + taker_fee_rate)


@dataclass(frozen=True, slots=True)
class FillFees:
    """Fee flows of one taker-vs-maker match of ``quote_native`` (not a self-trade).

    ``taker_fee`` is paid by the taker (added to a bid's cost, taken from an ask's proceeds);
    ``maker_rebate`` (maker fee < 0) is paid to the maker out of the taker fee; ``maker_fee``
    (maker fee > 0) is paid by the maker. ``fees_accrued`` is what ``Market::fees_accrued`` grows by:
    ``taker_fee - maker_rebate + maker_fee``.
    """

    quote_native: int
    taker_fee: int
    maker_rebate: int
    maker_fee: int

    @property
    def fees_accrued(self) -> int:
        return self.taker_fee - self.maker_rebate + self.maker_fee

    @property
    def taker_quote_paid_if_bid(self) -> int:
        """Quote a bidding taker pays: ``quote_native + taker_fee`` (``TotalOrderFillEvent``)."""
        return self.quote_native + self.taker_fee

    @property
    def taker_quote_received_if_ask(self) -> int:
        """Quote an asking taker receives: ``quote_native - taker_fee`` (``TotalOrderFillEvent``)."""
        return self.quote_native - self.taker_fee


def fill_fees(quote_native: int, *, maker_fee_rate: int, taker_fee_rate: int) -> FillFees:
    """Taker fee, maker rebate or fee for a single match of ``quote_native``.

    Mirrors ``Orderbook::new_order`` (taker fee ceil, rebate floor) and ``execute_maker`` (positive
    maker fee floor). For several matches in one order the program charges the taker fee once on the
    summed quote and the rebates per match. Raises ``InvalidFeesError`` for fee levels that
    ``create_market`` refuses: ``taker < 0`` or ``maker < -taker``.
    """
    if taker_fee_rate < 0 or (maker_fee_rate < 0 and -maker_fee_rate > taker_fee_rate):
        raise OpenBookMathError(
            "InvalidFeesError",
            f"taker fee must be >= 0 and a negative maker fee at most the taker fee in size "
            f"(maker={maker_fee_rate}, taker={taker_fee_rate})",
        )
    return FillFees(
        quote_native=quote_native,
        taker_fee=taker_fee(quote_native, taker_fee_rate),
        maker_rebate=maker_rebate(quote_native, maker_fee_rate),
        maker_fee=maker_fees_floor(quote_native, maker_fee_rate),
    )
