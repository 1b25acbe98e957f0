"""Load candles and funding rates, checking every row as it streams in; corrupt data fails fast with its row.

Accepted files: CSV (plain, `.gz` or a `.zip` holding one CSV) with a header, or Parquet, with columns
`open_time` (or `date`, `timestamp`), `open`, `high`, `low`, `close`, `volume` for candles and `funding_time`
(or `fundingTime`, `calc_time`), `funding_rate` (or `fundingRate`, `last_funding_rate`) for funding; other
columns are ignored. Binance's headerless kline CSV (data.binance.vision) is read as candles. A time is an
ISO 8601 string (UTC unless it carries an offset), an epoch integer in seconds, milliseconds, microseconds or
nanoseconds (told apart by magnitude, from 1973 on), or a Parquet timestamp (naive means UTC).
Rows are numbered from 1 (the CSV line is row + 1 with a header). Refused: missing or non-numeric values
(true/false or text), bad times, times that do not strictly increase, non-positive prices, negative volume,
a high below the low, an open or close outside [low, high], funding rates of 100 % or more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from botnft.data.bars import F64, I64, BarBatch, FundingSeries
from botnft.data.read import Layout, Limits, chunks, shown
from botnft.domain.errors import DataError

CANDLE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume")
FUNDING_COLUMNS = ("funding_time", "funding_rate")
TIME_FORMATS = "ISO 8601 like 2024-01-01T00:00:00Z, or epoch seconds/ms/µs/ns"

CANDLES = Layout(
    "candles",
    {"open_time": ("date", "timestamp"), "open": (), "high": (), "low": (), "close": (), "volume": ()},
    headerless=CANDLE_COLUMNS,
    accepted=(
        "candle files need a header with open_time (or date, timestamp), open, high, low, close, volume, "
        f"or are Binance's headerless kline CSV; times as {TIME_FORMATS}"
    ),
)
FUNDING = Layout(
    "funding",
    {"funding_time": ("fundingTime", "calc_time"), "funding_rate": ("fundingRate", "last_funding_rate")},
    headerless=None,
    accepted=(
        "funding files need a header with funding_time (or fundingTime, calc_time) and funding_rate "
        f"(or fundingRate, last_funding_rate); times as {TIME_FORMATS}"
    ),
)

# epoch integers: [lower bound, unit in ns]; each unit's range maps to 1973-03-03 .. 5138, the bands touch
_EPOCH_UNITS = ((10**17, 1), (10**14, 1_000), (10**11, 1_000_000), (10**8, 1_000_000_000))
_I64_MAX = np.iinfo(np.int64).max


def _value(col: pd.Series, i: int) -> str:
    v = col.iloc[i]
    return repr(v.item() if isinstance(v, np.generic) else v)


def _row_error(path: Path, row: int, what: str) -> DataError:
    return DataError(f"{shown(path)}: row {row}: {what}")


def _epoch_ns(values: I64) -> I64:
    """Nanoseconds for each epoch integer, its unit told by magnitude; -1 where no unit fits."""
    out = np.full(values.shape, -1, dtype=np.int64)
    for lower, unit in _EPOCH_UNITS:
        hit = (values >= lower) & (out < 0) & (values <= _I64_MAX // unit)
        out[hit] = values[hit] * unit
    return out


def _datetimes_ns(col: pd.Series) -> tuple[I64, np.ndarray]:
    """Nanoseconds of datetimes or ISO 8601 text (naive = UTC), and where they are missing or unparseable."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        parsed = pd.to_datetime(col, utc=True)
    else:
        parsed = pd.to_datetime(col, utc=True, errors="coerce", format="ISO8601")
    naive = parsed.dt.tz_localize(None)
    bad = (parsed.isna() | (naive > pd.Timestamp.max) | (naive < pd.Timestamp.min)).to_numpy(
        dtype=bool, copy=True
    )
    return naive.to_numpy().astype("datetime64[ns]").astype(np.int64), bad


def _times(path: Path, col: pd.Series, row0: int) -> I64:
    """UTC epoch nanoseconds of one chunk's time column; `row0` is the row number of its first value.
    Integers are epoch times; text is ISO 8601, or an epoch time when it is digits only and no ISO date."""
    dtype, n = col.dtype, len(col)
    ints, ns = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    epoch, unparsed = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    if pd.api.types.is_bool_dtype(dtype):
        unparsed[:] = True
    elif pd.api.types.is_integer_dtype(dtype):
        ints, epoch[:] = col.to_numpy(dtype=np.int64), True
    elif pd.api.types.is_float_dtype(dtype):
        values = col.to_numpy(dtype=np.float64)
        unparsed = ~np.isfinite(values) | (values != np.round(values))
        ints, epoch = np.where(unparsed, 0, values).astype(np.int64), ~unparsed
    else:
        ns, unparsed = _datetimes_ns(col)
        if unparsed.any() and not pd.api.types.is_datetime64_any_dtype(dtype):
            where = np.flatnonzero(unparsed)
            text = col.iloc[where].astype("string").str.strip()
            digits = text.str.fullmatch(r"-?\d{1,19}").fillna(False).to_numpy(dtype=bool)
            ints[where[digits]] = [min(int(v), int(_I64_MAX)) for v in text[digits]]
            epoch[where[digits]], unparsed[where[digits]] = True, False
    if epoch.any():
        ns = np.where(epoch, _epoch_ns(ints), ns)
    bad = np.flatnonzero(unparsed | (epoch & (ns < 0)))
    if bad.size:
        i = int(bad[0])
        if unparsed[i]:
            what = f"bad or missing time {_value(col, i)}; accepted: {TIME_FORMATS}"
        else:
            what = f"epoch time {ints[i]} is not seconds, ms, µs or ns since 1970 between 1973 and 2262"
        raise _row_error(path, row0 + i, what)
    return ns


