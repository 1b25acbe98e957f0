"""The wallet keypair: loaded from a Solana CLI file, a base58 secret or an environment variable; malformed
sources are one-line `UserError`s naming the source (never the secret); a group/other-readable file warns;
the secret never shows in repr, str, logs or pickles."""

from __future__ import annotations

import copy
import json
import logging
import pickle
from pathlib import Path

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.null_signer import NullSigner
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from botnft.domain.errors import UserError
from botnft.venues.solana.keypair import WalletKey, b58decode, load_keypair

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(raw: bytes) -> str:
    """Reference base58 encoder (repeated division), written independently of the decoder under test."""
    digits = []
    n = int.from_bytes(raw, "big")
    while n:
        n, r = divmod(n, 58)
        digits.append(ALPHABET[r])
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(digits))


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_cli_file_loads_the_keypair(tmp_path: Path) -> None:
    kp = Keypair()
    p = write(tmp_path / "id.json", json.dumps(list(bytes(kp))))
    key = load_keypair(path=p)
    assert key.pubkey == kp.pubkey()
    msg = b"hello"
    assert key.sign_message(msg) == kp.sign_message(msg)


def test_base58_secret_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    kp = Keypair()
    secret = b58encode(bytes(kp))
    assert str(kp) == secret  # solders prints a keypair as base58 of its 64 bytes: our reference agrees
    assert load_keypair(secret=secret).pubkey == kp.pubkey()
    monkeypatch.setenv("BOT_TEST_SOLANA_KEY", secret)
    assert load_keypair(env="BOT_TEST_SOLANA_KEY").pubkey == kp.pubkey()
    monkeypatch.setenv("BOT_TEST_SOLANA_KEY", json.dumps(list(bytes(kp))))
    assert load_keypair(env="BOT_TEST_SOLANA_KEY").pubkey == kp.pubkey()


def test_base58_decoder_keeps_leading_zero_bytes() -> None:
    raw = b"\0\0" + bytes(range(1, 40))
    assert b58decode(b58encode(raw)) == raw


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[1, 2, 3]", "64-byte"),
        ("not json at all [", "base58"),
        ("[" + ",".join(["300"] * 64) + "]", "JSON array of 64 bytes"),
        ("[" + ",".join(["true"] * 64) + "]", "JSON array of 64 bytes"),
        ("", "empty"),
        ("0OIl", "base58"),
    ],
)
def test_malformed_file_is_one_line_naming_the_file(tmp_path: Path, text: str, needle: str) -> None:
    p = write(tmp_path / "bad.json", text)
    with pytest.raises(UserError) as e:
        load_keypair(path=p)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg and needle in msg


def test_mismatched_halves_are_refused_without_showing_the_secret(tmp_path: Path) -> None:
    a, b = Keypair(), Keypair()
    raw = bytes(a)[:32] + bytes(b.pubkey())
    p = write(tmp_path / "mixed.json", json.dumps(list(raw)))
    with pytest.raises(UserError, match="public half does not match") as e:
        load_keypair(path=p)
    secret_b58 = b58encode(raw)
    assert secret_b58 not in str(e.value) and str(list(raw)[:8])[1:-1] not in str(e.value)
    with pytest.raises(UserError) as e2:
        load_keypair(secret=secret_b58)
    assert secret_b58 not in str(e2.value) and "keypair secret" in str(e2.value)


def test_missing_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match="not found"):
        load_keypair(path=tmp_path / "absent.json")
    monkeypatch.delenv("BOT_TEST_NO_SUCH_VAR", raising=False)
    with pytest.raises(UserError, match="BOT_TEST_NO_SUCH_VAR: not set"):
        load_keypair(env="BOT_TEST_NO_SUCH_VAR")
    with pytest.raises(UserError, match="one of"):
        load_keypair()
    with pytest.raises(UserError, match="one of"):
        load_keypair(secret="x", env="Y")


def test_group_readable_file_warns_private_file_does_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kp = Keypair()
    text = json.dumps(list(bytes(kp)))
    with caplog.at_level(logging.WARNING, logger="botnft.venues.solana"):
        load_keypair(path=write(tmp_path / "private.json", text, 0o600))
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="botnft.venues.solana"):
        key = load_keypair(path=write(tmp_path / "open.json", text, 0o644))
    assert key.pubkey == kp.pubkey()
    (rec,) = caplog.records
    assert "open.json" in rec.getMessage() and "644" in rec.getMessage()
    assert b58encode(bytes(kp)) not in rec.getMessage()


def test_the_secret_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    kp = Keypair()
    key = WalletKey(kp, "test")
    secret = b58encode(bytes(kp))
    for text in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert secret not in text and str(kp.pubkey()) in text and "redacted" in text
    with caplog.at_level(logging.INFO):
        logging.getLogger("botnft.test").info("using %s / %r", key, key)
    assert secret not in caplog.text
    for leak in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            leak(key)
    assert not any(secret in str(getattr(key, a, "")) for a in dir(key) if not a.startswith("__"))


def _transfer_tx(payer: Pubkey, other_signer: Pubkey | None = None) -> VersionedTransaction:
    ix = transfer(TransferParams(from_pubkey=payer, to_pubkey=Pubkey.new_unique(), lamports=1))
    ixs = [ix]
    if other_signer is not None:
        ixs.append(transfer(TransferParams(from_pubkey=other_signer, to_pubkey=payer, lamports=1)))
    msg = MessageV0.try_compile(payer, ixs, [], Hash.default())
    n = msg.header.num_required_signatures
    return VersionedTransaction.populate(msg, [Signature.default()] * n)


def test_sign_fills_only_its_own_slot() -> None:
    user, pool = Keypair(), Keypair()
    tx = _transfer_tx(user.pubkey(), pool.pubkey())
    raw = to_bytes_versioned(tx.message)
    keys = list(tx.message.account_keys[:2])
    sigs = list(tx.signatures)
    sigs[keys.index(pool.pubkey())] = pool.sign_message(raw)
    partially = VersionedTransaction.populate(tx.message, sigs)
    signed = WalletKey(user, "t").sign(partially)
    # the same as solders signing with both keys at once
    assert signed.signatures == VersionedTransaction(tx.message, [user, pool]).signatures
    assert signed.verify_with_results() == [True, True]
    with pytest.raises(ValueError, match="also needs"):
        WalletKey(user, "t").sign(tx)  # the pool's signature is missing
    with pytest.raises(ValueError, match="not a signer"):
        WalletKey(Keypair(), "t").sign(partially)
    assert NullSigner(user.pubkey()).pubkey() == user.pubkey()
