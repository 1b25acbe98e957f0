"""`bot snapshot import|fetch|list|show`: real on-chain state stored for the simulated venues
(`botnft.snapshot`; the input format is in its docstring). Arguments are checked before any decoder or
SDK is imported; `bot route --snapshot NAME` and `bot backtest --snapshot NAME` use a stored snapshot."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from botnft.cli.common import app, out
from botnft.domain.errors import UserError

snapshot_app = typer.Typer(no_args_is_help=True, help="Snapshots of on-chain state for the simulated venues.")
app.add_typer(snapshot_app, name="snapshot")

ACCOUNT_KINDS = (
    "drift_perp_market",
    "drift_spot_market",
    "raydium_amm_v4",
    "raydium_cpmm",
    "raydium_clmm",
    "openbook_market",
)
_B58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")

NameOpt = Annotated[
    str, typer.Option("--name", metavar="NAME", help="Name to store it under (letters, digits, . _ -).")
]
ReplaceOpt = Annotated[bool, typer.Option("--replace", help="Overwrite a stored snapshot of that name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")]


def _runs_dir() -> Path:
    from botnft.config import load_settings

    return load_settings().runs_dir


def _stored(snap: Any, path: Path, json_out: bool) -> None:
    if json_out:
        info = {
            "name": snap.name,
            "path": str(path),
            "slot": snap.slot,
            "taken_at": snap.taken_at,
            "contents": snap.summary(),
        }
        sys.stdout.write(json.dumps(info, sort_keys=True) + "\n")
        return
    when = f"slot {snap.slot}" if snap.slot is not None else "no slot"
    out.print(
        f"snapshot [bold]{snap.name}[/] ({when}, taken {snap.taken_at or 'at an unknown time'}) -> {path}"
    )
    for line in snap.summary():
        out.print(f"  {line}")


@snapshot_app.command("import")
def snapshot_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Accounts JSON or a Raydium API v3 answer.")],
    name: NameOpt,
    replace: ReplaceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Decode a file of account data (or Raydium API JSON) and store it as snapshot NAME."""
    from botnft.snapshot.store import check_name

    check_name(name)
    if not file.is_file():
        raise UserError(f"no such file: {file}" if not file.exists() else f"{file} is not a file")
    from botnft.snapshot.reader import read_document, snapshot_from_document
    from botnft.snapshot.store import save

    snap = snapshot_from_document(read_document(file), name=name, source=str(file))
    _stored(snap, save(snap, _runs_dir(), replace=replace), json_out)


def _accounts(raw: list[str]) -> list[tuple[str, str]]:
    wanted: list[tuple[str, str]] = []
    for item in raw:
        kind, sep, key = item.partition(":")
        if not sep or kind not in ACCOUNT_KINDS:
            raise UserError(
                f"--account {item!r}: give KIND:PUBKEY with KIND one of {', '.join(ACCOUNT_KINDS)}"
            )
        if not _B58.match(key):
            raise UserError(f"--account {item!r}: {key!r} is not a base58 public key")
        wanted.append((kind, key))
    if not wanted:
        raise UserError("give at least one --account KIND:PUBKEY")
    if len({k for _, k in wanted}) != len(wanted):
        raise UserError("an account is given twice")
    return wanted


@snapshot_app.command("fetch")
def snapshot_fetch(
    rpc: Annotated[str, typer.Option("--rpc", metavar="URL", help="Solana JSON-RPC URL (http or https).")],
    name: NameOpt,
    account: Annotated[
        list[str],
        typer.Option(
            "--account", metavar="KIND:PUBKEY", help=f"An account to read ({', '.join(ACCOUNT_KINDS)})."
        ),
    ],
    tick_arrays: Annotated[
        int, typer.Option(metavar="N", help="CLMM tick arrays read on each side of the current one.")
    ] = 2,
    timeout: Annotated[float, typer.Option(metavar="SECONDS", help="RPC timeout.")] = 10.0,
    replace: ReplaceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Read the accounts from an RPC node now (with what each pool is priced with) and store them as NAME."""
    from botnft.snapshot.store import check_name

    check_name(name)
    if not re.match(r"^https?://[^\s/]+", rpc):
        raise UserError(f"--rpc {rpc!r} is not an http(s) URL")
    if not 0 <= tick_arrays <= 10:
        raise UserError(f"--tick-arrays must be in [0, 10], got {tick_arrays}")
    if not 0 < timeout <= 300:
        raise UserError(f"--timeout must be in (0, 300] seconds, got {timeout}")
    wanted = _accounts(account)
    import asyncio

    from botnft.snapshot.fetch import fetch_document
    from botnft.snapshot.reader import snapshot_from_document
    from botnft.snapshot.store import save
    from botnft.venues.solana.rpc import SolanaRpc

    async def read() -> dict[str, Any]:
        async with SolanaRpc(rpc, timeout_s=timeout) as client:
            return await fetch_document(client, wanted, tick_arrays_each_side=tick_arrays)

    doc = asyncio.run(read())
    snap = snapshot_from_document(doc, name=name, source=rpc)
    _stored(snap, save(snap, _runs_dir(), replace=replace), json_out)


@snapshot_app.command("list")
def snapshot_list(json_out: JsonOpt = False) -> None:
    """The stored snapshots: name, slot, time taken, contents."""
    from botnft.snapshot.store import load, names

    runs = _runs_dir()
    snaps = [load(n, runs) for n in names(runs)]
    if json_out:
        rows = [
            {"name": s.name, "slot": s.slot, "taken_at": s.taken_at, "contents": s.summary()} for s in snaps
        ]
        sys.stdout.write(json.dumps(rows, sort_keys=True) + "\n")
        return
    t = Table(title="Stored snapshots")
    for col in ("name", "slot", "taken at", "imported at", "contents"):
        t.add_column(col)
    for s in snaps:
        t.add_row(s.name, str(s.slot or "—"), s.taken_at or "—", s.imported_at, "; ".join(s.summary()))
    out.print(t)


@snapshot_app.command("show")
def snapshot_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A stored snapshot.")], json_out: JsonOpt = False
) -> None:
    """One stored snapshot, field by field."""
    from botnft.snapshot.store import check_name, load

    snap = load(check_name(name), _runs_dir())
    if json_out:
        sys.stdout.write(json.dumps(snap.to_json(), sort_keys=True) + "\n")
        return
    out.print_json(json.dumps(snap.to_json(), sort_keys=True))


def snapshot_liquidity(liquidity: dict[str, Any], name: str | None) -> dict[str, Any]:
    """The run's liquidity settings with the stored snapshot `name` under ``snapshot`` (for the venue
    builders); unchanged when no name is given."""
    if name is None:
        return liquidity
    from botnft.snapshot.store import check_name, load

    return {**liquidity, "snapshot": load(check_name(name), _runs_dir()).to_json()}
