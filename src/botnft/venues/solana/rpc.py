"""An async wrapper over the unmodified `solana.rpc.async_api.AsyncClient` (solana 0.36.6): the calls the
Solana adapters need, with native-integer results and the RPC's failures mapped onto the bot's error tree.

Errors. A transport failure (connection refused or reset, HTTP 5xx) is `NetworkError`, a timeout
`RequestTimeout`, HTTP 429 `RateLimited` (with the server's ``Retry-After`` seconds in `retry_after_s`);
the JSON-RPC errors a node returns while it cannot answer yet (node unhealthy, block not available, internal
error, ...) are `NetworkError` too. A request the node refuses for good (invalid params, a transaction whose
preflight simulation fails, a bad signature) is `Rejected`; a transaction whose blockhash the node no longer
knows is `BlockhashExpired` (a `Rejected`: it can never land).

Balances. `balances` reads SOL as the wallet's lamports plus its wrapped-SOL token account (the wallet's SOL,
whichever form it is in) and every other mint as the wallet's associated token account (0 if absent).
`spendable` is what a swap can take: a swap that wraps SOL (Jupiter's ``wrapAndUnwrapSol``, Raydium's
``wrapSol``) wraps it from the native lamports, so wrapped SOL already held does not count there.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Commitment
from solana.rpc.core import RPCException
from solana.rpc.types import TxOpts
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.rpc.errors import (
    InvalidParamsMessage,
    InvalidRequestMessage,
    MethodNotFoundMessage,
    ParseErrorMessage,
    SendTransactionPreflightFailureMessage,
    TransactionPrecompileVerificationFailureMessage,
    UnsupportedTransactionVersionMessage,
)
from solders.signature import Signature
from solders.token.associated import get_associated_token_address
from solders.transaction_status import EncodedConfirmedTransactionWithStatusMeta, TransactionStatus

from botnft.domain.errors import NetworkError, RateLimited, Rejected, RequestTimeout

__all__ = [
    "NATIVE_MINT",
    "BlockhashExpired",
    "BlockhashInfo",
    "SolanaRpc",
    "SolanaRpcRateLimited",
    "rpc_call",
]

NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
"""The wrapped-SOL mint."""

T = TypeVar("T")


class SolanaRpcRateLimited(RateLimited):
    """HTTP 429 from the RPC node; `retry_after_s` is its ``Retry-After`` (None if it gave none)."""

    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BlockhashExpired(Rejected):
    """The node no longer knows the transaction's blockhash: it can never land."""

    reason = "blockhash_expired"


@dataclass(frozen=True, slots=True)
class BlockhashInfo:
    blockhash: Hash
    last_valid_block_height: int


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds form; an HTTP date or garbage gives None)."""
    if value is None:
        return None
    try:
        s = float(value)
    except ValueError:
        return None
    return s if math.isfinite(s) and s >= 0 else None


def _transport(exc: BaseException, what: str) -> Exception:
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"{what}: the RPC node did not answer in time")
    if isinstance(exc, httpx.HTTPStatusError):
        r = exc.response
        if r.status_code == 429:
            return SolanaRpcRateLimited(
                f"{what}: the RPC node rate-limits us (HTTP 429)", retry_after(r.headers.get("Retry-After"))
            )
        if r.status_code >= 500:
            return NetworkError(f"{what}: the RPC node failed (HTTP {r.status_code})")
        return Rejected(
            f"{what}: the RPC node refused the request (HTTP {r.status_code})", reason="rpc_refused"
        )
    return NetworkError(f"{what}: cannot reach the RPC node ({type(exc).__name__})")


_REFUSED = (
    InvalidParamsMessage,
    InvalidRequestMessage,
    MethodNotFoundMessage,
    ParseErrorMessage,
    TransactionPrecompileVerificationFailureMessage,
    UnsupportedTransactionVersionMessage,
)


def _rpc_error(err: Any, what: str) -> Exception:
    msg = getattr(err, "message", None) or str(err)
    if isinstance(err, SendTransactionPreflightFailureMessage):
        inner = getattr(err.data, "err", None)
        text = str(inner)
        if "BlockhashNotFound" in text:
            return BlockhashExpired(f"{what}: blockhash not found (expired)")
        if "AlreadyProcessed" in text:
            return AlreadyProcessed(f"{what}: already processed")
        return PreflightFailed(f"{what}: preflight simulation failed: {msg}", inner)
    if isinstance(err, _REFUSED):
        return Rejected(f"{what}: {msg}", reason="rpc_refused")
    if "TransactionSignature" in str(err):  # RpcCustomErrorFieldless: verification failure, length
        return Rejected(f"{what}: signature verification failed", reason="bad_signature")
    return NetworkError(f"{what}: the RPC node cannot answer yet: {msg}")


class PreflightFailed(Rejected):
    """The node simulated the transaction, it failed, and the node did not forward it; `err` is the
    simulation's transaction error (a solders value)."""

    reason = "preflight_failed"

    def __init__(self, message: str, err: Any) -> None:
        super().__init__(message)
        self.err = err


