"""OpenBook v2 accounts as typed values, decoded (and encoded) through the IDL coder (`idl.OpenBookIdl`).

* `Market`: mints, vaults, book and event-heap addresses, lot sizes, fees (millionths), seq_num.
* `BookSide`: the fixed-price order tree (a critbit tree of `LeafNode`s under `InnerNode`s) walked from its
  root to the orders best first (asks by ascending key, bids by descending key: the key is
  ``price_lots << 64 | seq`` with ``seq`` bit-inverted for bids, ``new_node_key`` in ``orderbook/nodes.rs``).
  The oracle-pegged tree is reported as unsupported when it holds orders (the adapter does not read it).
* `EventHeap`: the used list (a circular doubly-linked list from ``used_head``) of `FillEvent`/`OutEvent`.
* `OpenOrdersAccount`: owner, market, position (free and locked balances) and the 24 open-order slots.

`encode_*` are the inverses, from the same values (fixtures and the local chain); they lay the book tree
out as the program would see it (inner nodes keyed by the common prefix, crit bit ``127 - prefix_len``).
Wrong account type or length -> `OpenBookLayoutError` in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from solders.pubkey import Pubkey

from botnft.venues.openbook.idl import OpenBookIdl, OpenBookLayoutError, openbook_idl, zero_fields

__all__ = [
    "BookOrder",
    "BookSide",
    "FillEvent",
    "Market",
    "OpenOrderSlot",
    "OpenOrdersAccount",
    "OutEvent",
    "decode_book_side",
    "decode_event_heap",
    "decode_market",
    "decode_open_orders",
    "encode_book_side",
    "encode_event_heap",
    "encode_market",
    "encode_open_orders",
    "node_key",
]

U64 = (1 << 64) - 1
NODES = 1024
HEAP_NODES = 600
MAX_OPEN_ORDERS = 24
TAG_INNER, TAG_LEAF, TAG_FREE, TAG_LAST_FREE = 1, 2, 3, 4
EVENT_FILL, EVENT_OUT = 0, 1
NO_EXPIRY = U64
FREE_ORDER_SLOT = 1
# byte offsets in the accounts (discriminator included), from the structs' field sizes. BookSide: roots
# 2 x 8, reserved_roots 4 x 8, reserved 256, then OrderTreeNodes (u8 type, 3 pad, 3 x u32, 512 reserved,
# 1024 nodes of 88 bytes); EventHeap: a 16-byte header, then 600 nodes of 152 bytes, 64 reserved
NODE_SIZE = 88
BOOK_TREE_TYPE = 8 + 16 + 32 + 256
BOOK_NODES = BOOK_TREE_TYPE + 528
HEAP_NODES_AT = 8 + 16
HEAP_NODE = 152


def _key(p: Pubkey) -> Pubkey | None:
    return None if p == Pubkey.default() else p


def node_key(is_bid: bool, price_lots: int, seq_num: int) -> int:
    """``new_node_key``: the order id of an order at `price_lots` with market sequence number `seq_num`."""
    seq = (~seq_num & U64) if is_bid else seq_num
    return (price_lots << 64) | seq


# ---------------------------------------------------------------------------------------------- market
@dataclass(frozen=True, slots=True)
class Market:
    name: str
    base_decimals: int
    quote_decimals: int
    market_authority: Pubkey
    bids: Pubkey
    asks: Pubkey
    event_heap: Pubkey
    base_mint: Pubkey
    quote_mint: Pubkey
    market_base_vault: Pubkey
    market_quote_vault: Pubkey
    base_lot_size: int
    quote_lot_size: int
    maker_fee: int
    taker_fee: int
    seq_num: int = 0
    bump: int = 0
    time_expiry: int = 0
    open_orders_admin: Pubkey | None = None
    consume_events_admin: Pubkey | None = None
    oracle_a: Pubkey | None = None
    oracle_b: Pubkey | None = None
    fees_accrued: int = 0
    base_deposit_total: int = 0
    quote_deposit_total: int = 0


def decode_market(data: bytes, idl: OpenBookIdl | None = None) -> Market:
    m = (idl or openbook_idl()).decode_account("market", data)
    if m.base_lot_size <= 0 or m.quote_lot_size <= 0:
        raise OpenBookLayoutError(
            f"market lot sizes must be positive, got {m.base_lot_size}/{m.quote_lot_size}"
        )
    return Market(
        name=bytes(m.name).rstrip(b"\0").decode("utf-8", "replace"),
        base_decimals=m.base_decimals,
        quote_decimals=m.quote_decimals,
        market_authority=m.market_authority,
        bids=m.bids,
        asks=m.asks,
        event_heap=m.event_heap,
        base_mint=m.base_mint,
        quote_mint=m.quote_mint,
        market_base_vault=m.market_base_vault,
        market_quote_vault=m.market_quote_vault,
        base_lot_size=m.base_lot_size,
        quote_lot_size=m.quote_lot_size,
        maker_fee=m.maker_fee,
        taker_fee=m.taker_fee,
        seq_num=m.seq_num,
        bump=m.bump,
        time_expiry=m.time_expiry,
        open_orders_admin=_key(m.open_orders_admin.key),
        consume_events_admin=_key(m.consume_events_admin.key),
        oracle_a=_key(m.oracle_a.key),
        oracle_b=_key(m.oracle_b.key),
        fees_accrued=m.fees_accrued,
        base_deposit_total=m.base_deposit_total,
        quote_deposit_total=m.quote_deposit_total,
    )


def _opt(p: Pubkey | None) -> dict[str, Pubkey]:
    return {"key": p if p is not None else Pubkey.default()}


def encode_market(m: Market, idl: OpenBookIdl | None = None) -> bytes:
    coder = idl or openbook_idl()
    f = zero_fields(coder.doc, "Market")
    name = m.name.encode()[:16]
    f.update(
        bump=m.bump, base_decimals=m.base_decimals, quote_decimals=m.quote_decimals,
        market_authority=m.market_authority, time_expiry=m.time_expiry,
        open_orders_admin=_opt(m.open_orders_admin), consume_events_admin=_opt(m.consume_events_admin),
        name=list(name + bytes(16 - len(name))), bids=m.bids, asks=m.asks, event_heap=m.event_heap,
        oracle_a=_opt(m.oracle_a), oracle_b=_opt(m.oracle_b), quote_lot_size=m.quote_lot_size,
        base_lot_size=m.base_lot_size, seq_num=m.seq_num, maker_fee=m.maker_fee, taker_fee=m.taker_fee,
        fees_accrued=m.fees_accrued, base_mint=m.base_mint, quote_mint=m.quote_mint,
        market_base_vault=m.market_base_vault, base_deposit_total=m.base_deposit_total,
        market_quote_vault=m.market_quote_vault, quote_deposit_total=m.quote_deposit_total,
    )  # fmt: skip
    return coder.encode_account("market", f)


# ---------------------------------------------------------------------------------------------- book
@dataclass(frozen=True, slots=True)
class BookOrder:
    """A leaf of the fixed tree: `key` is the order id (u128), `price_lots` its upper 64 bits."""

    key: int
    owner: Pubkey
    owner_slot: int
    quantity: int
    timestamp: int
    client_order_id: int
    time_in_force: int = 0

    @property
    def price_lots(self) -> int:
        return self.key >> 64


@dataclass(frozen=True, slots=True)
class BookSide:
    is_bids: bool
    orders: tuple[BookOrder, ...]  # best first

    def levels(self) -> list[tuple[int, int]]:
        """(price lots, base lots) per price, best first."""
        out: list[tuple[int, int]] = []
        for o in self.orders:
            if out and out[-1][0] == o.price_lots:
                out[-1] = (o.price_lots, out[-1][1] + o.quantity)
            else:
                out.append((o.price_lots, o.quantity))
        return out


def decode_book_side(data: bytes, idl: OpenBookIdl | None = None) -> BookSide:
    """Walks the tree from its root, decoding only the nodes it reaches (a side holds 1024 node slots)."""
    coder = idl or openbook_idl()
    coder.check_account("bookSide", data)
    data = bytes(data)
    roots = [coder.decode_type("OrderTreeRoot", data[o : o + 8]) for o in (8, 16)]
    tree_type = data[BOOK_TREE_TYPE]
    if tree_type not in (0, 1):
        raise OpenBookLayoutError(f"book side of unknown order tree type {tree_type}")
    if roots[1].leaf_count:
        raise OpenBookLayoutError(
            "the book side holds oracle-pegged orders, which this adapter does not read"
        )
    root = roots[0]
    leaves: list[BookOrder] = []
    if root.leaf_count:
        stack, seen = [root.maybe_node], 0
        while stack:
            h = stack.pop()
            if not 0 <= h < NODES or seen > NODES:
                raise OpenBookLayoutError(f"book side node handle {h} out of range")
            seen += 1
            raw = data[BOOK_NODES + NODE_SIZE * h : BOOK_NODES + NODE_SIZE * (h + 1)]
            if raw[0] == TAG_INNER:
                stack.extend(coder.decode_type("InnerNode", raw).children)
            elif raw[0] == TAG_LEAF:
                leaf = coder.decode_type("LeafNode", raw)
                leaves.append(BookOrder(leaf.key, leaf.owner, leaf.owner_slot, leaf.quantity, leaf.timestamp,
                                        leaf.client_order_id, leaf.time_in_force))  # fmt: skip
            else:
                raise OpenBookLayoutError(f"book side tree reaches a node tagged {raw[0]}")
        if len(leaves) != root.leaf_count:
            raise OpenBookLayoutError(
                f"book side root counts {root.leaf_count} leaves, the tree has {len(leaves)}"
            )
    is_bids = tree_type == 0
    leaves.sort(key=lambda o: o.key, reverse=is_bids)
    return BookSide(is_bids, tuple(leaves))


def _crit(keys: Sequence[int]) -> int:
    """Length of the common prefix (in bits, of 128) of the sorted `keys`' first and last."""
    diff = keys[0] ^ keys[-1]
    return 128 - diff.bit_length()


