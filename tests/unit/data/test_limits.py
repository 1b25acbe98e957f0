"""Loading streams in chunks: a bad row fails at its chunk, big files are refused, values stay exact."""

import gzip

import numpy as np
import pandas as pd
import pytest

from botnft.data import bundle
from botnft.data.loader import load_candles, load_funding
from botnft.data.read import MAX_BYTES, MAX_ROWS, Limits
from botnft.domain.errors import DataError

HEADER = "open_time,open,high,low,close,volume\n"
T0_MS = 1_704_067_200_000


def rows(n, start=0):
    return [f"{T0_MS + 60_000 * i},100,101,99,100.5,10" for i in range(start, start + n)]


def test_a_bad_row_fails_at_its_chunk_before_the_rest_of_the_file_is_read(tmp_path):
    """The file's tail is truncated gzip: a loader that reads the whole file first reports that instead."""
    body = [*rows(2), f"{T0_MS + 120_000},100,101,99,102,10", *rows(20_000, start=3)]
    data = gzip.compress((HEADER + "\n".join(body) + "\n").encode(), mtime=0)
    p = tmp_path / "deep.csv.gz"
    p.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(DataError, match=r"row 3: close 102\.0 is not between low 99\.0 and high 101\.0"):
        load_candles(p, Limits(chunk_rows=100))
    with pytest.raises(DataError, match="the file is truncated"):
        load_candles(p, Limits(chunk_rows=100_000))


def test_rows_are_numbered_across_chunks(tmp_path):
    p = tmp_path / "c.csv"
    body = [*rows(9), f"{T0_MS + 8 * 60_000},100,101,99,100,1", *rows(5, start=20)]
    p.write_text(HEADER + "\n".join(body) + "\n")
    with pytest.raises(DataError, match="row 10: time does not increase"):
        load_candles(p, Limits(chunk_rows=3))  # row 10 opens the fourth chunk: the check spans chunks
    p.write_text(HEADER + "\n".join([*rows(7), f"{T0_MS + 7 * 60_000},100,101,99,100,-2"]) + "\n")
    with pytest.raises(DataError, match=r"row 8: volume is negative \(-2\.0\)"):
        load_candles(p, Limits(chunk_rows=3))


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path):
    p = tmp_path / "big.csv"
    p.write_text(HEADER + "\n".join(rows(100)) + "\n")
    size = p.stat().st_size
    with pytest.raises(DataError) as info:
        load_candles(p, Limits(max_bytes=size - 1))
    assert str(info.value) == (
        f"{p} is {size:,} bytes, over the loader's limit of {size - 1:,} bytes; "
        "cut it to the span you backtest (e.g. one file per year) and load that"
    )
    assert len(load_candles(p, Limits(max_bytes=size))) == 100


def test_a_file_over_the_row_limit_is_refused_with_the_limit_and_how_to_cut_it(tmp_path):
    p = tmp_path / "long.csv.gz"
    p.write_bytes(gzip.compress((HEADER + "\n".join(rows(25)) + "\n").encode()))
    with pytest.raises(DataError) as info:
        load_candles(p, Limits(max_rows=10, chunk_rows=4))
    assert str(info.value) == (
        f"{p}: more than 10 rows, the loader's limit; cut it to the span you backtest "
        "(e.g. keep the header and the rows of the years you need) and load that"
    )
    assert len(load_candles(p, Limits(max_rows=25, chunk_rows=4))) == 25


def test_a_parquet_file_over_the_row_limit_is_refused_from_its_metadata(tmp_path):
    n = 30
    frame = pd.DataFrame({"open_time": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")})
    frame = frame.assign(open=100.0, high=101.0, low=99.0, close=100.0, volume=1.0)
    frame.to_parquet(tmp_path / "c.parquet")
    with pytest.raises(DataError, match="more than 29 rows, the loader's limit"):
        load_candles(tmp_path / "c.parquet", Limits(max_rows=29))
    assert len(load_candles(tmp_path / "c.parquet", Limits(chunk_rows=7))) == n


def test_the_default_limits_are_stated_and_fit_a_decade_of_minute_bars():
    ten_years_of_minutes = 10 * 365 * 24 * 60
    assert MAX_ROWS == 10_000_000 > ten_years_of_minutes
    assert MAX_BYTES == 2**30


def test_the_bundled_candles_load_bit_for_bit_as_pandas_reads_them_whatever_the_chunk_size():
    path = bundle.get("sol-spot-1h").path
    frame = pd.read_csv(path)
    expected_ns = pd.to_datetime(frame["open_time"], utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    for chunk_rows in (997, 50_000, 200_000):
        b = load_candles(path, Limits(chunk_rows=chunk_rows))
        assert np.array_equal(b.ts_ns, expected_ns.to_numpy().astype(np.int64))
        for col in ("open", "high", "low", "close", "volume"):
            assert getattr(b, col).tobytes() == frame[col].to_numpy(dtype=np.float64).tobytes(), col


def test_the_bundled_funding_loads_bit_for_bit_as_pandas_reads_it():
    path = bundle.get("sol-funding").path
    frame = pd.read_csv(path)
    f = load_funding(path, Limits(chunk_rows=500))
    assert f.rate.tobytes() == frame["funding_rate"].to_numpy(dtype=np.float64).tobytes()
    assert f.ts_ns[0] == pd.Timestamp(frame["funding_time"].iloc[0]).value
