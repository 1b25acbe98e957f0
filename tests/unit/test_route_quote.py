"""`bot route` at its edges: sizes below, off and beyond the venues' grids and liquidity, horizons, `--at`
outside the data, and exact decimal amounts in what it prints."""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from botnft.data import bundle
from botnft.data.loader import load_candles
from botnft.domain.errors import UserError
from botnft.route_quote import quote_route
from botnft.route_request import parse_horizon

DAY = 86_400.0
#: each spot venue's base lot (venue_builders, venues/sim; every minimum is 0.001 SOL): pools trade lamports
LOTS = {
    "RAYDIUM": Decimal("0.000000001"),
    "RAYDIUM_CPMM": Decimal("0.000000001"),
    "RAYDIUM_CLMM": Decimal("0.000000001"),
    "OPENBOOK": Decimal("0.001"),
    "CEX": Decimal("0.001"),
}
PLAIN = re.compile(r"0|[1-9]\d*(\.\d*[1-9])?|0\.\d*[1-9]")  # a decimal string with no exponent or padding


def route(amount: str, side: str = "buy", at: datetime | None = None, horizon: float = DAY) -> dict:
    return quote_route(side, Decimal(amount), "SOL", "USDC", horizon, at)


def legs(q: dict) -> list[tuple[str, Decimal]]:
    return [(leg["venue"], Decimal(leg["base"])) for leg in q["split"]["legs"]]


def assert_exact_amounts(q: dict) -> None:
    s = q["split"]
    amounts = [q["amount"], s["filled_base"], s["unfilled_base"]]
    for text in amounts + [leg[k] for leg in s["legs"] for k in ("base", "quote")]:
        assert isinstance(text, str) and PLAIN.fullmatch(text), text
    for venue, base in legs(q):
        assert base > 0 and base % LOTS[venue] == 0 and base >= Decimal("0.001"), (venue, base)
    assert sum((b for _, b in legs(q)), Decimal(0)) == Decimal(s["filled_base"])
    assert Decimal(s["filled_base"]) + Decimal(s["unfilled_base"]) == Decimal(q["amount"])
    json.dumps(q, allow_nan=False)  # strict JSON: no Infinity or NaN


@pytest.mark.parametrize("amount", ["1e-12", "0.0005", "0.000999999"])
def test_an_amount_below_every_venues_minimum_is_refused_naming_the_smallest_size(amount):
    with pytest.raises(UserError, match=r"below the smallest tradable size 0\.001 SOL"):
        route(amount)


def test_an_amount_off_every_venues_lot_grid_is_refused_not_rounded():
    with pytest.raises(UserError, match=r"off every venue's lot grid: the finest lot is 0\.000000001 SOL"):
        route("1.0000000005")


@pytest.mark.parametrize("amount", ["1e30", "1000000000.001", "1E+10"])
def test_an_amount_beyond_the_supply_of_sol_is_refused(amount):
    with pytest.raises(UserError, match=r"more than SOL's total supply \(at most 1,000,000,000 SOL\)"):
        route(amount)


@pytest.mark.parametrize("amount", ["0", "-3", "NaN", "Infinity"])
def test_a_non_positive_or_non_finite_amount_is_refused(amount):
    with pytest.raises(UserError, match="--amount must be a positive number of SOL"):
        route(amount)


@pytest.mark.parametrize(
    ("side", "base", "quote", "needle"),
    [
        ("hold", "SOL", "USDC", "--side must be buy or sell"),
        ("buy", "DOGE", "USDC", "no simulated market for DOGE"),
        ("buy", "SOL", "EUR", "--quote must be USDC or USDT"),
    ],
)
def test_an_unknown_side_base_or_quote_is_refused(side, base, quote, needle):
    with pytest.raises(UserError, match=needle):
        quote_route(side, Decimal(1), base, quote, DAY, None)


@pytest.mark.parametrize(
    ("amount", "side"),
    [("0.001", "buy"), ("0.0015", "buy"), ("1.0005", "buy"), ("1.000000001", "buy"), ("0.0015", "sell"),
     ("1.0005", "sell")],
)  # fmt: skip
def test_a_small_order_is_split_into_exactly_the_amount_asked_never_more(amount, side):
    q = route(amount, side)
    assert q["split"]["filled_base"] == amount and q["split"]["unfilled_base"] == "0"
    assert sum((b for _, b in legs(q)), Decimal(0)) == Decimal(amount)
    assert_exact_amounts(q)


