"""`bot optimize`: search a strategy's parameters with an Optuna study kept in an RDB storage (SQLite by
default, PostgreSQL to share it between machines: `--join STUDY` adds a worker), each trial scored after
costs over walk-forward folds, the folds run on Dask (a local cluster of processes, or `--scheduler`).

Every argument is checked before Optuna, Dask or the data are imported."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from botnft.cli.common import app, date_arg, decimal_arg, err, out, parse_params, redacted
from botnft.domain.errors import UserError

MAX_TRIALS = 100_000
#: flags a study stores (a joining worker takes them from it) and their defaults
STORED = {"batch": 4, "startup": 10, "seed": 0, "folds": 3, "fold_bars": 2000, "warmup": 500}


@app.command()
def optimize(
    strategy: Annotated[str | None, typer.Option(metavar="NAME", help="Strategy to tune.")] = None,
    param_space: Annotated[
        Path | None,
        typer.Option(
            "--param-space", metavar="FILE", help='TOML or JSON: name = {type="int", low=.., high=..}.'
        ),
    ] = None,
    trials: Annotated[int, typer.Option(metavar="N", help="Trials this worker runs.")] = 20,
    storage: Annotated[
        str | None,
        typer.Option(
            metavar="URL", help="Study storage: postgresql://… or sqlite:///… (default runs/optuna.db)."
        ),
    ] = None,
    study: Annotated[
        str | None, typer.Option(metavar="NAME", help="Study name (default: generated).")
    ] = None,
    join: Annotated[
        str | None,
        typer.Option(metavar="STUDY", help="Add a worker to an existing study (its setup is stored)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(metavar="K", help="Dask LocalCluster processes (default 2; 0: this process)."),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="A running Dask scheduler, tcp://HOST:PORT.")
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Trials sampled per batch, default 4 (part of the result: same seed and batch, same study).",
        ),
    ] = None,
    startup: Annotated[
        int | None, typer.Option(metavar="N", help="Random trials before TPE takes over (default 10).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="Sampler and backtest seed (default 0).")
    ] = None,
    stale_after: Annotated[
        int,
        typer.Option(
            "--stale-after",
            metavar="SECONDS",
            help="A running trial without a heartbeat this long (its worker died) is failed and retried.",
        ),
    ] = 60,
    data: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME|PATH", help="Market (repeatable): a bundled set or a candle file."),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", metavar="KEY=VALUE", help="A fixed strategy parameter.")
    ] = None,
    folds: Annotated[
        int | None, typer.Option(metavar="N", help="Out-of-sample folds per market (default 3).")
    ] = None,
    fold_bars: Annotated[
        int | None, typer.Option("--fold-bars", metavar="N", help="Bars per fold (default 2000).")
    ] = None,
    warmup: Annotated[
        int | None, typer.Option(metavar="N", help="Bars fed before each fold, not scored (default 500).")
    ] = None,
    venue: Annotated[
        str | None, typer.Option(metavar="VENUE", help="sim, perp or drift (as bot backtest).")
    ] = None,
    fee_bps: Annotated[str | None, typer.Option("--fee-bps", metavar="BPS", help="Flat taker fee.")] = None,
    start: Annotated[str | None, typer.Option(metavar="DATE", help="First bar (UTC).")] = None,
    end: Annotated[str | None, typer.Option(metavar="DATE", help="End (UTC, exclusive).")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Report folder (default runs/optimize/STUDY).")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout, no progress.")
    ] = False,
) -> None:
    """Tune a strategy's parameters: an Optuna study in an RDB storage, folds on Dask, an HTML report."""
    _optimize(locals())


def _check_data(name: str) -> None:
    from botnft.data import bundle

    if name in bundle.DATASETS:
        return
    if not Path(name).exists():
        if any(s in name for s in ("/", ".csv", ".parquet")):
            raise UserError(f"data file not found: {name}")
        bundle.get(name)  # raises: unknown data set, with the list


def _ns(name: str, value: str | None) -> int | None:
    dt = date_arg(name, value)
    return None if dt is None else int(dt.timestamp() * 1_000_000_000)


