"""What the Drift adapter reads from the chain, through driftpy: the program's events in a transaction's logs
(driftpy's parser over the IDL's event coder) turned into plain JSON values, and account bytes checked for
their type and length before they are decoded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from solders.pubkey import Pubkey

from botnft.domain.errors import DataError

__all__ = [
    "ACCOUNT_SIZES",
    "IDL_VERSION",
    "check_idl_version",
    "decode_account",
    "events_in_logs",
    "jsonable",
]

#: the Drift IDL the adapter, its account sizes and its tests are built on (the one in driftpy 0.8.89)
IDL_VERSION = "2.142.0"

#: byte length of each account the adapter reads (8-byte discriminator included), Drift IDL 2.142.0
ACCOUNT_SIZES: Mapping[str, int] = {
    "User": 4376,
    "PerpMarket": 1216,
    "SpotMarket": 776,
    "State": 992,
    "UserStats": 240,
}


def check_idl_version(version: str) -> None:
    """A driftpy shipping another Drift IDL than `IDL_VERSION` is a one-line `DataError`: the account
    layouts, sizes and error codes here are that version's."""
    if version != IDL_VERSION:
        raise DataError(f"driftpy's Drift IDL is {version}; this adapter is built on IDL {IDL_VERSION}")


def jsonable(value: Any) -> Any:
    """An IDL value as JSON: structs as objects, public keys as base58, enum variants by name."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Pubkey):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f.name for f in dataclasses.fields(value)]
        if not fields:  # a unit enum variant
            return type(value).__name__
        return {f: jsonable(getattr(value, f)) for f in fields}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    name = type(value).__name__
    if hasattr(value, "__dict__") and not vars(value):
        return name
    return str(value)


def events_in_logs(program: Any, logs: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(name, body) of every Drift event in a transaction's log lines, in order."""
    from driftpy.events.parse import parse_logs

    return [(e.name, jsonable(e.data)) for e in parse_logs(program, logs)]


def decode_account(coder: Any, name: str, data: bytes | None) -> Any:
    """`data` decoded as the IDL account `name`; a missing account, another account type or a wrong length is
    a one-line `DataError`."""
    if data is None:
        raise DataError(f"the Drift {name} account does not exist")
    want = ACCOUNT_SIZES.get(name)
    if want is not None and len(data) != want:
        raise DataError(f"a Drift {name} account is {want} bytes, this one {len(data)}")
    disc = coder.accounts.acc_name_to_discriminator[name]
    if data[:8] != disc:
        other = coder.accounts.discriminator_to_acc_name.get(bytes(data[:8]), "not a Drift account")
        raise DataError(f"expected a Drift {name} account, got {other}")
    return coder.accounts.decode(bytes(data))