def test_an_amount_on_the_pools_grid_but_not_the_books_is_filled_exactly_by_pairing_them():
    q = route("1.0005")
    # the books take whole 0.001 lots, a pool the rest (at least its 0.001 minimum): 0.999 + 0.0015 at most
    books = sum((b for v, b in legs(q) if v in ("OPENBOOK", "CEX")), Decimal(0))
    pools = sum((b for v, b in legs(q) if v.startswith("RAYDIUM")), Decimal(0))
    assert books + pools == Decimal("1.0005") and books % Decimal("0.001") == 0
    drift = next(v for v in q["venues"] if v["venue"] == "DRIFT")
    assert drift["cost_bps"] is None and "off the venue's lot grid (0.01 SOL lots)" in drift["note"]
    assert q["vehicle"]["choice"] == "spot" and q["vehicle"]["costs_bps"]["perp"] is None


def test_a_rest_no_venue_can_take_on_its_grid_is_reported_unfilled_and_the_order_not_routed_whole():
    # pools of 0.10 USD hold about 0.0006 SOL, less than their 0.001 SOL minimum: only the books' 0.001 lots
    # remain, so 1.000 is routed and 0.0005 reported, never 1.001 bought
    tiny = {k: {"tvl_usd": 0.1} for k in ("raydium", "raydium_cpmm", "raydium_clmm")}
    q = quote_route("buy", Decimal("1.0005"), "SOL", "USDC", DAY, None, tiny)
    assert (q["split"]["filled_base"], q["split"]["unfilled_base"]) == ("1", "0.0005")
    assert "0.0005 SOL is off the lot grids" in q["split"]["note"]
    assert q["vehicle"]["choice"] is None and q["vehicle"]["reason"].startswith("cannot be routed whole")
    assert_exact_amounts(q)


def test_a_sell_the_solver_leaves_short_by_less_than_a_lot_is_completed_on_a_pool():
    thin = {k: {"tvl_usd": 1000} for k in ("raydium", "raydium_cpmm", "raydium_clmm")}
    thin |= {"openbook": {"depth_scale": 0.001}, "cex": {"depth_scale": 0.001}}
    q = quote_route("sell", Decimal(3), "SOL", "USDC", DAY, None, thin)
    assert (q["split"]["filled_base"], q["split"]["unfilled_base"]) == ("3", "0")
    assert_exact_amounts(q)
    parts = sum(v for k, v in q["split"]["cost_bps"].items() if k != "total")
    assert parts == pytest.approx(q["split"]["total_bps"]) == q["split"]["cost_bps"]["total"]


def test_a_large_order_the_venues_can_fill_reports_exact_round_figures():
    q = route("20000")
    assert q["amount"] == "20000" and q["split"]["filled_base"] == "20000"
    assert q["split"]["unfilled_base"] == "0" and len(q["split"]["legs"]) >= 2
    assert_exact_amounts(q)
    for leg in q["split"]["legs"]:
        assert Decimal(leg["quote"]) == Decimal(leg["quote"]).quantize(Decimal("0.000001"))
    bps = [q["split"]["total_bps"], *q["split"]["cost_bps"].values()]
    assert all(b == round(b, 9) for b in bps)
    assert q["saving_vs_best_single_bps"] is not None


@pytest.mark.parametrize(
    ("amount", "side"), [("5000000", "buy"), ("1000000000", "buy"), ("1000000000", "sell")]
)
def test_an_order_beyond_all_liquidity_routes_what_fits_and_reports_the_exact_remainder(amount, side):
    q = route(amount, side)
    s = q["split"]
    filled, unfilled = Decimal(s["filled_base"]), Decimal(s["unfilled_base"])
    assert 0 < filled < Decimal(amount) and filled + unfilled == Decimal(amount)
    assert "fit within 1,000 bps all-in" in s["note"] and s["total_bps"] <= 1_000
    assert_exact_amounts(q)
    assert q["vehicle"]["costs_bps"]["spot"] is None  # spot cannot take it whole: no 0.00 bps
    assert q["vehicle"]["choice"] != "spot" and "spot" in q["vehicle"]["reason"]
    assert q["saving_vs_best_single_bps"] is None


def close_of_bar(opened: str) -> float:
    bars = load_candles(bundle.get("sol-perp-1h").path)
    t = int(datetime.fromisoformat(opened).replace(tzinfo=UTC).timestamp()) * 1_000_000_000
    return float(bars.close[list(bars.ts_ns).index(t)])


def test_at_prices_at_the_close_of_the_last_bar_closed_by_then():
    q = route("10", at=datetime(2025, 6, 1, 12, 30, tzinfo=UTC))
    assert q["at"] == "2025-06-01T12:00:00Z"  # the 11:00 bar closed at 12:00; the 12:00 bar closes at 13:00
    assert q["reference_price"] == close_of_bar("2025-06-01T11:00")


