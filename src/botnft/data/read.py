"""Open a market-data file and stream it in chunks (CSV plain/.gz/.zip, or Parquet) under size and row limits.

Whatever goes wrong while reading (missing, unreadable, corrupt, not what its name says) is one `DataError`.
"""

from __future__ import annotations

import csv
import gzip
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from botnft.domain.errors import DataError

MAX_BYTES = 1 << 30  # on disk; a gzip CSV of 1 GiB is already ~60 million rows
MAX_ROWS = 10_000_000  # 19 years of 1-minute bars: 6 float64 arrays of 80 MB each
CHUNK_ROWS = 200_000

_MAGIC = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"PAR1": "parquet"}
_UNSUPPORTED = {b"BZh": "bzip2", b"\xfd7zXZ": "xz", b"\x28\xb5\x2f\xfd": "zstd", b"7z\xbc\xaf": "7z"}
_PEEK = 1 << 16


@dataclass(frozen=True, slots=True)
class Limits:
    """What one load may take: bytes on disk, data rows, and rows parsed at a time."""

    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS
    chunk_rows: int = CHUNK_ROWS


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns a loader needs: canonical name -> accepted header spellings (compared without case,
    spaces or underscores), and the column names of a headerless file, if that form is accepted."""

    kind: str
    columns: dict[str, tuple[str, ...]]
    headerless: tuple[str, ...] | None
    accepted: str  # what the user is told when the columns do not fit


def shown(path: Path) -> str:
    """The path as printed in a message (a path of hundreds of characters is shortened in the middle)."""
    s = str(path)
    return s if len(s) <= 120 else f"{s[:70]}…{s[-40:]}"


def _fail(path: Path, reason: str) -> DataError:
    return DataError(f"cannot read {shown(path)}: {reason}")


def _reason(exc: BaseException) -> str:
    """One line saying why a read failed, for the errors the decoders raise."""
    if isinstance(exc, zlib.error):
        return f"the gzip data is corrupt ({exc})"
    if isinstance(exc, EOFError):
        return "the file is truncated (the compressed stream ends early)"
    if isinstance(exc, gzip.BadGzipFile):
        return f"the gzip data is corrupt ({exc})"
    if isinstance(exc, zipfile.BadZipFile):
        return f"the zip archive is corrupt ({exc})"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.object[exc.start : exc.start + 1]!r} at offset {exc.start})"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    text = str(exc).strip().splitlines()
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text[0] if text else "")
    if ragged:
        want, line, saw = ragged.groups()
        return f"line {line} has {saw} fields where the header has {want}"
    return text[0] if text else type(exc).__name__


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def check_file(path: Path, limits: Limits) -> str:
    """Refuse what is not a readable regular file within the byte limit; return its container kind."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"data file not found: {shown(path)}") from None
    except OSError as exc:
        raise _fail(path, _reason(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"data path is a directory, not a file: {shown(path)}")
    if not stat.S_ISREG(st.st_mode):
        raise _fail(path, "not a regular file")
    if st.st_size == 0:
        raise _fail(path, "the file is empty")
    if st.st_size > limits.max_bytes:
        raise DataError(
            f"{shown(path)} is {_size(st.st_size)}, over the loader's limit of "
            f"{_size(limits.max_bytes)}; cut it to the span you backtest "
            "(e.g. one file per year) and load that"
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise _fail(path, _reason(exc)) from None
    container = next((k for m, k in _MAGIC.items() if head.startswith(m)), "plain")
    other = next((k for m, k in _UNSUPPORTED.items() if head.startswith(m)), None)
    name = path.name.lower()
    if other:
        raise _fail(path, f"{other}-compressed data; accepted: plain CSV, .csv.gz, .zip or Parquet")
    if name.endswith(".gz") and container != "gzip":
        raise _fail(path, "named .gz but not gzip data")
    if name.endswith(".zip") and container != "zip":
        raise _fail(path, "named .zip but not a zip archive")
    if name.endswith(".parquet") and container != "parquet":
        raise _fail(path, "named .parquet but not a Parquet file")
    return container


def _text_head(path: Path, container: str) -> str:
    """The first bytes of the CSV text, decoded; refuses binary content early."""
    try:
        if container == "gzip":
            with gzip.open(path, "rb") as fh:
                raw = fh.read(_PEEK)
        elif container == "zip":
            with zipfile.ZipFile(path) as zf:
                members = [i for i in zf.infolist() if not i.is_dir()]
                if len(members) != 1:
                    raise _fail(
                        path, f"a zip archive must hold exactly one CSV file, this one holds {len(members)}"
                    )
                with zf.open(members[0]) as fh:
                    raw = fh.read(_PEEK)
        else:
            with path.open("rb") as fh:
                raw = fh.read(_PEEK)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise _fail(path, _reason(exc)) from None
    if b"\x00" in raw:
        raise _fail(path, "binary data, not CSV text")
    if not raw.strip():
        raise _fail(path, "the file is empty")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 3:  # not merely a character cut at the end of the peek
            raise _fail(path, _reason(exc)) from None
        return raw[: exc.start].decode("utf-8-sig")


def _key(name: object) -> str:
    return str(name).strip().lower().replace("_", "").replace(" ", "")


def _resolve(path: Path, header: Sequence[object], layout: Layout) -> dict[str, str]:
    """Actual column name -> canonical name, for the columns `layout` needs."""
    found: dict[str, str] = {}
    keys = {_key(h): str(h) for h in reversed(list(header))}
    missing = []
    for canon, spellings in layout.columns.items():
        hit = next((keys[_key(s)] for s in (canon, *spellings) if _key(s) in keys), None)
        if hit is None:
            missing.append(canon)
        else:
            found[hit] = canon
    if missing:
        raise DataError(f"{shown(path)}: missing column(s) {', '.join(missing)}; {layout.accepted}")
    return found


def _is_number(field: str) -> bool:
    return field.strip().lstrip("-").isdigit()


def csv_chunks(path: Path, container: str, layout: Layout, limits: Limits) -> Iterator[pd.DataFrame]:
    """The needed columns, renamed to their canonical names, `limits.chunk_rows` rows at a time."""
    head = _text_head(path, container)
    first = next(csv.reader([head.splitlines()[0]]))
    names: list[str] | None = None
    header: Sequence[object] = first
    if layout.headerless and _is_number(first[0]) and len(first) >= len(layout.headerless):
        extra = len(first) - len(layout.headerless)
        names = [*layout.headerless, *(f"extra{i}" for i in range(extra))]
        header = names
    rename = _resolve(path, header, layout)
    compression: Literal["gzip", "zip"] | None = (
        "gzip" if container == "gzip" else "zip" if container == "zip" else None
    )
    try:
        reader = pd.read_csv(
            path,
            compression=compression,
            header=None if names else 0,
            names=names,
            chunksize=limits.chunk_rows,
            skipinitialspace=True,
        )
        rows = 0
        with reader:
            for chunk in reader:
                rows += len(chunk)
                if rows > limits.max_rows:
                    raise too_many_rows(path, limits)
                yield chunk[list(rename)].rename(columns=rename)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile, pd.errors.ParserError) as exc:
        raise _fail(path, _reason(exc)) from None


def parquet_chunks(path: Path, layout: Layout, limits: Limits) -> Iterator[pd.DataFrame]:
    """The needed columns of a Parquet file, renamed, one batch at a time; the row limit is checked first."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        rename = _resolve(path, pf.schema_arrow.names, layout)
        rows = pf.metadata.num_rows
        if rows > limits.max_rows:
            raise too_many_rows(path, limits)
        for batch in pf.iter_batches(batch_size=limits.chunk_rows, columns=list(rename)):
            yield batch.to_pandas().rename(columns=rename)
    except DataError:
        raise
    except (pa.ArrowException, OSError, ValueError, EOFError) as exc:
        raise _fail(path, _reason(exc)) from None


def too_many_rows(path: Path, limits: Limits) -> DataError:
    return DataError(
        f"{shown(path)}: more than {limits.max_rows:,} rows, the loader's limit; cut it to the span you "
        f"backtest (e.g. keep the header and the rows of the years you need) and load that"
    )


def chunks(path: Path, layout: Layout, limits: Limits) -> Iterator[pd.DataFrame]:
    """Stream any accepted file; the caller validates each chunk before the next is read."""
    container = check_file(path, limits)
    if container == "parquet":
        yield from parquet_chunks(path, layout, limits)
    else:
        yield from csv_chunks(path, container, layout, limits)
