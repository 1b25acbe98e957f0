"""A snapshot from an input document (the two shapes the package docstring describes)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from botnft.domain.errors import DataError, UserError
from botnft.snapshot.model import DriftPerpState, DriftSpotState, OpenBookState, RaydiumPoolState, Snapshot
from botnft.snapshot.openbook import BOOK_KINDS
from botnft.snapshot.raydium import AUX_KINDS, POOL_KINDS, pool_from_account

DRIFT_KINDS = ("drift_perp_market", "drift_spot_market")
KINDS = (*DRIFT_KINDS, *POOL_KINDS, *AUX_KINDS, *BOOK_KINDS)


def read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory, not a snapshot file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 JSON") from None
    try:
        return json.loads(text, parse_float=Decimal)  # the Raydium API parser takes exact numbers
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def _data(entry: Mapping[str, Any], where: str) -> bytes:
    raw = entry.get("data")
    if isinstance(raw, list) and len(raw) == 2 and raw[1] == "base64":
        raw = raw[0]
    if not isinstance(raw, str):
        raise DataError(f'{where}: data is base64 text or [base64, "base64"]')
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise DataError(f"{where}: data is not valid base64") from None


def _slot(doc: Mapping[str, Any]) -> int | None:
    ctx = doc.get("context")
    raw = doc.get("slot", ctx.get("slot") if isinstance(ctx, Mapping) else None)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise DataError(f"slot must be a whole number >= 0, got {raw!r}")
    return raw


def _taken_at(doc: Mapping[str, Any]) -> str | None:
    raw = doc.get("taken_at")
    if raw is None:
        return None
    try:
        t = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"taken_at {raw!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def is_api_document(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "accounts" not in doc and "data" in doc


def accounts_of(doc: Any) -> dict[str, tuple[str, bytes, str | None]]:
    """``pubkey -> (kind, bytes, owner)`` of an accounts document, each entry checked."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("accounts"), list):
        raise DataError('a snapshot file is {"accounts": [...]} or a Raydium API answer ({"data": ...})')
    kinds = KINDS
    out: dict[str, tuple[str, bytes, str | None]] = {}
    for i, entry in enumerate(doc["accounts"]):
        where = f"accounts[{i}]"
        if not isinstance(entry, Mapping):
            raise DataError(f"{where} is not a JSON object")
        pubkey, kind = entry.get("pubkey"), entry.get("kind")
        if not isinstance(pubkey, str) or not pubkey:
            raise DataError(f"{where} has no pubkey")
        if kind not in kinds:
            raise DataError(f"{where} ({pubkey}): kind {kind!r} is not one of {', '.join(kinds)}")
        if pubkey in out:
            raise DataError(f"{where}: account {pubkey} is listed twice")
        owner = entry.get("owner")
        out[pubkey] = (kind, _data(entry, f"{where} ({pubkey})"), owner if isinstance(owner, str) else None)
    if not out:
        raise DataError("the snapshot file lists no accounts")
    return out


def snapshot_from_accounts(
    accounts: Mapping[str, tuple[str, bytes, str | None]],
    *,
    name: str,
    slot: int | None,
    taken_at: str | None,
    source: str,
) -> Snapshot:
    perps: list[DriftPerpState] = []
    spots: list[DriftSpotState] = []
    pools: list[RaydiumPoolState] = []
    books: list[OpenBookState] = []
    if any(kind in DRIFT_KINDS for kind, _, _ in accounts.values()):
        from botnft.snapshot.drift import decode_perp_market, decode_spot_market

        for pubkey, (kind, data, owner) in accounts.items():
            if kind == "drift_perp_market":
                perps.append(decode_perp_market(data, pubkey, owner))
            elif kind == "drift_spot_market":
                spots.append(decode_spot_market(data, pubkey, owner))
    if any(kind in POOL_KINDS for kind, _, _ in accounts.values()):
        plain = {k: (kind, data) for k, (kind, data, _) in accounts.items()}
        for pubkey, (kind, data, _) in accounts.items():
            if kind in POOL_KINDS:
                pools.append(pool_from_account(kind, pubkey, data, plain))
    if any(kind == "openbook_market" for kind, _, _ in accounts.values()):
        from botnft.snapshot.openbook import market_from_accounts

        plain = {k: (kind, data) for k, (kind, data, _) in accounts.items()}
        for pubkey, (kind, data, _) in accounts.items():
            if kind == "openbook_market":
                books.append(market_from_accounts(pubkey, data, plain))
    _unique([m.symbol for m in perps], "Drift perp market")
    _unique([m.symbol for m in spots], "Drift spot market")
    _unique([p.kind for p in pools], "Raydium pool kind")
    if len(books) > 1:
        raise DataError(f"the file lists {len(books)} OpenBook markets: a snapshot holds one")
    if not (perps or spots or pools or books):
        raise DataError("the snapshot file lists no market or pool account (only accounts pools read)")
    return Snapshot(
        name, slot, taken_at, _now(), source, tuple(perps), tuple(spots), tuple(pools), tuple(books)
    )


def _unique(items: list[str], what: str) -> None:
    dup = sorted({x for x in items if items.count(x) > 1})
    if dup:
        raise DataError(f"{what} {', '.join(dup)} appears twice: a snapshot holds one of each")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def snapshot_from_document(doc: Any, *, name: str, source: str) -> Snapshot:
    """The snapshot an input document describes (accounts or a Raydium API answer)."""
    if is_api_document(doc):
        from botnft.snapshot.raydium import pools_from_api
        from botnft.venues.raydium.api import PoolInfo

        pools = pools_from_api(doc, PoolInfo.parse)
        if not pools:
            raise DataError("the Raydium API answer lists no pool")
        _unique([p.kind for p in pools], "Raydium pool kind")
        return Snapshot(name, _slot(doc), _taken_at(doc), _now(), source, raydium_pools=tuple(pools))
    accounts = accounts_of(doc)
    src = doc.get("source")
    return snapshot_from_accounts(
        accounts,
        name=name,
        slot=_slot(doc),
        taken_at=_taken_at(doc),
        source=f"{source} ({src})" if isinstance(src, str) and src else source,
    )