class AlreadyProcessed(Rejected):
    """The node has already processed this exact transaction (a re-broadcast of a landed one)."""

    reason = "already_processed"


async def rpc_call(what: str, call: Awaitable[T]) -> T:
    """Await a `solana` client call, mapping its failures onto the bot's error tree (module docstring)."""
    try:
        return await call
    except SolanaRpcException as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        raise _transport(cause, what) from None
    except httpx.HTTPError as exc:
        raise _transport(exc, what) from None
    except RPCException as exc:
        raise _rpc_error(exc.args[0] if exc.args else exc, what) from None
    except ValueError as exc:  # an answer solders cannot parse
        raise NetworkError(f"{what}: unreadable answer from the RPC node ({exc})") from None
    except BaseException as exc:  # solders panics (pyo3 PanicException) on some malformed answers
        if type(exc).__name__ != "PanicException":
            raise
        raise NetworkError(f"{what}: unreadable answer from the RPC node") from None


class SolanaRpc:
    """The RPC calls the Solana adapters make (module docstring). `client`: an `AsyncClient` to use instead
    of building one for `url`."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        commitment: str = "confirmed",
        client: AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.commitment = Commitment(commitment)
        self.client = client if client is not None else AsyncClient(url, self.commitment, timeout=timeout_s)
        self.http = httpx.AsyncClient(timeout=timeout_s)
        self._ids = 0

    async def close(self) -> None:
        await self.client.close()
        await self.http.aclose()

    async def raw(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call the `solana` client lacks; returns ``result``. Errors as the other calls."""
        self._ids += 1
        body = {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params}
        try:
            resp = await self.http.post(self.url, json=body)
            resp.raise_for_status()
            data = resp.json()
        except httpx.HTTPError as exc:
            raise _transport(exc, method) from None
        except ValueError:
            raise NetworkError(f"{method}: unreadable answer from the RPC node") from None
        if not isinstance(data, dict):
            raise NetworkError(f"{method}: unreadable answer from the RPC node")
        if "error" in data:
            err = data["error"] if isinstance(data["error"], dict) else {}
            code, msg = err.get("code"), err.get("message", "")
            if code in (-32600, -32601, -32602, -32700):
                raise Rejected(f"{method}: {msg}", reason="rpc_refused")
            raise NetworkError(f"{method}: the RPC node cannot answer yet: {msg}")
        return data.get("result")

    async def __aenter__(self) -> SolanaRpc:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # chain state ------------------------------------------------------------------------------------
    async def latest_blockhash(self) -> BlockhashInfo:
        r = await rpc_call("getLatestBlockhash", self.client.get_latest_blockhash())
        return BlockhashInfo(r.value.blockhash, r.value.last_valid_block_height)

    async def block_height(self) -> int:
        r = await rpc_call("getBlockHeight", self.client.get_block_height())
        return int(r.value)

    async def priority_fee(
        self, accounts: Sequence[Pubkey] = (), *, percentile: int = 75, max_micro_lamports: int | None = None
    ) -> int:
        """A compute-unit price (micro-lamports) from `getRecentPrioritizationFees` over `accounts`: the
        `percentile`-th of the recent slots' fees (nearest rank), capped at `max_micro_lamports`; 0 when the
        node reports none."""
        if not 0 <= percentile <= 100:
            raise ValueError(f"percentile {percentile} not in [0, 100]")
        # neither solana 0.36.6 nor solders 0.26 has this method: a plain JSON-RPC request
        params: list[Any] = [[str(a) for a in accounts]] if accounts else []
        result = await self.raw("getRecentPrioritizationFees", params)
        if not isinstance(result, list):
            raise NetworkError(f"getRecentPrioritizationFees: unreadable answer {result!r}")
        fees = sorted(int(f["prioritizationFee"]) for f in result)
        if not fees:
            return 0
        rank = max(1, math.ceil(percentile / 100 * len(fees)))
        fee = fees[rank - 1]
        return min(fee, max_micro_lamports) if max_micro_lamports is not None else fee

    async def account_data(self, key: Pubkey) -> bytes | None:
        """The account's data (None if it does not exist)."""
        r = await rpc_call("getAccountInfo", self.client.get_account_info(key))
        return bytes(r.value.data) if r.value is not None else None

    async def accounts_data(self, keys: Sequence[Pubkey]) -> list[bytes | None]:
        """The data of up to 100 accounts in one `getMultipleAccounts` (None where one does not exist)."""
        r = await rpc_call("getMultipleAccounts", self.client.get_multiple_accounts(list(keys)))
        return [bytes(a.data) if a is not None else None for a in r.value]

    async def lamports(self, owner: Pubkey) -> int:
        r = await rpc_call("getBalance", self.client.get_balance(owner))
        return int(r.value)

    async def token_balance(self, owner: Pubkey, mint: Pubkey) -> int:
        """The native amount in `owner`'s associated token account of `mint` (0 if it does not exist)."""
        ata = get_associated_token_address(owner, mint)
        info = await rpc_call("getAccountInfo", self.client.get_account_info(ata))
        if info.value is None:
            return 0
        r = await rpc_call("getTokenAccountBalance", self.client.get_token_account_balance(ata))
        return int(r.value.amount)

    async def balances(self, owner: Pubkey, mints: Mapping[str, Pubkey]) -> dict[str, int]:
        """Native amounts per symbol: SOL (the wrapped-SOL mint) = lamports + wrapped SOL; others: the ATA."""
        out: dict[str, int] = {}
        for symbol, mint in mints.items():
            n = await self.token_balance(owner, mint)
            if mint == NATIVE_MINT:
                n += await self.lamports(owner)
            out[symbol] = n
        return out

    async def spendable(self, owner: Pubkey, mint: Pubkey, *, wrap: bool) -> int:
        """What a swap can take from `owner` in `mint`: SOL with `wrap` from the lamports (the swap wraps
        them; wrapped SOL already held is unwrapped at its end, not spent), SOL without from the wrapped-SOL
        account, any other mint from its associated token account."""
        if mint == NATIVE_MINT and wrap:
            return await self.lamports(owner)
        return await self.token_balance(owner, mint)

    # transactions -----------------------------------------------------------------------------------
    async def send_raw(self, raw: bytes, *, skip_preflight: bool = False) -> Signature:
        opts = TxOpts(
            skip_confirmation=True, skip_preflight=skip_preflight, preflight_commitment=self.commitment
        )
        r = await rpc_call("sendTransaction", self.client.send_raw_transaction(raw, opts))
        return r.value

    async def signature_statuses(self, signatures: Sequence[Signature]) -> list[TransactionStatus | None]:
        r = await rpc_call(
            "getSignatureStatuses",
            self.client.get_signature_statuses(list(signatures), search_transaction_history=True),
        )
        return list(r.value)

    async def transaction(self, signature: Signature) -> EncodedConfirmedTransactionWithStatusMeta | None:
        r = await rpc_call(
            "getTransaction",
            self.client.get_transaction(signature, "base64", max_supported_transaction_version=0),
        )
        return r.value
