"""Every OpenBook v2 instruction the adapter sends is built and decoded back field by field: its data is the
Anchor sighash (sha256 of ``global:<snake name>``) plus the borsh args packed here with `struct`, its
accounts are the program's ``Accounts`` struct in order with their signer/writable flags, optional accounts
absent are the program id; the PDAs are the program's seeds."""

from __future__ import annotations

import hashlib
import struct

import pytest
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM
from spl.token.constants import TOKEN_PROGRAM_ID

from botnft.venues.openbook import instructions as ix
from botnft.venues.openbook.idl import OpenBookLayoutError, openbook_idl, variant
from botnft.venues.openbook.layouts import Market

PROGRAM = Pubkey.from_string("opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb")
OWNER, OO, MARKET_KEY = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
M = Market(
    name="SOL-USDC",
    base_decimals=9,
    quote_decimals=6,
    market_authority=Pubkey.new_unique(),
    bids=Pubkey.new_unique(),
    asks=Pubkey.new_unique(),
    event_heap=Pubkey.new_unique(),
    base_mint=Pubkey.new_unique(),
    quote_mint=Pubkey.new_unique(),
    market_base_vault=Pubkey.new_unique(),
    market_quote_vault=Pubkey.new_unique(),
    base_lot_size=1_000_000,
    quote_lot_size=1,
    maker_fee=0,
    taker_fee=0,
)


def sighash(snake: str) -> bytes:
    return hashlib.sha256(f"global:{snake}".encode()).digest()[:8]


def metas(i: object) -> list[tuple[Pubkey, bool, bool]]:
    return [(a.pubkey, a.is_signer, a.is_writable) for a in i.accounts]  # type: ignore[attr-defined]


def test_program_id_and_pdas() -> None:
    assert ix.OPENBOOK_PROGRAM == PROGRAM
    assert (
        ix.open_orders_indexer(OWNER)
        == Pubkey.find_program_address([b"OpenOrdersIndexer", bytes(OWNER)], PROGRAM)[0]
    )
    assert (
        ix.open_orders_address(OWNER, 3)
        == Pubkey.find_program_address([b"OpenOrders", bytes(OWNER), b"\x03\x00\x00\x00"], PROGRAM)[0]
    )
    assert (
        ix.market_authority(MARKET_KEY)
        == Pubkey.find_program_address([b"Market", bytes(MARKET_KEY)], PROGRAM)[0]
    )


@pytest.mark.parametrize(
    ("side", "kind", "stb"),
    [
        ("Bid", "Limit", "DecrementTake"),
        ("Ask", "PostOnly", "CancelProvide"),
        ("Bid", "Market", "AbortTransaction"),
        ("Ask", "ImmediateOrCancel", "DecrementTake"),
        ("Bid", "FillOrKill", "DecrementTake"),
    ],
)
def test_place_order(side: str, kind: str, stb: str) -> None:
    user = Pubkey.new_unique()
    order = ix.PlaceOrder(side, 150_000, 500, 76_000_000, (1 << 64) - 2, kind, 0, stb, 10)
    built = ix.place_order(
        order, owner=OWNER, open_orders=OO, market_key=MARKET_KEY, market=M, user_token_account=user
    )
    kinds = ["Limit", "ImmediateOrCancel", "PostOnly", "Market", "PostOnlySlide", "FillOrKill"]
    stbs = ["DecrementTake", "CancelProvide", "AbortTransaction"]
    want = sighash("place_order") + struct.pack(
        "<BqqqQBQBB",
        ["Bid", "Ask"].index(side),
        150_000,
        500,
        76_000_000,
        (1 << 64) - 2,
        kinds.index(kind),
        0,
        stbs.index(stb),
        10,
    )
    assert built.program_id == PROGRAM and bytes(built.data) == want
    vault = M.market_quote_vault if side == "Bid" else M.market_base_vault
    assert metas(built) == [
        (OWNER, True, False),
        (OO, False, True),
        (PROGRAM, False, False),
        (user, False, True),
        (MARKET_KEY, False, True),
        (M.bids, False, True),
        (M.asks, False, True),
        (M.event_heap, False, True),
        (vault, False, True),
        (PROGRAM, False, False),
        (PROGRAM, False, False),
        (TOKEN_PROGRAM_ID, False, False),
    ]
    name, args, named, rest = ix.decode_instruction(bytes(built.data), [a.pubkey for a in built.accounts])
    a = args.args
    assert name == "placeOrder" and rest == []
    assert (variant(a.side), a.price_lots, a.max_base_lots, a.max_quote_lots_including_fees) == (
        side,
        150_000,
        500,
        76_000_000,
    )
    assert (a.client_order_id, variant(a.order_type), a.expiry_timestamp) == ((1 << 64) - 2, kind, 0)
    assert (variant(a.self_trade_behavior), a.limit) == (stb, 10)
    assert (
        named["userTokenAccount"] == user
        and named["marketVault"] == vault
        and named["openOrdersAccount"] == OO
    )


