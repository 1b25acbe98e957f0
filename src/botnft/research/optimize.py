"""`bot optimize`: an Optuna study of a strategy's parameters whose state lives in its RDB storage (a SQLite
file, or PostgreSQL shared by any number of workers on any number of machines), each trial scored after
costs over walk-forward folds (`optimize_eval`), the folds of every trial and market run in parallel on Dask.

Reproducibility. A worker asks the sampler for trials in *batches* of `batch` trials: it asks and suggests
the batch's trials one after the other, runs all their folds (in this process, or as Dask tasks that may
finish in any order), collects the results in the plan's order, and tells the trials in their numbers'
order before it asks the next batch. What the sampler sees when it samples (the told trials, the batch's
running ones for the constant liar, its own seeded random state) is therefore fixed by the seed, the batch
size and the results — never by how many Dask workers ran the folds or in which order they finished — and
the fold results are themselves deterministic (a backtest with a seed is). So a study run on a Dask
cluster samples exactly the trials a single process samples, and finds the same best parameters. The batch
size, not the number of workers, is the knob: it is part of the result and fixed by `--batch`.

Several workers sharing one study (`--join`, or the same `--study` again) interleave their batches in the
storage: each trial is numbered and stored once (Optuna numbers trials under a row lock), but which worker
samples what depends on timing, so such a study is not reproducible; every worker but the study's creator
seeds its sampler with a fresh draw, so that no two replay the same random start. `trials` counts the
trials of one worker (as Optuna's `n_trials`). The setup (strategy, space, markets, windows, sampler
settings) is stored with the study, so a joining worker needs only the study's name and storage.

Every trial a worker asks is told (COMPLETE, or FAIL when the strategy refuses its parameters or the run
stops), so none is left RUNNING. A worker that dies mid-batch (killed, machine lost) cannot tell its
trials: their heartbeats stop, and the next batch any worker starts fails them and queues them again with
the same parameters (Optuna's heartbeat and RetryHeartbeatStaleTrialCallback), so none is lost.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from botnft.domain.errors import UserError
from botnft.research import optimize_eval as ev
from botnft.research import optimize_space as sp
from botnft.research import stats
from botnft.strategy.indicators import F64

BOT_ATTR = "bot_optimize"  # the setup, space and sampler settings, stored with the study
STORAGE_TIMEOUT_S = 5
STALE_AFTER_S = 60
SCHEDULER_TIMEOUT_S = 5
Fold = tuple[str, int, int, int]


def storage_url(raw: str | None, runs_dir: Path) -> str:
    """The SQLAlchemy URL of the study storage: SQLite `runs/optuna.db` by default; PostgreSQL via psycopg."""
    if raw is None:
        return f"sqlite:///{runs_dir / 'optuna.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    if raw.startswith(("postgresql+psycopg://", "sqlite:///")):
        return raw
    raise UserError(f"--storage must be a postgresql://… or sqlite:///… URL, got {raw.split('://')[0]}://…")


def check_scheduler(address: str) -> str:
    if "://" not in address:
        address = "tcp://" + address
    scheme, _, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls") or not host or not port.isdigit():
        raise UserError(f"--scheduler must look like tcp://HOST:PORT, got {address!r}")
    return address


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def open_storage(url: str, shown: str, stale_after: int = STALE_AFTER_S) -> Any:
    """Optuna's RDBStorage on `url`, its tables created if missing; unreachable: a `UserError` within
    `STORAGE_TIMEOUT_S` seconds. Trials carry heartbeats: a RUNNING trial whose heartbeat is older than
    `stale_after` seconds (its worker died) is failed by the next worker that starts a batch and retried
    with the same parameters (Optuna's RetryHeartbeatStaleTrialCallback)."""
    import warnings

    import optuna
    import sqlalchemy.exc

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        if str(path) not in ("", ":memory:"):
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 60}}
    else:
        kwargs = {"connect_args": {"connect_timeout": STORAGE_TIMEOUT_S}, "pool_pre_ping": True}
    for attempt in range(3):  # two workers creating the tables at once: one loses the race, then retries
        try:
            with warnings.catch_warnings():  # the heartbeat arguments are marked experimental
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url, engine_kwargs=kwargs, heartbeat_interval=max(1, stale_after // 3),
                    grace_period=stale_after,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2),
                )  # fmt: skip
        except sqlalchemy.exc.IntegrityError:
            if attempt == 2:
                raise
            time.sleep(0.5 + attempt)
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as exc:
            raise UserError(f"study storage {shown} is unreachable: {_short(exc)}") from None
    raise AssertionError("unreachable")


