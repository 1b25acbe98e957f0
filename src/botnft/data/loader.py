"""Load candles and funding rates from gz-CSV (the `shared/data` layout) or Parquet, rejecting corrupt rows.

Corrupt data fails fast with the file and the row number (1-based data row; the CSV line is row + 1):
NaN or missing values, unparseable times, times that do not strictly increase, non-positive prices,
or a high below the low.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from botnft.data.bars import BarBatch, FundingSeries
from botnft.domain.errors import DataError

CANDLE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume")
FUNDING_COLUMNS = ("funding_time", "funding_rate")


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    if path.is_dir():
        raise DataError(f"data path is a directory, not a file: {path}")
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype={c: "string" for c in columns[:1]})
    except (OSError, ValueError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
    if frame.empty:
        raise DataError(f"{path}: no rows")
    return frame


def _times(path: Path, col: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(col):
        parsed = pd.to_datetime(col, utc=True)
    else:
        parsed = pd.to_datetime(col, utc=True, errors="coerce", format="ISO8601")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        r = int(bad[0]) + 1
        raise DataError(f"{path}: row {r}: bad or missing time {col.iloc[r - 1]!r}")
    ts = parsed.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    steps = np.diff(ts)
    back = np.flatnonzero(steps <= 0)
    if back.size:
        r = int(back[0]) + 2
        raise DataError(
            f"{path}: row {r}: time does not increase ({parsed.iloc[r - 1]} after {parsed.iloc[r - 2]})"
        )
    return ts


def _floats(path: Path, frame: pd.DataFrame, name: str) -> np.ndarray:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        r = int(bad[0]) + 1
        raise DataError(f"{path}: row {r}: {name} is not a number ({frame[name].iloc[r - 1]!r})")
    return values


def load_candles(path: str | Path) -> BarBatch:
    """Candles with columns open_time, open, high, low, close, volume (open time, UTC)."""
    p = Path(path)
    frame = _read(p, CANDLE_COLUMNS)
    ts = _times(p, frame["open_time"])
    cols = {c: _floats(p, frame, c) for c in CANDLE_COLUMNS[1:]}
    for c in ("open", "high", "low", "close"):
        bad = np.flatnonzero(cols[c] <= 0)
        if bad.size:
            r = int(bad[0]) + 1
            raise DataError(f"{p}: row {r}: {c} must be positive, got {cols[c][r - 1]}")
    bad = np.flatnonzero(cols["volume"] < 0)
    if bad.size:
        raise DataError(f"{p}: row {int(bad[0]) + 1}: volume is negative")
    bad = np.flatnonzero(cols["high"] < cols["low"])
    if bad.size:
        raise DataError(f"{p}: row {int(bad[0]) + 1}: high is below low")
    interval = int(np.median(np.diff(ts))) if len(ts) > 1 else 60_000_000_000
    return BarBatch(ts, cols["open"], cols["high"], cols["low"], cols["close"], cols["volume"], interval)


def load_funding(path: str | Path) -> FundingSeries:
    """Funding with columns funding_time, funding_rate (fraction per interval)."""
    p = Path(path)
    frame = _read(p, FUNDING_COLUMNS)
    ts = _times(p, frame["funding_time"])
    rate = _floats(p, frame, "funding_rate")
    bad = np.flatnonzero(np.abs(rate) >= 1)
    if bad.size:
        raise DataError(f"{p}: row {int(bad[0]) + 1}: funding rate {rate[bad[0]]} is not a fraction")
    return FundingSeries(ts, rate)


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