def encode_book_side(is_bids: bool, orders: Iterable[BookOrder], idl: OpenBookIdl | None = None) -> bytes:
    coder = idl or openbook_idl()
    leaves = sorted(orders, key=lambda o: o.key)
    if len({o.key for o in leaves}) != len(leaves):
        raise OpenBookLayoutError("two orders with the same key")
    if 2 * len(leaves) - 1 > NODES:
        raise OpenBookLayoutError(f"{len(leaves)} orders do not fit a book side")
    raw_nodes: list[bytes] = []

    def put(raw: bytes) -> int:
        raw_nodes.append(raw)
        return len(raw_nodes) - 1

    def build(part: list[BookOrder]) -> int:
        if len(part) == 1:
            o = part[0]
            return put(coder.encode_type("LeafNode", {
                "tag": TAG_LEAF, "owner_slot": o.owner_slot, "time_in_force": o.time_in_force,
                "padding": [0] * 4, "key": o.key, "owner": o.owner, "quantity": o.quantity,
                "timestamp": o.timestamp, "peg_limit": -1, "client_order_id": o.client_order_id,
            }))  # fmt: skip
        prefix = _crit([o.key for o in part])
        bit = 1 << (127 - prefix)
        split = next(i for i, o in enumerate(part) if o.key & bit)
        slot = put(b"")  # reserve the inner node's handle before its children
        left, right = build(part[:split]), build(part[split:])
        raw_nodes[slot] = coder.encode_type("InnerNode", {
            "tag": TAG_INNER, "padding": [0] * 3, "prefix_len": prefix, "key": part[0].key,
            "children": [left, right], "child_earliest_expiry": [NO_EXPIRY, NO_EXPIRY], "reserved": [0] * 40,
        })  # fmt: skip
        return slot

    root = build(leaves) if leaves else 0
    out = bytearray(_template(coder, "bookSide"))
    out[8:16] = coder.encode_type("OrderTreeRoot", {"maybe_node": root, "leaf_count": len(leaves)})
    out[BOOK_TREE_TYPE] = 0 if is_bids else 1
    out[BOOK_TREE_TYPE + 4 : BOOK_TREE_TYPE + 8] = len(raw_nodes).to_bytes(4, "little")  # bump_index
    for i, raw in enumerate(raw_nodes):
        out[BOOK_NODES + NODE_SIZE * i : BOOK_NODES + NODE_SIZE * (i + 1)] = raw
    return bytes(out)


