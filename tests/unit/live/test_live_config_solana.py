"""`bot live`'s settings for the Drift and OpenBook venues: the kinds parse, their tables are read with the
wallet and fee reserve like the other Solana venues, `dlob_url` is Drift's alone and an http(s) URL, and a
dry run stands for them with the simulated Drift and OpenBook."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from botnft.domain.errors import UserError
from botnft.live.config import DRY_RUN_SIM, KINDS, VENUE_NAMES, load_live_config, parse_venues


def _cfg(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "live.toml"
    p.write_text(text)
    return p


def test_drift_and_openbook_are_live_venues(tmp_path: Path) -> None:
    assert parse_venues("ccxt:binance,drift,openbook") == [
        ("ccxt", "binance"), ("drift", "drift"), ("openbook", "openbook")
    ]  # fmt: skip
    assert {"drift", "openbook"} <= set(KINDS)
    assert (DRY_RUN_SIM["drift"], DRY_RUN_SIM["openbook"]) == ("drift", "openbook")
    assert (VENUE_NAMES["drift"], VENUE_NAMES["openbook"]) == ("DRIFT", "OPENBOOK")
    key = tmp_path / "k.json"
    key.write_text("[]")
    key.chmod(0o600)
    path = _cfg(
        tmp_path,
        f'[live.drift]\nrpc_url = "http://127.0.0.1:1"\nkeypair_file = "{key}"\n'
        'dlob_url = "http://127.0.0.1:2"\n'
        f'[live.openbook]\nrpc_url = "http://127.0.0.1:1"\nkeypair_file = "{key}"\nsol_reserve = 0.2\n',
    )
    cfg = load_live_config("drift,openbook", dry_run=False, confirmed=True, interval="1m", path=path, env={})
    drift, ob = cfg.venues
    assert (drift.label, ob.label) == ("drift", "openbook")
    assert drift.table["dlob_url"] == "http://127.0.0.1:2" and drift.table["keypair_file"] == str(key)
    assert ob.table["sol_reserve"] == Decimal("0.2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[live.drift]\ndlob_url = "ftp://x"\n', "dlob_url"),
        ('[live.openbook]\ndlob_url = "http://127.0.0.1:2"\n', r"only in \[live\.drift\]"),
        ("[live.drift]\ndlob_url = 3\n", "dlob_url"),
        ("[live]\nserum = 1\n", "unknown key"),
    ],
)
def test_bad_tables_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as e:
        load_live_config("drift,openbook", dry_run=True, confirmed=False, interval="1m",
                         path=_cfg(tmp_path, text), env={})  # fmt: skip
    assert "\n" not in str(e.value)


def test_an_unknown_venue_names_the_new_ones() -> None:
    with pytest.raises(UserError, match="drift or openbook"):
        parse_venues("mango")
    with pytest.raises(UserError, match="takes no exchange name"):
        parse_venues("drift:x")


def test_trading_needs_a_wallet(tmp_path: Path) -> None:
    path = _cfg(tmp_path, '[live.drift]\nrpc_url = "http://127.0.0.1:1"\n')
    with pytest.raises(UserError, match="drift needs a wallet"):
        load_live_config("drift", dry_run=False, confirmed=True, interval="1m", path=path, env={})
