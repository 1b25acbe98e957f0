"""Drift v2 on the local chain: SimDrift behind the Drift program id of `LocalSolana`'s program-handler hook.

The program's binary does not exist here, so `DriftChain` stands in for it:

* accounts: ``State``, the ``PerpMarket`` of each SimDrift market, the USDC ``SpotMarket`` 0 (its vault a
  real token account), the user's ``User`` and ``UserStats``, encoded with driftpy's IDL account coder
  (Drift IDL 2.142.0 shipped in driftpy 0.8.89) from SimDrift's state after every change, at the
  program's PDAs, owned by the program; each perp market's oracle a Pyth pull ``PriceUpdateV2`` account
  (exponent -8, owned by the Pyth receiver) at the price SimDrift reads;
* instructions, decoded with the IDL's instruction coder and applied to SimDrift: initialize_user_stats,
  initialize_user, deposit, withdraw, place_perp_order, place_orders, cancel_order, cancel_order_by_user_id,
  cancel_orders, modify_order, modify_order_by_user_id (a cancel and a new place, as the program does),
  place_and_take_perp_order (the taker fills in the next bar, run in the same transaction), settle_pnl, and a
  keeper's fill_perp_order, which runs SimDrift over the next bar (fills, funding, liquidation);
* program logs: ``Program data:`` lines with the IDL-encoded events (OrderRecord, OrderActionRecord,
  FundingPaymentRecord, LiquidationRecord, DepositRecord, SettlePnlRecord), which driftpy's parser reads.

One SimDrift is one user: the first ``initialize_user`` binds its authority (sub-account 0). A refused
instruction fails the transaction with the Drift error code the program would use (6003
InsufficientCollateral, 6064 ReduceOnlyOrderIncreasedRisk, 6071 UserOrderIdAlreadyInUse, ...). `crank(n)`
lands keeper transactions for the next n bars; `set_bar(j)` moves the clock without trading; `open_user`
creates a funded user without a transaction.

Worlds for tests (the chain on loopback, wallets, a keeper, a ``[live.drift]`` table): `fakes.drift_world`.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
from decimal import Decimal
from typing import Any

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.token.state import TokenAccount, TokenAccountState
from solders.transaction import VersionedTransaction
from spl.token.constants import TOKEN_PROGRAM_ID

from botnft.domain.events import (
    FundingApplied,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    PositionLiquidated,
)
from botnft.domain.ids import InstrumentId
from botnft.domain.orders import Order, OrderType, Side, TimeInForce
from botnft.ports import BarArrays
from botnft.venues.sim.drift import SimDrift
from fakes.drift_accounts import (
    DRIFT_PROGRAM_ID,
    PYTH_RECEIVER,
    USDC_MINT,
    DriftAccounts,
    _Book,
    _Meta,
    _u16,
    coder,
    encode_event,
    pda,
    template,
)
from fakes.solana_rpc import LocalSolana, ProgramCall, ProgramFailed, invoke_logs

ERRORS = {
    "insufficient_collateral": 6003,
    "reduce_only_would_increase": 6064,
    "post_only_would_cross": 6057,
    "outside_oracle_band": 6191,
    "too_many_orders": 6060,
    "oracle_invalid": 6035,
    "unknown_market": 6078,
    "size_too_small": 6047,
    "user_order_id_in_use": 6071,
    "order_does_not_exist": 6061,
    "insufficient_deposit": 6002,
    "user_not_found": 6234,
}
INVALID_ORDER = 6042


class DriftChain(DriftAccounts):
    """See the module docstring."""

    program_id = DRIFT_PROGRAM_ID

    def __init__(self, chain: LocalSolana, sim: SimDrift, bars: BarArrays, *, bar: int = 0) -> None:
        self.chain, self.sim, self.bars, self.j = chain, sim, bars, bar
        self.book = _Book()
        self.history: list[Any] = []  # SimDrift's own events of every bar run (fills, funding, liquidations)
        self.authority: Pubkey | None = None
        self.keeper = Keypair()
        self.state_key = pda(b"drift_state")
        self.signer = pda(b"drift_signer")
        self.spot_key = pda(b"spot_market", _u16(0))
        self.vault = pda(b"spot_market_vault", _u16(0))
        self.perp_keys = {i: pda(b"perp_market", _u16(i)) for i in sim.markets}
        self.oracles = {
            i: Pubkey.find_program_address([b"oracle", _u16(i)], PYTH_RECEIVER)[0] for i in sim.markets
        }
        chain.create_mint(USDC_MINT, 6)
        chain.airdrop(self.keeper.pubkey(), 10**10)
        self._token(self.vault, self.signer, 0)
        sim.set_cursor(bars, bar)
        chain.register_program(self)
        self.render()

    # token accounts ---------------------------------------------------------------------------------
    def _token(self, key: Pubkey, owner: Pubkey, amount: int) -> None:
        state = TokenAccount(USDC_MINT, owner, amount, None, TokenAccountState.Initialized, None, 0)
        self.chain.svm.set_account(
            key, Account(self.chain.rent_token, bytes(state), TOKEN_PROGRAM_ID, False, 0)
        )

    def _token_amount(self, key: Pubkey) -> tuple[int, Pubkey] | None:
        acc = self.chain.svm.get_account(key)
        if acc is None or acc.owner != TOKEN_PROGRAM_ID or len(acc.data) != 165:
            return None
        ta = TokenAccount.from_bytes(bytes(acc.data))
        return ta.amount, ta.owner

    # the hook ---------------------------------------------------------------------------------------
    def execute(self, chain: LocalSolana, calls: list[ProgramCall], *, simulate: bool) -> list[str]:
        """Apply `calls` to a copy of the state; commit it into the same objects only on success."""
        original = (self.sim, self.book, self.authority, self.j)
        self.sim, self.book = copy.deepcopy((self.sim, self.book))
        self._new_events: list[Any] = []
        tokens = {k: chain.svm.get_account(k) for c in calls for k in (m.pubkey for m in c.accounts)}
        logs: list[str] = []
        ok = False
        try:
            for c in calls:
                logs += invoke_logs(self.program_id, self._apply(c))
            ok = not simulate
        finally:
            work_sim, work_book = self.sim, self.book
            self.sim, self.book = original[0], original[1]
            if ok:
                self.sim.__dict__.update(work_sim.__dict__)
                self.book.__dict__.update(work_book.__dict__)
                self.history += self._new_events
                self.render()
            else:
                self.authority, self.j = original[2], original[3]
                for k, acc in tokens.items():
                    if acc is not None:
                        chain.svm.set_account(k, acc)
        return logs

    def _fail(self, call: ProgramCall, reason: str, message: str) -> ProgramFailed:
        code = ERRORS.get(reason, INVALID_ORDER)
        return ProgramFailed(
            call.index, code, invoke_logs(self.program_id, [f"Program log: {message}"], code)
        )

    def _apply(self, call: ProgramCall) -> list[str]:
        ix = coder().instruction.parse(call.data)
        name, args = ix.name, ix.data
        title = "".join(w.capitalize() for w in name.split("_"))
        lines = [f"Program log: Instruction: {title}"]
        handler = getattr(self, f"ix_{name}", None)
        if handler is None:
            raise ProgramFailed(call.index, 101, invoke_logs(self.program_id, [f"unsupported {name}"], 101))
        if (
            name not in ("initialize_user_stats", "initialize_user", "fill_perp_order")
            and self.authority is None
        ):
            raise self._fail(call, "user_not_found", "no user")
        return lines + [f"Program data: {base64.b64encode(e).decode()}" for e in handler(call, args)]

    # instructions -----------------------------------------------------------------------------------
    def ix_initialize_user_stats(self, call: ProgramCall, args: Any) -> list[bytes]:
        return []

    def ix_initialize_user(self, call: ProgramCall, args: Any) -> list[bytes]:
        authority = call.accounts[3].pubkey
        if self.authority is not None and self.authority != authority:
            raise self._fail(call, "max_users", "this local chain holds one user")
        self.authority = authority
        ev = dataclasses.replace(
            template("event", "NewUserRecord"),
            ts=self.now_s,
            user_authority=authority,
            user=self.user_key,
            sub_account_id=0,
        )
        return [encode_event("NewUserRecord", ev)]

    def _deposit_record(self, direction: str, amount: int) -> bytes:
        from driftpy.types import DepositDirection

        d = DepositDirection.Deposit() if direction == "deposit" else DepositDirection.Withdraw()
        ev = dataclasses.replace(
            template("event", "DepositRecord"),
            ts=self.now_s,
            user_authority=self.authority,
            user=self.user_key,
            direction=d,
            amount=amount,
            market_index=0,
            oracle_price=10**6,
            market_deposit_balance=self.sim.account.usdc * 1000,
            total_deposits_after=self.book.deposits_total,
            total_withdraws_after=self.book.withdraws_total,
        )
        return encode_event("DepositRecord", ev)

    def ix_deposit(self, call: ProgramCall, args: Any) -> list[bytes]:
        if args.market_index != 0:
            raise self._fail(call, "unknown_market", f"no spot market {args.market_index}")
        src = call.accounts[5].pubkey
        have = self._token_amount(src)
        if have is None or have[0] < args.amount or have[1] != self.authority:
            raise self._fail(call, "insufficient_deposit", "the token account cannot pay the deposit")
        vault = self._token_amount(self.vault)
        assert vault is not None
        self._token(src, have[1], have[0] - args.amount)
        self._token(self.vault, self.signer, vault[0] + args.amount)
        self.sim.deposit(Decimal(args.amount).scaleb(-6))
        self.book.deposits_total += args.amount
        return [self._deposit_record("deposit", args.amount)]

    def ix_withdraw(self, call: ProgramCall, args: Any) -> list[bytes]:
        if args.market_index != 0:
            raise self._fail(call, "unknown_market", f"no spot market {args.market_index}")
        acct = self.sim.account
        free = self.sim.margin("initial")
        room = min(acct.usdc, free.total_collateral - free.margin_requirement)
        if args.amount > room:
            raise self._fail(call, "insufficient_collateral", f"withdraw {args.amount} > {room}")
        dest = call.accounts[6].pubkey
        have = self._token_amount(dest)
        vault = self._token_amount(self.vault)
        assert vault is not None and have is not None
        self._token(dest, have[1], have[0] + args.amount)
        self._token(self.vault, self.signer, vault[0] - args.amount)
        acct.usdc -= args.amount
        acct.deposits -= args.amount
        self.book.withdraws_total += args.amount
        return [self._deposit_record("withdraw", args.amount)]

    def _place(
        self, call: ProgramCall, p: Any, *, user_order_id: int | None = None
    ) -> tuple[int, list[bytes]]:
        from driftpy.types import OrderTriggerCondition

        idx = p.market_index
        if idx not in self.sim.markets:
            raise self._fail(call, "unknown_market", f"no perp market {idx}")
        uid = p.user_order_id if user_order_id is None else user_order_id
        if uid and any(m.user_order_id == uid for m in self.book.meta.values()):
            raise self._fail(call, "user_order_id_in_use", f"user order id {uid} is in use")
        kind = type(p.order_type).__name__
        direction = 1 if type(p.direction).__name__ == "Long" else -1
        trigger_above = isinstance(p.trigger_condition, OrderTriggerCondition.Above)
        oid = self.book.next_order_id
        params = self.sim.core.params[idx]
        amount = Decimal(p.base_asset_amount).scaleb(-9)
        pprice, ptrigger = p.price or 0, p.trigger_price or 0
        price = Decimal(pprice).scaleb(-6) if pprice else None
        trigger = Decimal(ptrigger).scaleb(-6) if ptrigger else None
        post_only = type(p.post_only).__name__ not in ("None", "NONE")
        ioc = bool(p.bit_flags & 1)
        tif = TimeInForce.POST_ONLY if post_only else TimeInForce.IOC if ioc else TimeInForce.GTC
        otype = {
            "Market": OrderType.MARKET,
            "Limit": OrderType.LIMIT,
            "TriggerMarket": OrderType.STOP_MARKET,
            "TriggerLimit": OrderType.LIMIT,
        }.get(kind)
        if otype is None or amount <= 0:
            raise self._fail(call, "invalid_order", f"unsupported order {kind}")
        iid = InstrumentId(params.symbol, self.sim.name)
        order = Order(
            str(oid),
            iid,
            Side.BUY if direction > 0 else Side.SELL,
            amount,
            self.sim.core.now,
            order_type=otype,
            price=price,
            trigger_price=trigger,
            tif=tif,
            reduce_only=bool(p.reduce_only),
        )
        if kind.startswith("Trigger"):
            self.sim.arm_trigger(str(oid), "above" if trigger_above else "below")
        for ev in self.sim.create_order(order):
            if isinstance(ev, OrderRejected):
                raise self._fail(call, ev.reason, ev.message)
        used = {m.slot_index for m in self.book.meta.values()}
        slot = min(set(range(32)) - used)
        self.book.next_order_id += 1
        self.book.meta[oid] = _Meta(
            uid,
            slot,
            kind,
            trigger_above,
            post_only,
            ioc,
            self.chain.height,
            self.sim.core.state.auction_duration,
            p.base_asset_amount,
            pprice,
            ptrigger,
            direction,
            bool(p.reduce_only),
        )
        rec = dataclasses.replace(
            template("event", "OrderRecord"), ts=self.now_s, user=self.user_key, order=self._order(oid)
        )
        return oid, [encode_event("OrderRecord", rec)]

    def ix_place_perp_order(self, call: ProgramCall, args: Any) -> list[bytes]:
        return self._place(call, args.params)[1]

    def ix_place_orders(self, call: ProgramCall, args: Any) -> list[bytes]:
        out: list[bytes] = []
        for p in args.params:
            out += self._place(call, p)[1]
        return out

    def ix_place_and_take_perp_order(self, call: ProgramCall, args: Any) -> list[bytes]:
        oid, out = self._place(call, args.params)
        out += self._step()
        if oid in self.book.meta and self.book.meta[oid].ioc:
            out += self._cancel(oid, "Cancel")
        return out

    def _cancel(self, oid: int, action: str) -> list[bytes]:
        self.sim.cancel_order(str(oid))
        return self._closed(oid, action)

    def _closed(self, oid: int, action: str) -> list[bytes]:
        from driftpy import types as T

        m = self.book.meta.pop(oid, None)
        if m is None:
            return []
        act = T.OrderAction.CANCEL() if action == "Cancel" else T.OrderAction.EXPIRE()
        ev = dataclasses.replace(
            template("event", "OrderActionRecord"),
            ts=self.now_s,
            action=act,
            market_index=0,
            market_type=T.MarketType.Perp(),
            taker=self.user_key,
            taker_order_id=oid,
            taker_order_direction=self._dir(m.direction),
            taker_order_base_asset_amount=m.base,
            taker_order_cumulative_base_asset_amount_filled=m.base_filled,
            taker_order_cumulative_quote_asset_amount_filled=m.quote_filled,
            oracle_price=self._oracle_price(0),
        )
        return [encode_event("OrderActionRecord", ev)]

    def _by_user_id(self, call: ProgramCall, uid: int) -> int:
        for oid, m in self.book.meta.items():
            if m.user_order_id == uid:
                return oid
        raise self._fail(call, "order_does_not_exist", f"no open order with user order id {uid}")

    def ix_cancel_order(self, call: ProgramCall, args: Any) -> list[bytes]:
        oid = args.order_id if args.order_id is not None else max(self.book.meta, default=None)
        if oid not in self.book.meta:
            raise self._fail(call, "order_does_not_exist", f"no open order {oid}")
        return self._cancel(oid, "Cancel")

    def ix_cancel_order_by_user_id(self, call: ProgramCall, args: Any) -> list[bytes]:
        return self._cancel(self._by_user_id(call, args.user_order_id), "Cancel")

    def ix_cancel_orders(self, call: ProgramCall, args: Any) -> list[bytes]:
        out: list[bytes] = []
        for oid in list(self.book.meta):
            out += self._cancel(oid, "Cancel")
        return out

    def _modify(self, call: ProgramCall, oid: int, mp: Any) -> list[bytes]:
        from driftpy.types import OrderParams, OrderTriggerCondition, PositionDirection, PostOnlyParams

        m = self.book.meta[oid]
        from driftpy import types as T

        kinds = {
            "Market": T.OrderType.Market(),
            "Limit": T.OrderType.Limit(),
            "TriggerMarket": T.OrderType.TriggerMarket(),
            "TriggerLimit": T.OrderType.TriggerLimit(),
        }
        remaining = m.base - m.base_filled
        p = OrderParams(
            market_type=T.MarketType.Perp(),
            order_type=kinds[m.order_type],
            base_asset_amount=mp.base_asset_amount or remaining,
            market_index=self.sim.core.orders[str(oid)].market_index,
            direction=mp.direction
            or (PositionDirection.Long() if m.direction > 0 else PositionDirection.Short()),
            price=mp.price if mp.price is not None else m.price,
            user_order_id=m.user_order_id,
            reduce_only=mp.reduce_only if mp.reduce_only is not None else m.reduce_only,
            post_only=PostOnlyParams.MustPostOnly() if m.post_only else PostOnlyParams.NONE(),
            trigger_price=mp.trigger_price if mp.trigger_price is not None else m.trigger_price,
            trigger_condition=OrderTriggerCondition.Above()
            if m.trigger_above
            else OrderTriggerCondition.Below(),
        )
        out = self._cancel(oid, "Cancel")
        return out + self._place(call, p)[1]

    def ix_modify_order(self, call: ProgramCall, args: Any) -> list[bytes]:
        if args.order_id not in self.book.meta:
            raise self._fail(call, "order_does_not_exist", f"no open order {args.order_id}")
        return self._modify(call, args.order_id, args.modify_order_params)

    def ix_modify_order_by_user_id(self, call: ProgramCall, args: Any) -> list[bytes]:
        return self._modify(call, self._by_user_id(call, args.user_order_id), args.modify_order_params)

    def ix_settle_pnl(self, call: ProgramCall, args: Any) -> list[bytes]:
        if args.market_index not in self.sim.markets:
            raise self._fail(call, "unknown_market", f"no perp market {args.market_index}")
        before = self.sim.account.usdc
        self.sim.account.settle_pnl()
        pos = self.sim.account.position(args.market_index)
        ev = dataclasses.replace(
            template("event", "SettlePnlRecord"),
            ts=self.now_s,
            user=self.user_key,
            market_index=args.market_index,
            pnl=self.sim.account.usdc - before,
            base_asset_amount=pos.base_asset_amount,
            quote_asset_amount_after=pos.quote_asset_amount,
            quote_entry_amount=pos.quote_entry_amount,
            settle_price=self._oracle_price(args.market_index),
        )
        return [encode_event("SettlePnlRecord", ev)]

    def ix_fill_perp_order(self, call: ProgramCall, args: Any) -> list[bytes]:
        return self._step()

    # the clock --------------------------------------------------------------------------------------
    def _step(self) -> list[bytes]:
        """SimDrift over the next bar; the events it made as program events."""
        if self.j + 1 >= len(self.bars):
            return []
        self.j += 1
        out: list[bytes] = []
        for ev in self.sim.process(self.bars, self.j):
            self._new_events.append(ev)
            out += self._record(ev)
        self.sim.set_cursor(self.bars, self.j)
        return out

    def open_user(self, authority: Pubkey, usdc: int) -> None:
        """Create `authority`'s Drift user (sub-account 0) holding `usdc` native USDC, as if it had been
        created and funded earlier (no transaction here); the vault holds the deposit."""
        if self.authority is not None:
            raise ValueError("this local chain holds one user")
        self.authority = authority
        self.sim.deposit(Decimal(usdc).scaleb(-6))
        self.book.deposits_total += usdc
        self._token(self.vault, self.signer, usdc)
        self.render()

    def set_bar(self, j: int) -> None:
        self.j = j
        self.sim.set_cursor(self.bars, j)
        self.render()

    def crank(self, n: int = 1) -> list[str]:
        """Land n keeper transactions (fill_perp_order naming the user), each running the next bar."""
        sigs = []
        user = [self.user_key] if self.authority is not None else []
        for _ in range(n):
            self.chain.advance(1)
            bh, _ = self.chain.latest_blockhash()
            data = coder().instruction.encode("fill_perp_order", {"order_id": None, "maker_order_id": None})
            metas = [AccountMeta(self.state_key, False, False), AccountMeta(self.keeper.pubkey(), True, True)]
            metas += [AccountMeta(k, False, True) for k in user]
            ix = Instruction(self.program_id, bytes(data), metas)
            tx = VersionedTransaction(
                MessageV0.try_compile(self.keeper.pubkey(), [ix], [], bh), [self.keeper]
            )
            rec = self.chain.land(tx)
            assert rec is not None and rec.err is None, rec
            sigs.append(rec.signature)
        return sigs

    # events ----------------------------------------------------------------------------------------
    def _record(self, ev: Any) -> list[bytes]:
        from driftpy import types as T

        if isinstance(ev, OrderFilled):
            oid = int(ev.client_order_id)
            m = self.book.meta.get(oid)
            base, quote, fee = (
                int(ev.qty.scaleb(9)),
                int((ev.qty * ev.price).scaleb(6)),
                int(ev.fee.scaleb(6)),
            )
            if m is not None:
                m.base_filled += base
                m.quote_filled += quote
            self.book.fill_record_id += 1
            idx = self.sim.core.index[ev.instrument]
            d = self._dir(1 if ev.side is Side.BUY else -1)
            common = {
                "ts": self.now_s,
                "action": T.OrderAction.FILL(),
                "market_index": idx,
                "market_type": T.MarketType.Perp(),
                "fill_record_id": self.book.fill_record_id,
                "base_asset_amount_filled": base,
                "quote_asset_amount_filled": quote,
                "oracle_price": int(ev.reference_price.scaleb(6)) if ev.reference_price else 0,
            }
            mine = {
                "order_id": oid,
                "order_direction": d,
                "order_base_asset_amount": m.base if m else base,
                "order_cumulative_base_asset_amount_filled": m.base_filled if m else base,
                "order_cumulative_quote_asset_amount_filled": m.quote_filled if m else quote,
            }
            side = "taker" if ev.liquidity == "taker" else "maker"
            fields = {**common, side: self.user_key, f"{side}_fee": fee}
            fields.update({f"{side}_{k}": v for k, v in mine.items()})
            rec = dataclasses.replace(template("event", "OrderActionRecord"), **fields)
            out = [encode_event("OrderActionRecord", rec)]
            if str(oid) not in self.sim.core.orders:
                self.book.meta.pop(oid, None)
            return out
        if isinstance(ev, (OrderCanceled, OrderExpired)):
            return self._closed(
                int(ev.client_order_id), "Cancel" if isinstance(ev, OrderCanceled) else "Expire"
            )
        if isinstance(ev, FundingApplied):
            idx = self.sim.core.index[ev.instrument]
            mk = self.sim.markets[idx]
            pos = self.sim.account.position(idx)
            rec = dataclasses.replace(
                template("event", "FundingPaymentRecord"),
                ts=ev.ts_ns // 10**9,
                user_authority=self.authority,
                user=self.user_key,
                market_index=idx,
                funding_payment=-int(ev.payment.scaleb(6)),  # the program: > 0 received; SimDrift: > 0 paid
                base_asset_amount=int(ev.position_qty.scaleb(9)),
                user_last_cumulative_funding=pos.last_cumulative_funding_rate,
                amm_cumulative_funding_long=mk.cumulative_funding_rate_long,
                amm_cumulative_funding_short=mk.cumulative_funding_rate_short,
            )
            return [encode_event("FundingPaymentRecord", rec)]
        if isinstance(ev, PositionLiquidated):
            idx = self.sim.core.index[ev.instrument]
            lp = dataclasses.replace(
                template("event", "LiquidationRecord").liquidate_perp,
                market_index=idx,
                oracle_price=int(ev.price.scaleb(6)),
                base_asset_amount=int(ev.qty.scaleb(9)),
                liquidator_fee=int(ev.fee.scaleb(6)),
            )
            self.book.fill_record_id += 1
            rec = dataclasses.replace(
                template("event", "LiquidationRecord"),
                ts=ev.ts_ns // 10**9,
                liquidation_type=T.LiquidationType.LiquidatePerp(),
                user=self.user_key,
                liquidator=self.keeper.pubkey(),
                liquidate_perp=lp,
                liquidation_id=len(self.sim.liquidations),
            )
            return [encode_event("LiquidationRecord", rec)]
        return []
