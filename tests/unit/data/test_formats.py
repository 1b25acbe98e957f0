"""The accepted formats: ISO 8601 and epoch times, Binance's kline and funding layouts, Parquet, zip, gzip."""

import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest

from botnft.data.loader import load_candles, load_funding
from botnft.domain.errors import DataError

T0 = 1_704_067_200  # 2024-01-01T00:00:00Z in epoch seconds
HOUR_NS = 3_600_000_000_000
EXPECTED_NS = [T0 * 10**9 + i * HOUR_NS for i in range(3)]
PRICES = ["100,101,99,100.5,10", "100.5,102,100,101,12", "101,103,100.5,102,9"]


def csv(tmp_path, times, name="c.csv", header="open_time,open,high,low,close,volume"):
    p = tmp_path / name
    text = header + "\n" + "\n".join(f"{t},{row}" for t, row in zip(times, PRICES, strict=True)) + "\n"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("times", "unit"),
    [
        ([T0 + 3600 * i for i in range(3)], "seconds"),
        ([(T0 + 3600 * i) * 1000 for i in range(3)], "milliseconds (Binance)"),
        ([(T0 + 3600 * i) * 10**6 for i in range(3)], "microseconds (Binance spot since 2025)"),
        ([(T0 + 3600 * i) * 10**9 for i in range(3)], "nanoseconds"),
        (["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"], "ISO 8601 with Z"),
        (["2024-01-01 00:00:00", "2024-01-01 01:00:00", "2024-01-01 02:00:00"], "ISO 8601 naive = UTC"),
        (["2024-01-01T02:00:00+02:00", "2024-01-01T03:00:00+02:00", "2024-01-01T04:00:00+02:00"], "offset"),
    ],
)
def test_every_accepted_time_format_gives_the_same_utc_nanoseconds(tmp_path, times, unit):
    assert load_candles(csv(tmp_path, times)).ts_ns.tolist() == EXPECTED_NS, unit


def test_binance_headerless_kline_csv_loads_including_a_switch_from_ms_to_us(tmp_path):
    ms, us = (T0 * 1000, (T0 + 3600) * 10**6)
    rows = [
        f"{ms},100,101,99,100.5,10,{ms + 3_599_999},1000,5,4,400,0",
        f"{us},100.5,102,100,101,12,{us + 3_599_999_999},1200,6,5,500,0",
    ]
    p = tmp_path / "SOLUSDT-1h-2024-12.csv"
    p.write_text("\n".join(rows) + "\n")
    b = load_candles(p)
    assert b.ts_ns.tolist() == EXPECTED_NS[:2]
    assert b.volume.tolist() == [10.0, 12.0] and b.close.tolist() == [100.5, 101.0]


def test_a_zip_holding_one_csv_loads_like_the_csv(tmp_path):
    p = tmp_path / "SOLUSDT-1h-2024-01.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.write(csv(tmp_path, [T0 * 1000 + 3_600_000 * i for i in range(3)]), "SOLUSDT-1h-2024-01.csv")
    assert load_candles(p).ts_ns.tolist() == EXPECTED_NS


def test_a_zip_with_two_files_is_refused(tmp_path):
    p = tmp_path / "two.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(DataError, match="must hold exactly one CSV file, this one holds 2"):
        load_candles(p)


def test_freqtrade_date_and_ccxt_timestamp_columns_name_the_open_time(tmp_path):
    iso = ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"]
    a = csv(tmp_path, iso, "a.csv", header="date,open,high,low,close,volume")
    b = csv(
        tmp_path, [t // 10**6 for t in EXPECTED_NS], "b.csv", header="timestamp,open,high,low,close,volume"
    )
    assert load_candles(a).ts_ns.tolist() == load_candles(b).ts_ns.tolist() == EXPECTED_NS


def test_a_quoted_header_with_windows_line_ends_loads(tmp_path):
    p = tmp_path / "q.csv"
    lines = [
        '"open_time","open","high","low","close","volume"',
        *(f'"{T0 + 3600 * i}",{r}' for i, r in enumerate(PRICES)),
    ]
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    assert load_candles(p).ts_ns.tolist() == EXPECTED_NS


def test_binance_funding_layouts_load(tmp_path):
    api = tmp_path / "api.csv"
    api.write_text(f"symbol,fundingTime,fundingRate,markPrice\nSOLUSDT,{T0 * 1000},0.0001,100\n")
    vision = tmp_path / "SOLUSDT-fundingRate-2024-01.csv.gz"
    vision.write_bytes(
        gzip.compress(f"calc_time,funding_interval_hours,last_funding_rate\n{T0 * 1000},8,-0.0002\n".encode())
    )
    assert load_funding(api).ts_ns.tolist() == [T0 * 10**9] and load_funding(api).rate.tolist() == [0.0001]
    assert load_funding(vision).rate.tolist() == [-0.0002]


@pytest.mark.parametrize(
    "times",
    [
        pd.to_datetime(EXPECTED_NS, utc=True),  # tz-aware timestamps
        pd.to_datetime(EXPECTED_NS),  # naive timestamps are UTC
        pd.to_datetime(EXPECTED_NS).as_unit("ms"),
        [t // 10**6 for t in EXPECTED_NS],  # epoch ms as int64
        ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"],
    ],
)
def test_parquet_files_load_with_datetime_epoch_or_text_times(tmp_path, times):
    frame = pd.DataFrame({"open_time": times, "open": [100.0, 100.5, 101.0], "high": [101.0, 102.0, 103.0]})
    frame = frame.assign(low=[99.0, 100.0, 100.5], close=[100.5, 101.0, 102.0], volume=[10, 12, 9], extra="x")
    frame.to_parquet(tmp_path / "c.parquet")
    b = load_candles(tmp_path / "c.parquet")
    assert b.ts_ns.tolist() == EXPECTED_NS and b.volume.tolist() == [10.0, 12.0, 9.0]


def test_wrong_columns_say_which_formats_are_accepted(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("time,price\n2024-01-01,1\n")
    with pytest.raises(DataError) as info:
        load_candles(p)
    message = str(info.value)
    assert message.startswith(f"{p}: missing column(s) open_time, open, high, low, close, volume; ")
    assert "open_time (or date, timestamp)" in message and "Binance's headerless kline CSV" in message
    assert "ISO 8601" in message and "epoch seconds/ms/µs/ns" in message


@pytest.mark.parametrize(
    ("time", "message"),
    [
        ("01/02/2024 00:00", "row 4: bad or missing time '01/02/2024 00:00'; accepted: ISO 8601"),
        ("1234", "row 4: epoch time 1234 is not seconds, ms, µs or ns since 1970"),
        ("", "row 4: bad or missing time"),
    ],
)
def test_a_time_in_no_accepted_format_is_refused_with_its_row_and_the_accepted_formats(
    tmp_path, time, message
):
    p = tmp_path / "t.csv"
    p.write_text(
        "open_time,open,high,low,close,volume\n"
        + "".join(f"{(T0 + 3600 * i) * 1000},100,101,99,100,1\n" for i in range(3))
        + f"{time},100,101,99,100,1\n"
    )
    with pytest.raises(DataError, match=message):
        load_candles(p)


def test_integers_and_floats_read_as_float64(tmp_path):
    b = load_candles(csv(tmp_path, [T0 + 3600 * i for i in range(3)]))
    assert b.open.dtype == np.float64 and b.volume.tolist() == [10.0, 12.0, 9.0]
