"""`bot paper`, `bot status`, `bot kill`: the node on replayed history at a real-time pace, journaled and
resumable; a run's state from the database; the kill switch from another shell."""

from __future__ import annotations

import inspect
import json
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from botnft.cli.backtest import backtest as backtest_command
from botnft.cli.backtest import built_session, checked_spec, input_files
from botnft.cli.common import (
    app,
    decimal_arg,
    err,
    out,
    redacted,
)
from botnft.domain.errors import UserError


def _paper_options(
    speed: Annotated[
        str,
        typer.Option(
            metavar="N|max",
            help="Release the bars N times faster than their own interval (1 = real time); max: no waiting.",
        ),
    ] = "max",
    run_id: Annotated[
        str | None, typer.Option("--run-id", metavar="ID", help="Name of the run (default: generated).")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Continue this run (crashed or stopped) with its stored settings."),
    ] = None,
    resume_if_exists: Annotated[
        bool,
        typer.Option("--resume-if-exists", help="With --run-id ID: resume that run if the database has it "
                     "(crashed or stopped), else start it; a finished or killed run is an error. "
                     "BOT_RUN_ID=ID means --run-id ID --resume-if-exists."),
    ] = False,
    unknown_orders: Annotated[
        str,
        typer.Option(
            "--unknown-orders", metavar="cancel|adopt", help="On resume: what to do with orders a venue has "
            "that the run does not know.",
        ),
    ] = "cancel",
    snapshot_every: Annotated[
        int, typer.Option("--snapshot-every", metavar="BARS", help="Snapshot the node every BARS bars.")
    ] = 50,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", metavar="PORT", show_default="9464", help="Serve Prometheus metrics "
                     "on 127.0.0.1:PORT/metrics while the run goes (default 9464 if free); 0: off."),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option("--log-format", metavar="json|console", show_default="json, console on a terminal",
                     help="Log lines (run id, client order id and venue on each) as JSON objects or for a "
                     "person to read."),
    ] = None,
    log_json: Annotated[
        bool, typer.Option("--log-json", hidden=True, help="The same as --log-format json.")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option("--shard", envvar="BOT_SHARD", metavar="SLOT/N", help="Trade the SLOT-th of N shares "
                     "of the markets listed in --data A,B,C (round-robin; a replica's task slot)."),
    ] = None,
) -> None:  # fmt: skip
    """The flags `bot paper` adds to `bot backtest`'s."""


def paper(**o: Any) -> None:
    """Paper-trade: replay history on a real-time pace through the node and paper venues, journaled, so a
    crashed or stopped run resumes where it was (`--resume ID`). `bot kill ID` stops it from another shell."""
    _paper(o)


_BACKTEST_PARAMS = inspect.signature(backtest_command, eval_str=True).parameters
_EXTRA_PARAMS = inspect.signature(_paper_options, eval_str=True).parameters
paper.__signature__ = inspect.Signature([*_BACKTEST_PARAMS.values(), *_EXTRA_PARAMS.values()])  # type: ignore[attr-defined]
paper.__annotations__ = {p.name: p.annotation for p in (*_BACKTEST_PARAMS.values(), *_EXTRA_PARAMS.values())}
app.command("paper")(paper)


def _speed(raw: str) -> float | None:
    if raw.strip().lower() == "max":
        return None
    value = decimal_arg("--speed", raw)
    if value is None or value <= 0 or value > 10**9:
        raise UserError(f"--speed must be a positive number (at most 1e9) or max, got {raw!r}")
    return float(value)


def _paper_store(db_url: str | None) -> tuple[Any, str]:
    from botnft.config import load_settings
    from botnft.storage import migrate
    from botnft.storage.db import make_engine
    from botnft.storage.journal import PaperStore

    url = load_settings(database_url=db_url).database_url
    migrate.upgrade(url)
    return PaperStore(make_engine(url)), redacted(url)


def _alive(pid: int | None) -> bool:
    """A process with this id runs (not a zombie: a killed run whose parent has not reaped it yet)."""
    if not pid or pid == os.getpid():
        return False
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rpartition(")")[2].split()[0] != "Z"
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def chosen_run_id(o: dict[str, Any], generated: str) -> str:
    """The run's id from --resume, --run-id or BOT_RUN_ID (which means --run-id ID --resume-if-exists: a
    restarted service task takes its last run over), else `generated`; checked."""
    import re

    env = os.environ.get("BOT_RUN_ID", "").strip()
    if env and not o["run_id"] and not o["resume"]:
        o["run_id"], o["resume_if_exists"] = env, True
    if o["resume_if_exists"] and (o["resume"] or not o["run_id"]):
        raise UserError("--resume-if-exists goes with --run-id ID (or BOT_RUN_ID), not --resume")
    if o["resume"] and o["run_id"] and o["resume"] != o["run_id"]:
        raise UserError("give --resume ID or --run-id ID, not both")
    run_id: str = o["resume"] or o["run_id"] or generated
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", run_id):
        raise UserError(f"a run id is 1-64 letters, digits, '.', '_' or '-', got {run_id!r}")
    return run_id