def test_without_at_the_quote_is_at_the_end_of_the_data_every_venue_has():
    # the perp candles end 2026-05-16T10:00 and their mark candles at 09:00, but the last 8-hourly funding
    # rate (2026-05-16T00:00) is in force only until 08:00: the last quote is the 07:00 bar's close
    q = route("10")
    assert q["at"] == "2026-05-16T08:00:00Z" and q["reference_price"] == close_of_bar("2026-05-16T07:00")


@pytest.mark.parametrize(
    "at", ["2023-06-01T00:00", "2024-01-01T00:59", "2026-05-16T08:01", "2026-05-16T11:00", "2030-01-01T00:00"]
)
def test_at_outside_the_data_is_refused_naming_the_real_range(at):
    with pytest.raises(UserError, match=r"outside the data: .* from 2024-01-01T01:00Z to 2026-05-16T08:00Z"):
        route("10", at=datetime.fromisoformat(at).replace(tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90m", 5_400), ("24h", 86_400), ("1.5d", 129_600), ("1w", 604_800), ("3600s", 3_600), (" 2D ", 172_800),
     ("365d", 31_536_000), (".5h", 1_800)],
)  # fmt: skip
def test_a_horizon_is_a_positive_number_and_a_unit(text, seconds):
    assert parse_horizon(text) == seconds


@pytest.mark.parametrize(
    "text", ["1e9d", "366d", "0h", "-1h", "24", "nan", "infh", "1e3s", "", "h", "2 d", "1y", "1,5h", "+1h"]
)
def test_any_other_horizon_is_refused_with_the_accepted_forms(text):
    with pytest.raises(
        UserError, match=r"--horizon must look like 90m, 24h, 1\.5d, 1w or 3600s .*at most 365d"
    ):
        parse_horizon(text)


SIZES = ("10", "1000", "100000")


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_each_venues_cost_never_falls_as_the_order_grows_and_the_remainder_is_reported(side):
    quotes = [route(a, side) for a in SIZES]
    for q in quotes:
        s = q["split"]
        assert Decimal(s["filled_base"]) + Decimal(s["unfilled_base"]) == Decimal(q["amount"])
        if Decimal(s["unfilled_base"]) > 0:
            assert s["note"]  # why the rest was not routed
    spot = [v["venue"] for v in quotes[0]["venues"] if v["vehicle"] == "spot"]
    for name in spot:
        rows = [next(v for v in q["venues"] if v["venue"] == name) for q in quotes]
        priced = [r for r in rows if r["total_bps"] is not None]
        # once a venue cannot take an order it cannot take a larger one either
        assert [r["total_bps"] for r in rows[: len(priced)]] == [r["total_bps"] for r in priced], name
        # the price paid per SOL (fee, impact and basis) never improves with size; only the fixed costs of a
        # transaction (network, a CEX withdrawal) weigh less on a larger order
        execution = [sum(r["cost_bps"][k] for k in ("fee", "impact", "basis")) for r in priced]
        assert execution == sorted(execution), (name, execution)
        prices = [r["avg_price"] for r in priced]
        assert prices == sorted(prices, reverse=side == "sell"), (name, prices)


def test_the_cex_row_counts_the_taker_fee_on_the_way_in_and_on_the_way_out():
    q = route("10", "buy")
    assert q["exit_included"] is True  # a horizon means the position is closed at its end
    cex = next(v for v in q["venues"] if v["venue"] == "CEX")
    # 10 bps taker, twice (of the quote paid, a hair above the reference notional)
    assert cex["cost_bps"]["fee"] == pytest.approx(2 * 10.0, abs=0.01)


@pytest.mark.parametrize(("amount", "side"), [(a, s) for a in SIZES for s in ("buy", "sell")])
def test_the_routed_split_never_costs_more_than_the_best_single_venue(amount, side):
    q = route(amount, side)
    if q["saving_vs_best_single_bps"] is None:
        return
    assert q["saving_vs_best_single_bps"] >= 0.0
    best = next(v for v in q["venues"] if v["venue"] == q["best_single_venue"])
    assert best["within_guard"] and best["total_bps"] <= 1_000


def test_a_venue_that_fills_only_beyond_the_slippage_guard_is_flagged_and_never_the_benchmark():
    q = route("100000", "sell")
    beyond = [v for v in q["venues"] if v["total_bps"] is not None and v["total_bps"] > 1_000]
    assert beyond, "a pool fills 100,000 SOL only far beyond the guard"
    for v in beyond:
        assert v["within_guard"] is False and "slippage guard" in v["note"]
    assert q["best_single_venue"] not in {v["venue"] for v in beyond}
