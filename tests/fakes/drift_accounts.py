"""The accounts of the local Drift chain (`drift_chain.DriftChain`): driftpy's IDL coder (Drift IDL 2.142.0
in driftpy 0.8.89) for accounts and events, the Pyth pull oracle layout, the program's PDAs, and
`DriftAccounts`, which renders State, PerpMarket, SpotMarket, User and UserStats from SimDrift's state.
"""

from __future__ import annotations

import copyreg
import dataclasses
import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from botnft.ports import BarArrays
from botnft.venues.sim.drift import SimDrift
from fakes.solana_rpc import LocalSolana

# solders 0.26 Pubkeys cannot be deep-copied; anchorpy's encoder deep-copies every field (dataclasses.asdict)
copyreg.pickle(Pubkey, lambda p: (Pubkey.from_bytes, (bytes(p),)))

DRIFT_PROGRAM_ID = Pubkey.from_string("dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH")
PYTH_RECEIVER = Pubkey.from_string("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ")
USDC_MINT = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
PYTH_EXPONENT = -8


@cache
def coder() -> Any:
    import driftpy
    from anchorpy import Idl
    from anchorpy.coder.coder import Coder

    return Coder(Idl.from_json((Path(driftpy.__file__).parent / "idl" / "drift.json").read_text()))


def template(kind: str, name: str) -> Any:
    """A zeroed account/event/type value of the IDL (every Option None, every enum its first variant)."""
    c = coder()
    lay = {"account": c.accounts._accounts_layout, "event": c.events.layouts}[kind][name]
    return lay.parse(bytes(20_000))


def encode_account(name: str, value: Any) -> bytes:
    from anchorpy.program.common import NamedInstruction

    return bytes(coder().accounts.build(NamedInstruction(data=value, name=name)))


def encode_event(name: str, value: Any) -> bytes:
    from anchorpy.coder.event import _event_discriminator

    return _event_discriminator(name) + bytes(coder().events.layouts[name].build(value))


def price_update_v2(price: int, conf: int, posted_slot: int, publish_time: int) -> bytes:
    """A Pyth receiver ``PriceUpdateV2`` account (pyth-solana-receiver-sdk price_update.rs): discriminator,
    write authority, verification level Full, feed id, price message (price, conf, exponent, publish times,
    EMA price and conf), posted slot."""
    from anchorpy.coder.accounts import _account_discriminator

    msg = struct.pack("<qQiqqqQ", price, conf, PYTH_EXPONENT, publish_time, publish_time, price, conf)
    return (
        _account_discriminator("PriceUpdateV2")
        + bytes(32)
        + b"\x01"
        + bytes(32)
        + msg
        + struct.pack("<Q", posted_slot)
    )


def pda(*seeds: bytes) -> Pubkey:
    return Pubkey.find_program_address(list(seeds), DRIFT_PROGRAM_ID)[0]


def _u16(i: int) -> bytes:
    return i.to_bytes(2, "little")


@dataclass
class _Meta:
    """What the User account shows of an order that SimDrift does not keep."""

    user_order_id: int
    slot_index: int
    order_type: str  # Market / Limit / TriggerMarket / TriggerLimit
    trigger_above: bool
    post_only: bool
    ioc: bool
    placed_slot: int
    auction_duration: int
    base: int
    price: int
    trigger_price: int
    direction: int
    reduce_only: bool
    quote_filled: int = 0
    base_filled: int = 0


@dataclass
class _Book:
    next_order_id: int = 1
    meta: dict[int, _Meta] = field(default_factory=dict)
    fill_record_id: int = 0
    deposits_total: int = 0
    withdraws_total: int = 0