def resume_if_exists(o: dict[str, Any], store: Any, run_id: str) -> None:
    """--resume-if-exists: an existing run is resumed (set o["resume"]), with the checks of --resume."""
    if o["resume_if_exists"] and not o["resume"]:
        row = store.run(run_id)
        if row is not None:
            o["resume"] = run_id
            err.print(f"run {run_id} exists ({row['status']}): resuming it", highlight=False)


def _paper(o: dict[str, Any]) -> None:
    import secrets

    from botnft.cli.shard import sharded_data

    o["data"] = sharded_data(o["data"], o["shard"])
    speed = _speed(o["speed"])
    if o["log_format"] not in (None, "json", "console"):
        raise UserError(f"--log-format takes json or console, got {o['log_format']!r}")
    if o["unknown_orders"] not in ("cancel", "adopt"):
        raise UserError(f"--unknown-orders takes cancel or adopt, got {o['unknown_orders']!r}")
    if not 1 <= o["snapshot_every"] <= 1_000_000:
        raise UserError(f"--snapshot-every must be in [1, 1000000], got {o['snapshot_every']}")
    if not o["store"]:
        raise UserError("a paper run keeps its journal in the database: --no-store does not apply")
    from botnft.cli.report import check_metrics_port, check_report_dir

    check_metrics_port(o["metrics_port"])
    if o["report"]:
        check_report_dir(o["report"], "--report")
    run_id = chosen_run_id(o, f"paper-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}")
    err.print(f"run {run_id}", highlight=False)
    if not o["json_out"]:
        out.print(f"run {run_id}", highlight=False)
    opened = None
    if o["resume_if_exists"]:
        opened = _paper_store(o["db_url"])
        resume_if_exists(o, opened[0], run_id)
    spec = None if o["resume"] else checked_spec(o)
    from botnft.backtest.outputs import check_output_file

    fills_out = None
    if o["fills_out"]:
        fills_out = check_output_file(
            o["fills_out"], "--fills-out", input_files(spec.data if spec else o["data"])
        )
    if o["metrics_out"]:
        o["metrics_out"] = check_output_file(o["metrics_out"], "--metrics-out", input_files(o["data"]))
    store, where = opened or _paper_store(o["db_url"])
    from botnft.backtest.paper.specjson import spec_from_json, spec_to_json

    if o["resume"]:
        row = store.run(run_id)
        if row is None:
            raise UserError(f"no paper run {run_id!r} in {where}")
        if row["status"] in ("finished", "killed"):
            raise UserError(f"paper run {run_id} is {row['status']}: there is nothing to resume")
        if row["status"] == "running" and _alive(row["pid"]):
            raise UserError(
                f"paper run {run_id} is running (pid {row['pid']}); stop it first: bot kill {run_id}"
            )
        if o["fills_out"]:  # the run's own data file is an input too
            fills_out = check_output_file(o["fills_out"], "--fills-out", input_files(row["spec"]["data"]))
        from botnft.bootstrap import build_backtest

        session = build_backtest(spec_from_json(row["spec"]))
    else:
        from botnft.config import load_settings

        session = built_session(o, spec, load_settings(database_url=o["db_url"]).liquidity.model_dump())
        store.create_run(run_id, spec_to_json(session.spec), os.getpid())
    _run_paper(o, store, run_id, session, speed, fills_out)


