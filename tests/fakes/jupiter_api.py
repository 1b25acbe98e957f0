"""A fake Jupiter Swap API v1 on loopback (aiohttp) over `SimJupiter`, building real transactions for the
local chain of `solana_rpc.LocalSolana`.

``GET /quote`` is `SimJupiter.quote` (its ``QuoteResponse`` shape, prices from the simulated Raydium pools'
and OpenBook's own math); a refusal is HTTP 400 ``{"error", "errorCode"}`` as Jupiter answers.

``POST /swap`` executes the quote on the simulator (so later quotes see the pools moved) and returns a real
unsigned-by-the-user v0 transaction that moves the same amounts on the chain, between the user's associated
token accounts and the pool authority's: [compute-budget price if asked] [when SOL goes in or out:
create the user's wrapped-SOL account if missing (idempotent)] [with ``wrapAndUnwrapSol`` (the default),
when SOL goes in, wrap: SOL to that account + SyncNative] [user -> pool: input] [pool -> user: output] [the
slippage check] [with ``wrapAndUnwrapSol``, unwrap: close the wrapped-SOL account to the user, returning its
SOL and rent as native SOL], as Jupiter's routes do (setup and cleanup instructions): bought SOL arrives
native, sold SOL leaves from the native balance, and no wrapped SOL is left behind. Without
``wrapAndUnwrapSol`` the swap moves the user's wrapped-SOL account as any token. The pool authority's
signature is filled in; only the user signs.

The slippage check is an SPL Token self-transfer on the user's output account (ExactIn) of its balance when
the swap was built plus ``otherAmountThreshold``: the token program checks the amount before it notices
the self-transfer, so the instruction fails (``InstructionError(i, Custom(1))``) exactly when the user
received less than the threshold; for ExactOut the same on the input account, of its balance minus the
maximum input. `fail_next_slippage()` makes the next swap deliver one unit short of the threshold (the
market moved in between), so it lands failed on chain, paying its fee and moving nothing else; the
simulator is then left untouched. A simulator refusal (its own 6001) builds the same failing transaction.

Approximation: the simulator commits when the transaction is *built*, so a swap that is never sent, dropped
or expires leaves the simulated pools moved while the chain did not. Quotes stay real protocol math; the
user's balances are the chain's. Faults on ``/swap``: `inject("rate_limit" | "server_error" | "timeout")`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import web
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.token.associated import get_associated_token_address
from solders.transaction import VersionedTransaction
from spl.token.constants import TOKEN_PROGRAM_ID
from spl.token.instructions import (
    CloseAccountParams,
    SyncNativeParams,
    TransferCheckedParams,
    close_account,
    create_idempotent_associated_token_account,
    sync_native,
    transfer_checked,
)

from botnft.data.bars import BarBatch
from botnft.venues.sim.jupiter import MINTS, JupiterError, SimJupiter
from botnft.venues.sim.openbook import SimOpenBook
from botnft.venues.sim.raydium import SimRaydium
from botnft.venues.sim.raydium_config import from_price
from botnft.venues.sim.wallet import SolanaWallet

from .solana_rpc import NATIVE_MINT, LocalSolana

USDC = Pubkey.from_string(MINTS["USDC"])
HOUR = 3_600_000_000_000
T0 = 1_700_000_000 * 10**9
CU_LIMIT = 200_000


def sim_jupiter(price: float = 150.0) -> SimJupiter:
    """SOL/USDC over three Raydium pools and OpenBook at `price`, from a deep simulated wallet."""
    wallet = SolanaWallet(("SOL", "USDC"))
    wallet.credit("SOL", 10**6 * 10**9)
    wallet.credit("USDC", 10**9 * 10**6)
    kinds = (("amm_v4", "RAYDIUM"), ("cpmm", "RAYDIUM_CPMM"), ("clmm", "RAYDIUM_CLMM"))
    venues: list[SimRaydium | SimOpenBook] = [SimRaydium(from_price(price, kind=k), name=n) for k, n in kinds]
    venues.append(SimOpenBook())
    j = SimJupiter(venues, wallet=wallet)
    c = np.array([price, price])
    bars = BarBatch(T0 + np.arange(2, dtype=np.int64) * HOUR, c, c, c, c, np.ones(2), HOUR)
    j.set_cursor(bars, 0)
    return j


class FakeJupiter:
    """The fake API (module docstring) over `chain`; `pool` signs the pool's side of every swap."""

    def __init__(self, chain: LocalSolana, sim: SimJupiter | None = None, *, slow_s: float = 2.0) -> None:
        self.chain = chain
        self.sim = sim if sim is not None else sim_jupiter()
        self.pool = Keypair()
        self.slow_s = slow_s
        self.quotes = 0
        self.swaps = 0
        self.built: list[dict[str, Any]] = []
        #: what reached the API: ("quote", query) and ("swap", body), in order
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._faults: list[str] = []
        self._short = 0
        if chain.svm.get_account(USDC) is None:
            chain.create_mint(USDC, 6)
        chain.airdrop(self.pool.pubkey(), 10 * 10**9)
        chain.set_token(self.pool.pubkey(), NATIVE_MINT, 10**6 * 10**9)
        chain.set_token(self.pool.pubkey(), USDC, 10**9 * 10**6)
        self.url = ""

    def fund_user(
        self, owner: Pubkey, *, sol: Decimal, usdc: Decimal, wrapped_sol: Decimal = Decimal(0)
    ) -> None:
        """Give `owner` native SOL, a USDC account and, when `wrapped_sol` is not 0, a wrapped-SOL account
        holding it (a wallet that never held wrapped SOL has no such account)."""
        self.chain.airdrop(owner, int(sol * 10**9))
        if wrapped_sol:
            self.chain.set_token(owner, NATIVE_MINT, int(wrapped_sol * 10**9))
        self.chain.set_token(owner, USDC, int(usdc * 10**6))

    def inject(self, fault: str, count: int = 1) -> None:
        if fault not in ("rate_limit", "server_error", "timeout"):
            raise ValueError(f"unknown fault {fault}")
        self._faults.extend([fault] * count)

    def fail_next_slippage(self, n: int = 1) -> None:
        self._short += n

    # handlers ---------------------------------------------------------------------------------------
    async def _fault(self) -> web.Response | None:
        if not self._faults:
            return None
        fault = self._faults.pop(0)
        if fault == "rate_limit":
            return web.json_response({"error": "Too many requests"}, status=429, headers={"Retry-After": "1"})
        if fault == "server_error":
            return web.json_response({"error": "Internal Server Error"}, status=503)
        await asyncio.sleep(self.slow_s)
        return None

    async def _quote(self, request: web.Request) -> web.Response:
        self.quotes += 1
        q = request.query
        self.requests.append(("quote", dict(q)))
        try:
            amount = int(q["amount"])
            bps = int(q.get("slippageBps", "50"))
            mode = q.get("swapMode", "ExactIn")
            body = self.sim.quote(q["inputMint"], q["outputMint"], amount, slippage_bps=bps,
                                  swap_mode=mode)  # type: ignore[arg-type]  # fmt: skip
        except (KeyError, ValueError):
            return web.json_response({"error": "bad query", "errorCode": "INVALID_REQUEST"}, status=400)
        except JupiterError as exc:
            return web.json_response({"error": str(exc), "errorCode": str(exc.code)}, status=400)
        except Exception as exc:
            return web.json_response(
                {"error": repr(exc), "errorCode": "COULD_NOT_FIND_ANY_ROUTE"}, status=400
            )
        return web.json_response(body)

    async def _swap(self, request: web.Request) -> web.Response:
        fault = await self._fault()
        if fault is not None:
            return fault
        self.swaps += 1
        try:
            body = await request.json()
            self.requests.append(("swap", body))
            user = Pubkey.from_string(body["userPublicKey"])
            quote = body["quoteResponse"]
            tin, tout = Pubkey.from_string(quote["inputMint"]), Pubkey.from_string(quote["outputMint"])
            exact_in = quote["swapMode"] == "ExactIn"
            threshold = int(quote["otherAmountThreshold"])
        except (KeyError, ValueError, TypeError):
            return web.json_response(
                {"error": "bad swap request", "errorCode": "INVALID_REQUEST"}, status=400
            )
        ok = True
        if self._short:
            self._short -= 1
            ok = False
        else:
            try:
                done = self.sim.swap(quote, user_public_key=str(user))
                amount_in, amount_out = int(done["inAmount"]), int(done["outAmount"])
            except JupiterError:
                ok = False
        if not ok:  # delivered one unit short of what the threshold allows: the check fails on chain
            amount_in = int(quote["inAmount"]) if exact_in else threshold + 1
            amount_out = max(0, threshold - 1) if exact_in else int(quote["outAmount"])
        price = body.get("computeUnitPriceMicroLamports")
        tx, lvbh = self._build(user, tin, tout, amount_in, amount_out, exact_in, threshold,
                               wrap=bool(body.get("wrapAndUnwrapSol", True)),
                               cu_price=int(price) if price is not None else None)  # fmt: skip
        self.built.append({"user": str(user), "in": amount_in, "out": amount_out, "ok": ok})
        fee = (int(price) * CU_LIMIT + 999_999) // 1_000_000 if price is not None else 0
        return web.json_response(
            {
                "swapTransaction": base64.b64encode(bytes(tx)).decode(),
                "lastValidBlockHeight": lvbh,
                "prioritizationFeeLamports": fee,
                "computeUnitLimit": CU_LIMIT,
                "prioritizationType": {
                    "computeBudget": {
                        "microLamports": int(price or 0),
                        "estimatedMicroLamports": int(price or 0),
                    }
                },
                "dynamicSlippageReport": None,
                "simulationError": None,
            }
        )

    def _build(
        self,
        user: Pubkey,
        tin: Pubkey,
        tout: Pubkey,
        amount_in: int,
        amount_out: int,
        exact_in: bool,
        threshold: int,
        *,
        wrap: bool,
        cu_price: int | None,
    ) -> tuple[VersionedTransaction, int]:
        pool = self.pool.pubkey()
        ata = get_associated_token_address
        u_in, u_out, p_in, p_out = ata(user, tin), ata(user, tout), ata(pool, tin), ata(pool, tout)
        dec_in, dec_out = self.chain.decimals(tin), self.chain.decimals(tout)
        ixs: list[Instruction] = [set_compute_unit_limit(CU_LIMIT)]
        if cu_price is not None:
            ixs.append(set_compute_unit_price(cu_price))
        if NATIVE_MINT in (tin, tout):  # setup: the wrapped-SOL account, created when missing
            ixs.append(create_idempotent_associated_token_account(user, user, NATIVE_MINT))
        if tin == NATIVE_MINT and wrap:
            ixs.append(transfer(TransferParams(from_pubkey=user, to_pubkey=u_in, lamports=amount_in)))
            ixs.append(sync_native(SyncNativeParams(TOKEN_PROGRAM_ID, u_in)))
        tok = TOKEN_PROGRAM_ID
        ixs.append(transfer_checked(TransferCheckedParams(tok, u_in, tin, p_in, user, amount_in, dec_in)))
        ixs.append(
            transfer_checked(TransferCheckedParams(tok, p_out, tout, u_out, pool, amount_out, dec_out))
        )
        if exact_in:  # the user's output account must have grown by at least the threshold
            check = self.chain.token_amount(user, tout) + threshold
            ixs.append(transfer_checked(TransferCheckedParams(tok, u_out, tout, u_out, user, check, dec_out)))
        else:  # the user's input account must not have shrunk by more than the threshold
            have = self.chain.token_amount(user, tin) + (amount_in if tin == NATIVE_MINT and wrap else 0)
            check = max(0, have - threshold)
            ixs.append(transfer_checked(TransferCheckedParams(tok, u_in, tin, u_in, user, check, dec_in)))
        if wrap and NATIVE_MINT in (tin, tout):  # cleanup: unwrap all of it (and its rent) to native SOL
            ixs.append(close_account(CloseAccountParams(tok, ata(user, NATIVE_MINT), user, user)))
        blockhash, lvbh = self.chain.latest_blockhash()
        msg = MessageV0.try_compile(user, ixs, [], blockhash)
        pool_sig = self.pool.sign_message(to_bytes_versioned(msg))
        signers = list(msg.account_keys[: msg.header.num_required_signatures])
        sigs = [pool_sig if k == pool else Signature.default() for k in signers]
        return VersionedTransaction.populate(msg, sigs), lvbh

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 (ephemeral port); yields the base URL (``.../swap/v1``)."""
        app = web.Application()
        app.router.add_get("/swap/v1/quote", self._quote)
        app.router.add_post("/swap/v1/swap", self._swap)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/swap/v1"
        try:
            yield self.url
        finally:
            await runner.cleanup()


@dataclass
class SolanaFakes:
    """A running local chain and fake Jupiter API with one funded wallet (`keypair`)."""

    chain: LocalSolana
    jupiter: FakeJupiter
    keypair: Keypair
    rpc_url: str
    jupiter_url: str

    def keypair_file(self, path: Path) -> Path:
        """Write the wallet as a Solana CLI keypair file (mode 600) and return its path."""
        path.write_text(json.dumps(list(bytes(self.keypair))))
        path.chmod(0o600)
        return path

    def table(self, keypair_file: Path, journal: Path, **settings: Any) -> dict[str, Any]:
        """A ``[live.jupiter]`` table pointing at these fakes (for `jupiter_from_table`)."""
        return {"rpc_url": self.rpc_url, "keypair_file": str(keypair_file), "journal": str(journal),
                "base_url": self.jupiter_url, **settings}  # fmt: skip


@contextlib.asynccontextmanager
async def solana_fakes(
    *, sol: Decimal = Decimal(10), usdc: Decimal = Decimal(1_000), price: float = 150.0
) -> AsyncIterator[SolanaFakes]:
    """Start the LiteSVM chain and the fake Jupiter API on loopback, with a wallet holding `sol` native SOL
    and `usdc` USDC; both stop when the context closes."""
    chain = LocalSolana()
    api = FakeJupiter(chain, sim_jupiter(price))
    kp = Keypair()
    api.fund_user(kp.pubkey(), sol=sol, usdc=usdc)
    async with chain.serve() as rpc_url, api.serve() as jup_url:
        yield SolanaFakes(chain, api, kp, rpc_url, jup_url)
