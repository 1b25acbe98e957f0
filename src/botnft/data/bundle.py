"""The bundled real data set: what ships inside the package so the first backtest needs no download."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from botnft.domain.errors import DataError

BUNDLE_DIR = Path(__file__).parent / "bundled"


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
            "SOL-PERP",
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
