"""What `preflight` lets through, the databases hold: a run at every limit of its row is stored and read
back equal, on SQLite and PostgreSQL; one step beyond, saving refuses exactly what preflight refuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from botnft.backtest.persist import preflight
from botnft.domain.errors import UserError
from botnft.storage import BacktestRunRecord, StorageError, TradeStore, upgrade

AT_LIMITS = BacktestRunRecord(
    strategy="s" * 50,
    params={"p" * 100: "v" * 1000},
    data_source="d" * 200,
    venue="v" * 20,
    seed=-(2**31),
    bars=1,
    fills=0,
    round_trips=0,
    initial_cash=Decimal("99999999999999999999.999999999999999999"),
    final_equity=Decimal("0.000000000000000001"),
    total_return=0.0,
    max_drawdown=0.0,
    start_ts=datetime(2025, 1, 1, tzinfo=UTC),
    end_ts=datetime(2025, 1, 2, tzinfo=UTC),
)


def inputs(run: BacktestRunRecord) -> dict[str, object]:
    return {
        "strategy": run.strategy,
        "params": run.params,
        "data_source": run.data_source,
        "venue": run.venue,
        "seed": run.seed,
        "cash": run.initial_cash,
    }


def test_a_run_that_passes_preflight_at_every_limit_is_stored_and_read_back_equal(
    database_url: str, engine: sa.Engine
) -> None:
    for run in (AT_LIMITS, replace(AT_LIMITS, seed=2**31 - 1)):
        preflight(**inputs(run))  # type: ignore[arg-type]
        upgrade(database_url)
        store = TradeStore(engine)

        stored = store.get_run(store.save_backtest(run, []))

        assert stored == run
        assert stored is not None and str(stored.initial_cash) == str(run.initial_cash)


@pytest.mark.parametrize(
    "change",
    [
        {"strategy": "s" * 51},
        {"data_source": "d" * 201},
        {"venue": "v" * 21},
        {"seed": 2**31},
        {"initial_cash": Decimal("100000000000000000000")},
        {"initial_cash": Decimal("0.0000000000000000001")},
    ],
)
def test_one_step_beyond_a_limit_preflight_and_saving_refuse_the_same_value(
    database_url: str, engine: sa.Engine, change: dict[str, object]
) -> None:
    run = replace(AT_LIMITS, **change)  # type: ignore[arg-type]
    upgrade(database_url)

    with pytest.raises(UserError) as before:
        preflight(**inputs(run))  # type: ignore[arg-type]
    with pytest.raises(StorageError) as after:
        TradeStore(engine).save_backtest(run, [])

    field = next(iter(change))
    problem = str(after.value).removeprefix(f"run {field} ")
    assert str(before.value).split(" ", 1)[1].startswith(problem)
    assert TradeStore(engine).list_runs() == []
