"""Files that cannot be read (corrupt, truncated, mislabelled, empty, unreachable) give one DataError line."""

import gzip
import os
import random
import zlib

import pandas as pd
import pytest

from botnft.data.loader import load_candles, load_funding
from botnft.domain.errors import DataError, UserError

HEADER = "open_time,open,high,low,close,volume\n"
ROWS = [f"2024-01-01T{h:02d}:00:00Z,100,101,99,100.5,10" for h in range(24)]
GOOD = (HEADER + "\n".join(ROWS) + "\n").encode()


def big_gzip() -> bytes:
    """A gzip CSV whose text does not repeat, so damage in the middle breaks the deflate stream."""
    rng = random.Random(7)
    rows = [
        f"{1704067200000 + i * 60000},{100 + rng.random():.4f},102,99,"
        f"{100 + rng.random():.4f},{rng.random():.3f}"
        for i in range(20_000)
    ]
    return gzip.compress((HEADER + "\n".join(rows) + "\n").encode(), mtime=0)


def damaged_in_the_middle(data: bytes) -> bytes:
    """Overwrite 256 bytes in the middle with noise until zlib itself (not the CRC check) refuses it."""
    mid = len(data) // 2
    for seed in range(500):
        rng = random.Random(seed)
        out = data[:mid] + bytes(rng.randrange(256) for _ in range(256)) + data[mid + 256 :]
        try:
            gzip.decompress(out)
        except zlib.error:
            return out
        except Exception:
            continue
    raise AssertionError("no noise produced a zlib error")


def one_line_error(path) -> str:
    with pytest.raises(DataError) as info:
        load_candles(path)
    assert isinstance(info.value, UserError)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_gzip_csv_corrupted_in_the_middle_is_a_data_error_not_a_zlib_error(tmp_path):
    p = tmp_path / "mid.csv.gz"
    p.write_bytes(damaged_in_the_middle(big_gzip()))
    message = one_line_error(p)
    assert message.startswith(f"cannot read {p}: ")
    assert "corrupt" in message or "fields" in message


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("cut.csv.gz", lambda: big_gzip()[: len(big_gzip()) // 2], "the file is truncated"),
        ("crc.csv.gz", lambda: big_gzip()[:-8] + b"\0\0\0\0" + big_gzip()[-4:], "the gzip data is corrupt"),
        ("plain.csv.gz", lambda: GOOD, "named .gz but not gzip data"),
        ("noise.csv", lambda: random.Random(1).randbytes(4000), "binary data"),
        (
            "latin.csv",
            lambda: HEADER.encode() + "2024-01-01T00:00:00Z,1\xe9,1,1,1,1\n".encode("latin-1"),
            "not UTF-8",
        ),
        ("empty.csv", lambda: b"", "the file is empty"),
        ("empty.csv.gz", lambda: gzip.compress(b""), "the file is empty"),
        ("broken.parquet", lambda: b"PAR1" + bytes(3000) + b"PAR1", "cannot read"),
        ("text.parquet", lambda: GOOD, "named .parquet but not a Parquet file"),
        ("fake.zip", lambda: b"PK\x03\x04" + bytes(200), "the zip archive is corrupt"),
        ("data.csv.bz2", lambda: b"BZh91AY&SY" + bytes(100), "bzip2-compressed data; accepted:"),
        ("ragged.csv", lambda: GOOD + b"2024-01-02T00:00:00Z,1,2,0.5,1,1,7,8\n", "line 26 has 8 fields"),
    ],
)
def test_unreadable_files_give_one_line_naming_the_file_and_the_reason(tmp_path, name, make, reason):
    p = tmp_path / name
    p.write_bytes(make())
    message = one_line_error(p)
    assert str(p) in message and reason in message


def test_a_truncated_parquet_file_is_a_data_error(tmp_path):
    p = tmp_path / "c.parquet"
    frame = pd.DataFrame({c: [1.0, 1.0] for c in ("open", "high", "low", "close", "volume")})
    frame.insert(0, "open_time", pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True))
    frame.to_parquet(p)
    p.write_bytes(p.read_bytes()[:-40])
    assert one_line_error(p).startswith(f"cannot read {p}: ")


def test_a_file_name_too_long_for_the_system_is_a_data_error(tmp_path):
    message = one_line_error(tmp_path / ("x" * 300 + ".csv"))
    assert message.startswith("cannot read ") and message.endswith("file name too long")
    assert "x" * 30 in message and len(message) < 200  # the 300 characters are shortened in the middle


def test_a_directory_and_a_missing_file_are_data_errors(tmp_path):
    (tmp_path / "d.csv").mkdir()
    assert one_line_error(tmp_path / "d.csv") == f"data path is a directory, not a file: {tmp_path / 'd.csv'}"
    assert one_line_error(tmp_path / "no.csv") == f"data file not found: {tmp_path / 'no.csv'}"


def test_a_file_without_read_permission_is_a_data_error(tmp_path):
    p = tmp_path / "locked.csv"
    p.write_bytes(GOOD)
    p.chmod(0)
    tmp_path.chmod(0o755)
    if os.geteuid() != 0:
        assert one_line_error(p) == f"cannot read {p}: permission denied"
        return
    read_end, write_end = os.pipe()  # root reads anything: ask a child that runs as nobody
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            os.setuid(65534)
            load_candles(p)
            said = "loaded"
        except DataError as exc:
            said = str(exc)
        except BaseException as exc:
            said = f"{type(exc).__name__}: {exc}"
        os.write(write_end, said.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        said = fh.read().decode()
    os.waitpid(pid, 0)
    assert said == f"cannot read {p}: permission denied"


def test_a_header_without_rows_is_refused(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(HEADER)
    assert one_line_error(p) == f"{p}: no rows"


def test_funding_files_share_the_same_guards(tmp_path):
    p = tmp_path / "f.csv.gz"
    p.write_bytes(gzip.compress(b"funding_time,funding_rate\n" + b"2024-01-01T00:00:00Z,0.0001\n" * 50)[:30])
    with pytest.raises(DataError, match="the file is truncated"):
        load_funding(p)


def test_a_fifo_is_not_read_as_a_file(tmp_path):
    p = tmp_path / "pipe.csv"
    os.mkfifo(p)
    assert one_line_error(p) == f"cannot read {p}: not a regular file"
