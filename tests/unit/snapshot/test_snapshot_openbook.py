"""An OpenBook v2 market and its book sides into a snapshot, and the snapshot into SimOpenBook: its lots,
fees and the depth profile calibrated to the book (the numbers worked out by hand from the fixture's
documented levels, tests/fixtures/snapshots/make_openbook_fixture.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from botnft.backtest.spec import BacktestSpec
from botnft.data.bars import BarBatch, MarketData
from botnft.domain.errors import DataError, UserError
from botnft.snapshot.openbook import calibration
from botnft.snapshot.reader import snapshot_from_document
from botnft.venue_builders import VENUE_BUILDERS, BuildContext

DOC = json.loads((Path(__file__).parents[2] / "fixtures" / "snapshots" / "openbook_book.json").read_text())


def _snap(doc=DOC):
    return snapshot_from_document(doc, name="ob", source="fixture")


def test_book_levels_fees_and_lots():
    m = _snap().openbook_markets[0]
    assert (m.name, m.base_lot_size, m.quote_lot_size, m.taker_fee, m.maker_fee) == (
        "SOL-USDC",
        10**6,
        1,
        200,
        -20,
    )
    assert m.bids == ((149_990, 10_000), (149_950, 50_000), (148_000, 100_000))
    assert m.asks == ((150_010, 20_000), (150_500, 40_000), (152_000, 100_000))


def test_calibration_by_hand():
    spread, depth = calibration(_snap().openbook_markets[0])
    # touch 149.99 / 150.01: mid 150, spread 0.02 / 150 = 1.333 bps; within 1 % (148.5 .. 151.5):
    # bids 10 + 50 SOL (148.00 is out), asks 20 + 40 SOL (152.00 is out): 60 on each side
    assert spread == pytest.approx(0.02 / 150 * 10_000, rel=1e-12)
    assert depth == 60.0


def _md() -> MarketData:
    ts = np.arange(3, dtype=np.int64) * 3_600_000_000_000 + 1_700_000_000_000_000_000
    p = np.full(3, 150.0)
    return MarketData("t", "spot", "SOL", BarBatch(ts, p, p, p, p, np.ones(3), 3_600_000_000_000), None)


def test_sim_openbook_takes_the_snapshot_terms():
    ctx = BuildContext(_md(), BacktestSpec(liquidity={"snapshot": _snap().to_json()}))
    venue = VENUE_BUILDERS["openbook"](ctx).venue
    default = VENUE_BUILDERS["openbook"](BuildContext(_md(), BacktestSpec())).venue
    assert venue.profile.depth_1pct == 60.0 and venue.profile.spread_bps == pytest.approx(4 / 3, rel=1e-12)
    assert (venue.fees.taker_rate, venue.fees.maker_rate) == (200, -20)
    assert default.profile.depth_1pct == 1_500.0 and (default.fees.taker_rate, default.fees.maker_rate) == (
        1_000,
        1_000,
    )


def test_a_missing_or_swapped_book_side_is_refused():
    doc = copy.deepcopy(DOC)
    doc["accounts"] = doc["accounts"][:2]
    with pytest.raises(DataError, match="needs its book side"):
        _snap(doc)
    doc = copy.deepcopy(DOC)
    doc["accounts"][1]["data"], doc["accounts"][2]["data"] = (
        doc["accounts"][2]["data"],
        doc["accounts"][1]["data"],
    )
    with pytest.raises(DataError, match="is the asks side; the market lists it as its bids"):
        _snap(doc)


def test_market_bytes_of_the_wrong_length_are_refused():
    doc = copy.deepcopy(DOC)
    doc["accounts"][0]["data"] = doc["accounts"][1]["data"]
    with pytest.raises(UserError):
        _snap(doc)
