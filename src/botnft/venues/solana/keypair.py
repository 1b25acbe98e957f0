"""The wallet's keypair: read from a Solana CLI keypair file (a JSON array of 64 bytes) or from a secret (an
environment variable or a string holding base58 or the same JSON array).

A malformed source is a `UserError` of one line naming the source, never its content; a keypair file that
group or others may read is loaded with a warning (the Solana CLI writes them 0600). The secret never leaves
`WalletKey`: its repr and str show the public key only, and it refuses to be pickled or copied.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import NoReturn

from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from botnft.domain.errors import UserError

__all__ = ["WalletKey", "load_keypair"]

log = logging.getLogger("botnft.venues.solana")

KEYPAIR_BYTES = 64
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def b58decode(text: str) -> bytes:
    """Bitcoin-alphabet base58 (what Solana wallets export); `ValueError` on a character outside it."""
    n = 0
    for c in text:
        if c not in _B58_INDEX:
            raise ValueError("not base58")
        n = n * 58 + _B58_INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


class WalletKey:
    """A signing key whose secret is never shown: `pubkey`, `sign_message` and `sign` only."""

    __slots__ = ("_pubkey", "_sign", "source")

    def __init__(self, keypair: Keypair, source: str) -> None:
        # the keypair is held only by this closure: no attribute of the object is (or prints) the secret
        def sign(message: bytes) -> Signature:
            return keypair.sign_message(message)

        self._sign = sign
        self._pubkey = keypair.pubkey()
        self.source = source

    @property
    def pubkey(self) -> Pubkey:
        return self._pubkey

    @property
    def address(self) -> str:
        return str(self._pubkey)

    def sign_message(self, message: bytes) -> Signature:
        return self._sign(message)

    def sign(self, tx: VersionedTransaction) -> VersionedTransaction:
        """`tx` with this key's signature in its slot; the other signatures (a pool authority's, filled in
        by whoever built it) are kept. Raises `ValueError` if the key is not among the required signers or
        another required signature is missing."""
        msg = tx.message
        n = msg.header.num_required_signatures
        signers = list(msg.account_keys[:n])
        if self.pubkey not in signers:
            raise ValueError(f"{self.address} is not a signer of this transaction")
        mine = signers.index(self.pubkey)
        raw = to_bytes_versioned(msg) if isinstance(msg, MessageV0) else bytes(msg)
        sigs = list(tx.signatures)
        sigs[mine] = self.sign_message(raw)
        unsigned = [str(signers[i]) for i, s in enumerate(sigs) if s == Signature.default()]
        if unsigned:
            raise ValueError(f"the transaction also needs the signatures of {', '.join(unsigned)}")
        return VersionedTransaction.populate(msg, sigs)

    def __repr__(self) -> str:
        return f"WalletKey({self.address}, secret=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a WalletKey cannot be pickled")

    def __copy__(self) -> NoReturn:
        raise TypeError("a WalletKey cannot be copied")

    def __deepcopy__(self, memo: object) -> NoReturn:
        raise TypeError("a WalletKey cannot be copied")


def _from_bytes(raw: bytes, source: str) -> WalletKey:
    if len(raw) != KEYPAIR_BYTES:
        raise UserError(f"{source}: expected a 64-byte keypair, got {len(raw)} bytes")
    try:
        kp = Keypair.from_bytes(raw)
    except ValueError:
        raise UserError(f"{source}: not a valid ed25519 keypair (public half does not match)") from None
    if bytes(kp.pubkey()) != raw[32:]:
        raise UserError(f"{source}: not a valid ed25519 keypair (public half does not match)")
    return WalletKey(kp, source)


def _from_text(text: str, source: str) -> WalletKey:
    text = text.strip()
    if not text:
        raise UserError(f"{source}: empty")
    if text.startswith("["):
        try:
            values = json.loads(text)
        except ValueError:
            raise UserError(f"{source}: not a JSON array of 64 bytes") from None
        if not (
            isinstance(values, list)
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 256 for v in values)
        ):
            raise UserError(f"{source}: not a JSON array of 64 bytes")
        return _from_bytes(bytes(values), source)
    try:
        raw = b58decode(text)
    except ValueError:
        raise UserError(f"{source}: neither a JSON array of 64 bytes nor base58") from None
    return _from_bytes(raw, source)


def load_keypair(
    *, path: str | Path | None = None, secret: str | None = None, env: str | None = None
) -> WalletKey:
    """The keypair from exactly one source: a keypair file, a secret string, or an environment variable
    holding one. Raises `UserError` (one line naming the source) when it is missing or malformed."""
    given = [s for s in (path, secret, env) if s is not None]
    if len(given) != 1:
        raise UserError(
            "give the Solana keypair as exactly one of a file, a secret or an environment variable"
        )
    if path is not None:
        p = Path(path).expanduser()
        source = f"keypair file {p}"
        try:
            mode = p.stat().st_mode
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"{source}: not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{source}: cannot be read ({type(exc).__name__})") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("%s is readable by group or others (mode %o): chmod 600 it", source, mode & 0o777)
        return _from_text(text, source)
    if env is not None:
        source = f"environment variable {env}"
        value = os.environ.get(env)
        if value is None:
            raise UserError(f"{source}: not set")
        return _from_text(value, source)
    assert secret is not None
    return _from_text(secret, "keypair secret")