def make_sampler(seed: int, startup: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)


@dataclass(slots=True)
class Opened:
    study: Any
    setup: ev.Setup
    space: dict[str, sp.Param]
    sampler_seed: int
    created: bool
    batch: int
    startup: int
    storage: Any


def _stored_setup(storage: Any, name: str, wait_s: float) -> dict[str, Any] | None:
    """The setup stored with study `name`; a study that another worker has just created gets its setup a
    moment later (one attribute, written at once), so an empty study is watched for up to `wait_s`."""
    study_id = storage.get_study_id_from_name(name)
    deadline = time.monotonic() + wait_s
    while True:
        got = storage.get_study_user_attrs(study_id).get(BOT_ATTR)
        if got is not None or time.monotonic() >= deadline or storage.get_n_trials(study_id) > 0:
            return None if got is None else dict(got)
        time.sleep(0.2)


def _fresh(seed: int) -> int:
    """A new sampler seed for a worker taking up a study whose seed another worker already sampled with."""
    return (seed * 1_000_003 + secrets.randbits(31)) % 2**31


def open_study(
    storage: Any, name: str, setup: ev.Setup | None, space: dict[str, sp.Param] | None, *,
    join: bool, seed: int, batch: int, startup: int,
) -> Opened:  # fmt: skip
    """Create the study (or take up an existing one with the same setup), or join one: a joining worker
    takes the setup, the space and the sampler's settings from the study itself."""
    import optuna

    if join:
        try:
            stored = _stored_setup(storage, name, wait_s=5.0)
        except KeyError:
            raise UserError(f"no study {name!r} in the storage to join") from None
        if stored is None:
            raise UserError(f"study {name!r} was not made by bot optimize (no setup stored with it)")
        s = stored["sampler"]
        seed = _fresh(int(s["seed"]))
        study = optuna.load_study(study_name=name, storage=storage, sampler=make_sampler(seed, s["startup"]))
        return Opened(study, ev.Setup.from_json(stored["setup"]), sp.from_json(stored["space"]), seed,
                      False, int(s["batch"]), int(s["startup"]), storage)  # fmt: skip
    assert setup is not None and space is not None
    want = {"setup": setup.to_json(), "space": sp.to_json(space),
            "sampler": {"seed": seed, "batch": batch, "startup": startup}}  # fmt: skip
    want = json.loads(json.dumps(want))  # as the storage gives it back
    sampler = make_sampler(seed, startup)
    try:
        study = optuna.create_study(storage=storage, study_name=name, direction="maximize", sampler=sampler)
        study.set_user_attr(BOT_ATTR, want)
        return Opened(study, setup, space, seed, True, batch, startup, storage)
    except optuna.exceptions.DuplicatedStudyError:
        pass
    except Exception as exc:  # two workers creating one name at once on PostgreSQL: one loses
        if "unique" not in str(exc).lower():
            raise
    have = _stored_setup(storage, name, wait_s=5.0)
    if have is None:
        raise UserError(f"study {name!r} exists and was not made by bot optimize; choose another --study")
    if have != want:
        raise UserError(
            f"study {name!r} exists with another setup (strategy, space, data, windows or sampler); "
            f"add workers with --join {name}, or choose another --study"
        )
    seed = _fresh(seed)  # the study's seed has been used: replaying it would resample the same trials
    study = optuna.load_study(study_name=name, storage=storage, sampler=make_sampler(seed, startup))
    return Opened(study, setup, space, seed, False, batch, startup, storage)


def suggest(trial: Any, space: dict[str, sp.Param]) -> dict[str, str]:
    """The trial's parameters, suggested in the space's order, as the strategy's `k=v` texts."""
    out = {}
    for name, p in space.items():
        if p.type == "int":
            step = 1 if p.step is None else int(p.step)
            v: Any = trial.suggest_int(name, int(p.low or 0), int(p.high or 0), step=step, log=p.log)
        elif p.type == "float":
            v = trial.suggest_float(name, float(p.low or 0), float(p.high or 0), step=p.step, log=p.log)
        else:
            v = trial.suggest_categorical(name, list(p.choices))
        out[name] = sp.raw_value(v)
    return out


