"""The Ed25519 key that signs access tokens, and the public keys every replica verifies with.

Sources, first found wins: the `signing_key` setting (environment or secret file), the `signing_key_file`
setting, then `<data_dir>/api/jwt-ed25519.pem`, generated on first start with mode 0600 (created
atomically, so several workers starting at once agree on one key). `kid` is the RFC 7638 thumbprint.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from botnft.api.settings import ApiSettings
from botnft.domain.errors import UserError

GENERATED_KEY_NAME = "jwt-ed25519.pem"


@dataclass(frozen=True)
class VerifyKey:
    kid: str
    key: Ed25519PublicKey


@dataclass(frozen=True)
class KeyRing:
    """The signing key (with its kid) and every public key accepted for verification, by kid."""

    signing_kid: str
    signing_key: Ed25519PrivateKey
    verify_keys: dict[str, Ed25519PublicKey]

    def jwks(self) -> dict[str, Any]:
        """The public keys as an RFC 7517 JWK set (never the private part)."""
        return {"keys": [public_jwk(key, kid) for kid, key in self.verify_keys.items()]}

    def __repr__(self) -> str:  # never show key material, even by accident
        return f"KeyRing(signing_kid={self.signing_kid!r}, verify_kids={sorted(self.verify_keys)!r})"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an OKP key: the members crv, kty, x in order, no spaces."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw_public(key))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def public_jwk(key: Ed25519PublicKey, kid: str) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_raw_public(key)),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    }


def _load_private(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise UserError(f"{where} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"{where} is not an Ed25519 key (the API signs with EdDSA)")
    return key


def _load_public(path: Path) -> Ed25519PublicKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read verify key {path}: {exc.strerror}") from None
    try:
        key: Any = serialization.load_pem_public_key(pem)
    except ValueError:
        key = _load_private(pem, f"verify key {path}").public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(f"verify key {path} is not an Ed25519 key")
    return key


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def generate_key_file(path: Path) -> None:
    """Write a new key to `path` with mode 0600 unless a file is already there (atomic: link, not rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_pem(Ed25519PrivateKey.generate()))
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another worker won the race: its key is the key
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def _read_generated(path: Path) -> Ed25519PrivateKey:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(f"signing key {path} is readable by others (mode {oct(mode & 0o777)}): chmod 600 it")
    return _load_private(path.read_bytes(), f"signing key {path}")


def load_keyring(settings: ApiSettings) -> KeyRing:
    if settings.signing_key is not None:
        private = _load_private(settings.signing_key.get_secret_value().encode(), "the signing_key setting")
    elif settings.signing_key_file is not None:
        try:
            pem = settings.signing_key_file.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read signing key {settings.signing_key_file}: {exc.strerror}") from None
        private = _load_private(pem, f"signing key {settings.signing_key_file}")
    else:
        path = settings.key_dir() / GENERATED_KEY_NAME
        if not path.exists():
            generate_key_file(path)
        private = _read_generated(path)
    kid = thumbprint(private.public_key())
    verify = {kid: private.public_key()}
    for extra in settings.verify_key_files:
        public = _load_public(extra)
        verify.setdefault(thumbprint(public), public)
    return KeyRing(signing_kid=kid, signing_key=private, verify_keys=verify)
