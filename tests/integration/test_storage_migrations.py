"""Migrations against real databases: money written before revision 0003 survives it exactly, a downgrade
never rounds, and a database stamped by a newer bot is refused in one line (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import sqlalchemy as sa

from botnft.storage import StorageError, TradeStore, current, downgrade, head, upgrade
from botnft.storage.db import display_url

OLD_MONEY = ["142.12345678", "-0.00000001", "9999999999.99999999", "0", "0.5"]


def old_encoding(engine: sa.Engine, text: str) -> object:
    """How revisions 0001-0002 stored money: integer 1e-8 units on SQLite, NUMERIC(18,8) on PostgreSQL."""
    value = Decimal(text)
    return int(value.scaleb(8)) if engine.dialect.name == "sqlite" else value


def write_old_rows(engine: sa.Engine) -> None:
    """One pair, one run and a trade per value of OLD_MONEY, written as revision 0002 stores them."""
    money = {f"m{index}": old_encoding(engine, text) for index, text in enumerate(OLD_MONEY)}
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO trading_pairs (symbol, base_asset, quote_asset, venue, min_trade_size) "
                "VALUES ('SOL/USDC', 'SOL', 'USDC', 'sim', :m4)"
            ),
            money,
        )
        connection.execute(
            sa.text(
                "INSERT INTO backtest_runs (strategy, params, data_source, venue, seed, bars, fills,"
                " round_trips, initial_cash, final_equity, total_return, max_drawdown, fees_paid,"
                " funding_paid, summary)"
                " VALUES ('s', '{}', 'd', 'sim', 1, 1, 5, 0, :m0, :m1, 0, 0, :m2, :m3, '{}')"
            ),
            money,
        )
        for index in range(len(OLD_MONEY)):
            connection.execute(
                sa.text(
                    "INSERT INTO trade_logs (pair_id, run_id, ts, trade_type, amount, price, fee, venue,"
                    " arrival_price) VALUES (1, 1, :ts, 'buy', :amount, :amount, :amount, 'sim', :arrival)"
                ),
                {
                    "ts": f"2024-03-01 12:00:0{index}",
                    "amount": money[f"m{index}"],
                    "arrival": None if index == 3 else money[f"m{index}"],
                },
            )


def test_money_stored_before_revision_0003_reads_back_exactly_after_it(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url, "0002")
    write_old_rows(engine)

    upgrade(database_url)

    store = TradeStore(engine)
    trades = store.trades_for_run(1)
    expected = [Decimal(text) for text in OLD_MONEY]
    assert [t.amount for t in trades] == [t.price for t in trades] == [t.fee for t in trades] == expected
    # the eight places the old columns had, on both databases alike
    assert [str(t.amount) for t in trades] == [
        "142.12345678",
        "-1E-8",
        "9999999999.99999999",
        "0E-8",
        "0.50000000",
    ]
    assert [t.arrival_price for t in trades] == [*expected[:3], None, expected[4]]
    run = store.get_run(1)
    assert run is not None
    assert (run.initial_cash, run.final_equity, run.fees_paid, run.funding_paid) == tuple(expected[:4])
    with engine.connect() as connection:
        min_size = connection.execute(sa.text("SELECT min_trade_size FROM trading_pairs")).scalar_one()
    assert Decimal(min_size) == Decimal("0.5")


def test_after_revision_0003_a_trade_in_lamports_is_stored_next_to_the_old_rows(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url, "0002")
    write_old_rows(engine)
    upgrade(database_url)
    store = TradeStore(engine)
    old = store.trades_for_run(1)[0]
    lamports = replace(old, amount=Decimal("1091.239449293"), price=Decimal("0.000000000000000001"))

    trade_id = store.record_trade(lamports)

    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT amount, price, run_id FROM trade_logs WHERE id = :id"), {"id": trade_id}
        ).one()
    assert (Decimal(row.amount), Decimal(row.price), row.run_id) == (lamports.amount, lamports.price, None)


def test_downgrading_below_0003_refuses_a_value_the_old_columns_would_round(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url, "0002")
    write_old_rows(engine)
    upgrade(database_url)
    lamports = Decimal("1091.239449293")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE trade_logs SET amount = :a WHERE id = 2"), {"a": str(lamports)})

    with pytest.raises(StorageError) as refused:
        downgrade(database_url, "0002")

    assert str(refused.value) == (
        "cannot downgrade below revision 0003: trade_logs.amount holds 1091.239449293, "
        "which NUMERIC(18,8) would round or cannot hold"
    )
    assert current(database_url) == head()
    assert TradeStore(engine).trades_for_run(1)[1].amount == lamports


def test_downgrading_below_0003_keeps_every_value_that_fits_the_old_columns(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url, "0002")
    write_old_rows(engine)
    upgrade(database_url)

    downgrade(database_url, "0002")

    assert current(database_url) == "0002"
    with engine.connect() as connection:
        amounts = connection.execute(sa.text("SELECT amount FROM trade_logs ORDER BY id")).scalars().all()
        run = connection.execute(
            sa.text("SELECT initial_cash, final_equity, fees_paid, funding_paid FROM backtest_runs")
        ).one()
    assert amounts == [old_encoding(engine, text) for text in OLD_MONEY]
    assert list(run) == [old_encoding(engine, text) for text in OLD_MONEY[:4]]


def stamp(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_a_database_migrated_by_a_newer_version_is_refused_in_one_line_and_left_as_it_is(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url)
    stamp(engine, "ffff")
    shown = display_url(engine.url)
    expected = (
        f"database {shown} is at revision 'ffff', which this version does not know; a newer version of the "
        "bot migrated it (this one knows up to '0006'): use that version, or another database"
    )

    for action in (lambda: upgrade(database_url), lambda: current(database_url)):
        with pytest.raises(StorageError) as refused:
            action()
        assert str(refused.value) == expected
    with pytest.raises(StorageError, match="at revision 'ffff', which this version does not know"):
        downgrade(database_url, "0002")

    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "ffff"
        assert connection.execute(sa.text("SELECT COUNT(*) FROM trade_logs")).scalar_one() == 0


def test_a_target_revision_that_does_not_exist_is_a_one_line_storage_error(database_url: str) -> None:
    upgrade(database_url)

    with pytest.raises(StorageError) as refused:
        downgrade(database_url, "zzzz")

    assert str(refused.value).startswith("cannot migrate database ")
    assert "zzzz" in str(refused.value) and "\n" not in str(refused.value)
    assert current(database_url) == head()