def _run_paper(
    o: dict[str, Any], store: Any, run_id: str, session: Any, speed: float | None, fills_out: Any
) -> None:
    import gc
    import signal
    import time

    from botnft.backtest.paper.run import PaperRun, PaperSettings
    from botnft.backtest.report import write_fills_csv
    from botnft.obs.wiring import log_paper_orders, paper_log, watch_paper, write_stored_report

    settings = PaperSettings(
        speed=speed, snapshot_every=o["snapshot_every"], unknown_orders=o["unknown_orders"],
        db_retry_s=float(os.environ.get("BOT_DB_RETRY_S", "30")),
    )  # fmt: skip
    log = paper_log(run_id, fmt="json" if o["log_json"] else o["log_format"])
    run = PaperRun(session, store, run_id, settings, log=log)
    if o["resume"]:
        store.set_status(run_id, "running", pid=os.getpid())
        run.resume()
    watched = watch_paper(run, run_id, o["metrics_port"], write=bool(o["metrics_out"]), warn=log)
    log_paper_orders(run)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: run.request_stop("signal"))
    n = len(session.data.bars)
    with Progress(
        TextColumn("[bold]paper[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{run_id}", total=n, completed=run.next_bar)
        said = [time.monotonic()]

        def progress(j: int) -> None:
            bar.update(task, completed=j)
            if not err.is_terminal and time.monotonic() - said[0] >= 30:  # a log, not a bar, when piped
                said[0] = time.monotonic()
                log(f"bar {j:,} of {n:,}")

        gc.collect()
        gc.freeze()  # the start-up's objects (data, session, modules) are no longer walked mid-run
        try:
            status = run.run(progress=progress)
        finally:
            watched.stop()
    summary = run.summary(status)
    if o["metrics_out"]:
        watched.write(o["metrics_out"])
    if o["report"]:
        write_stored_report(run_id, o["db_url"], o["report"])
    if fills_out is not None:
        write_fills_csv(run.node.record.fills, fills_out)
    if o["json_out"]:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
        return
    out.print(
        f"{status}: {summary['bars']:,} of {summary['bars_total']:,} bars, {summary['fills']:,} fills, "
        f"{summary['orders']:,} orders; equity {Decimal(summary['final_equity']):,.2f}; "
        f"{summary['bars_per_s'] or 0:,} bars/s",
        highlight=False,
    )
    rec = summary["reconciliation"]
    if rec is not None:
        out.print(f"reconciliation: {len(rec['actions'])} action(s); replayed {summary['replayed_entries']} "
                  "journal entries", highlight=False)  # fmt: skip


@app.command("status")
def status_cmd(
    run_id: Annotated[
        str | None, typer.Argument(metavar="[RUN_ID]", help="One run; default: all runs.")
    ] = None,
    db_url: Annotated[str | None, typer.Option("--db-url", metavar="URL", help="Database URL.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Paper runs: their state, or one run's positions, open orders and last event time."""
    from botnft.backtest.report import iso

    store, where = _paper_store(db_url)
    if run_id is None:
        rows = store.runs()
        if json_out:
            keep = ("run_id", "status", "bars_done", "last_event_ts")
            sys.stdout.write(json.dumps([{k: r[k] for k in keep} for r in rows]) + "\n")
            return
        t = Table(title=f"Paper runs in {where}")
        for col in ("run", "status", "bars", "last event", "created"):
            t.add_column(col)
        for r in rows:
            last = iso(r["last_event_ts"]) if r["last_event_ts"] is not None else "—"
            t.add_row(
                r["run_id"], r["status"], f"{r['bars_done']:,}", last, f"{r['created_at']:%Y-%m-%d %H:%M}"
            )
        out.print(t)
        return
    row = store.run(run_id)
    if row is None:
        raise UserError(f"no paper run {run_id!r} in {where}")
    if row["status"] == "running" and row["pid"] and not _alive(row["pid"]) and Path("/proc").is_dir():
        row["status"] = "crashed"  # its process is gone: what `bot kill` would record
    s = row["summary"] or {}
    view = {
        "run_id": run_id, "status": row["status"], "bars": row["bars_done"],
        "last_event": iso(row["last_event_ts"]) if row["last_event_ts"] is not None else None,
        "positions": s.get("positions"), "open_orders": s.get("open_orders"), "fills": s.get("fills"),
        "kill_requested": bool(row["kill_requested"]),
    }  # fmt: skip
    if json_out:
        sys.stdout.write(json.dumps(view, sort_keys=True) + "\n")
        return
    for key, value in view.items():
        out.print(f"{key}: {value}", highlight=False)


@app.command("kill")
def kill_cmd(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The paper run to stop.")],
    db_url: Annotated[str | None, typer.Option("--db-url", metavar="URL", help="Database URL.")] = None,
    wait: Annotated[float, typer.Option(metavar="S", help="Wait this long for the run to halt.")] = 10.0,
) -> None:
    """Stop a paper run from another shell: it cancels its orders, flattens and halts within a second."""
    import time

    store, where = _paper_store(db_url)
    row = store.run(run_id)
    if row is None:
        raise UserError(f"no paper run {run_id!r} in {where}")
    if row["status"] != "running":
        raise UserError(f"paper run {run_id} is {row['status']}, not running")
    if row["pid"] and not _alive(row["pid"]) and Path("/proc").is_dir():
        store.set_status(run_id, "crashed")
        raise UserError(
            f"paper run {run_id} is not running: its process {row['pid']} is gone (it crashed); "
            f"resume it with bot paper --resume {run_id}"
        )
    store.request_kill(run_id)
    deadline = time.monotonic() + max(wait, 0.0)
    while time.monotonic() < deadline:
        if store.run(run_id)["status"] != "running":
            break
        time.sleep(0.05)
    now = store.run(run_id)["status"]
    out.print(f"run {run_id}: {now}" if now != "running" else f"run {run_id}: kill flagged; not halted yet")