_TEMPLATES: dict[tuple[int, str], bytes] = {}


def _template(coder: OpenBookIdl, kind: str) -> bytes:
    """The account with every field zero, encoded once: encoders write only what they set into a copy."""
    key = (id(coder), kind)
    if key not in _TEMPLATES:
        rust = {"bookSide": "BookSide", "eventHeap": "EventHeap"}[kind]
        _TEMPLATES[key] = coder.encode_account(kind, zero_fields(coder.doc, rust))
    return _TEMPLATES[key]


# ---------------------------------------------------------------------------------------------- events
@dataclass(frozen=True, slots=True)
class FillEvent:
    taker_side: int  # 0 bid, 1 ask
    maker_out: bool
    maker_slot: int
    timestamp: int
    seq_num: int
    maker: Pubkey
    maker_timestamp: int
    taker: Pubkey
    taker_client_order_id: int
    price: int  # price lots
    quantity: int  # base lots
    maker_client_order_id: int


@dataclass(frozen=True, slots=True)
class OutEvent:
    side: int
    owner_slot: int
    timestamp: int
    seq_num: int
    owner: Pubkey
    quantity: int


HeapEvent = FillEvent | OutEvent


def decode_event_heap(data: bytes, idl: OpenBookIdl | None = None) -> tuple[int, list[HeapEvent]]:
    """(the heap's seq_num, its events oldest first), decoding only the used nodes."""
    coder = idl or openbook_idl()
    coder.check_account("eventHeap", data)
    data = bytes(data)
    header = coder.decode_type("EventHeapHeader", data[8:HEAP_NODES_AT])
    out: list[HeapEvent] = []
    slot = header.used_head
    for _ in range(header.count):
        if not 0 <= slot < HEAP_NODES:
            raise OpenBookLayoutError(f"event heap slot {slot} out of range")
        at = HEAP_NODES_AT + HEAP_NODE * slot
        node = coder.decode_type("EventNode", data[at : at + HEAP_NODE])
        raw = bytes([node.event.event_type, *node.event.padding])
        if node.event.event_type == EVENT_FILL:
            e = coder.decode_type("FillEvent", raw)
            out.append(FillEvent(e.taker_side, bool(e.maker_out), e.maker_slot, e.timestamp, e.seq_num,
                                 e.maker, e.maker_timestamp, e.taker, e.taker_client_order_id, e.price,
                                 e.quantity, e.maker_client_order_id))  # fmt: skip
        elif node.event.event_type == EVENT_OUT:
            o = coder.decode_type("OutEvent", raw)
            out.append(OutEvent(o.side, o.owner_slot, o.timestamp, o.seq_num, o.owner, o.quantity))
        else:
            raise OpenBookLayoutError(f"event heap holds an event of unknown type {node.event.event_type}")
        slot = node.next
    return header.seq_num, out


