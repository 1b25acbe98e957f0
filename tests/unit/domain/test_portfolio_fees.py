"""Fees booked in the asset the venue charged them in. Expected figures are worked out by hand in the
comments (a venue's ledger: what left and what arrived), never by the portfolio itself."""

from decimal import Decimal as D

import pytest

from botnft.domain.events import OrderFilled, OrderRejected
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Perp, Spot
from botnft.domain.orders import Side
from botnft.domain.portfolio import Portfolio

SOL_USDC = InstrumentId("SOL/USDC", "BINANCE")
SOL_USDT = InstrumentId("SOL/USDT", "BINANCE")
BNB_USDT = InstrumentId("BNB/USDT", "BINANCE")
JUP = InstrumentId("SOL/USDC", "JUPITER")
PERP = InstrumentId("SOL-PERP", "DRIFT")


def spot(iid: InstrumentId, base: str = "SOL", quote: str = "USDC") -> Spot:
    return Spot(iid, base, quote, D("0.00000001"), D("0.000001"), D("0.000001"))


def test_a_binance_spot_buy_pays_its_commission_in_the_bought_asset() -> None:
    pf = Portfolio({SOL_USDC: spot(SOL_USDC)})
    pf.deposit("BINANCE", "USDC", D(1000))
    pf.apply_fill(OrderFilled(1, "a", SOL_USDC, Side.BUY, D(1), D(100), D("0.001"), "SOL"))
    # 1 SOL bought for 100 USDC, 0.001 SOL of it kept by the exchange
    assert pf.balance("BINANCE", "SOL") == D("0.999")
    assert pf.balance("BINANCE", "USDC") == D(900)
    pos = pf.positions[SOL_USDC]
    assert (pos.qty, pos.avg_entry, pos.realized_pnl) == (D("0.999"), D(100), D(0))
    assert pf.fees_paid == D("0.1") and pf.fees_by_asset == {"SOL": D("0.001")}  # 0.001 SOL at 100
    # equity at 110: 900 + 0.999 * 110; the same as the PnL: -0.1 fee + 0.999 * (110 - 100)
    assert pf.equity({SOL_USDC: D(110)}) == D("1009.89") == D(1000) - D("0.1") + D("9.99")
    assert pf.exposure_in("SOL") == D("0.999")
    # selling what is held: a sell's commission is in the quote it receives (0.1 % of 109.89)
    pf.apply_fill(OrderFilled(2, "b", SOL_USDC, Side.SELL, D("0.999"), D(110), D("0.10989"), "USDC"))
    assert pf.balance("BINANCE", "SOL") == 0
    assert pf.balance("BINANCE", "USDC") == D("1009.78011")  # 900 + 109.89 - 0.10989
    assert (pos.qty, pos.avg_entry, pos.realized_pnl, pos.round_trips) == (0, 0, D("9.99"), 1)
    assert pf.fees_paid == D("0.20989")
    assert pf.fees_by_asset == {"SOL": D("0.001"), "USDC": D("0.10989")}
    assert pf.equity({SOL_USDC: D(110)}) == D("1009.78011")


def test_solana_network_fees_come_out_of_the_sol_held() -> None:
    pf = Portfolio({JUP: spot(JUP)})
    pf.deposit("JUPITER", "USDC", D(1000))
    fee = D("0.000005")  # 5,000 lamports a transaction
    pf.apply_fill(OrderFilled(1, "a", JUP, Side.BUY, D(1), D(150), fee, "SOL", quote_qty=D(150)))
    pf.apply_fill(OrderFilled(2, "b", JUP, Side.SELL, D("0.5"), D(160), fee, "SOL", quote_qty=D(80)))
    # SOL: +1 - 0.000005 - 0.5 - 0.000005 ; USDC: 1000 - 150 + 80
    assert pf.balance("JUPITER", "SOL") == D("0.49999")
    assert pf.balance("JUPITER", "USDC") == D(930)
    pos = pf.positions[JUP]
    assert pos.qty == D("0.49999") and pos.avg_entry == D(150)
    # 0.5 sold 10 above entry, and the second fee's 0.000005 SOL disposed of at 160
    assert pos.realized_pnl == D("5.00005")
    assert pf.fees_paid == D("0.00155")  # 0.000005 * 150 + 0.000005 * 160
    assert pf.equity({JUP: D(160)}) == D("1009.9984")  # 930 + 0.49999 * 160
    unrealized = pos.unrealized_pnl(D(160))
    assert pos.realized_pnl - pf.fees_paid + unrealized == D("9.9984")


