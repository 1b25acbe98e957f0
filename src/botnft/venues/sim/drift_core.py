"""SimDrift's shared state: markets, price tapes, the account, open orders, and the venue clock.

``DriftCore`` is what the venue's parts (``drift`` for the protocol surface, ``drift_execution`` for
fills inside a bar, ``drift_liquidation`` for the liquidation engine) read and change. It knows how to
replay the markets to an instant and settle the funding made on the way (``goto``), how to read every
held market's oracle at an instant (``quotes``), and how open orders count in a position's open bids
and asks (``book`` / ``close``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from botnft.domain.events import FundingApplied
from botnft.domain.ids import InstrumentId
from botnft.domain.instruments import Instrument
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_account import DriftAccount, MarketQuote
from botnft.venues.sim.drift_market import ExternalFunding, FundingUpdate, MarketState
from botnft.venues.sim.drift_oracle import MarkBasis, OracleInjection, PriceTape, valid_for
from botnft.venues.sim.drift_orders import DriftOrder, to_native
from botnft.venues.sim.drift_params import DriftMarketParams, DriftStateParams

if TYPE_CHECKING:
    from botnft.venues.sim.drift_liquidation import Liquidation

QUOTE = "USDC"
_PRICE_PRECISION = dm.PRICE_PRECISION
_FUNDING_RATE_BUFFER = dm.FUNDING_RATE_BUFFER
_TO_QUOTE = dm.AMM_TO_QUOTE_PRECISION_RATIO


def dec(value: int, exp: int) -> Decimal:
    """A native integer as an exact Decimal (``value / 10**exp``)."""
    return Decimal(value).scaleb(-exp)


class DriftCore:
    """State shared by SimDrift's parts (native units throughout)."""

    def __init__(
        self,
        markets: Sequence[DriftMarketParams],
        *,
        collateral: Decimal | int,
        primary: str | None,
        feeds: Mapping[str, BarArrays] | None,
        state: DriftStateParams | None,
        mark_basis_bps: float,
        external_funding: Mapping[str, ExternalFunding] | None,
        oracle_injections: Mapping[str, Sequence[OracleInjection]] | None,
        high_leverage: bool,
        mark_basis: Mapping[str, MarkBasis] | None = None,
    ) -> None:
        if not markets:
            raise ValueError("SimDrift needs at least one market")
        self.state = state or DriftStateParams()
        self.params: dict[int, DriftMarketParams] = {m.market_index: m for m in markets}
        if len(self.params) != len(markets):
            raise ValueError("market indexes must be unique")
        # the shortest funding period (ns): bounds how many funding updates a bar can hold
        self.min_funding_period_ns = min(m.funding_period for m in markets) * 1_000_000_000
        self.index: dict[InstrumentId, int] = {m.instrument_id: m.market_index for m in markets}
        self.ids: dict[int, InstrumentId] = {i: inst for inst, i in self.index.items()}
        self.symbol: dict[str, int] = {m.symbol: m.market_index for m in markets}
        self.instruments: dict[InstrumentId, Instrument] = {m.instrument_id: m.instrument() for m in markets}
        if primary is not None and primary not in self.symbol:
            raise ValueError(f"primary market {primary!r} is not among {sorted(self.symbol)}")
        self.primary = self.symbol[primary] if primary else markets[0].market_index
        injections = oracle_injections or {}
        funding = external_funding or {}
        self.tapes: dict[int, PriceTape] = {}
        self.markets: dict[int, MarketState] = {}
        for m in markets:
            tape = PriceTape(
                tick=m.order_tick_size,
                conf_bps=self.state.oracle_conf_bps,
                mark_basis_bps=mark_basis_bps,
                injections=tuple(injections.get(m.symbol, ())),
                delay_slots=self.state.oracle_delay_slots,
                mark_basis=(mark_basis or {}).get(m.symbol),
            )
            self.tapes[m.market_index] = tape
            self.markets[m.market_index] = MarketState(m, tape, self.state.guard_rails, funding.get(m.symbol))
        for symbol, feed in (feeds or {}).items():
            if symbol not in self.symbol:
                raise ValueError(f"feed for unknown market {symbol!r}")
            if self.symbol[symbol] == self.primary:
                raise ValueError(f"{symbol} is the primary market: its prices come from the node's bars")
            self.tapes[self.symbol[symbol]].extend(feed)
        self.account = DriftAccount(high_leverage=high_leverage)
        native = to_native(Decimal(collateral), dm.QUOTE_PRECISION)
        if native is None or native < 0:
            raise ValueError(f"collateral {collateral} must be a non-negative whole number of USDC units")
        self.account.deposit(native)
        self.orders: dict[str, DriftOrder] = {}
        self.liquidations: list[Liquidation] = []
        self.volume_used: dict[tuple[int, int], int] = {}
        self.now = 0
        self.order_count = 0
        self._ingested: Any = None
        self._batch_ts: tuple[BarArrays, list[int]] | None = None
        # drift_liquidation's per-position float terms of the liquidation scan, keyed by position state
        self.scan_terms: dict[int, tuple[tuple[int, ...], tuple[float, ...]]] = {}
        # goto's last position size and its Decimal (``Decimal(base).scaleb(-9)``)
        self._qty_dec: tuple[int, Decimal] = (0, Decimal(0).scaleb(-9))

    # data ----------------------------------------------------------------------------------------------
    def ingest(self, bars: BarArrays) -> None:
        """Feed a new batch of the node's bars to the primary market's tape (once per batch)."""
        if bars is not self._ingested:
            self.tapes[self.primary].extend(bars)
            self._ingested = bars

    def batch_ts(self, bars: BarArrays) -> list[int]:
        """The batch's bar open times as Python ints (cached per batch object)."""
        cached = self._batch_ts
        if cached is None or cached[0] is not bars:
            cached = self._batch_ts = (bars, np.asarray(bars.ts_ns, dtype=np.int64).tolist())
        return cached[1]

    def held(self) -> set[int]:
        """Markets where the account has a position, unsettled quote or open orders."""
        return {i for i, p in self.account.positions.items() if not p.is_empty}

    def quotes(
        self, t: int, indices: set[int], *, action: str, at_open: bool = False
    ) -> dict[int, MarketQuote] | None:
        """Each market's oracle at ``t`` for the margin math; None if one is not valid for ``action``."""
        out = {}
        for idx in indices:
            m = self.markets[idx]
            s = self.tapes[idx].sample(t, at_open=at_open)
            if s is None or not valid_for(m.validity(s), action):
                return None
            out[idx] = MarketQuote(
                self.params[idx], s.price, m.cumulative_funding_rate_long, m.cumulative_funding_rate_short
            )
        return out

    # time ----------------------------------------------------------------------------------------------
    def goto(self, t: int) -> list[VenueEvent]:
        """Replay every market to ``t`` and settle each funding update on the account's positions."""
        positions = self.account.positions
        updates: list[tuple[int, int, FundingUpdate]] = []
        sources = 0  # markets that made updates: with one, they are already in time order
        for idx, m in self.markets.items():
            mt = m.t_ns
            if mt is not None and t <= mt:
                continue  # advance would do nothing
            pos = positions.get(idx)
            made = m.advance(t, 0 if pos is None else pos.base_asset_amount)
            if made:
                sources += 1
                updates.extend([(u.ts_ns, idx, u) for u in made])
        if not updates:
            return []
        if sources > 1:
            updates.sort(key=lambda x: (x[0], x[1]))
        out: list[VenueEvent] = []
        account = self.account
        for ts, idx, u in updates:
            pos = positions.get(idx)
            if pos is None or pos.base_asset_amount == 0:
                continue
            base = pos.base_asset_amount
            # account.settle_funding with the update's cumulative rates, inlined
            cum = u.cumulative_long if base > 0 else u.cumulative_short
            paid = 0
            if cum != pos.last_cumulative_funding_rate:
                # dm.funding_payment (delta and base are non-zero here), inlined
                delta = cum - pos.last_cumulative_funding_rate
                raw = abs(delta) * abs(base) // _PRICE_PRECISION // _FUNDING_RATE_BUFFER
                if (base > 0) == (delta > 0):  # longs pay a rising cumulative rate
                    raw = -raw
                payment = raw // _TO_QUOTE if raw >= 0 else -(-raw // _TO_QUOTE)  # tdiv
                pos.last_cumulative_funding_rate = cum
                # account.charge(idx, -payment, "counterparty")
                pos.quote_asset_amount += payment
                pos.quote_break_even_amount += payment
                account.counterparty_quote -= payment
                paid = -payment
            account.settle_pnl()
            side_rate = u.rate_long if base > 0 else u.rate_short
            twap = Decimal(u.oracle_twap)
            # rate as a fraction of notional: quote per base (1e9) over the oracle TWAP (1e6)
            rate = Decimal(side_rate) / (twap * _FUNDING_RATE_BUFFER) if u.oracle_twap else Decimal(0)
            qty = self._qty_dec  # the position's size as a Decimal, kept while it does not change
            if qty[0] != base:
                qty = self._qty_dec = (base, Decimal(base).scaleb(-9))
            out.append(
                FundingApplied(ts, self.ids[idx], qty[1], rate, twap.scaleb(-6), Decimal(paid).scaleb(-6))
            )
        return out

    # orders --------------------------------------------------------------------------------------------
    def book(self, rec: DriftOrder) -> None:
        """Count ``rec``'s unfilled size in its position's open bids or asks."""
        pos = self.account.position(rec.market_index)
        if rec.direction > 0:
            pos.open_bids += rec.remaining
        else:
            pos.open_asks -= rec.remaining
        rec.in_book = True

    def close(self, rec: DriftOrder) -> None:
        """Forget an order that is done (filled, cancelled, expired)."""
        pos = self.account.position(rec.market_index)
        if rec.in_book:
            if rec.direction > 0:
                pos.open_bids -= rec.remaining
            else:
                pos.open_asks += rec.remaining
            rec.in_book = False
        pos.open_orders -= 1
        del self.orders[rec.order.client_order_id]
