"""OpenBook v2 instructions the adapter sends, built from the IDL (accounts in the IDL's order, optional
accounts absent = the program id, Anchor's convention), and the program-derived addresses they name.

PDAs (``programs/openbook-v2/src/accounts_ix``): the open-orders indexer ``["OpenOrdersIndexer", owner]``,
an open-orders account ``["OpenOrders", owner, account_num (u32 LE)]``, the market authority
``["Market", market]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from spl.token.constants import TOKEN_PROGRAM_ID

from botnft.venues.openbook.idl import PROGRAM_ID, OpenBookIdl, OpenBookLayoutError, openbook_idl
from botnft.venues.openbook.layouts import Market

__all__ = [
    "I64_MAX",
    "OPENBOOK_PROGRAM",
    "PlaceOrder",
    "cancel_order",
    "cancel_order_by_client_order_id",
    "consume_events",
    "create_open_orders_account",
    "create_open_orders_indexer",
    "decode_instruction",
    "market_authority",
    "open_orders_address",
    "open_orders_indexer",
    "place_order",
    "settle_funds",
]

OPENBOOK_PROGRAM = Pubkey.from_string(PROGRAM_ID)
I64_MAX = (1 << 63) - 1
ORDER_TYPES = ("Limit", "ImmediateOrCancel", "PostOnly", "Market", "PostOnlySlide", "FillOrKill")
SELF_TRADE = ("DecrementTake", "CancelProvide", "AbortTransaction")


def open_orders_indexer(owner: Pubkey, program: Pubkey = OPENBOOK_PROGRAM) -> Pubkey:
    return Pubkey.find_program_address([b"OpenOrdersIndexer", bytes(owner)], program)[0]


def open_orders_address(owner: Pubkey, account_num: int, program: Pubkey = OPENBOOK_PROGRAM) -> Pubkey:
    seeds = [b"OpenOrders", bytes(owner), account_num.to_bytes(4, "little")]
    return Pubkey.find_program_address(seeds, program)[0]


def market_authority(market: Pubkey, program: Pubkey = OPENBOOK_PROGRAM) -> Pubkey:
    return Pubkey.find_program_address([b"Market", bytes(market)], program)[0]


def _ix(
    idl: OpenBookIdl, name: str, args: Mapping[str, Any], accounts: Mapping[str, Pubkey | None],
    program: Pubkey, remaining: Sequence[AccountMeta] = (),
) -> Instruction:  # fmt: skip
    optional = idl.ix_optional(name)
    metas = []
    for acc, writable, signer in idl.ix_accounts(name):
        key = accounts.get(acc)
        if key is None:
            if acc not in optional:
                raise OpenBookLayoutError(f"{name} needs account {acc}")
            metas.append(AccountMeta(program, False, False))
        else:
            metas.append(AccountMeta(key, signer, writable))
    return Instruction(program, idl.encode_ix(name, args), [*metas, *remaining])


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """``PlaceOrderArgs``: side "Bid"/"Ask", price and sizes in lots, our u64 client order id."""

    side: str
    price_lots: int
    max_base_lots: int
    max_quote_lots_including_fees: int
    client_order_id: int
    order_type: str = "Limit"
    expiry_timestamp: int = 0
    self_trade_behavior: str = "DecrementTake"
    limit: int = 10

    def __post_init__(self) -> None:
        if self.side not in ("Bid", "Ask"):
            raise OpenBookLayoutError(f"side must be Bid or Ask, got {self.side!r}")
        if self.order_type not in ORDER_TYPES:
            raise OpenBookLayoutError(f"order type must be one of {', '.join(ORDER_TYPES)}")
        if self.self_trade_behavior not in SELF_TRADE:
            raise OpenBookLayoutError(f"self-trade behavior must be one of {', '.join(SELF_TRADE)}")
        for name in ("price_lots", "max_base_lots", "max_quote_lots_including_fees"):
            v = getattr(self, name)
            if not 0 < v <= I64_MAX:
                raise OpenBookLayoutError(f"{name} must be in 1..{I64_MAX}, got {v}")
        if not 0 <= self.client_order_id < 1 << 64:
            raise OpenBookLayoutError(f"client_order_id must be a u64, got {self.client_order_id}")

    def args(self) -> dict[str, Any]:
        return {
            "side": self.side, "price_lots": self.price_lots, "max_base_lots": self.max_base_lots,
            "max_quote_lots_including_fees": self.max_quote_lots_including_fees,
            "client_order_id": self.client_order_id, "order_type": self.order_type,
            "expiry_timestamp": self.expiry_timestamp, "self_trade_behavior": self.self_trade_behavior,
            "limit": self.limit,
        }  # fmt: skip


def place_order(
    order: PlaceOrder, *, owner: Pubkey, open_orders: Pubkey, market_key: Pubkey, market: Market,
    user_token_account: Pubkey, program: Pubkey = OPENBOOK_PROGRAM, idl: OpenBookIdl | None = None,
) -> Instruction:  # fmt: skip
    """``placeOrder``: a bid pays from the quote account into the quote vault, an ask from the base ones."""
    vault = market.market_quote_vault if order.side == "Bid" else market.market_base_vault
    accounts = {
        "signer": owner, "openOrdersAccount": open_orders, "openOrdersAdmin": market.open_orders_admin,
        "userTokenAccount": user_token_account, "market": market_key, "bids": market.bids,
        "asks": market.asks, "eventHeap": market.event_heap, "marketVault": vault,
        "oracleA": market.oracle_a, "oracleB": market.oracle_b, "tokenProgram": TOKEN_PROGRAM_ID,
    }  # fmt: skip
    return _ix(idl or openbook_idl(), "placeOrder", {"args": order.args()}, accounts, program)


def cancel_order(
    order_id: int, *, owner: Pubkey, open_orders: Pubkey, market_key: Pubkey, market: Market,
    program: Pubkey = OPENBOOK_PROGRAM, idl: OpenBookIdl | None = None,
) -> Instruction:  # fmt: skip
    accounts = {"signer": owner, "openOrdersAccount": open_orders, "market": market_key,
                "bids": market.bids, "asks": market.asks}  # fmt: skip
    return _ix(idl or openbook_idl(), "cancelOrder", {"order_id": order_id}, accounts, program)


def cancel_order_by_client_order_id(
    client_order_id: int, *, owner: Pubkey, open_orders: Pubkey, market_key: Pubkey, market: Market,
    program: Pubkey = OPENBOOK_PROGRAM, idl: OpenBookIdl | None = None,
) -> Instruction:  # fmt: skip
    accounts = {"signer": owner, "openOrdersAccount": open_orders, "market": market_key,
                "bids": market.bids, "asks": market.asks}  # fmt: skip
    args = {"client_order_id": client_order_id}
    return _ix(idl or openbook_idl(), "cancelOrderByClientOrderId", args, accounts, program)


def settle_funds(
    *, owner: Pubkey, open_orders: Pubkey, market_key: Pubkey, market: Market, user_base: Pubkey,
    user_quote: Pubkey, program: Pubkey = OPENBOOK_PROGRAM, idl: OpenBookIdl | None = None,
) -> Instruction:  # fmt: skip
    """``settleFunds``: the open-orders account's free base and quote go back to the owner's accounts."""
    accounts = {
        "owner": owner, "penaltyPayer": owner, "openOrdersAccount": open_orders, "market": market_key,
        "marketAuthority": market.market_authority, "marketBaseVault": market.market_base_vault,
        "marketQuoteVault": market.market_quote_vault, "userBaseAccount": user_base,
        "userQuoteAccount": user_quote, "referrerAccount": None, "tokenProgram": TOKEN_PROGRAM_ID,
        "systemProgram": SYSTEM_PROGRAM_ID,
    }  # fmt: skip
    return _ix(idl or openbook_idl(), "settleFunds", {}, accounts, program)


def consume_events(
    limit: int, makers: Sequence[Pubkey], *, market_key: Pubkey, market: Market,
    admin: Pubkey | None = None, program: Pubkey = OPENBOOK_PROGRAM, idl: OpenBookIdl | None = None,
) -> Instruction:  # fmt: skip
    """``consumeEvents`` (the crank): the makers' open-orders accounts follow as remaining accounts."""
    accounts = {"consumeEventsAdmin": admin, "market": market_key, "eventHeap": market.event_heap}
    remaining = [AccountMeta(m, False, True) for m in dict.fromkeys(makers)]
    return _ix(idl or openbook_idl(), "consumeEvents", {"limit": limit}, accounts, program, remaining)


