"""Loading candles and funding: the bundled set, Parquet, and corrupt rows named by number."""

import gzip

import numpy as np
import pandas as pd
import pytest

from botnft.data import bundle
from botnft.data.bars import align_mark
from botnft.data.loader import load_candles, load_funding, write_parquet
from botnft.domain.errors import DataError

HEADER = "open_time,open,high,low,close,volume\n"
GOOD = [
    "2024-01-01T00:00:00Z,100,101,99,100.5,10",
    "2024-01-01T01:00:00Z,100.5,102,100,101,12",
    "2024-01-01T02:00:00Z,101,103,100.5,102,9",
]


def write(tmp_path, rows, name="c.csv.gz", header=HEADER):
    p = tmp_path / name
    with gzip.open(p, "wt") as fh:
        fh.write(header + "\n".join(rows) + "\n")
    return p


def test_the_bundled_data_covers_what_the_first_run_needs():
    spot = load_candles(bundle.get("sol-spot-1h").path)
    perp = load_candles(bundle.get("sol-perp-1h").path)
    mark = load_candles(bundle.get("sol-perp-mark-1h").path)
    funding = load_funding(bundle.get("sol-funding").path)
    year = lambda b: pd.Timestamp(int(b), unit="ns").year  # noqa: E731
    assert len(spot) == 50_489 and year(spot.ts_ns[0]) == 2020 and year(spot.ts_ns[-1]) == 2026
    assert len(perp) == 20_795 and len(mark) == 20_794
    assert year(funding.ts_ns[0]) <= 2024 and year(funding.ts_ns[-1]) == 2026
    assert spot.interval_ns == 3_600_000_000_000
    assert (bundle.BUNDLE_DIR / "README.md").exists()


def test_candles_load_with_open_times_in_utc_nanoseconds(tmp_path):
    b = load_candles(write(tmp_path, GOOD))
    assert b.ts_ns[0] == pd.Timestamp("2024-01-01T00:00:00Z").value
    assert b.interval_ns == 3_600_000_000_000
    assert b.close.tolist() == [100.5, 101.0, 102.0]


def test_parquet_and_csv_load_to_the_same_bars(tmp_path):
    b = load_candles(write(tmp_path, GOOD))
    write_parquet(b, tmp_path / "c.parquet")
    p = load_candles(tmp_path / "c.parquet")
    assert np.array_equal(b.ts_ns, p.ts_ns) and np.array_equal(b.close, p.close)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("2024-01-01T03:00:00Z,102,103,101,,5", "row 4: close is not a number"),
        ("2024-01-01T03:00:00Z,102,103,101,nan,5", "row 4: close is not a number"),
        ("2024-01-01T01:30:00Z,102,103,101,102,5", "row 4: time does not increase"),
        ("2024-01-01T02:00:00Z,102,103,101,102,5", "row 4: time does not increase"),
        ("2024-01-01T03:00:00Z,102,103,-1,102,5", "row 4: low must be positive"),
        ("2024-01-01T03:00:00Z,0,103,101,102,5", "row 4: open must be positive"),
        ("2024-01-01T03:00:00Z,102,100,101,102,5", "row 4: high is below low"),
        ("yesterday,102,103,101,102,5", "row 4: bad or missing time"),
        (
            "2024-01-01T03:00:00Z,104,103,101,102,5",
            r"row 4: open 104\.0 is not between low 101\.0 and high 103\.0",
        ),
        (
            "2024-01-01T03:00:00Z,102,103,101,100.5,5",
            r"row 4: close 100\.5 is not between low 101\.0 and high 103\.0",
        ),
        ("2024-01-01T03:00:00Z,102,103,101,103.01,5", r"row 4: close 103\.01 is not between low"),
        ("2024-01-01T03:00:00Z,102,103,101,102,-0.5", r"row 4: volume is negative \(-0\.5\)"),
        ("2024-01-01T03:00:00Z,abc,103,101,102,5", "row 4: open is not a number \\('abc'\\)"),
        ("2024-01-01T03:00:00Z,True,103,101,102,5", "row 4: open is not a number \\('True'\\)"),
        ("2024-01-01T03:00:00Z,102,103,101,102,1e999", "row 4: volume is not a number"),
    ],
)
def test_corrupt_rows_fail_fast_with_their_row_number(tmp_path, bad_row, message):
    with pytest.raises(DataError, match=message):
        load_candles(write(tmp_path, [*GOOD, bad_row]))


def test_an_open_or_close_on_the_edge_of_the_range_is_accepted(tmp_path):
    b = load_candles(write(tmp_path, [*GOOD, "2024-01-01T03:00:00Z,101,103,101,103,0"]))
    assert (b.open[-1], b.close[-1], b.volume[-1]) == (101.0, 103.0, 0.0)


def test_the_earliest_bad_row_is_named_whatever_the_check(tmp_path):
    rows = [*GOOD, "2024-01-01T03:00:00Z,104,103,101,102,5", "2024-01-01T04:00:00Z,-1,103,101,102,5"]
    with pytest.raises(DataError, match="row 4: open 104"):
        load_candles(write(tmp_path, rows))


@pytest.mark.parametrize("column", ["open", "high", "low", "close", "volume"])
def test_a_column_of_true_and_false_is_refused_not_read_as_ones_and_zeros(tmp_path, column):
    p = tmp_path / "b.csv"
    frame = pd.DataFrame(
        {
            "open_time": ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"],
            "open": [1.0, 1.0],
            "high": [1.0, 1.0],
        }
    ).assign(low=[1.0, 1.0], close=[1.0, 1.0], volume=[1.0, 1.0])
    frame[column] = [True, False]
    frame.to_csv(p, index=False)
    with pytest.raises(DataError, match=rf"row 1: {column} holds true/false values \(True\), not numbers"):
        load_candles(p)
    frame.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataError, match=rf"row 1: {column} holds true/false values \(True\), not numbers"):
        load_candles(tmp_path / "b.parquet")


def test_a_text_column_in_parquet_is_refused_at_its_first_non_number(tmp_path):
    frame = pd.DataFrame({"open_time": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True)})
    frame = frame.assign(open=["1.5", "x"], high=2.0, low=1.0, close=1.5, volume=1.0)
    frame.to_parquet(tmp_path / "s.parquet")
    with pytest.raises(DataError, match=r"row 2: open is not a number \('x'\)"):
        load_candles(tmp_path / "s.parquet")


def test_missing_files_columns_and_garbage_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_candles(tmp_path / "nope.csv.gz")
    with pytest.raises(DataError, match="missing column"):
        load_candles(write(tmp_path, ["2024-01-01T00:00:00Z,1,2,3"], header="open_time,open,high,low\n"))
    junk = tmp_path / "junk.csv.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match="cannot read"):
        load_candles(junk)


def test_funding_rates_must_be_fractions(tmp_path):
    p = write(
        tmp_path,
        ["2024-01-01T00:00:00Z,0.0001", "2024-01-01T08:00:00Z,5"],
        "f.csv.gz",
        "funding_time,funding_rate\n",
    )
    with pytest.raises(DataError, match=r"row 2: funding rate 5\.0 is not a fraction"):
        load_funding(p)


def test_mark_candles_align_by_open_time_and_fall_back_to_the_bar(tmp_path):
    bars = load_candles(write(tmp_path, GOOD))
    mark = load_candles(write(tmp_path, [GOOD[0].replace("100.5,10", "100.4,0")], "m.csv.gz"))
    aligned = align_mark(bars, mark)
    assert aligned.mark_close.tolist() == [100.4, 101.0, 102.0]
