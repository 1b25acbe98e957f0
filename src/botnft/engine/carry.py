"""The funding carry in a routed run: at each bar, read Drift's hourly funding, move the spot and perp
legs to the carry's targets, then let the net-delta monitor re-hedge what is left on the cheapest venue."""

from __future__ import annotations

from decimal import Decimal

from botnft.domain.events import OrderFilled
from botnft.domain.ids import InstrumentId
from botnft.domain.money import ZERO, to_decimal
from botnft.domain.orders import Side
from botnft.engine.executor import Executor
from botnft.ports import BarArrays
from botnft.routing.impact import static_impact
from botnft.strategy.carry import FundingCarry, NetDeltaMonitor


class CarryRunner:
    def __init__(self, executor: Executor, carry: FundingCarry) -> None:
        ex = self.executor = executor
        self.carry = carry
        self.perps = [i for i, inst in ex.instruments.items() if inst.is_perp]
        self.spots = [i for i, inst in ex.instruments.items() if not inst.is_perp]
        lot = ex.grid or carry.lot
        carry.lot = lot
        venues = sorted({i.venue for i in ex.instruments})
        self.monitor = NetDeltaMonitor(venues, self._cost, lot, carry.inventory)
        self._price = ZERO
        self.funding_rate_bars = 0
        #: the net of filled positions only (a leg whose transaction is still in flight counts as not held)
        self.filled_max = ZERO
        self.filled_inside = 0
        #: in event time (every fill): how long the filled net delta was outside the band, and its peak
        self.ns_outside = 0
        self.event_max = ZERO
        self._outside_since: int | None = None
        self._band = ZERO
        executor.fill_listeners.append(self._on_fill)

    def held(self) -> tuple[Decimal, Decimal]:
        """(spot base held across the spot wallets, signed perp position)."""
        pf = self.executor.portfolio
        base = self.executor.base
        wallets = {pf.account(i.venue): i.venue for i in self.spots}
        spot = sum((pf.balance(v, base) for v in wallets.values()), ZERO)
        perp = sum((pf.positions[i].qty for i in self.perps), ZERO)
        return spot, perp

    def _on_fill(self, fill: OrderFilled) -> None:
        """After each fill (the portfolio has it): the filled net delta at that instant."""
        if fill.instrument not in self.executor.instruments:
            return
        spot, perp = self.held()
        net = abs(spot + perp - self.carry.inventory)
        self.event_max = max(self.event_max, net)
        if net > self._band and self._outside_since is None:
            self._outside_since = fill.ts_ns
        elif net <= self._band and self._outside_since is not None:
            self.ns_outside += max(0, fill.ts_ns - self._outside_since)
            self._outside_since = None

    def _rate(self) -> Decimal | None:
        for snap in self.executor.snapshots(self.perps):
            rate = getattr(snap, "funding_rate_hourly", None)
            if rate is not None:
                return Decimal(rate)
        return None

    def _cost(self, venue: str, side: str, qty: Decimal) -> Decimal | None:
        """Expected cost in quote of `qty` on `venue`: its fee plus the static impact on its snapshot."""
        ex = self.executor
        inst_id = next((i for i in ex.instruments if i.venue == venue), None)
        if inst_id is None:
            return None
        inst = ex.instruments[inst_id]
        if not inst.is_perp and side == "sell" and qty > ex.portfolio.balance(venue, inst.base):
            return None
        snap = ex.venues[venue].liquidity(inst_id)  # type: ignore[attr-defined]
        if snap is None:
            return None
        try:
            feats, _ = static_impact(snap, side, float(qty), float(self._price))
        except ValueError:
            return None
        fee = ex.fee_rate(inst_id)
        return qty * self._price * (fee + to_decimal(feats.static_bps) / 10_000)

    def step(self, bars: BarArrays, j: int, ts_ns: int) -> None:
        price = self._price = to_decimal(float(bars.close[j]))
        ex = self.executor
        # the filled positions at the bar's close, before this close's orders: the legs sent at the last
        # close both fill in this bar (a swap at its open, the perp's auction a slot later), so what is
        # measured here is what the bar ends with, not an order sent at this instant
        spot, perp = self.held()
        filled = abs(spot + perp - self.carry.inventory)
        self._band = self.carry.band_units(price)
        self.filled_max = max(self.filled_max, filled)
        self.filled_inside += filled <= self._band
        rate = self._rate()
        if rate is not None:
            self.funding_rate_bars += 1
            legs = self.carry.on_funding(rate, price)
            if legs is not None:
                spot, perp = self.held()
                moves: list[tuple[list[InstrumentId], Side, Decimal]] = []
                for ids, delta in ((self.spots, legs.spot - spot), (self.perps, legs.perp - perp)):
                    if delta != ZERO:
                        moves.append((ids, Side.BUY if delta > ZERO else Side.SELL, abs(delta)))
                ex.run_legs(price, ts_ns, moves)
        spot, perp = self.held()
        for i in self.spots:  # what is sent and not yet filled (a transaction in flight) is committed
            spot += ex.children.working_signed(i)
        for i in self.perps:
            perp += ex.children.working_signed(i)
        hedge = self.monitor.observe(ts_ns, spot, perp, self.carry.band_units(price))
        if hedge is not None and not ex.busy:  # what is in flight is not re-hedged twice
            ids = [i for i in ex.instruments if i.venue == hedge.venue]
            ex.run_legs(price, ts_ns, [(ids, Side(hedge.side), hedge.qty)])

    def summary(self) -> dict[str, object]:
        """Net delta (committed, and filled only), funding earned on the perp, fees and slippage (quote)."""
        spot, perp = self.held()
        pf, st = self.executor.portfolio, self.executor.stats
        observed = self.monitor.observed
        return {
            **self.monitor.summary(),
            "max_abs_filled_net_delta": str(self.filled_max),
            "share_filled_inside_band": round(self.filled_inside / observed, 6) if observed else 1.0,
            "max_abs_filled_net_delta_any_time": str(self.event_max),
            "seconds_filled_outside_band": self.ns_outside / 1e9,
            "funding_earned": str(-sum((pf.positions[i].funding for i in self.perps), ZERO)),
            "fees": str(sum((r.fees for r in st.per_venue.values()), ZERO)),
            "slippage": str(sum((r.shortfall for r in st.per_venue.values()), ZERO)),
            "final_spot": str(spot),
            "final_perp": str(perp),
        }