def create_open_orders_indexer(
    owner: Pubkey, *, program: Pubkey = OPENBOOK_PROGRAM, idl: OpenBookIdl | None = None
) -> Instruction:
    accounts = {"payer": owner, "owner": owner, "openOrdersIndexer": open_orders_indexer(owner, program),
                "systemProgram": SYSTEM_PROGRAM_ID}  # fmt: skip
    return _ix(idl or openbook_idl(), "createOpenOrdersIndexer", {}, accounts, program)


def create_open_orders_account(
    owner: Pubkey, account_num: int, market_key: Pubkey, name: str = "", *,
    program: Pubkey = OPENBOOK_PROGRAM, idl: OpenBookIdl | None = None,
) -> Instruction:  # fmt: skip
    """``createOpenOrdersAccount`` number `account_num` (the indexer's ``created_counter`` + 1)."""
    accounts = {
        "payer": owner, "owner": owner, "delegateAccount": None,
        "openOrdersIndexer": open_orders_indexer(owner, program),
        "openOrdersAccount": open_orders_address(owner, account_num, program), "market": market_key,
        "systemProgram": SYSTEM_PROGRAM_ID,
    }  # fmt: skip
    return _ix(idl or openbook_idl(), "createOpenOrdersAccount", {"name": name}, accounts, program)


def decode_instruction(
    ix_data: bytes, accounts: Sequence[Pubkey], idl: OpenBookIdl | None = None
) -> tuple[str, Any, dict[str, Pubkey], list[Pubkey]]:
    """(name, args, named accounts, remaining accounts) of one OpenBook instruction."""
    coder = idl or openbook_idl()
    name, args = coder.decode_ix(ix_data)
    spec = coder.ix_accounts(name)
    if len(accounts) < len(spec):
        raise OpenBookLayoutError(f"{name} takes {len(spec)} accounts, got {len(accounts)}")
    named = {n: accounts[i] for i, (n, _, _) in enumerate(spec)}
    return name, args, named, list(accounts[len(spec) :])