def checked(o: dict[str, Any]) -> dict[str, Any]:
    """Every flag checked (a `UserError` each), before Optuna, Dask or any data load."""
    from botnft.backtest.spec import MAX_SEED, VENUES
    from botnft.research import optimize_eval as ev
    from botnft.research import optimize_space as sp

    stored_given = [k for k in STORED if o[k] is not None]
    for k, v in STORED.items():
        o[k] = v if o[k] is None else o[k]
    if not 1 <= o["trials"] <= MAX_TRIALS:
        raise UserError(f"--trials must be in [1, {MAX_TRIALS}], got {o['trials']}")
    if not 1 <= o["batch"] <= 1000:
        raise UserError(f"--batch must be in [1, 1000], got {o['batch']}")
    if not 0 <= o["startup"] <= MAX_TRIALS:
        raise UserError(f"--startup must be zero or more, got {o['startup']}")
    if not 3 <= o["stale_after"] <= 86_400:
        raise UserError(f"--stale-after must be in [3, 86400] seconds, got {o['stale_after']}")
    if not 0 <= o["seed"] <= MAX_SEED:
        raise UserError(f"--seed must be in [0, {MAX_SEED}], got {o['seed']}")
    if o["workers"] is not None and not 0 <= o["workers"] <= 256:
        raise UserError(f"--workers must be in [0, 256], got {o['workers']}")
    if o["scheduler"] is not None and o["workers"] is not None:
        raise UserError("--workers sizes the local cluster; with --scheduler the cluster has its own workers")
    for name in ("study", "join"):
        v = o[name]
        if v is not None and not (0 < len(v) <= 200 and v.isprintable() and v.strip() == v):
            raise UserError(f"--{name} must be a name of 1 to 200 printable characters, got {v!r}")
    from botnft.research.optimize import check_scheduler, storage_url

    c: dict[str, Any] = {"scheduler": None if o["scheduler"] is None else check_scheduler(o["scheduler"])}
    from botnft.config import load_settings

    settings = load_settings()
    c["runs_dir"] = settings.runs_dir
    c["storage"] = storage_url(o["storage"], settings.runs_dir)
    c["workers"] = 2 if o["workers"] is None else o["workers"]
    if o["join"] is not None:
        setup_flags = (
            "strategy",
            "param_space",
            "data",
            "param",
            "venue",
            "fee_bps",
            "start",
            "end",
            "study",
        )
        given = [f"--{k.replace('_', '-')}" for k in (*(k for k in setup_flags if o[k]), *stored_given)]
        if given:
            raise UserError(f"--join takes the study's own setup; drop {', '.join(given)}")
        c["name"] = o["join"]
        return c
    if o["strategy"] is None or o["param_space"] is None:
        raise UserError("give --strategy and --param-space (or --join STUDY to add a worker to a study)")
    space = sp.load(o["param_space"])
    fixed = parse_params(o["param"] or [])
    sp.check_for_strategy(o["strategy"], space, fixed, o["param_space"].name)
    if o["venue"] is not None and o["venue"] not in VENUES:
        raise UserError(f"unknown venue {o['venue']!r}; choose one of: {', '.join(VENUES)}")
    fee = decimal_arg("--fee-bps", o["fee_bps"])
    if fee is not None and not 0 <= fee < 10_000:
        raise UserError(f"--fee-bps must be in [0, 10000), got {fee}")
    windows = ev.Windows(o["folds"], o["fold_bars"], o["warmup"])
    windows.check()
    markets = tuple(dict.fromkeys(o["data"] or ["sol-spot-1h"]))
    for m in markets:
        _check_data(m)
    first, last = _ns("--start", o["start"]), _ns("--end", o["end"])
    if first is not None and last is not None and first >= last:
        raise UserError("--start must be before --end")
    c["setup"] = ev.Setup(o["strategy"], markets, windows, fixed, o["venue"],
                          None if fee is None else str(fee), first, last, o["seed"])  # fmt: skip
    c["space"] = space
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    c["name"] = o["study"] or f"{o['strategy']}-{stamp}"
    return c


def _optimize(o: dict[str, Any]) -> None:
    c = checked(o)
    from botnft.research import optimize_eval as ev

    if "setup" in c:
        ev.fold_plan(c["setup"])  # too little data: said before the storage and the cluster start
        ev.periods_per_year(c["setup"])
    from botnft.research import optimize as opt

    shown = redacted(o["storage"] or c["storage"])
    storage = opt.open_storage(c["storage"], shown, o["stale_after"])
    opened = opt.open_study(
        storage, c["name"], c.get("setup"), c.get("space"), join=o["join"] is not None, seed=o["seed"],
        batch=o["batch"], startup=o["startup"],
    )  # fmt: skip
    plan = ev.fold_plan(opened.setup)
    evaluator: opt.Evaluator = (
        opt.DaskEvaluator(c["workers"], c["scheduler"])
        if c["scheduler"] is not None or c["workers"] > 0
        else opt.Evaluator()
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        with Progress(
            TextColumn("[bold]optimize[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=err, transient=True,
            disable=o["json_out"] or not err.is_terminal,
        ) as bar:  # fmt: skip
            task = bar.add_task(
                f"{opened.setup.strategy}: {o['trials']} trials", total=o["trials"] * len(plan)
            )
            best: list[float] = []

            def on_trial(number: int, value: float | None) -> None:
                if value is not None and (not best or value > best[0]):
                    best[:] = [value]
                shown_best = f"best {best[0]:.3f}" if best else "no trial complete"
                bar.update(task, description=f"{opened.setup.strategy}: trial {number}, {shown_best}")

            log = opt.run(opened, o["trials"], evaluator, lambda: bar.advance(task), on_trial)
        summary = opt.summary(opened, log, shown, evaluator)
    finally:
        evaluator.close()
    from botnft.research import optimize_report

    folder = o["out_dir"] or c["runs_dir"] / "optimize" / opened.study.study_name
    summary["report"] = str(optimize_report.write(summary, folder))
    if o["json_out"]:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
        return
    _print(summary)


def _print(s: dict[str, Any]) -> None:
    run = s["this_run"]
    out.print(
        f"study {s['study']} in {s['storage']}: ran {len(run['trials'])} trials in {run['seconds']:.1f} s on "
        f"{run['evaluated_on']} ({run['failed']} refused by the strategy); study trials: "
        + ", ".join(f"{v} {k}" for k, v in sorted(s["trials"].items()))
    )
    b = s["best"]
    if b is None:
        out.print("no trial completed")
    else:
        params = ", ".join(f"{k}={v}" for k, v in b["params"].items())
        folds = ", ".join(f"{v:.2f}" for v in b["fold_sharpe"])
        out.print(
            f"best trial #{b['number']}: {params}; mean out-of-sample Sharpe {b['value']:.3f} "
            f"(folds {folds}); deflated Sharpe {b['deflated_sharpe']:.3f} given {b['n_trials']} trials"
        )
        if s.get("importances"):
            out.print("importance: " + ", ".join(f"{k} {v:.2f}" for k, v in s["importances"].items()))
    out.print(f"report {s['report']}")
