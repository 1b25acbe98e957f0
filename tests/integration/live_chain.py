"""What the routed `bot live` tests over the local chain share (`test_live_routed`: Jupiter and Raydium;
`test_live_drift_openbook`: Drift and OpenBook): the chain and its fakes served from the fake exchange's loop
(`LoopChain`), the `venues` fixture's body (`served`), the run's config with the wallet file (`setup`), a
life SIGKILLed once it submitted some orders and its resumption (`submitted`, `kill_then_resume`), and how
often an order executed on chain (`successes`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from solders.keypair import Keypair
from test_live_e2e import Fake, config, wait_for

from botnft.storage.journal import PaperStore
from botnft.venues.solana import SendJournal
from fakes.solana_rpc import LocalSolana

C = TypeVar("C", bound="LoopChain")


class LoopChain:
    """A local chain started by `_start` on `loop` (a fake exchange's, or any running on its own thread), with
    one wallet; what `_start` serves goes on `stack`, closed by `stop`. `tables` gives the venues' config."""

    start_timeout_s: float = 30

    def __init__(self, fake: Fake) -> None:
        self.loop = fake.loop
        self.stack = contextlib.AsyncExitStack()
        self.wallet = Keypair()
        self.call(self._start(), self.start_timeout_s)

    async def _start(self) -> None:
        raise NotImplementedError

    def tables(self, keypair_file: Path) -> str:
        raise NotImplementedError

    def call(self, coro: Coroutine[Any, Any, Any], timeout_s: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def stop(self) -> None:
        self.call(self.stack.aclose())


def served(chain_type: type[C]) -> Iterator[tuple[Fake, C]]:
    """The fake exchange (8 closed candles) and the chain on its loop, stopped afterwards."""
    fake = Fake(first=8)
    chain = chain_type(fake)
    yield fake, chain
    chain.stop()
    fake.stop()


def setup(tmp_path: Path, fake: Fake, chain: LoopChain) -> dict[str, str]:
    """The run's environment: the fake exchange's config plus the chain's venue tables, with the wallet's
    keypair file, and the runs directory."""
    env = config(tmp_path, fake.url)
    wallet = tmp_path / "wallet.json"
    wallet.write_text(json.dumps(list(bytes(chain.wallet))))
    wallet.chmod(0o600)
    cfg = Path(env["BOT_LIVE_CONFIG"])
    cfg.write_text(cfg.read_text() + chain.tables(wallet))
    return {**env, "BOT_RUNS_DIR": str(tmp_path / "runs")}


def submitted(store: PaperStore, run_id: str) -> int:
    """How many orders the run has submitted (0 before it created its tables)."""
    try:
        return len(store.entries(run_id, kinds=["OrderSubmitted"]))
    except Exception:  # the run has not created its tables yet
        return 0


def kill_then_resume(
    first: list[str], resume: list[str], env: dict[str, str], cwd: Path, until: Callable[[], bool],
    wait_s: float,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run `first` until `until()` (at most `wait_s`), SIGKILL it, then run `resume` to its end (60 s)."""
    proc = subprocess.Popen(
        first, env=env, cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for(until, wait_s, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.run(resume, env=env, cwd=cwd, text=True, capture_output=True, timeout=60)


def successes(chain: LocalSolana, journal: SendJournal, wire_id: str) -> int:
    """How many of the order's journaled transactions landed without error."""
    landed = [chain.landed.get(e.signature) for e in journal.for_order(wire_id)]
    return sum(1 for r in landed if r is not None and r.err is None)
