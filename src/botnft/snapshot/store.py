"""Stored snapshots: one JSON file per name under ``<runs_dir>/snapshots/``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from botnft.domain.errors import DataError, UserError
from botnft.snapshot.model import NAME_RE, Snapshot

SUBDIR = "snapshots"


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise UserError(
            f"snapshot name {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def snapshot_dir(runs_dir: Path) -> Path:
    return Path(runs_dir) / SUBDIR


def save(snapshot: Snapshot, runs_dir: Path, *, replace: bool = False) -> Path:
    """Write `snapshot` atomically; an existing name is refused unless `replace`."""
    folder = snapshot_dir(runs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{check_name(snapshot.name)}.json"
    if path.exists() and not replace:
        raise UserError(f"snapshot {snapshot.name!r} exists ({path}); pass --replace to overwrite it")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{snapshot.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(snapshot.to_json(), fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(name: str, runs_dir: Path) -> Snapshot:
    path = snapshot_dir(runs_dir) / f"{check_name(name)}.json"
    if not path.is_file():
        known = ", ".join(names(runs_dir)) or "none"
        raise UserError(f"no snapshot named {name!r} in {snapshot_dir(runs_dir)} (stored: {known})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"snapshot file {path} is corrupt: {exc}") from None
    return Snapshot.from_json(raw, str(path))


def names(runs_dir: Path) -> list[str]:
    folder = snapshot_dir(runs_dir)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if NAME_RE.match(p.stem))
