"""The one-byte user order id map: lowest free id among open orders, never 0, unique while open, reused once
closed, refused when all 255 are held, and on disk (a new process finds every slot and the event history)."""

from __future__ import annotations

from pathlib import Path

import pytest

from botnft.domain.errors import UserError
from botnft.venues.drift.ids import MAX_USER_ORDER_ID, IdSpaceExhausted, OrderIds
from botnft.venues.drift.settings import DriftSettings


def test_ids_are_the_lowest_free_byte_and_come_back_when_closed() -> None:
    ids = OrderIds(":memory:")
    got = [ids.allocate(f"c{i}", {"i": i}, i).user_order_id for i in range(3)]
    assert got == [1, 2, 3]
    assert ids.allocate("c1", {}, 9).user_order_id == 2  # the same order keeps its id
    ids.release("c1")
    assert ids.allocate("c9", {}, 10).user_order_id == 2
    assert ids.open_by_user_id(2) is not None and ids.open_by_user_id(2).client_order_id == "c9"  # type: ignore[union-attr]
    assert ids.get("c1") is not None and not ids.get("c1").open  # type: ignore[union-attr]


def test_the_256th_open_order_is_refused() -> None:
    ids = OrderIds(":memory:")
    for i in range(MAX_USER_ORDER_ID):
        ids.allocate(f"o{i}", {}, i)
    assert sorted(s.user_order_id for s in ids.slots(open_only=True)) == list(range(1, 256))
    with pytest.raises(IdSpaceExhausted, match="255"):
        ids.allocate("one-more", {}, 0)
    assert ids.get("one-more") is None
    ids.release("o100")
    assert ids.allocate("one-more", {}, 0).user_order_id == 101


def test_slots_and_history_survive_a_new_process(tmp_path: Path) -> None:
    path = OrderIds.beside(tmp_path / "sends.sqlite")
    assert path == str(tmp_path / "sends.drift-ids.sqlite")
    a = OrderIds(path)
    a.allocate("x", {"instrument": "SOL-PERP@DRIFT"}, 1)
    a.set_order_id("x", 77)
    assert a.add_events("sig1", 5, [("OrderRecord", {"order": 1}), ("OrderActionRecord", {"a": 2})])
    assert not a.add_events("sig1", 5, [("OrderRecord", {"order": 1})])  # stored once
    a.set_cursor("user", "sig1")
    a.close()
    b = OrderIds(path)
    slot = b.by_order_id(77)
    assert (
        slot is not None and slot.client_order_id == "x" and slot.detail == {"instrument": "SOL-PERP@DRIFT"}
    )
    assert [(s, p, n) for s, p, _, n, _ in b.events()] == [
        ("sig1", 0, "OrderRecord"),
        ("sig1", 1, "OrderActionRecord"),
    ]
    assert b.cursor("user") == "sig1" and b.cursor("other") is None


def test_settings_defaults_and_one_line_errors() -> None:
    s = DriftSettings.from_mapping({})
    assert dict(s.markets) == {"SOL-PERP": 0} and s.market_orders == "place_and_take"
    assert dict(DriftSettings.from_mapping({"markets": ["SOL-PERP", "BTC-PERP"]}).markets) == {
        "SOL-PERP": 0,
        "BTC-PERP": 1,
    }
    bad = [
        ({"markets": "SOL-PERP"}, "non-empty list"),
        ({"markets": ["DOGE-PERP"]}, "no market index known for DOGE-PERP"),
        ({"markets": ["SOL/USDC"]}, "not a perp symbol"),
        ({"market_orders": "maybe"}, "place_and_take or place"),
        ({"poll_interval_s": 0}, "poll_interval_s"),
        ({"sub_account_id": -1}, "sub_account_id"),
        ({"colour": 1}, "unknown setting"),
        ({"markets": ["SOL-PERP", "X-PERP"], "market_indexes": {"X-PERP": 0}}, "share a market index"),
    ]
    for cfg, msg in bad:
        with pytest.raises(UserError, match=msg) as e:
            DriftSettings.from_mapping(cfg)
        assert "\n" not in str(e.value)


def test_the_settings_and_the_id_map_import_no_driftpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, botnft, botnft.venues.drift.settings, botnft.venues.drift.ids;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('driftpy', 'anchorpy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_another_drift_idl_version_is_one_line() -> None:
    from botnft.domain.errors import DataError
    from botnft.venues.drift.chain import check_idl_version

    check_idl_version("2.142.0")
    with pytest.raises(DataError) as e:
        check_idl_version("2.150.0")
    assert str(e.value) == "driftpy's Drift IDL is 2.150.0; this adapter is built on IDL 2.142.0"