def test_cancels() -> None:
    oid = (150_000 << 64) | ((1 << 64) - 8)
    c = ix.cancel_order(oid, owner=OWNER, open_orders=OO, market_key=MARKET_KEY, market=M)
    assert bytes(c.data) == sighash("cancel_order") + oid.to_bytes(16, "little")
    want = [
        (OWNER, True, False),
        (OO, False, True),
        (MARKET_KEY, False, False),
        (M.bids, False, True),
        (M.asks, False, True),
    ]
    assert metas(c) == want
    assert ix.decode_instruction(bytes(c.data), [a.pubkey for a in c.accounts])[1].order_id == oid
    b = ix.cancel_order_by_client_order_id(77, owner=OWNER, open_orders=OO, market_key=MARKET_KEY, market=M)
    assert bytes(b.data) == sighash("cancel_order_by_client_order_id") + struct.pack("<Q", 77)
    assert metas(b) == want
    name, args, _, _ = ix.decode_instruction(bytes(b.data), [a.pubkey for a in b.accounts])
    assert (name, args.client_order_id) == ("cancelOrderByClientOrderId", 77)


def test_settle_funds() -> None:
    ub, uq = Pubkey.new_unique(), Pubkey.new_unique()
    s = ix.settle_funds(
        owner=OWNER, open_orders=OO, market_key=MARKET_KEY, market=M, user_base=ub, user_quote=uq
    )
    assert bytes(s.data) == sighash("settle_funds")
    assert metas(s) == [
        (OWNER, True, True),
        (OWNER, True, True),
        (OO, False, True),
        (MARKET_KEY, False, True),
        (M.market_authority, False, False),
        (M.market_base_vault, False, True),
        (M.market_quote_vault, False, True),
        (ub, False, True),
        (uq, False, True),
        (PROGRAM, False, False),
        (TOKEN_PROGRAM_ID, False, False),
        (SYSTEM, False, False),
    ]
    assert ix.decode_instruction(bytes(s.data), [a.pubkey for a in s.accounts])[0] == "settleFunds"


def test_consume_events_names_each_maker_once() -> None:
    a, b = Pubkey.new_unique(), Pubkey.new_unique()
    c = ix.consume_events(8, [a, b, a], market_key=MARKET_KEY, market=M)
    assert bytes(c.data) == sighash("consume_events") + struct.pack("<Q", 8)
    assert metas(c) == [
        (PROGRAM, False, False),
        (MARKET_KEY, False, True),
        (M.event_heap, False, True),
        (a, False, True),
        (b, False, True),
    ]
    name, args, _named, rest = ix.decode_instruction(bytes(c.data), [m.pubkey for m in c.accounts])
    assert (name, args.limit, rest) == ("consumeEvents", 8, [a, b])


def test_open_orders_account_management() -> None:
    i = ix.create_open_orders_indexer(OWNER)
    indexer = ix.open_orders_indexer(OWNER)
    assert bytes(i.data) == sighash("create_open_orders_indexer")
    assert metas(i) == [
        (OWNER, True, True),
        (OWNER, True, False),
        (indexer, False, True),
        (SYSTEM, False, False),
    ]
    o = ix.create_open_orders_account(OWNER, 2, MARKET_KEY, "bot")
    assert bytes(o.data) == sighash("create_open_orders_account") + struct.pack("<I", 3) + b"bot"
    assert metas(o) == [
        (OWNER, True, True),
        (OWNER, True, False),
        (PROGRAM, False, False),
        (indexer, False, True),
        (ix.open_orders_address(OWNER, 2), False, True),
        (MARKET_KEY, False, False),
        (SYSTEM, False, False),
    ]
    name, args, named, _ = ix.decode_instruction(bytes(o.data), [m.pubkey for m in o.accounts])
    assert (name, args.name, named["openOrdersAccount"]) == (
        "createOpenOrdersAccount",
        "bot",
        ix.open_orders_address(OWNER, 2),
    )


def test_bad_arguments_and_bad_data_are_one_line() -> None:
    for bad in [
        dict(side="Buy"),
        dict(order_type="GoodTillDate"),
        dict(price_lots=0),
        dict(max_base_lots=1 << 63),
        dict(client_order_id=1 << 64),
    ]:
        args = {
            "side": "Bid",
            "price_lots": 1,
            "max_base_lots": 1,
            "max_quote_lots_including_fees": 1,
            "client_order_id": 1,
            **bad,
        }
        with pytest.raises(OpenBookLayoutError) as e:
            ix.PlaceOrder(**args)  # type: ignore[arg-type]
        assert "\n" not in str(e.value)
    with pytest.raises(OpenBookLayoutError, match="not an OpenBook v2 instruction"):
        ix.decode_instruction(bytes(16), [])
    with pytest.raises(OpenBookLayoutError, match="does not decode"):
        openbook_idl().decode_ix(sighash("place_order") + b"\x00")
    with pytest.raises(OpenBookLayoutError, match="takes 5 accounts"):
        ix.decode_instruction(sighash("cancel_order") + bytes(16), [OWNER])