class DriftAccounts:
    """SimDrift's state as Drift accounts (`render` writes them all into the chain)."""

    chain: LocalSolana
    sim: SimDrift
    bars: BarArrays
    j: int
    book: _Book
    authority: Pubkey | None
    keeper: Keypair
    state_key: Pubkey
    signer: Pubkey
    spot_key: Pubkey
    vault: Pubkey
    perp_keys: dict[int, Pubkey]
    oracles: dict[int, Pubkey]

    # keys -------------------------------------------------------------------------------------------
    @property
    def user_key(self) -> Pubkey:
        assert self.authority is not None
        return pda(b"user", bytes(self.authority), _u16(0))

    @property
    def user_stats_key(self) -> Pubkey:
        assert self.authority is not None
        return pda(b"user_stats", bytes(self.authority))

    @property
    def now_s(self) -> int:
        return self.sim.core.now // 10**9

    # enums -----------------------------------------------------------------------------------------
    @staticmethod
    def _dir(direction: int) -> Any:
        from driftpy.types import PositionDirection

        return PositionDirection.Long() if direction > 0 else PositionDirection.Short()

    # accounts ---------------------------------------------------------------------------------------
    def _oracle_price(self, idx: int) -> int:
        s = self.sim.markets[idx].last_oracle
        if s is not None:
            return int(s.price)
        return round(float(self.bars.close[self.j]) * 10**6)

    def _order(self, oid: int) -> Any:
        from driftpy import types as T

        m = self.book.meta[oid]
        rec = self.sim.core.orders.get(str(oid))
        kinds = {
            "Market": T.OrderType.Market(),
            "Limit": T.OrderType.Limit(),
            "TriggerMarket": T.OrderType.TriggerMarket(),
            "TriggerLimit": T.OrderType.TriggerLimit(),
        }
        cond = T.OrderTriggerCondition.Above() if m.trigger_above else T.OrderTriggerCondition.Below()
        if rec is not None and rec.triggered:
            cond = (
                T.OrderTriggerCondition.TriggeredAbove()
                if m.trigger_above
                else (T.OrderTriggerCondition.TriggeredBelow())
            )
        return dataclasses.replace(
            template("account", "User").orders[0],
            slot=m.placed_slot,
            price=m.price,
            base_asset_amount=m.base,
            base_asset_amount_filled=m.base_filled,
            quote_asset_amount_filled=m.quote_filled,
            trigger_price=m.trigger_price,
            auction_start_price=rec.auction_start if rec else 0,
            auction_end_price=rec.auction_end if rec else 0,
            order_id=oid,
            market_index=rec.market_index if rec else 0,
            status=T.OrderStatus.Open(),
            order_type=kinds[m.order_type],
            market_type=T.MarketType.Perp(),
            user_order_id=m.user_order_id,
            direction=self._dir(m.direction),
            existing_position_direction=self._dir(m.direction),
            reduce_only=m.reduce_only,
            post_only=m.post_only,
            immediate_or_cancel=m.ioc,
            trigger_condition=cond,
            auction_duration=m.auction_duration,
        )

    def _set(self, key: Pubkey, owner: Pubkey, data: bytes) -> None:
        lamports = self.chain.svm.minimum_balance_for_rent_exemption(len(data))
        self.chain.svm.set_account(key, Account(lamports, data, owner, False, 0))

    def render(self) -> None:
        """Write every Drift account from SimDrift's state (and notify subscribers of those that changed)."""
        from driftpy import types as T

        core = self.sim.core
        st = core.state
        state = dataclasses.replace(
            template("account", "State"),
            admin=self.keeper.pubkey(),
            signer=self.signer,
            number_of_markets=max(core.params) + 1,
            number_of_spot_markets=1,
            liquidation_margin_buffer_ratio=st.liquidation_margin_buffer_ratio,
            min_perp_auction_duration=st.auction_duration,
            liquidation_duration=st.liquidation_duration,
            initial_pct_to_liquidate=st.initial_pct_to_liquidate,
            max_number_of_sub_accounts=1,
        )
        self._set(self.state_key, DRIFT_PROGRAM_ID, encode_account("State", state))
        spot = template("account", "SpotMarket")
        hist = dataclasses.replace(
            spot.historical_oracle_data,
            last_oracle_price=10**6,
            last_oracle_price_twap=10**6,
            last_oracle_price_twap5min=10**6,
        )
        spot = dataclasses.replace(
            spot,
            pubkey=self.spot_key,
            mint=USDC_MINT,
            vault=self.vault,
            name=list(b"USDC".ljust(32)),
            historical_oracle_data=hist,
            deposit_balance=max(core.account.usdc, 0) * 1000,
            cumulative_deposit_interest=10**10,
            cumulative_borrow_interest=10**10,
            initial_asset_weight=10_000,
            maintenance_asset_weight=10_000,
            initial_liability_weight=10_000,
            maintenance_liability_weight=10_000,
            decimals=6,
            market_index=0,
            orders_enabled=False,
            oracle_source=T.OracleSource.QuoteAsset(),
            status=T.MarketStatus.Active(),
            asset_tier=T.AssetTier.COLLATERAL(),
            order_step_size=1,
            order_tick_size=1,
        )
        self._set(self.spot_key, DRIFT_PROGRAM_ID, encode_account("SpotMarket", spot))
        for idx, p in core.params.items():
            mk = core.markets[idx]
            price = self._oracle_price(idx)
            conf = price * st.oracle_conf_bps // 10_000
            scale = 10 ** (-PYTH_EXPONENT - 6)
            self._set(
                self.oracles[idx],
                PYTH_RECEIVER,
                price_update_v2(price * scale, conf * scale, self.chain.height, self.now_s),
            )
            self._set(
                self.perp_keys[idx], DRIFT_PROGRAM_ID, encode_account("PerpMarket", self._perp(idx, p, mk))
            )
        if self.authority is not None:
            self._set(self.user_key, DRIFT_PROGRAM_ID, encode_account("User", self._user()))
            stats = dataclasses.replace(
                template("account", "UserStats"),
                authority=self.authority,
                number_of_sub_accounts=1,
                number_of_sub_accounts_created=1,
            )
            self._set(self.user_stats_key, DRIFT_PROGRAM_ID, encode_account("UserStats", stats))
        self.chain.notify()

    def _perp(self, idx: int, p: Any, mk: Any) -> Any:
        from driftpy import types as T

        z = template("account", "PerpMarket")
        price = self._oracle_price(idx)
        reserve = p.taker_liquidity.amm_base_reserve
        base_with_amm = self.sim.account.base(idx)
        hist = dataclasses.replace(
            z.amm.historical_oracle_data,
            last_oracle_price=price,
            last_oracle_price_twap=mk.oracle_twap or price,
            last_oracle_price_twap5min=mk.oracle_twap or price,
            last_oracle_price_twap_ts=self.now_s,
        )
        amm = dataclasses.replace(
            z.amm,
            oracle=self.oracles[idx],
            historical_oracle_data=hist,
            base_asset_reserve=reserve,
            quote_asset_reserve=reserve,
            sqrt_k=reserve,
            peg_multiplier=price,
            terminal_quote_asset_reserve=reserve,
            min_base_asset_reserve=reserve // 2,
            max_base_asset_reserve=reserve * 2,
            base_asset_amount_with_amm=base_with_amm,
            base_asset_amount_long=max(base_with_amm, 0),
            base_asset_amount_short=min(base_with_amm, 0),
            last_funding_rate=mk.last_funding_rate,
            cumulative_funding_rate_long=mk.cumulative_funding_rate_long,
            cumulative_funding_rate_short=mk.cumulative_funding_rate_short,
            last_funding_rate_ts=mk.last_funding_rate_ts,
            funding_period=p.funding_period,
            order_step_size=p.order_step_size,
            order_tick_size=p.order_tick_size,
            min_order_size=p.min_order_size,
            total_fee_minus_distributions=mk.total_fee_minus_distributions,
            total_exchange_fee=mk.total_exchange_fee,
            last_mark_price_twap=mk.mark_twap or price,
            last_mark_price_twap5min=mk.mark_twap or price,
            oracle_source=T.OracleSource.PythPull(),
            last_update_slot=self.chain.height,
            base_spread=500,
            max_spread=20_000,
        )
        return dataclasses.replace(
            z,
            pubkey=self.perp_keys[idx],
            amm=amm,
            name=list(p.symbol.encode().ljust(32)),
            imf_factor=p.imf_factor,
            liquidator_fee=p.liquidator_fee,
            if_liquidation_fee=p.if_liquidation_fee,
            margin_ratio_initial=p.margin_ratio_initial,
            margin_ratio_maintenance=p.margin_ratio_maintenance,
            unrealized_pnl_initial_asset_weight=p.unrealized_pnl_initial_asset_weight,
            unrealized_pnl_maintenance_asset_weight=p.unrealized_pnl_maintenance_asset_weight,
            market_index=idx,
            status=T.MarketStatus.Active(),
            contract_type=T.ContractType.Perpetual(),
            contract_tier=getattr(T.ContractTier, p.contract_tier)(),
            quote_spot_market_index=0,
            high_leverage_margin_ratio_initial=p.high_leverage_margin_ratio_initial,
            high_leverage_margin_ratio_maintenance=p.high_leverage_margin_ratio_maintenance,
        )

    def _user(self) -> Any:
        from driftpy import types as T

        z = template("account", "User")
        acct = self.sim.account
        usdc = acct.usdc
        sp = dataclasses.replace(
            z.spot_positions[0],
            scaled_balance=abs(usdc) * 1000,
            market_index=0,
            balance_type=T.SpotBalanceType.Deposit() if usdc >= 0 else T.SpotBalanceType.Borrow(),
        )
        perps = []
        for idx, pos in sorted(acct.positions.items()):
            if pos.base_asset_amount == 0 and pos.open_orders == 0 and pos.quote_asset_amount == 0:
                continue
            perps.append(
                dataclasses.replace(
                    z.perp_positions[0],
                    market_index=idx,
                    base_asset_amount=pos.base_asset_amount,
                    quote_asset_amount=pos.quote_asset_amount,
                    quote_entry_amount=pos.quote_entry_amount,
                    quote_break_even_amount=pos.quote_break_even_amount,
                    last_cumulative_funding_rate=pos.last_cumulative_funding_rate,
                    open_orders=pos.open_orders,
                    open_bids=pos.open_bids,
                    open_asks=pos.open_asks,
                )
            )
        perps += list(z.perp_positions[len(perps) :])
        orders = list(z.orders)
        for oid, m in self.book.meta.items():
            if str(oid) in self.sim.core.orders:
                orders[m.slot_index] = self._order(oid)
        n_open = len([o for o in orders if o.order_id])
        assert self.authority is not None
        return dataclasses.replace(
            z,
            authority=self.authority,
            name=list(b"Main Account".ljust(32)),
            spot_positions=[sp, *z.spot_positions[1:]],
            perp_positions=perps,
            orders=orders,
            next_order_id=self.book.next_order_id,
            total_deposits=self.book.deposits_total,
            total_withdraws=self.book.withdraws_total,
            open_orders=n_open,
            has_open_order=n_open > 0,
            last_active_slot=self.chain.height,
            is_margin_trading_enabled=True,
        )
