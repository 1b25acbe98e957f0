"""The storage layer against real databases: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from botnft.storage import (
    BacktestRunRecord,
    StorageError,
    StorageUnavailable,
    TradeRecord,
    TradeStore,
    check_connection,
    current,
    downgrade,
    head,
    make_engine,
    upgrade,
)
from botnft.storage.tables import Base, TradeLog

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SCHEMA_TABLES = {
    "trading_pairs",
    "trade_logs",
    "backtest_runs",
    "paper_runs",
    "journal_entries",
    "node_snapshots",
    "api_users",
    "api_clients",
    "api_refresh_tokens",
    "api_login_failures",
    "api_audit_log",
    "paper_venue_states",
    "backtest_jobs",
    "backtest_equity",
}


def a_trade(index: int = 0, **changes: object) -> TradeRecord:
    trade = TradeRecord(
        ts=T0 + timedelta(seconds=index),
        venue="sim",
        symbol="SOL/USDC",
        base_asset="SOL",
        quote_asset="USDC",
        side="buy" if index % 2 == 0 else "sell",
        amount=Decimal("1.5") + index,
        price=Decimal("142.12345678"),
        fee=Decimal("0.00071062"),
        strategy="sma_cross",
        client_order_id=f"cid-{index}",
        tx_signature=None,
    )
    return replace(trade, **changes)


def a_run(**changes: object) -> BacktestRunRecord:
    run = BacktestRunRecord(
        strategy="sma_cross",
        params={"fast": 10, "slow": 30, "threshold": 0.5},
        data_source="bundled/SOLUSDT-1h.parquet",
        venue="sim",
        seed=7,
        start_ts=T0,
        end_ts=T0 + timedelta(days=30),
        bars=720,
        fills=2,
        round_trips=1,
        initial_cash=Decimal("10000"),
        final_equity=Decimal("10250.12345678"),
        total_return=0.025012345678,
        max_drawdown=0.0831,
        sharpe=1.37,
        fees_paid=Decimal("4.20000001"),
        funding_paid=Decimal("-0.5"),
        summary={"trades": 2, "win_rate": 1.0, "equity_curve": [10000, 10250.12], "notes": None},
    )
    return replace(run, **changes)


@pytest.fixture
def store(database_url: str, engine: sa.Engine) -> TradeStore:
    upgrade(database_url)
    return TradeStore(engine)


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def count_rows(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


# --- migrations ---------------------------------------------------------------------------------------------


def test_migrations_build_the_schema_from_an_empty_database_and_a_second_run_changes_nothing(
    database_url: str, engine: sa.Engine
) -> None:
    assert table_names(engine) == set()

    upgrade(database_url)
    assert table_names(engine) == SCHEMA_TABLES
    TradeStore(engine).record_trade(a_trade())

    upgrade(database_url)
    assert table_names(engine) == SCHEMA_TABLES
    assert count_rows(engine, "trade_logs") == 1


def test_current_is_none_before_the_first_upgrade_and_the_head_revision_after_it(database_url: str) -> None:
    assert current(database_url) is None

    upgrade(database_url)

    assert current(database_url) == head() == "0006"


def test_the_migrated_schema_matches_the_models_exactly(database_url: str, engine: sa.Engine) -> None:
    upgrade(database_url)

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_downgrading_to_base_removes_the_tables_and_upgrading_again_restores_them(
    database_url: str, engine: sa.Engine
) -> None:
    upgrade(database_url)

    downgrade(database_url, "base")
    assert table_names(engine) == set()
    assert current(database_url) is None

    upgrade(database_url)
    assert table_names(engine) == SCHEMA_TABLES


def test_using_a_database_that_was_never_migrated_says_to_run_the_migrations(engine: sa.Engine) -> None:
    with pytest.raises(StorageError, match=r"not migrated.*bot db upgrade"):
        TradeStore(engine).list_runs()


# --- values -------------------------------------------------------------------------------------------------

EDGE_MONEY = [
    "0",
    "0.000000000000000001",
    "-0.000000000000000001",
    "1",
    "0.1",
    "0.3",
    "1.50",
    "142.12345678",
    "1091.239449293",
    "0.000001",
    "12345678901234567890.123456789012345678",
    "99999999999999999999.999999999999999999",
    "-99999999999999999999.999999999999999999",
    "5000000000.00000005",
    "215.610000000000000000",
]


def test_money_round_trips_digit_for_digit_for_any_value_with_20_integer_digits_and_18_decimal_places(
    store: TradeStore,
) -> None:
    rng = random.Random(20240301)
    values = [Decimal(text) for text in EDGE_MONEY]
    for _ in range(500):
        integer_digits, places = rng.randint(0, 20), rng.randint(0, 18)
        bound = 10 ** (integer_digits + places)
        values.append(Decimal(f"{rng.randrange(-bound + 1, bound)}E-{places}"))  # exact; scaleb would round
    negated = [value.copy_negate() for value in values]  # exact: unary minus would round to 28 digits
    pairs = enumerate(zip(values, negated, strict=True))
    trades = [a_trade(index, amount=v, price=n, fee=v) for index, (v, n) in pairs]

    run_id = store.save_backtest(a_run(initial_cash=values[8], final_equity=values[11]), trades)
    stored = store.trades_for_run(run_id)

    assert [(t.amount, t.price, t.fee) for t in stored] == list(zip(values, negated, values, strict=True))
    # the same digits, not only the same value: '1.50' stays '1.50', '1091.239449293' keeps its nine places
    assert [str(t.amount) for t in stored] == [str(v) for v in values]
    assert all(type(t.amount) is Decimal and type(t.fee) is Decimal for t in stored)
    run = store.get_run(run_id)
    assert run is not None
    assert (str(run.initial_cash), str(run.final_equity)) == ("1091.239449293", EDGE_MONEY[11])
    assert type(run.initial_cash) is Decimal


def test_money_is_stored_in_one_canonical_form_equal_to_what_was_given(store: TradeStore) -> None:
    given = [Decimal("1E+3"), Decimal("-0"), Decimal("-0.00"), Decimal("2.5000000000000000000000"), 7]
    trades = [a_trade(index, amount=value) for index, value in enumerate(given)]  # type: ignore[arg-type]

    run_id = store.save_backtest(a_run(), trades)

    stored = [t.amount for t in store.trades_for_run(run_id)]
    assert stored == given
    assert [str(value) for value in stored] == ["1000", "0", "0.00", "2.500000000000000000", "7"]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("amount", Decimal("0.1234567890123456789"), "more than 18 decimal places"),
        ("arrival_price", Decimal("1E-19"), "more than 18 decimal places"),
        ("price", Decimal("100000000000000000000"), "more than 20 integer digits"),
        ("fee", Decimal("-100000000000000000000.5"), "more than 20 integer digits"),
        ("amount", Decimal("NaN"), "not a finite number"),
        ("price", Decimal("-Infinity"), "not a finite number"),
    ],
)
def test_a_value_that_does_not_fit_20_integer_digits_and_18_places_is_refused_by_name_and_nothing_is_written(
    store: TradeStore, engine: sa.Engine, field: str, value: Decimal, problem: str
) -> None:
    trades = [a_trade(0), a_trade(1, **{field: value})]

    with pytest.raises(StorageError, match=problem) as saving:
        store.save_backtest(a_run(), trades)
    with pytest.raises(StorageError, match=problem) as recording:
        store.record_trade(trades[1])

    for error in (saving.value, recording.value):
        assert f"{field} {value}" in str(error)
        assert "\n" not in str(error)
    assert store.list_runs() == []
    assert count_rows(engine, "trade_logs") == 0
    assert count_rows(engine, "trading_pairs") == 0


def test_a_run_figure_that_does_not_fit_is_refused_by_name(store: TradeStore) -> None:
    with pytest.raises(StorageError, match=r"run initial_cash 1E\+30 has more than 20 integer digits"):
        store.save_backtest(a_run(initial_cash=Decimal("1E+30")), [])
    with pytest.raises(StorageError, match="run fees_paid 1E-20 has more than 18 decimal places"):
        store.save_backtest(a_run(fees_paid=Decimal("1E-20")), [])
    assert store.list_runs() == []


def test_a_float_or_a_naive_timestamp_is_refused_rather_than_guessed(store: TradeStore) -> None:
    with pytest.raises(StorageError, match="price must be a Decimal, got float"):
        store.record_trade(a_trade(price=142.5))
    with pytest.raises(StorageError, match="no time zone"):
        store.record_trade(a_trade(ts=datetime(2024, 3, 1, 12, 0)))  # noqa: DTZ001 - the point of the test
    with pytest.raises(StorageError, match="longer than 20 characters"):
        store.record_trade(a_trade(symbol="A-VERY-LONG-SYMBOL/USDC"))


# --- backtests and trades -----------------------------------------------------------------------------------


def test_a_saved_backtest_reads_back_equal_to_what_was_saved(store: TradeStore) -> None:
    paris = timezone(timedelta(hours=2))
    trades = [a_trade(0), a_trade(1, ts=(T0 + timedelta(minutes=5)).astimezone(paris), strategy=None)]
    run = a_run()

    run_id = store.save_backtest(run, trades)

    stored_run = store.get_run(run_id)
    assert stored_run == run
    assert stored_run is not None and stored_run.id == run_id
    assert stored_run.created_at is not None and stored_run.created_at.tzinfo == UTC
    stored_trades = store.trades_for_run(run_id)
    assert stored_trades == trades
    assert all(trade.ts.tzinfo == UTC for trade in stored_trades)


def test_runs_are_listed_newest_first_and_an_unknown_run_has_nothing(store: TradeStore) -> None:
    first = store.save_backtest(a_run(seed=1), [a_trade(0)])
    second = store.save_backtest(a_run(seed=2, sharpe=None, start_ts=None, end_ts=None), [])

    assert [run.id for run in store.list_runs()] == [second, first]
    assert [run.id for run in store.list_runs(limit=1)] == [second]
    assert store.get_run(second) == a_run(seed=2, sharpe=None, start_ts=None, end_ts=None)
    assert store.get_run(second + 1) is None
    assert store.trades_for_run(second + 1) == []


def test_summary_values_json_cannot_hold_are_stored_as_strings_or_null(store: TradeStore) -> None:
    summary = {"final_equity": Decimal("10250.5"), "start": T0, "sharpe": float("nan"), "path": (1, 2)}

    run_id = store.save_backtest(a_run(summary=summary, sharpe=float("nan")), [])

    stored = store.get_run(run_id)
    assert stored is not None
    assert stored.summary == {
        "final_equity": "10250.5",
        "start": "2024-03-01T12:00:00+00:00",
        "sharpe": None,
        "path": [1, 2],
    }
    assert stored.sharpe is None


def test_saving_trades_on_a_known_pair_does_not_insert_the_pair_again(
    store: TradeStore, engine: sa.Engine
) -> None:
    eth = {"symbol": "ETH/USDC", "base_asset": "ETH", "quote_asset": "USDC"}
    store.save_backtest(a_run(), [a_trade(0), a_trade(1), a_trade(2, **eth)])
    store.save_backtest(a_run(), [a_trade(3, **eth), a_trade(4)])
    store.record_trade(a_trade(5))
    store.record_trade(a_trade(6, venue="drift"))

    with engine.connect() as connection:
        pairs = connection.execute(
            sa.text("SELECT symbol, venue, is_active, min_trade_size FROM trading_pairs ORDER BY id")
        ).all()
    assert [(symbol, venue) for symbol, venue, _, _ in pairs] == [
        ("SOL/USDC", "sim"),
        ("ETH/USDC", "sim"),
        ("SOL/USDC", "drift"),
    ]
    assert all(bool(is_active) for _, _, is_active, _ in pairs)
    assert all(Decimal(min_size) == 0 for _, _, _, min_size in pairs)


def test_a_pair_given_with_other_assets_than_stored_is_refused(store: TradeStore) -> None:
    store.record_trade(a_trade(0))

    with pytest.raises(StorageError, match="SOL/USDC on sim is stored as SOL/USDC, not SOL/USDT"):
        store.record_trade(a_trade(1, quote_asset="USDT"))


def test_a_live_trade_is_stored_without_a_run_and_gets_its_own_id(
    store: TradeStore, engine: sa.Engine
) -> None:
    run_id = store.save_backtest(a_run(), [a_trade(0)])

    first = store.record_trade(a_trade(1, tx_signature="5" * 88, status="confirmed"))
    second = store.record_trade(a_trade(2))

    assert second > first
    assert store.trades_for_run(run_id) == [a_trade(0)]
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT run_id, status, tx_signature FROM trade_logs WHERE id = :id"), {"id": first}
        ).one()
    assert tuple(row) == (None, "confirmed", "5" * 88)


def test_the_database_itself_refuses_a_trade_that_points_at_no_pair(
    store: TradeStore, engine: sa.Engine
) -> None:
    row = {"ts": T0, "trade_type": "buy", "amount": Decimal(1), "price": Decimal(1), "venue": "sim"}

    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(TradeLog), {**row, "pair_id": 999})


def test_a_bulk_save_of_20000_trades_reads_back_complete_and_in_order(store: TradeStore) -> None:
    trades = [a_trade(index, amount=Decimal(index).scaleb(-8) + 1) for index in range(20_000)]

    run_id = store.save_backtest(a_run(fills=len(trades)), trades)

    assert store.trades_for_run(run_id) == trades


# --- reaching the database ----------------------------------------------------------------------------------


def assert_one_line(error: StorageUnavailable) -> None:
    message = str(error)
    assert "\n" not in message
    assert "Traceback" not in message
    assert "sqlalche.me" not in message
    assert message == f"cannot reach database {error.url}: {error.reason}"


def unreachable_url(backend: str, tmp_path: Path) -> tuple[str, str, str]:
    """(URL, how it is shown, reason) for a database that cannot be reached."""
    if backend == "postgres":
        return (
            "postgresql://postgres:s3cret@127.0.0.1:5999/test",
            "postgresql://postgres@127.0.0.1:5999/test",
            "connection refused",
        )
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database directory should be")
    return f"sqlite:///{blocker}/bot.sqlite", f"sqlite:///{blocker}/bot.sqlite", "cannot create directory"


def test_an_unreachable_database_is_a_one_line_storage_unavailable_without_the_password(
    backend: str, tmp_path: Path
) -> None:
    url, shown, reason = unreachable_url(backend, tmp_path)

    with pytest.raises(StorageUnavailable) as raised:
        check_connection(make_engine(url))
    with pytest.raises(StorageUnavailable) as migrating:
        upgrade(url)

    for error in (raised.value, migrating.value):
        assert_one_line(error)
        assert str(error).startswith(f"cannot reach database {shown}: {reason}")
        assert "s3cret" not in str(error)


BAD_URLS = {
    "sqlite": [
        ("sqlite3:///bot.sqlite", "unknown database scheme 'sqlite3'"),
        ("sqlite+nosuchdriver:///bot.sqlite", "unknown driver 'nosuchdriver' for sqlite"),
        ("sqlite+aiosqlite:///bot.sqlite", "driver aiosqlite is not installed"),
        ("sqlite:///file:{tmp}/missing.sqlite?mode=ro&uri=true", "unable to open database file"),
    ],
    "postgres": [
        ("postgresq://postgres@127.0.0.1:5432/test", "unknown database scheme 'postgresq'"),
        ("postgresql+pg8000://postgres@127.0.0.1:5432/test", "driver pg8000 is not installed"),
        (
            "postgresql://postgres@127.0.0.1:5432/bot_test_missing",
            'database "bot_test_missing" does not exist',
        ),
        ("not a url at all", "not a database URL"),
    ],
}


def test_a_bad_scheme_a_missing_driver_or_an_unknown_database_is_a_one_line_storage_unavailable(
    backend: str, tmp_path: Path
) -> None:
    for template, reason in BAD_URLS[backend]:
        url = template.format(tmp=tmp_path)
        with pytest.raises(StorageUnavailable) as raised:
            check_connection(make_engine(url))
        assert_one_line(raised.value)
        assert reason in raised.value.reason, url


def test_a_fresh_url_connects_with_its_directory_created_and_postgres_urls_use_psycopg(
    backend: str, database_url: str
) -> None:
    engine = make_engine(database_url.replace("postgresql://", "postgres://"))
    try:
        check_connection(engine)
        if backend == "postgres":
            assert engine.url.drivername == "postgresql+psycopg"
        else:
            assert Path(str(engine.url.database)).parent.is_dir()
    finally:
        engine.dispose()