def test_a_fee_in_a_third_asset_comes_out_of_that_asset_valued_at_its_last_price() -> None:
    pf = Portfolio({SOL_USDT: spot(SOL_USDT, quote="USDT"), BNB_USDT: spot(BNB_USDT, "BNB", "USDT")})
    pf.deposit("BINANCE", "USDT", D(1000))
    pf.deposit("BINANCE", "BNB", D(1))
    # before any BNB price is known the fee is kept in BNB, valued at nothing
    pf.apply_fill(OrderFilled(1, "a", SOL_USDT, Side.BUY, D(1), D(100), D("0.00075"), "BNB"))
    assert pf.fees_paid == 0 and pf.fees_by_asset == {"BNB": D("0.00075")}
    pf.apply_fill(OrderFilled(2, "b", BNB_USDT, Side.BUY, D(1), D(600), D(0), "USDT"))
    pf.apply_fill(OrderFilled(3, "c", SOL_USDT, Side.BUY, D(1), D(100), D("0.00075"), "BNB"))
    # BNB: 1 + 1 - 2 * 0.00075 ; SOL: 2 ; USDT: 1000 - 100 - 600 - 100
    assert pf.balance("BINANCE", "BNB") == D("1.9985")
    assert pf.balance("BINANCE", "SOL") == D(2)
    assert pf.balance("BINANCE", "USDT") == D(200)
    assert pf.fees_paid == D("0.45")  # the second fee at BNB's last fill price, 600
    assert pf.positions[SOL_USDT].qty == D(2) and pf.positions[SOL_USDT].fees == D("0.45")
    assert pf.positions[BNB_USDT].qty == D(1)  # a position in BNB is not where a fee goes
    assert pf.equity({SOL_USDT: D(100), BNB_USDT: D(600)}) == D(200) + D(200) + D("1199.1")


def test_stable_fee_assets_are_at_par_and_quote_fees_are_unchanged() -> None:
    pf = Portfolio({SOL_USDC: spot(SOL_USDC)})
    pf.deposit("BINANCE", "USDC", D(1000))
    pf.deposit("BINANCE", "USDT", D(10))
    pf.apply_fill(OrderFilled(1, "a", SOL_USDC, Side.BUY, D(2), D(100), D("0.2"), "USDC"))
    pf.apply_fill(OrderFilled(2, "b", SOL_USDC, Side.BUY, D(1), D(100), D("0.1"), "USDT"))
    pf.apply_fill(OrderFilled(3, "c", SOL_USDC, Side.BUY, D(1), D(100), D("0.1"), ""))  # no asset: quote
    assert pf.balance("BINANCE", "USDC") == D("599.7")  # 1000 - 400 - 0.2 - 0.1
    assert pf.balance("BINANCE", "USDT") == D("9.9")
    assert pf.balance("BINANCE", "SOL") == D(4)
    assert pf.fees_paid == D("0.4")


def test_a_failed_transaction_pays_its_sol_fee_valued_at_the_last_fill() -> None:
    pf = Portfolio({JUP: spot(JUP)})
    pf.deposit("JUPITER", "USDC", D(1000))
    pf.apply_fill(OrderFilled(1, "a", JUP, Side.BUY, D(1), D(150), D(0), "SOL", quote_qty=D(150)))
    pf.apply_rejection(OrderRejected(2, "b", JUP, "slippage", "failed", D("0.00001"), "SOL"))
    assert pf.balance("JUPITER", "SOL") == D("0.99999")
    assert pf.positions[JUP].qty == D("0.99999")
    assert pf.fees_paid == D("0.0015")  # 0.00001 SOL at 150
    assert pf.positions[JUP].fees == D("0.0015")


def test_a_perp_fee_in_its_base_asset_is_a_balance_marked_at_the_perp_price() -> None:
    pp = Perp(PERP, "SOL", "USDC", D("0.0001"), D("0.01"), D("0.01"))
    pf = Portfolio({PERP: pp})
    pf.deposit("DRIFT", "USDC", D(1000))
    pf.apply_fill(OrderFilled(1, "a", PERP, Side.BUY, D(1), D(100), D("0.001"), "SOL"))
    assert pf.balance("DRIFT", "SOL") == D("-0.001") and pf.balance("DRIFT", "USDC") == D(1000)
    assert pf.positions[PERP].qty == D(1)  # a perp's size is a contract: the fee is paid beside it
    assert pf.fees_paid == D("0.1")
    # at 110: 1000 + 10 unrealized - 0.001 * 110
    assert pf.equity({PERP: D(110)}) == D("1009.89")
    c, q = pf.linear_equity("SOL")
    assert c + q * 110.0 == pytest.approx(1009.89, abs=1e-9)
