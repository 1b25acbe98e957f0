"""`bot live`'s refusals: one line on stderr, exit 2, nothing sent, and (for every mistake in the flags, the
venue list, the confirmation or the keys) no venue SDK imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: runs `bot ARGS` in a fresh interpreter and reports the exit code and whether ccxt / solana got imported
PROBE = (
    "import sys; from botnft.cli import run; code = run(sys.argv[1:]); "
    "print(code, 'ccxt' in sys.modules, 'solana' in sys.modules, 'solders' in sys.modules)"
)


def bot(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, bool, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env={**base, **(env or {})}, cwd=tmp_path, text=True,
        capture_output=True, timeout=60,
    )  # fmt: skip
    code, ccxt, solana, solders = done.stdout.split()[-4:]
    return int(code), "True" in (ccxt, solana, solders), done.stderr


def config(tmp_path: Path, body: str) -> dict[str, str]:
    cfg = tmp_path / "live.toml"
    cfg.write_text(body)
    return {"BOT_LIVE_CONFIG": str(cfg)}


BINANCE = '[live.ccxt.binance]\nsymbols = ["SOL/USDT"]\napi_urls = "http://127.0.0.1:9"\n'


@pytest.mark.parametrize(
    ("args", "body", "env", "message"),
    [
        ((), BINANCE, {}, "needs --venues"),
        (("--venues", "kraken"), BINANCE, {}, "unknown live venue 'kraken'"),
        (("--venues", "ccxt:"), BINANCE, {}, "a ccxt venue is ccxt:<exchange id>"),
        (("--venues", "ccxt:binance,ccxt:binance"), BINANCE, {}, "twice"),
        (("--venues", "ccxt:binance"), BINANCE, {}, "refusing to send real orders"),
        (("--venues", "ccxt:okx", "--i-understand-real-money"), BINANCE, {}, "no [live.ccxt.okx] table"),
        (("--venues", "ccxt:binance", "--i-understand-real-money"), BINANCE, {}, "needs api_key and secret"),
        (
            ("--venues", "ccxt:binance", "--i-understand-real-money"), BINANCE,
            {"BOT_LIVE_BINANCE_API_KEY": "has spaces in it", "BOT_LIVE_BINANCE_SECRET": "s" * 20},
            "api_key is malformed",
        ),
        (
            ("--venues", "ccxt:binance", "--i-understand-real-money"),
            BINANCE + 'api_key_file = "/nonexistent/key"\nsecret = "ssssssssssss"\n', {},
            "secret file not found",
        ),
        (("--venues", "jupiter", "--i-understand-real-money"), "", {}, "needs a wallet"),
        (
            ("--venues", "ccxt:binance", "--dry-run", "--interval", "7m"), BINANCE, {},
            "--interval takes one of",
        ),
        (("--venues", "ccxt:binance", "--dry-run", "--speed", "2"), BINANCE, {}, "--speed does not apply"),
        (("--venues", "ccxt:binance", "--dry-run", "--unknown-orders", "adopt"), BINANCE, {}, "cancels"),
        (("--venues", "ccxt:binance", "--dry-run", "--run-id", "bad id"), BINANCE, {}, "a run id is"),
        (("--venues", "ccxt:binance", "--dry-run"), "[live]\nreal_money = 1\n", {}, "true or false"),
        (("--venues", "ccxt:binance", "--dry-run"), "[live\n", {}, "cannot read live config"),
    ],
)  # fmt: skip
def test_a_mistake_is_one_line_exit_2_before_any_venue_sdk_is_imported(tmp_path, args, body, env, message):
    code, imported, stderr = bot(tmp_path, "live", *args, env={**config(tmp_path, body), **env})
    assert code == 2
    assert message in stderr and stderr.count("\n") == 1, stderr
    assert not imported  # nothing heavy loaded, nothing sent


def test_the_confirmation_can_come_from_the_config_instead_of_the_flag(tmp_path):
    body = "[live]\nreal_money = true\n" + BINANCE
    code, _, stderr = bot(tmp_path, "live", "--venues", "ccxt:binance", env=config(tmp_path, body))
    assert code == 2 and "needs api_key and secret" in stderr  # past the refusal: the keys are checked next


def test_a_key_file_others_can_read_is_used_with_a_warning(tmp_path):
    key = tmp_path / "k"
    key.write_text("abcdefgh12345678\n")
    key.chmod(0o644)
    body = BINANCE + f'api_key_file = "{key}"\nsecret = "ssssssssssss"\nexchange = "nosuchexchange"\n'
    code, _, stderr = bot(
        tmp_path, "live", "--venues", "ccxt:binance", "--i-understand-real-money", env=config(tmp_path, body)
    )
    assert "readable by others" in stderr
    assert code == 2 and "unknown ccxt exchange 'nosuchexchange'" in stderr  # one line after the warning
    assert "abcdefgh12345678" not in stderr and "ssssssssssss" not in stderr  # keys never printed


def test_a_solana_venue_without_its_rpc_url_is_one_line_exit_2(tmp_path):
    keypair = tmp_path / "id.json"
    keypair.write_text("[1,2,3]")
    keypair.chmod(0o600)
    keys = 'api_key = "abcdefgh1234"\nsecret = "ssssssssssss"\n'
    body = BINANCE + keys + f'[live.raydium]\nkeypair_file = "{keypair}"\n'
    code, _, stderr = bot(
        tmp_path, "live", "--venues", "raydium,ccxt:binance", "--i-understand-real-money",
        env=config(tmp_path, body),
    )  # fmt: skip
    assert code == 2 and "raydium.rpc_url must be" in stderr and stderr.count("error") == 1, stderr


def test_the_live_tables_are_read_from_bot_toml_beside_the_other_settings(tmp_path):
    (tmp_path / "bot.toml").write_text("[risk]\nmax_leverage = 5\n" + BINANCE)
    code, imported, stderr = bot(tmp_path, "live", "--venues", "ccxt:binance", "--i-understand-real-money")
    assert code == 2 and "needs api_key and secret" in stderr and not imported  # its table was found


@pytest.mark.slow
def test_resume_if_exists_takes_over_a_sigkilled_life_and_does_not_restart_a_finished_run(
    tmp_path: Path,
) -> None:
    """The same command three times, as a restarted service task runs it: it starts the run, takes the
    orders of the SIGKILLed life over (life 2, each order at the venue once),
    then refuses the finished run."""
    pytest.importorskip("ccxt")
    import json
    import signal

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (the fakes package)
    from test_live_e2e import Fake, args, wait_for
    from test_live_e2e import config as e2e_config

    from botnft.live.journal import read_journal
    from botnft.storage import make_engine
    from botnft.storage.journal import PaperStore

    fake = Fake(first=8)
    try:
        env = e2e_config(tmp_path, fake.url)
        db = f"sqlite:///{tmp_path / 'bot.db'}"
        same = args(
            db, "--run-id", "r3", "--resume-if-exists", "--i-understand-real-money", "--max-bars", "30"
        )
        first = subprocess.Popen(same, env=env, cwd=tmp_path, text=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)  # fmt: skip
        try:
            # the candles grow once the run reads them: on a loaded machine a start slower than the growth
            # would find all 30 bars waiting and finish before the kill
            wait_for(lambda: any("klines" in path for _, path, _ in list(fake.fake.log)), 60, first)
            fake.keep_growing(0.15)
            wait_for(lambda: len(fake.fake.creates) >= 2, 30, first)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        sent_before = dict(fake.fake.creates)
        second = subprocess.run(same, env=env, cwd=tmp_path, text=True, capture_output=True, timeout=60)
        fake.growing = False
        assert second.returncode == 0, second.stderr
        assert "run r3 exists (running): resuming it" in second.stderr
        summary = json.loads(second.stdout.strip().splitlines()[-1])
        assert summary["status"] == "finished" and summary["life"] == 2
        assert summary["reconciliation"]["mismatches"] == 0, summary["reconciliation"]
        creates = fake.fake.creates
        assert set(sent_before) <= set(creates) and all(n == 1 for n in creates.values()), creates
        view = read_journal(PaperStore(make_engine(db)), "r3")
        assert [lv["life"] for lv in view.lives] == [1, 2]
        assert set(view.orders) == set(creates)  # nothing lost, nothing the journal does not know

        third = subprocess.run(same, env=env, cwd=tmp_path, text=True, capture_output=True, timeout=60)
        assert third.returncode == 2, third.stderr
        errors = [line for line in third.stderr.splitlines() if line.startswith("error:")]
        assert errors == ["error: live run r3 is finished: there is nothing to resume"], third.stderr
        assert dict(fake.fake.creates) == creates  # the refused start sent nothing
    finally:
        fake.stop()