class Evaluator:
    """Runs fold tasks and returns their results in the order given."""

    workers = 0
    where = "this process"

    def run(
        self, setup: ev.Setup, jobs: Sequence[tuple[dict[str, str], Fold]], done: Callable[[], None]
    ) -> list[F64]:
        out = []
        for params, fold in jobs:
            out.append(ev.run_fold(setup, params, fold))
            done()
        return out

    def close(self) -> None:
        return None


class DaskEvaluator(Evaluator):
    """Fold tasks on a Dask cluster: a LocalCluster of `workers` processes, or the scheduler at `address`."""

    def __init__(self, workers: int, address: str | None) -> None:
        import logging

        from distributed import Client, LocalCluster

        self.cluster = None
        if address is not None:
            try:
                self.client = Client(address, timeout=f"{SCHEDULER_TIMEOUT_S}s")  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError) as exc:
                raise UserError(f"Dask scheduler {address} is unreachable: {_short(exc)}") from None
            self.where = f"Dask scheduler {address}"
        else:
            self.cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR,
            )  # fmt: skip
            self.client = Client(self.cluster)  # type: ignore[no-untyped-call]
            self.where = f"Dask LocalCluster ({workers} processes)"
        self.workers = len(self.client.scheduler_info(n_workers=-1)["workers"]) or workers

    def run(
        self, setup: ev.Setup, jobs: Sequence[tuple[dict[str, str], Fold]], done: Callable[[], None]
    ) -> list[F64]:
        from distributed import as_completed

        futures = [self.client.submit(ev.run_fold, setup, p, f, pure=False) for p, f in jobs]
        for _ in as_completed(futures):  # type: ignore[no-untyped-call]
            done()
        results: list[F64] = self.client.gather(futures)  # type: ignore[no-untyped-call]
        return results

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]
        if self.cluster is not None:
            self.cluster.close()


class Heartbeat:
    """Records a heartbeat for each of this worker's running trials every `interval` seconds, from a thread,
    however long their folds take; a worker that dies stops beating and its trials go stale."""

    def __init__(self, storage: Any, study_name: str) -> None:
        self.storage = storage
        self.study_id = storage.get_study_id_from_name(study_name)
        self.interval = float(self.storage.heartbeat_interval)
        self.ids: list[int] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="optuna-heartbeat", daemon=True)
        self.thread.start()

    def running(self, numbers: Sequence[int]) -> None:
        ids = [self.storage.get_trial_id_from_study_id_trial_number(self.study_id, n) for n in numbers]
        for i in ids:
            self.storage.record_heartbeat(i)
        with self.lock:
            self.ids = ids

    def _loop(self) -> None:
        while not self.stop.wait(self.interval):
            with self.lock:
                ids = list(self.ids)
            for i in ids:
                with contextlib.suppress(Exception):  # a missed beat is retried next interval
                    self.storage.record_heartbeat(i)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


@dataclass(slots=True)
class RunLog:
    numbers: list[int]
    failed: int
    seconds: float


def run(
    opened: Opened, trials: int, evaluator: Evaluator,
    on_task: Callable[[], None] = lambda: None,
    on_trial: Callable[[int, float | None], None] = lambda n, v: None,
) -> RunLog:  # fmt: skip
    """Run `trials` trials of the study in batches (see the module's docstring); returns their numbers.
    Before each batch, trials whose worker died (stale heartbeat) are failed and queued again."""
    import warnings

    import optuna

    heartbeat = Heartbeat(opened.storage, opened.study.study_name)
    try:
        with warnings.catch_warnings():  # ask/tell with heartbeats is what this module is for
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
            return _batches(opened, trials, evaluator, on_task, on_trial, heartbeat)
    finally:
        heartbeat.close()


