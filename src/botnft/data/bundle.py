"""The bundled real data set: what ships inside the package so the first backtest needs no download.

`listing()` reads the facts shown by `bot data list` from `bundled/index.json`, without pandas or numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botnft.domain.errors import DataError

BUNDLE_DIR = Path(__file__).parent / "bundled"
INDEX = BUNDLE_DIR / "index.json"


@dataclass(frozen=True, slots=True)
class Dataset:
    """One bundled file. `market` is spot or perp; a perp candle set names its mark and funding companions."""

    name: str
    file: str
    kind: str  # candles | funding | reference
    market: str  # spot | perp
    symbol: str
    interval: str
    description: str
    mark: str | None = None
    funding: str | None = None

    @property
    def path(self) -> Path:
        return BUNDLE_DIR / self.file


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "sol-spot-1h",
            "binance_spot_SOLUSDT_1h.csv.gz",
            "candles",
            "spot",
            "SOL/USDT",
            "1h",
            "Binance spot SOLUSDT hourly candles",
        ),
        Dataset(
            "sol-perp-1h",
            "binance_usdm_SOLUSDT_1h.csv.gz",
            "candles",
            "perp",
            "SOL-PERP",
            "1h",
            "Binance USDⓈ-M SOLUSDT perpetual hourly candles (last price)",
            mark="sol-perp-mark-1h",
            funding="sol-funding",
        ),
        Dataset(
            "sol-perp-mark-1h",
            "binance_usdm_SOLUSDT_mark_1h.csv.gz",
            "candles",
            "perp",
            "SOL-PERP",
            "1h",
            "Binance USDⓈ-M SOLUSDT perpetual hourly mark-price candles",
        ),
        Dataset(
            "sol-funding",
            "binance_usdm_SOLUSDT_funding.csv.gz",
            "funding",
            "perp",
            "SOL-PERP",
            "8h",
            "Binance USDⓈ-M SOLUSDT funding rates (fraction per 8 h)",
        ),
        Dataset(
            "drift-funding-daily",
            "drift_perp_funding_daily_SOL_BTC_ETH.csv.gz",
            "reference",
            "perp",
            "SOL/BTC/ETH-PERP",
            "1d",
            "Drift daily mean hourly funding, SOL/BTC/ETH (orders of magnitude only)",
        ),
    )
}

DEFAULT_DATASET = "sol-spot-1h"


def get(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(DATASETS)
        raise DataError(f"unknown data set {name!r}; bundled: {known} (or give a file path)") from None


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """A bundled data set with its size and span: `first`/`last` are the first and last row's UTC time
    (`2020-08-11T06:00:00Z`, or a day `2026-01-10` for daily reference data)."""

    dataset: Dataset
    rows: int
    first: str
    last: str


def measure(ds: Dataset) -> dict[str, Any]:
    """Rows and first/last time of one bundled file, read from the file itself (slow: loads it)."""
    if ds.kind == "reference":
        import csv
        import gzip

        with gzip.open(ds.path, "rt", newline="") as fh:
            days = [row["date"] for row in csv.DictReader(fh)]
        rows, first, last = len(days), min(days), max(days)
    else:
        from datetime import UTC, datetime

        from botnft.data.loader import load_candles, load_funding

        ts = load_candles(ds.path).ts_ns if ds.kind == "candles" else load_funding(ds.path).ts_ns
        rows, first, last = (
            len(ts),
            *(
                datetime.fromtimestamp(int(t) // 10**9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                for t in (ts[0], ts[-1])
            ),
        )
    return {"file": ds.file, "bytes": ds.path.stat().st_size, "rows": rows, "first": first, "last": last}


def listing(index_path: Path = INDEX) -> list[DatasetInfo]:
    """Every bundled data set with rows and span, from the index; a file whose size no longer matches its
    index entry is measured again (so a replaced file is never misdescribed)."""
    try:
        index: dict[str, dict[str, Any]] = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    out = []
    for ds in DATASETS.values():
        entry = index.get(ds.name)
        if not entry or entry.get("file") != ds.file or entry.get("bytes") != ds.path.stat().st_size:
            entry = measure(ds)
        out.append(DatasetInfo(ds, int(entry["rows"]), str(entry["first"]), str(entry["last"])))
    return out


def write_index() -> None:
    """Regenerate `bundled/index.json` after a bundled file changes: `python -m botnft.data.bundle`."""
    index = {ds.name: measure(ds) for ds in DATASETS.values()}
    INDEX.write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    write_index()