def _event_bytes(e: HeapEvent, coder: OpenBookIdl) -> bytes:
    if isinstance(e, FillEvent):
        return coder.encode_type("FillEvent", {
            "event_type": EVENT_FILL, "taker_side": e.taker_side, "maker_out": int(e.maker_out),
            "maker_slot": e.maker_slot, "padding": [0] * 4, "timestamp": e.timestamp, "seq_num": e.seq_num,
            "maker": e.maker, "maker_timestamp": e.maker_timestamp, "taker": e.taker,
            "taker_client_order_id": e.taker_client_order_id, "price": e.price, "peg_limit": -1,
            "quantity": e.quantity, "maker_client_order_id": e.maker_client_order_id, "reserved": [0] * 8,
        })  # fmt: skip
    return coder.encode_type("OutEvent", {
        "event_type": EVENT_OUT, "side": e.side, "owner_slot": e.owner_slot, "padding0": [0] * 5,
        "timestamp": e.timestamp, "seq_num": e.seq_num, "owner": e.owner, "quantity": e.quantity,
        "padding1": [0] * 80,
    })  # fmt: skip


def encode_event_heap(events: Sequence[HeapEvent], seq_num: int, idl: OpenBookIdl | None = None) -> bytes:
    """The heap with `events` in slots 0..n-1 (a circular used list from slot 0) and the rest free."""
    coder = idl or openbook_idl()
    n = len(events)
    if n > HEAP_NODES:
        raise OpenBookLayoutError(f"{n} events do not fit the event heap ({HEAP_NODES})")
    out = bytearray(_template(coder, "eventHeap"))
    header = {"free_head": n, "used_head": 0, "count": n, "padd": 0, "seq_num": seq_num}
    out[8:HEAP_NODES_AT] = coder.encode_type("EventHeapHeader", header)
    for i in range(n):
        raw = _event_bytes(events[i], coder)
        node = {"next": (i + 1) % n, "prev": (i - 1) % n, "pad": [0] * 4,
                "event": {"event_type": raw[0], "padding": list(raw[1:])}}  # fmt: skip
        out[HEAP_NODES_AT + HEAP_NODE * i : HEAP_NODES_AT + HEAP_NODE * (i + 1)] = coder.encode_type(
            "EventNode", node
        )
    for i in range(n, HEAP_NODES):  # the free list: next = the following slot, prev = u16::MAX
        at = HEAP_NODES_AT + HEAP_NODE * i
        out[at : at + 4] = (i + 1).to_bytes(2, "little") + b"\xff\xff"
    return bytes(out)


