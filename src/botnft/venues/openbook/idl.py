"""The OpenBook v2 program's Anchor IDL (vendored in ``idl/openbook_v2.json``, see its README) as a coder.

Layouts come from anchorpy 0.21's IDL coder (construct); everything the adapter reads or writes goes
through `OpenBookIdl`:

* accounts: ``decode_account(kind, data)`` checks the 8-byte discriminator and the exact length of the
  zero-copy account (Market 848, OpenOrdersAccount 1264, BookSide 90952, EventHeap 91288 bytes) and
  raises `OpenBookLayoutError` (one line) otherwise; ``encode_account`` is its inverse (fixtures, the
  local chain). The discriminator is ``sha256("account:" + RustName)[:8]`` with the Rust struct name:
  this IDL (the TypeScript export) spells account names in camelCase, and anchorpy would hash those.
* instructions: ``encode_ix(name, args)`` -> data (``sha256("global:" + snake_name)[:8]`` + borsh args),
  ``decode_ix(data)`` -> (name, args); ``ix_accounts(name)`` the instruction's account names in order.
* events (``sol_log_data``, "Program data: ..." log lines): ``decode_event(data)``.

Enum values are written as anchorpy reads them: ``{"Bid": {}}`` in, ``Side.Bid()``-like objects out;
`variant` gives the variant's name of either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from botnft.domain.errors import UserError

__all__ = [
    "ACCOUNT_SIZES",
    "IDL_NAME",
    "IDL_VERSION",
    "PROGRAM_ID",
    "OpenBookIdl",
    "OpenBookLayoutError",
    "openbook_idl",
    "variant",
]

PROGRAM_ID = "opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb"
IDL_VERSION = "0.1.0"
IDL_NAME = "openbook_v2"

#: account kind (the IDL's name) -> Rust struct name
RUST_NAMES = {
    "market": "Market",
    "openOrdersAccount": "OpenOrdersAccount",
    "openOrdersIndexer": "OpenOrdersIndexer",
    "stubOracle": "StubOracle",
    "bookSide": "BookSide",
    "eventHeap": "EventHeap",
}
#: zero-copy account sizes without the discriminator (programs/openbook-v2/src/state: const_assert_eq!)
ACCOUNT_SIZES = {"market": 840, "openOrdersAccount": 1256, "bookSide": 90944, "eventHeap": 91280}


class OpenBookLayoutError(UserError):
    """Bytes that are not the OpenBook v2 account or instruction they were read as, or an IDL of another
    version than the one the adapter is written against."""


def _discriminator(prefix: str, name: str) -> bytes:
    return hashlib.sha256(f"{prefix}:{name}".encode()).digest()[:8]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def variant(value: Any) -> str:
    """The variant name of an enum value as anchorpy gives it (an object of a class named after the
    variant) or as it is written (``{"Bid": {}}``)."""
    if isinstance(value, Mapping):
        (name,) = value.keys()
        return str(name)
    return type(value).__name__


class OpenBookIdl:
    """The coder over one IDL JSON text (default: the vendored one). Raises `OpenBookLayoutError` when the
    IDL is not openbook_v2 0.1.0."""

    def __init__(self, raw: str | None = None) -> None:
        text = raw if raw is not None else files(__package__).joinpath("idl/openbook_v2.json").read_text()
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise OpenBookLayoutError(f"the OpenBook IDL is not JSON: {exc}") from None
        name, version = doc.get("name"), doc.get("version")
        if name != IDL_NAME or version != IDL_VERSION:
            raise OpenBookLayoutError(
                f"OpenBook IDL {name} {version} is not supported: the adapter is written against "
                f"{IDL_NAME} {IDL_VERSION} (@openbook-dex/openbook-v2 0.2.10)"
            )
        # the accounts become types too (Rust names), so anchorpy's public TypesCoder lays them out
        accounts = {a["name"] for a in doc.get("accounts", [])}
        if set(RUST_NAMES) - accounts:
            raise OpenBookLayoutError(f"the OpenBook IDL lacks accounts {sorted(set(RUST_NAMES) - accounts)}")
        doc["types"] = list(doc.get("types", [])) + [
            {"name": RUST_NAMES[a["name"]], "type": a["type"]} for a in doc["accounts"]
        ]
        from anchorpy.coder.coder import Coder
        from anchorpy_core.idl import Idl

        self.idl = Idl.from_json(json.dumps(doc))
        self.doc = doc
        self._coder = Coder(self.idl)
        self._disc = {k: _discriminator("account", v) for k, v in RUST_NAMES.items()}
        self._ix = {i["name"]: i for i in doc["instructions"]}
        self._types = {t["name"]: t["type"] for t in doc["types"]}
        self._ix_by_sighash = {_discriminator("global", _snake(n)): n for n in self._ix}

    # accounts -------------------------------------------------------------------------------------------
    def account_discriminator(self, kind: str) -> bytes:
        return self._disc[kind]

    def account_kind(self, data: bytes) -> str | None:
        """The account kind whose discriminator `data` starts with, or None."""
        head = bytes(data[:8])
        return next((k for k, d in self._disc.items() if d == head), None)

    def decode_account(self, kind: str, data: bytes) -> Any:
        """The account's fields (a construct Container, snake_case names)."""
        self.check_account(kind, data)
        return self.decode_type(RUST_NAMES[kind], bytes(data[8:]))

    def check_account(self, kind: str, data: bytes) -> None:
        """Raise `OpenBookLayoutError` unless `data` is a `kind` account: its discriminator and exact size."""
        if kind not in self._disc:
            raise OpenBookLayoutError(f"unknown OpenBook account kind {kind!r}")
        got = self.account_kind(data)
        if got != kind:
            what = f"a {got} account" if got is not None else f"no OpenBook account ({bytes(data[:8]).hex()})"
            raise OpenBookLayoutError(f"expected an OpenBook {kind} account, got {what}")
        size = ACCOUNT_SIZES.get(kind)
        if size is not None and len(data) != 8 + size:
            raise OpenBookLayoutError(f"an OpenBook {kind} account is {8 + size} bytes, got {len(data)}")

    def encode_account(self, kind: str, fields: Mapping[str, Any]) -> bytes:
        return self._disc[kind] + self.encode_type(RUST_NAMES[kind], fields)

    # types ----------------------------------------------------------------------------------------------
    def decode_type(self, name: str, data: bytes) -> Any:
        try:
            return self._coder.types.decode(name, data)
        except Exception as exc:  # construct raises many kinds; all mean "not this layout"
            raise OpenBookLayoutError(
                f"bytes do not decode as OpenBook {name}: {exc}".splitlines()[0]
            ) from None

    def encode_type(self, name: str, fields: Mapping[str, Any]) -> bytes:
        return bytes(self._coder.types.encode(name, self._value({"defined": name}, fields)))

    def _value(self, t: Any, value: Any) -> Any:
        """`value` of IDL type `t` as anchorpy builds it: enum variants (``{"Bid": {}}`` or a name) become
        the layout's variant objects, struct keys snake_case."""
        if isinstance(t, str) or value is None:
            return value
        if "array" in t:
            return [self._value(t["array"][0], v) for v in value]
        if "vec" in t:
            return [self._value(t["vec"], v) for v in value]
        if "option" in t:
            return self._value(t["option"], value)
        d = self._types[t["defined"]]
        if d["kind"] == "enum":
            if not isinstance(value, str | Mapping):
                return value  # already a variant object
            name = value if isinstance(value, str) else variant(value)
            names = [v["name"] for v in d["variants"]]
            if name not in names:
                raise OpenBookLayoutError(
                    f"{t['defined']} has no variant {name!r} (one of {', '.join(names)})"
                )
            return self._coder.types.decode(t["defined"], bytes([names.index(name)]))
        fields = {_snake(k): v for k, v in value.items()}
        return {
            _snake(f["name"]): self._value(f["type"], fields[_snake(f["name"])])
            for f in d["fields"]
            if _snake(f["name"]) in fields
        }

    def type_size(self, name: str) -> int:
        return len(self.encode_type(name, zero_fields(self.doc, name)))

    # instructions ---------------------------------------------------------------------------------------
    def ix_accounts(self, name: str) -> list[tuple[str, bool, bool]]:
        """(name, writable, signer) of each account the instruction takes, in order (nested groups flat)."""
        out: list[tuple[str, bool, bool]] = []

        def walk(items: Sequence[Mapping[str, Any]]) -> None:
            for a in items:
                if "accounts" in a:
                    walk(a["accounts"])
                else:
                    out.append((a["name"], bool(a["isMut"]), bool(a["isSigner"])))

        walk(self._ix[name]["accounts"])
        return out

    def ix_optional(self, name: str) -> frozenset[str]:
        return frozenset(a["name"] for a in self._ix[name]["accounts"] if a.get("isOptional"))

    def encode_ix(self, name: str, args: Mapping[str, Any]) -> bytes:
        """Instruction data: the sighash and the borsh-encoded args (names as in the IDL, camelCase or
        snake_case: anchorpy uses snake_case)."""
        if name not in self._ix:
            raise OpenBookLayoutError(f"unknown OpenBook instruction {name!r}")
        spec = {_snake(a["name"]): a["type"] for a in self._ix[name]["args"]}
        given = {_snake(k): v for k, v in args.items()}
        if set(given) != set(spec):
            raise OpenBookLayoutError(f"{name} takes {sorted(spec)}, got {sorted(given)}")
        data = {k: self._value(spec[k], v) for k, v in given.items()}
        return bytes(self._coder.instruction.encode(_snake(name), data))

    def decode_ix(self, data: bytes) -> tuple[str, Any]:
        """(instruction name as in the IDL, args) of instruction data; one-line error if it is none."""
        name = self._ix_by_sighash.get(bytes(data[:8]))
        if name is None:
            raise OpenBookLayoutError(f"not an OpenBook v2 instruction (sighash {bytes(data[:8]).hex()})")
        try:
            parsed = self._coder.instruction.parse(bytes(data))
        except Exception as exc:
            raise OpenBookLayoutError(
                f"OpenBook {name} data does not decode: {exc}".splitlines()[0]
            ) from None
        return name, parsed.data

    # events ---------------------------------------------------------------------------------------------
    def event_discriminator(self, name: str) -> bytes:
        return _discriminator("event", name)

    def encode_event(self, name: str, fields: Mapping[str, Any]) -> bytes:
        ev = next(e for e in self.doc["events"] if e["name"] == name)
        given = {_snake(k): v for k, v in fields.items()}
        data = {_snake(f["name"]): self._value(f["type"], given[_snake(f["name"])]) for f in ev["fields"]}
        return self.event_discriminator(name) + bytes(self._coder.events.layouts[name].build(data))

    def decode_event(self, data: bytes) -> tuple[str, Any] | None:
        """(event name, fields) of one ``sol_log_data`` payload, or None if it is not an OpenBook event."""
        ev = self._coder.events.parse(bytes(data)) if len(data) >= 8 else None
        return (ev.name, ev.data) if ev is not None else None


def zero_fields(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A value of type `name` with every field zero (enums: their first variant): the start of an
    encoder's input, so that it names only the fields it sets."""
    types = {t["name"]: t["type"] for t in doc["types"]}

    def zero(t: Any) -> Any:
        if isinstance(t, str):
            if t == "publicKey":
                from solders.pubkey import Pubkey

                return Pubkey.default()
            if t == "bool":
                return False
            if t in ("f32", "f64"):
                return 0.0
            return 0
        if "array" in t:
            inner, n = t["array"]
            return [zero(inner) for _ in range(n)]
        if "defined" in t:
            d = types[t["defined"]]
            if d["kind"] == "enum":
                return {d["variants"][0]["name"]: {}}
            return {_snake(f["name"]): zero(f["type"]) for f in d["fields"]}
        if "option" in t:
            return None
        if "vec" in t:
            return []
        raise ValueError(f"no zero for {t}")

    out: dict[str, Any] = zero({"defined": name})
    return out


@cache
def openbook_idl() -> OpenBookIdl:
    """The vendored IDL's coder (built once)."""
    return OpenBookIdl()
