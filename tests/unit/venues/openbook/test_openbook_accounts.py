"""OpenBook v2 accounts decode from fixture bytes laid out by hand with `struct` (tests/fixtures/openbook/
make_fixtures.py, from the program's zero-copy structs) to the documented values; the adapter's encoders give
back the same bytes (Market, OpenOrdersAccount) or the same values (BookSide, EventHeap, whose free nodes it
lays out its own way); wrong account type or length is one line."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from botnft.venues.openbook.idl import ACCOUNT_SIZES, OpenBookIdl, OpenBookLayoutError, openbook_idl
from botnft.venues.openbook.layouts import (
    BookOrder,
    FillEvent,
    OpenOrderSlot,
    OutEvent,
    decode_book_side,
    decode_event_heap,
    decode_market,
    decode_open_orders,
    encode_book_side,
    encode_event_heap,
    encode_market,
    encode_open_orders,
    node_key,
)

FIXTURES = Path(__file__).parents[3] / "fixtures" / "openbook"
sys.path.insert(0, str(FIXTURES))
import make_fixtures as fx  # noqa: E402

IDL_FILE = Path(__file__).parents[4] / "src/botnft/venues/openbook/idl/openbook_v2.json"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", sorted(fx.FIXTURES))
def test_fixture_files_are_what_the_generator_lays_out(name: str) -> None:
    assert read(name) == fx.FIXTURES[name]()


def test_vendored_idl_is_the_published_file() -> None:
    readme = (IDL_FILE.parent / "README.md").read_text()
    assert "0.2.10" in readme
    digest = hashlib.sha256(IDL_FILE.read_bytes()).hexdigest()
    assert digest == "10e8957e6dca5cf3b774a4c2135de8d4fb3d7c37b012918d338eca32ce23da2c"
    doc = json.loads(IDL_FILE.read_text())
    assert (doc["name"], doc["version"]) == ("openbook_v2", "0.1.0")


def test_discriminators_are_sha256_of_the_rust_struct_names() -> None:
    idl = openbook_idl()
    for kind, rust in [
        ("market", "Market"),
        ("bookSide", "BookSide"),
        ("eventHeap", "EventHeap"),
        ("openOrdersAccount", "OpenOrdersAccount"),
    ]:
        assert idl.account_discriminator(kind) == hashlib.sha256(f"account:{rust}".encode()).digest()[:8]
    # published constants: Anchor's Market discriminator [219, 190, 213, 55, 0, 227, 198, 154], and
    # TOTAL_ORDER_FILL_EVENT_EVENT_DISCM [8, 235, 48, 58, 174, 76, 156, 105] of a generated OpenBook v2 client
    assert list(idl.account_discriminator("market")) == [219, 190, 213, 55, 0, 227, 198, 154]
    assert list(idl.event_discriminator("TotalOrderFillEvent")) == [8, 235, 48, 58, 174, 76, 156, 105]


def test_an_idl_of_another_version_is_refused_in_one_line() -> None:
    doc = json.loads(IDL_FILE.read_text())
    doc["version"] = "0.2.0"
    with pytest.raises(OpenBookLayoutError) as e:
        OpenBookIdl(json.dumps(doc))
    assert "0.2.0" in str(e.value) and "0.1.0" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(OpenBookLayoutError, match="not JSON"):
        OpenBookIdl("{")


def test_market_decodes_to_the_documented_values_and_encodes_back() -> None:
    m = decode_market(read("market_sol_usdc.bin"))
    v = fx.MARKET
    assert (m.base_lot_size, m.quote_lot_size, m.maker_fee, m.taker_fee) == (1_000_000, 1, 1_000, 1_000)
    assert (m.base_decimals, m.quote_decimals, m.name, m.bump) == (9, 6, "SOL-USDC", 254)
    assert m.market_authority == v["market_authority"] and m.bids == v["bids"] and m.asks == v["asks"]
    assert (
        m.event_heap == v["event_heap"] and m.base_mint == v["base_mint"] and m.quote_mint == v["quote_mint"]
    )
    assert m.market_base_vault == v["market_base_vault"] and m.market_quote_vault == v["market_quote_vault"]
    assert (m.seq_num, m.fees_accrued) == (123_456, 987_654_321)
    assert (m.base_deposit_total, m.quote_deposit_total) == (5_000_000_000, 750_000_000)
    assert m.open_orders_admin is None and m.consume_events_admin is None and m.oracle_a is None
    # the encoder writes the same bytes except the fields it does not model (collect_fee_admin,
    # registration_time): patch those into the expected bytes' positions and compare the rest
    ours = encode_market(m)
    assert len(ours) == 848
    diff = [i for i in range(848) if ours[i] != read("market_sol_usdc.bin")[i]]
    assert diff and all(56 <= i < 88 or 472 <= i < 480 for i in diff), (
        diff
    )  # collect_fee_admin, registration_time
    assert decode_market(ours) == m


def test_open_orders_decode_to_the_documented_values_and_encode_back_to_the_same_bytes() -> None:
    a = decode_open_orders(read("open_orders.bin"))
    v = fx.OPEN_ORDERS
    assert (
        a.owner == v["owner"]
        and a.market == v["market"]
        and (a.account_num, a.bump, a.name) == (1, 253, "bot")
    )
    assert (a.bids_base_lots, a.asks_base_lots) == (40, 25)
    assert (a.base_free_native, a.quote_free_native, a.locked_maker_fees) == (2_000_000, 1_500_000, 60)
    assert (a.bids_quote_lots, a.maker_volume, a.taker_volume) == (6_000_000, 10**12, 3 * 10**11)
    assert a.orders == (
        OpenOrderSlot(0, (150_000 << 64) | (fx.U64 ^ 7), 42, 150_000, 0),
        OpenOrderSlot(3, (160_000 << 64) | 8, 43, 160_000, 1),
    )
    assert a.orders[0].is_bid and not a.orders[1].is_bid
    assert a.by_client_id(43) == a.orders[1] and a.by_client_id(44) is None
    assert encode_open_orders(a) == read("open_orders.bin")


@pytest.mark.parametrize("is_bids", [False, True])
def test_book_side_walks_the_tree_best_first(is_bids: bool) -> None:
    side = decode_book_side(read("book_bids.bin" if is_bids else "book_asks.bin"))
    assert side.is_bids is is_bids
    rows = fx.BIDS if is_bids else fx.ASKS
    # best first: asks by ascending price then sequence; bids by descending price then ascending sequence
    want = sorted(rows, key=lambda r: (-r[0], r[1]) if is_bids else (r[0], r[1]))
    assert [(o.price_lots, o.quantity, o.client_order_id) for o in side.orders] == [
        (p, q, c) for p, _, q, c in want
    ]
    assert all(o.owner == fx.key(12) for o in side.orders)
    levels = {}
    for p, _, q, _ in rows:
        levels[p] = levels.get(p, 0) + q
    assert side.levels() == sorted(levels.items(), reverse=is_bids)
    again = decode_book_side(encode_book_side(is_bids, side.orders))
    assert again == side


def test_node_keys_order_time_priority_on_both_sides() -> None:
    assert node_key(False, 100, 1) < node_key(False, 100, 2) < node_key(False, 101, 0)
    assert node_key(True, 100, 1) > node_key(True, 100, 2)  # earlier bid first when walking down
    assert node_key(True, 100, 0) >> 64 == 100 and node_key(True, 100, 0) & fx.U64 == fx.U64


def test_a_bigger_book_round_trips() -> None:
    owner = Pubkey.new_unique()
    orders = [
        BookOrder(node_key(False, 1_000 + (i * 7919) % 97, i), owner, i % 24, 1 + i % 5, i, i)
        for i in range(300)
    ]
    side = decode_book_side(encode_book_side(False, orders))
    assert [o.key for o in side.orders] == sorted(o.key for o in orders)


def test_event_heap_follows_the_used_list() -> None:
    seq, events = decode_event_heap(read("event_heap.bin"))
    f, o = fx.FILL, fx.OUT
    assert seq == 79
    assert events == [
        FillEvent(
            f["taker_side"],
            True,
            f["maker_slot"],
            f["timestamp"],
            f["seq_num"],
            f["maker"],
            f["maker_timestamp"],
            f["taker"],
            f["taker_client_order_id"],
            f["price"],
            f["quantity"],
            f["maker_client_order_id"],
        ),
        OutEvent(o["side"], o["owner_slot"], o["timestamp"], o["seq_num"], o["owner"], o["quantity"]),
    ]
    assert decode_event_heap(encode_event_heap(events, seq)) == (seq, events)
    assert decode_event_heap(encode_event_heap([], 5)) == (5, [])


@pytest.mark.parametrize(
    ("decoder", "name"),
    [
        (decode_market, "book_asks.bin"),
        (decode_book_side, "market_sol_usdc.bin"),
        (decode_open_orders, "event_heap.bin"),
        (decode_event_heap, "open_orders.bin"),
    ],
)
def test_the_wrong_account_type_is_one_line(decoder: object, name: str) -> None:
    with pytest.raises(OpenBookLayoutError) as e:
        decoder(read(name))  # type: ignore[operator]
    assert "expected an OpenBook" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("cut", [-1, 1])
def test_the_wrong_length_is_one_line(cut: int) -> None:
    data = read("market_sol_usdc.bin")
    data = data[:cut] if cut < 0 else data + bytes(cut)
    with pytest.raises(OpenBookLayoutError, match=f"848 bytes, got {len(data)}") as e:
        decode_market(data)
    assert "\n" not in str(e.value)
    with pytest.raises(OpenBookLayoutError, match="no OpenBook account"):
        decode_open_orders(bytes(1264))


def test_sizes_are_the_programs() -> None:
    assert ACCOUNT_SIZES == {"market": 840, "openOrdersAccount": 1256, "bookSide": 90944, "eventHeap": 91280}
    for name in fx.FIXTURES:
        assert len(read(name)) - 8 in ACCOUNT_SIZES.values()