def _increasing(path: Path, ts: I64, prev: int | None, row0: int) -> None:
    joined = ts if prev is None else np.concatenate(([prev], ts))
    back = np.flatnonzero(np.diff(joined) <= 0)
    if back.size:
        k = int(back[0]) + 1  # index in `joined` of the offending time
        row = row0 + k - (0 if prev is None else 1)
        at, before = (pd.Timestamp(int(joined[j]), tz="UTC") for j in (k, k - 1))
        raise _row_error(path, row, f"time does not increase ({at} after {before})")


def _numbers(path: Path, col: pd.Series, name: str, row0: int) -> F64:
    """A chunk's column as float64; true/false columns and text are refused, not read as numbers."""
    if pd.api.types.is_bool_dtype(col.dtype):
        raise _row_error(path, row0, f"{name} holds true/false values ({_value(col, 0)}), not numbers")
    if pd.api.types.is_numeric_dtype(col.dtype):
        values = col.to_numpy(dtype=np.float64)
    else:
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise _row_error(path, row0 + i, f"{name} is not a number ({_value(col, i)})")
    return values


def _first_failure(path: Path, row0: int, checks: list[tuple[np.ndarray, Callable[[int], str]]]) -> None:
    """Raise for the earliest row any check fails (ties go to the earlier check)."""
    worst: tuple[int, str] | None = None
    for mask, say in checks:
        bad = np.flatnonzero(mask)
        if bad.size and (worst is None or int(bad[0]) < worst[0]):
            worst = (int(bad[0]), say(int(bad[0])))
    if worst is not None:
        raise _row_error(path, row0 + worst[0], worst[1])


def _not_positive(values: F64, name: str) -> Callable[[int], str]:
    return lambda i: f"{name} must be positive, got {values[i]}"


def _check_candles(path: Path, c: dict[str, F64], row0: int) -> None:
    o, h, lo, cl, v = c["open"], c["high"], c["low"], c["close"], c["volume"]
    checks = [(c[k] <= 0, _not_positive(c[k], k)) for k in ("open", "high", "low", "close")]
    checks += [
        (v < 0, lambda i: f"volume is negative ({v[i]})"),
        (h < lo, lambda i: f"high is below low ({h[i]} < {lo[i]})"),
        ((o < lo) | (o > h), lambda i: f"open {o[i]} is not between low {lo[i]} and high {h[i]}"),
        ((cl < lo) | (cl > h), lambda i: f"close {cl[i]} is not between low {lo[i]} and high {h[i]}"),
    ]
    _first_failure(path, row0, checks)


def _stream(
    path: Path, layout: Layout, limits: Limits, check: Callable[[Path, dict[str, F64], int], None]
) -> tuple[I64, dict[str, F64]]:
    """Read, convert and check chunk by chunk; a bad row stops the read at the chunk that holds it."""
    time_col, *num_cols = layout.columns
    times: list[I64] = []
    cols: dict[str, list[F64]] = {c: [] for c in num_cols}
    row0, prev = 1, None
    frames: Iterator[pd.DataFrame] = chunks(path, layout, limits)
    for frame in frames:
        if frame.empty:
            continue
        ts = _times(path, frame[time_col], row0)
        _increasing(path, ts, prev, row0)
        values = {c: _numbers(path, frame[c], c, row0) for c in num_cols}
        check(path, values, row0)
        times.append(ts)
        for c in num_cols:
            cols[c].append(values[c])
        row0, prev = row0 + len(frame), int(ts[-1])
    if not times:
        raise DataError(f"{shown(path)}: no rows")
    out = {}
    for c in num_cols:  # one column at a time, freeing its chunks: the peak is the arrays plus one column
        out[c] = np.concatenate(cols.pop(c))
    return np.concatenate(times), out


def load_candles(path: str | Path, limits: Limits | None = None) -> BarBatch:
    """Candles (open time, UTC) from any accepted file; see the module docstring for the formats."""
    ts, c = _stream(Path(path), CANDLES, limits or Limits(), _check_candles)
    interval = int(np.median(np.diff(ts))) if len(ts) > 1 else 60_000_000_000
    return BarBatch(ts, c["open"], c["high"], c["low"], c["close"], c["volume"], interval)


def _check_funding(path: Path, c: dict[str, F64], row0: int) -> None:
    rate = c["funding_rate"]
    _first_failure(path, row0, [(np.abs(rate) >= 1, lambda i: f"funding rate {rate[i]} is not a fraction")])


def load_funding(path: str | Path, limits: Limits | None = None) -> FundingSeries:
    """Funding rates (fraction per interval, longs pay when positive) from any accepted file."""
    ts, c = _stream(Path(path), FUNDING, limits or Limits(), _check_funding)
    return FundingSeries(ts, c["funding_rate"])


def write_parquet(batch: BarBatch, path: str | Path) -> None:
    """Write candles as Parquet with the same columns as the CSV layout."""
    frame = pd.DataFrame(
        {
            "open_time": pd.to_datetime(batch.ts_ns, utc=True),
            "open": batch.open,
            "high": batch.high,
            "low": batch.low,
            "close": batch.close,
            "volume": batch.volume,
        }
    )
    frame.to_parquet(path, index=False)
