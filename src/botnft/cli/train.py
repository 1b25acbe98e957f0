"""`bot train`: walk-forward training of the direction model or the strategy and vehicle selector, scored out
of sample against the baselines after costs, written as an HTML report; the final model goes to the model
store (runs/models/ID) for `bot backtest --strategy ml_selector --param model=ID`.

Every argument is checked before scikit-learn, LightGBM or the data are imported."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from botnft.cli.common import app, date_arg, err, out
from botnft.domain.errors import UserError


@app.command()
def train(
    data: Annotated[
        str, typer.Option(metavar="NAME|PATH", help="Candles: a bundled set (see `bot data list`) or a file.")
    ] = "sol-perp-1h",
    model: Annotated[str, typer.Option(metavar="rf|gbm", help="Random forest or LightGBM.")] = "rf",
    task: Annotated[
        str, typer.Option(metavar="direction|selector", help="Predict the direction, or choose the strategy.")
    ] = "selector",
    features: Annotated[
        str | None,
        typer.Option(metavar="LIST", help="Comma-separated features (default: every one the data provide)."),
    ] = None,
    spot: Annotated[
        str | None, typer.Option(metavar="NAME|PATH", help="Spot candles for a perp's basis.")
    ] = None,
    folds: Annotated[int, typer.Option(metavar="N", help="Walk-forward test folds.")] = 5,
    test_bars: Annotated[int, typer.Option("--test-bars", metavar="N", help="Bars per test fold.")] = 2000,
    horizon: Annotated[int, typer.Option(metavar="N", help="Bars ahead the labels look.")] = 24,
    embargo: Annotated[int, typer.Option(metavar="N", help="Bars between training and test.")] = 24,
    train_bars: Annotated[
        int | None, typer.Option("--train-bars", metavar="N", help="Rolling training window (default: all).")
    ] = None,
    min_train: Annotated[
        int, typer.Option("--min-train", metavar="N", help="Fewest training samples.")
    ] = 1000,
    trees: Annotated[int, typer.Option(metavar="N", help="Trees (rf) or boosting rounds (gbm).")] = 100,
    depth: Annotated[int, typer.Option(metavar="N", help="Maximum tree depth.")] = 6,
    min_leaf: Annotated[int, typer.Option("--min-leaf", metavar="N", help="Fewest samples per leaf.")] = 50,
    spot_fee_bps: Annotated[float, typer.Option("--spot-fee-bps", metavar="BPS")] = 10.0,
    perp_fee_bps: Annotated[float, typer.Option("--perp-fee-bps", metavar="BPS")] = 5.0,
    bootstrap: Annotated[int, typer.Option(metavar="N", help="Bootstrap resamples for the intervals.")] = 500,
    start: Annotated[str | None, typer.Option(metavar="DATE", help="First bar (UTC).")] = None,
    end: Annotated[str | None, typer.Option(metavar="DATE", help="End (UTC, exclusive).")] = None,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed: the same data and seed, the same model.")] = 0,
    out_dir: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Report folder (default runs/train/MODEL_ID).")
    ] = None,
    models_dir: Annotated[
        Path | None, typer.Option("--models-dir", metavar="DIR", help="Model store (default runs/models).")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout, no progress.")
    ] = False,
) -> None:
    """Train a model walk-forward and report it out of sample against the baselines."""
    _train(locals())


def checked(o: dict[str, Any]) -> Any:
    """The training spec the flags ask for; every mistake a one-line `UserError` before heavy imports."""
    from botnft.research.walkforward import WalkForward
    from botnft.strategy.features import ALL_FEATURES
    from botnft.strategy.ml_model import ModelSize, check_kind
    from botnft.strategy.ml_targets import Costs, classes

    check_kind(o["model"])
    classes(o["task"])
    feats = None
    if o["features"] is not None:
        feats = tuple(f.strip() for f in o["features"].split(",") if f.strip())
        if not feats:
            raise UserError("--features takes feature names separated by commas")
        for f in feats:
            if f not in ALL_FEATURES:
                raise UserError(f"unknown feature {f!r}; known: {', '.join(ALL_FEATURES)}")
    for name in ("trees", "depth", "min_leaf", "bootstrap"):
        if o[name] < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {o[name]}")
    for name in ("spot_fee_bps", "perp_fee_bps"):
        if not 0.0 <= o[name] < 1000.0:
            raise UserError(f"--{name.replace('_', '-')} must be in [0, 1000), got {o[name]}")
    wf = WalkForward(o["folds"], o["test_bars"], o["horizon"], o["embargo"], o["train_bars"], o["min_train"])
    wf.check()
    _check_data(o["data"])
    if o["spot"] is not None:
        _check_data(o["spot"])
    first, last = date_arg("--start", o["start"]), date_arg("--end", o["end"])
    from botnft.research.pipeline import TrainSpec

    return TrainSpec(
        data=o["data"], kind=o["model"], task=o["task"], seed=o["seed"], features=feats, wf=wf,
        size=ModelSize(o["trees"], o["depth"], o["min_leaf"]),
        costs=Costs(o["spot_fee_bps"] / 1e4, o["perp_fee_bps"] / 1e4), spot=o["spot"], n_boot=o["bootstrap"],
        start_ns=None if first is None else int(first.timestamp() * 1e9),
        end_ns=None if last is None else int(last.timestamp() * 1e9),
    )  # fmt: skip


def _check_data(data: str) -> None:
    from botnft.data import bundle

    if data in bundle.DATASETS:
        return
    if not Path(data).exists():
        if any(s in data for s in ("/", ".csv", ".parquet")):
            raise UserError(f"data file not found: {data}")
        bundle.get(data)  # raises: unknown data set, with the list


def _train(o: dict[str, Any]) -> None:
    spec = checked(o)
    from botnft.config import load_settings

    settings = load_settings()
    models_root = o["models_dir"] or settings.runs_dir / "models"
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from botnft.research import pipeline, report

    stages = 1 + spec.wf.folds + 2
    with Progress(
        TextColumn("[bold]train[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err, transient=True, disable=o["json_out"] or not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{spec.kind} {spec.task} on {spec.data}", total=stages)

        def step(what: str) -> None:
            bar.update(task, advance=1, description=f"{spec.kind} {spec.task}: {what}")

        result = pipeline.train(spec, models_root, step)
    folder = o["out_dir"] or settings.runs_dir / "train" / result.model_id
    html_path = report.write(result, folder)
    summary = {**result.summary(), "timings_s": result.timings, "report": str(html_path),
               "model_dir": str(result.model_dir)}  # fmt: skip
    if o["json_out"]:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
        return
    m = result.metrics
    out.print(
        f"out of sample ({int(m['samples']):,} bars): accuracy {m['accuracy'] * 100:.1f} % "
        f"(majority class {m['base_rate_accuracy'] * 100:.1f} %), log loss {m['log_loss']:.4f}, "
        f"Brier {m['brier']:.4f}"
    )
    for s in result.scored:
        out.print(
            f"  {s.name:<13} return {s.total_return * 100:8.2f} %  Sharpe {s.sharpe:6.2f} "
            f"[{s.sharpe_ci.low:.2f}, {s.sharpe_ci.high:.2f}]  max dd {s.max_drawdown * 100:6.2f} %  "
            f"deflated {s.deflated_sharpe:.3f}"
        )
    took = result.timings["total_s"]
    out.print(f"model {result.model_id} in {result.model_dir}; report {html_path}; {took:.1f} s")