def _batches(
    opened: Opened, trials: int, evaluator: Evaluator, on_task: Callable[[], None],
    on_trial: Callable[[int, float | None], None], heartbeat: Heartbeat,
) -> RunLog:  # fmt: skip
    import optuna
    from optuna.trial import TrialState

    from botnft.strategy.library import build_parts

    study, setup, space = opened.study, opened.setup, opened.space
    plan = ev.fold_plan(setup)
    per_year = ev.periods_per_year(setup)
    numbers: list[int] = []
    failed = 0
    t0 = time.perf_counter()
    while len(numbers) < trials:
        optuna.storages.fail_stale_trials(study)
        asked: list[tuple[Any, dict[str, str], str | None]] = []
        try:
            for _ in range(min(opened.batch, trials - len(numbers))):
                trial = study.ask()
                heartbeat.running([t.number for t, _, _ in asked] + [trial.number])
                params = suggest(trial, space)
                try:
                    build_parts(setup.strategy, {**setup.fixed, **params})
                    asked.append((trial, params, None))
                except UserError as exc:
                    asked.append((trial, params, str(exc)))
            jobs = [(p, f) for _, p, e in asked if e is None for f in plan]
            results = evaluator.run(setup, jobs, on_task)
        except BaseException as exc:
            for trial, _, _ in asked:  # told, never left RUNNING
                trial.set_user_attr("error", f"run stopped: {type(exc).__name__}: {str(exc)[:200]}")
                study.tell(trial, state=TrialState.FAIL)
            heartbeat.running([])
            raise
        k = 0
        for trial, _, error in asked:
            value: float | None = None
            if error is None:
                s = ev.score(results[k : k + len(plan)], per_year)
                k += len(plan)
                for key, v in s.attrs().items():
                    trial.set_user_attr(key, v)
                value = s.value
                study.tell(trial, value)
            else:
                trial.set_user_attr("error", error)
                study.tell(trial, state=TrialState.FAIL)
                failed += 1
            numbers.append(trial.number)
            on_trial(trial.number, value)
        heartbeat.running([])
    return RunLog(numbers, failed, time.perf_counter() - t0)


def importances(study: Any) -> dict[str, float] | None:
    """Optuna's parameter importances (PED-ANOVA), or None when there are too few trials to say."""
    import optuna

    try:
        got = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError, ZeroDivisionError):
        return None
    return {k: float(v) for k, v in got.items()}


def summary(opened: Opened, log: RunLog, shown_storage: str, evaluator: Evaluator) -> dict[str, Any]:
    """The study's best trial, its deflated Sharpe ratio given every complete trial, importances, counts."""
    from optuna.trial import TrialState

    study = opened.study
    all_trials = study.get_trials(deepcopy=False)
    complete = [t for t in all_trials if t.state == TrialState.COMPLETE and "sr" in t.user_attrs]
    counts: dict[str, int] = {}
    for t in all_trials:
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    out: dict[str, Any] = {
        "study": study.study_name, "storage": shown_storage, "setup": opened.setup.to_json(),
        "space": sp.to_json(opened.space), "trials": counts, "this_run": {
            "trials": log.numbers, "failed": log.failed, "seconds": round(log.seconds, 3),
            "evaluated_on": evaluator.where, "dask_workers": evaluator.workers, "batch": opened.batch,
            "sampler_seed": opened.sampler_seed, "startup_trials": opened.startup,
        },
    }  # fmt: skip
    if not complete:
        out["best"] = None
        return out
    best = max(complete, key=lambda t: (t.value, -t.number))
    a = best.user_attrs
    srs = np.array([t.user_attrs["sr"] for t in complete], dtype=np.float64)
    var = float(np.var(srs, ddof=1)) if len(srs) >= 2 else None
    dsr = stats.deflated_sharpe(
        a["sr"], int(a["n_obs"]), len(complete), a["skew"], a["kurt"], sr_variance=var
    )
    out["best"] = {
        "number": best.number, "value": best.value, "params": best.params, "fold_sharpe": a["fold_sharpe"],
        "folds": ev.fold_labels(opened.setup),
        "fold_return": a["fold_return"], "max_drawdown": a["max_drawdown"], "sr_per_bar": a["sr"],
        "n_obs": a["n_obs"], "deflated_sharpe": dsr, "n_trials": len(complete), "sr_variance": var,
    }  # fmt: skip
    out["importances"] = importances(study)
    out["history"] = [
        {"number": t.number, "value": t.value, "params": t.params,
         "completed": None if t.datetime_complete is None else t.datetime_complete.isoformat()}
        for t in complete
    ]  # fmt: skip
    return out
