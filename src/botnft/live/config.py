"""`bot live`'s venue settings: which venues (`--venues ccxt:binance,jupiter,raydium,drift,openbook`), their
tables in the config (`[live.ccxt.binance]`, `[live.jupiter]`, `[live.raydium]`, `[live.drift]`,
`[live.openbook]` in bot.toml, or in the file
`BOT_LIVE_CONFIG` names), and their keys: in the table, in a secret file the table names (`api_key_file`,
`secret_file`, `keypair_file`), or in the environment (`BOT_LIVE_<VENUE>_API_KEY`, `..._SECRET`,
`BOT_LIVE_SOLANA_KEYPAIR`); a Solana venue keeps `sol_reserve` SOL (default 0.05) out of trading for
transaction fees. Everything here is checked before any venue SDK is imported; a mistake is a
one-line `UserError`. Keys are never printed."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from botnft.domain.errors import UserError

KINDS = ("ccxt", "jupiter", "raydium", "drift", "openbook")
#: what a dry run simulates each live venue with (the paper venues of `bot paper`)
DRY_RUN_SIM = {
    "ccxt": "cex",
    "jupiter": "jupiter",
    "raydium": "raydium",
    "drift": "drift",
    "openbook": "openbook",
}
#: the venue name each live Solana venue's instruments carry
VENUE_NAMES = {"jupiter": "JUPITER", "raydium": "RAYDIUM", "drift": "DRIFT", "openbook": "OPENBOOK"}
#: Solana venues whose balances are the wallet's own tokens (Drift's are the collateral of its user account)
WALLET_KINDS = ("jupiter", "raydium", "openbook")
INTERVALS = {"1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14_400, "1d": 86_400}
_KEY = re.compile(r"^[A-Za-z0-9+/=_\-.:]{8,512}$")


@dataclass(frozen=True, slots=True)
class VenueConfig:
    kind: str  # ccxt | jupiter | raydium | drift | openbook
    name: str  # the exchange id for ccxt; else the kind
    table: Mapping[str, Any] = field(repr=False)  # with the keys resolved

    @property
    def label(self) -> str:
        return f"ccxt:{self.name}" if self.kind == "ccxt" else self.kind


@dataclass(frozen=True, slots=True)
class LiveConfig:
    venues: tuple[VenueConfig, ...]
    real_money: bool
    interval: str

    @property
    def interval_ns(self) -> int:
        return INTERVALS[self.interval] * 1_000_000_000


def parse_venues(raw: str | None) -> list[tuple[str, str]]:
    if not raw:
        raise UserError("bot live needs --venues, e.g. --venues ccxt:binance or ccxt:binance,jupiter,raydium")
    out: list[tuple[str, str]] = []
    for item in raw.split(","):
        text = item.strip().lower()
        kind, _, name = text.partition(":")
        if kind not in KINDS:
            raise UserError(
                f"unknown live venue {item.strip()!r}: expected ccxt:<exchange>, jupiter, raydium, drift "
                "or openbook"
            )
        if kind == "ccxt" and not re.fullmatch(r"[a-z][a-z0-9]{1,31}", name):
            raise UserError(
                f"--venues {item.strip()!r}: a ccxt venue is ccxt:<exchange id>, e.g. ccxt:binance"
            )
        if kind != "ccxt" and name:
            raise UserError(f"--venues {item.strip()!r}: {kind} takes no exchange name")
        pair = (kind, name or kind)
        if pair in out:
            raise UserError(f"--venues names {item.strip()!r} twice")
        out.append(pair)
    return out


def _live_table(path: Path | None) -> dict[str, Any]:
    file = path or Path(os.environ.get("BOT_LIVE_CONFIG") or os.environ.get("BOT_CONFIG") or "bot.toml")
    if not file.exists():
        if path is not None or os.environ.get("BOT_LIVE_CONFIG"):
            raise UserError(f"live config file not found: {file}")
        return {}
    try:
        data = tomllib.loads(file.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read live config {file}: {str(exc).splitlines()[0]}") from None
    table = data.get("live", {})
    if not isinstance(table, dict):
        raise UserError(f"{file}: [live] must be a table")
    return table


def read_secret(path_text: str, what: str, warn: Callable[[str], None]) -> str:
    """A key from a secret file: one line, no blanks; a file others can read is used with a warning."""
    path = Path(path_text).expanduser()
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except FileNotFoundError:
        raise UserError(f"{what}: secret file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{what}: cannot read secret file {path} ({type(exc).__name__})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warn(f"warning: {what}: secret file {path} is readable by others (chmod 600 {path})")
    return text


def _key(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise UserError(f"{what} is malformed (expected 8-512 letters, digits or +/=_-.:, no spaces)")
    return value


def _ccxt_table(
    name: str, table: Mapping[str, Any], need_keys: bool, env: Mapping[str, str], warn: Callable[[str], None]
) -> dict[str, Any]:
    out = {k: v for k, v in table.items() if k not in ("api_key_file", "secret_file")}
    out.setdefault("exchange", name)
    env_name = f"BOT_LIVE_{name.upper()}"
    for key in ("api_key", "secret"):
        if env.get(f"{env_name}_{key.upper()}"):
            out[key] = env[f"{env_name}_{key.upper()}"]
        elif table.get(f"{key}_file"):
            out[key] = read_secret(str(table[f"{key}_file"]), f"ccxt:{name} {key}_file", warn)
    if need_keys:
        missing = [k for k in ("api_key", "secret") if not out.get(k)]
        if missing:
            raise UserError(
                f"ccxt:{name} needs {' and '.join(missing)} to trade: set them in [live.ccxt.{name}], "
                f"as {missing[0]}_file, or in {env_name}_{missing[0].upper()}"
            )
    for key in ("api_key", "secret"):
        if out.get(key):
            out[key] = _key(out[key], f"ccxt:{name} {key}")
    return out


def _solana_table(
    kind: str, table: Mapping[str, Any], need_keys: bool, env: Mapping[str, str], warn: Callable[[str], None]
) -> dict[str, Any]:
    out = dict(table)
    raw = table.get("sol_reserve", "0.05")
    try:
        reserve = Decimal(str(raw))
    except ArithmeticError:
        reserve = Decimal(-1)
    if isinstance(raw, bool) or not reserve.is_finite() or not 0 <= reserve <= 1000:
        raise UserError(f"[live.{kind}] sol_reserve must be SOL kept for fees, in [0, 1000], got {raw!r}")
    out["sol_reserve"] = reserve
    keypair = env.get("BOT_LIVE_SOLANA_KEYPAIR") or table.get("keypair_file")
    if keypair:
        path = Path(str(keypair)).expanduser()
        if not path.is_file():
            raise UserError(f"{kind}: keypair file not found: {path}")
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            warn(f"warning: {kind}: keypair file {path} is readable by others (chmod 600 {path})")
        out["keypair_file"] = str(path)
    elif need_keys:
        raise UserError(
            f"{kind} needs a wallet to trade: keypair_file in [live.{kind}] or BOT_LIVE_SOLANA_KEYPAIR"
        )
    return out


def load_live_config(
    venues: str | None,
    *,
    dry_run: bool,
    confirmed: bool,
    interval: str,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    warn: Callable[[str], None] = lambda _: None,
) -> LiveConfig:
    """The checked settings of a live run. Without `dry_run`, real orders need `confirmed`
    (`--i-understand-real-money`) or `real_money = true` in `[live]`: refused before anything else."""
    env = os.environ if env is None else env
    pairs = parse_venues(venues)
    if interval not in INTERVALS:
        raise UserError(f"--interval takes one of {', '.join(INTERVALS)}, got {interval!r}")
    root = _live_table(path)
    unknown = sorted(set(root) - {"real_money", *KINDS})
    if unknown:
        raise UserError(f"[live]: unknown key(s) {', '.join(unknown)}")
    real_money = root.get("real_money", False)
    if not isinstance(real_money, bool):
        raise UserError("[live] real_money must be true or false")
    if not dry_run and not (confirmed or real_money):
        raise UserError(
            "refusing to send real orders: add --i-understand-real-money (or real_money = true in [live]), "
            "or use --dry-run"
        )
    out = []
    for kind, name in pairs:
        if kind == "ccxt":
            tables = root.get("ccxt", {})
            table = tables.get(name) if isinstance(tables, dict) else None
            if table is None and not dry_run:
                raise UserError(f"no [live.ccxt.{name}] table in the config: ccxt:{name} is not configured")
            if table is not None and not isinstance(table, dict):
                raise UserError(f"[live.ccxt.{name}] must be a table")
            resolved = _ccxt_table(name, table or {}, not dry_run, env, warn)
        else:
            table = root.get(kind, {})
            if not isinstance(table, dict):
                raise UserError(f"[live.{kind}] must be a table")
            resolved = _solana_table(kind, table, not dry_run, env, warn)
            dlob = resolved.get("dlob_url")
            if dlob is not None and (
                kind != "drift" or not isinstance(dlob, str) or not dlob.startswith(("http://", "https://"))
            ):
                raise UserError(
                    f"[live.{kind}] dlob_url: a Drift DLOB server's http(s) URL (only in [live.drift])"
                )
        out.append(VenueConfig(kind, name, resolved))
    return LiveConfig(tuple(out), real_money or confirmed, interval)