# ---------------------------------------------------------------------------------------------- open orders
@dataclass(frozen=True, slots=True)
class OpenOrderSlot:
    slot: int
    id: int
    client_id: int
    locked_price: int
    side_and_tree: int  # 0 BidFixed, 1 AskFixed, 2 BidOraclePegged, 3 AskOraclePegged

    @property
    def is_bid(self) -> bool:
        return self.side_and_tree in (0, 2)


@dataclass(frozen=True, slots=True)
class OpenOrdersAccount:
    owner: Pubkey
    market: Pubkey
    account_num: int
    bids_base_lots: int = 0
    asks_base_lots: int = 0
    base_free_native: int = 0
    quote_free_native: int = 0
    locked_maker_fees: int = 0
    bids_quote_lots: int = 0
    maker_volume: int = 0
    taker_volume: int = 0
    name: str = ""
    bump: int = 0
    delegate: Pubkey | None = None
    orders: tuple[OpenOrderSlot, ...] = field(default_factory=tuple)

    def by_client_id(self, client_id: int) -> OpenOrderSlot | None:
        return next((o for o in self.orders if o.client_id == client_id), None)


def decode_open_orders(data: bytes, idl: OpenBookIdl | None = None) -> OpenOrdersAccount:
    a = (idl or openbook_idl()).decode_account("openOrdersAccount", data)
    p = a.position
    orders = tuple(
        OpenOrderSlot(i, o.id, o.client_id, o.locked_price, o.side_and_tree)
        for i, o in enumerate(a.open_orders)
        if not o.is_free
    )
    return OpenOrdersAccount(
        owner=a.owner, market=a.market, account_num=a.account_num, bids_base_lots=p.bids_base_lots,
        asks_base_lots=p.asks_base_lots, base_free_native=p.base_free_native,
        quote_free_native=p.quote_free_native, locked_maker_fees=p.locked_maker_fees,
        bids_quote_lots=p.bids_quote_lots, maker_volume=p.maker_volume, taker_volume=p.taker_volume,
        name=bytes(a.name).rstrip(b"\0").decode("utf-8", "replace"), bump=a.bump,
        delegate=_key(a.delegate.key), orders=orders,
    )  # fmt: skip


def encode_open_orders(a: OpenOrdersAccount, idl: OpenBookIdl | None = None) -> bytes:
    coder = idl or openbook_idl()
    f: dict[str, Any] = zero_fields(coder.doc, "OpenOrdersAccount")
    name = a.name.encode()[:32]
    f.update(owner=a.owner, market=a.market, name=list(name + bytes(32 - len(name))),
             delegate=_opt(a.delegate), account_num=a.account_num, bump=a.bump, version=1)  # fmt: skip
    f["position"].update(
        bids_base_lots=a.bids_base_lots, asks_base_lots=a.asks_base_lots, base_free_native=a.base_free_native,
        quote_free_native=a.quote_free_native, locked_maker_fees=a.locked_maker_fees,
        bids_quote_lots=a.bids_quote_lots, maker_volume=a.maker_volume, taker_volume=a.taker_volume,
    )  # fmt: skip
    slots = f["open_orders"]
    for s in slots:
        s["is_free"] = FREE_ORDER_SLOT
    for o in a.orders:
        if not 0 <= o.slot < MAX_OPEN_ORDERS:
            raise OpenBookLayoutError(f"open order slot {o.slot} out of range")
        slots[o.slot] = {"id": o.id, "client_id": o.client_id, "locked_price": o.locked_price, "is_free": 0,
                         "side_and_tree": o.side_and_tree, "padding": [0] * 6}  # fmt: skip
    return coder.encode_account("openOrdersAccount", f)
