"""Where a run's files go: output paths checked before the run starts, a run folder that no other run (in any
database, at any moment) can share, and every file written atomically (a temp file renamed into place)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from botnft.domain.errors import UserError

NAME_MAX = 255  # bytes in one path component on Linux/macOS file systems


def check_output_file(path: Path, flag: str, protected: Iterable[Path] = ()) -> Path:
    """`path` as an absolute file path that can be written, else a one-line `UserError`. Nothing is written.

    Refuses a directory, a missing or unwritable folder, a name too long for the file system, and any path in
    `protected` (the input data files): an output must never overwrite an input."""
    p = Path(os.path.abspath(path.expanduser()))
    if len(p.name.encode()) > NAME_MAX:
        raise UserError(f"{flag}: file name is longer than {NAME_MAX} bytes: {p.name[:40]}…")
    if p.is_dir():
        raise UserError(f"{flag} {path} is a directory; give a file path")
    for q in protected:
        if q.exists() and (p == Path(os.path.abspath(q)) or (p.exists() and p.samefile(q))):
            raise UserError(f"{flag} {path} is an input data file; refusing to overwrite it")
    folder = p.parent
    if not folder.is_dir():
        raise UserError(f"{flag} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UserError(f"{flag} {path}: not writable")
    return p


def check_runs_dir(path: Path) -> Path:
    """`path` can hold run folders: it is a writable folder, or can be created in one. Nothing is written."""
    p = Path(os.path.abspath(path.expanduser()))
    existing = next(a for a in (p, *p.parents) if a.exists())
    if not existing.is_dir():
        raise UserError(f"runs folder {path} is not usable (set BOT_RUNS_DIR): {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"runs folder {path} is not usable (set BOT_RUNS_DIR): {existing} is not writable")
    return p


def new_run_dir(runs_dir: Path, now: datetime | None = None) -> Path:
    """A fresh folder `run-<UTC time>-<random>`: created exclusively, so concurrent runs and runs stored in
    different databases never share one."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    runs_dir.mkdir(parents=True, exist_ok=True)
    while True:
        candidate = runs_dir / f"run-{stamp}-{secrets.token_hex(3)}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write `data` to a temp file beside `path`, flush it to disk, then rename it over `path`: a reader (or a
    crash) sees the old file or the new one, never half of one."""
    blob = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:200]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
