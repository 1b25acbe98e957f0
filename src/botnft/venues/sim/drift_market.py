"""One SimDrift perp market's AMM-side state: oracle and mark TWAPs, and hourly funding.

A keeper cranks the market at every oracle path point (four a bar) and at every funding boundary:
each crank feeds the oracle and mark TWAPs (``new_twap`` with the tier's sanitize clamp, as
``update_oracle_price_twap`` does), and a crank at or after a boundary runs ``update_funding_rate``
when ``time_until_funding_update`` allows it and the oracle is valid for funding (else it retries at
the next crank, so a late update shifts the schedule exactly as ``on_the_hour_update`` does).

Funding comes from an external series where it covers the time (``ExternalFunding``: Drift's own daily
series, or e.g. Binance 8 h rates, scaled to the market's period, using the last rate published at or
before the update), else from the TWAPs (``funding_rate``, Drift's formula with the 1/5000 offset and
tier cap, on the tape's mark: see ``drift_oracle.MarkBasis``). Either way the rate then goes
through ``funding_rate_long_short`` (capped symmetric funding against the AMM's fee pool) into the
cumulative long/short rates that positions settle against.

The state is replayed lazily (``advance``) up to the time a caller needs, from every bar since the
first, so it is a function of the data alone: it does not depend on how the node batches bars or when
it wakes the venue. A crank that only feeds the TWAPs reads the path point's time, price and mark and
builds no oracle sample (``PriceTape.path_raw``); the sample of the last one is built when read
(``last_oracle``). Funding cranks read the full sample.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_oracle import (
    BLOCKED_BY,
    OracleSample,
    PriceTape,
    oracle_validity,
    valid_for,
)
from botnft.venues.sim.drift_params import DriftMarketParams, OracleGuardRails

NS = 1_000_000_000
FIVE_MINUTES = 300
MARK_ORACLE_MAX_DIVERGENCE = 100_000  # 10% in 1e6 (OracleGuardRails.price_divergence default)
FORMULA = "drift formula"
_FUNDING_BLOCKED_BY = BLOCKED_BY["funding"]
_TIERS = {name.lower(): name for name in dm.CONTRACT_TIERS}  # as drift_math's tier lookup


@dataclass(frozen=True, slots=True)
class ExternalFunding:
    """Funding rates from data: ``rate[k]`` (fraction of notional per ``interval_s``, longs pay when
    positive) published at ``ts_ns[k]``, valid until ``end_ns`` (None: open-ended). Outside it the
    market computes its own rate (Drift's formula on its TWAPs). ``source`` names it in reports."""

    ts_ns: NDArray[np.int64]
    rate: NDArray[np.float64]
    interval_s: int = 8 * 3600
    end_ns: int | None = None
    source: str = "external"

    def rate_at(self, ts_ns: int) -> float | None:
        if self.end_ns is not None and ts_ns >= self.end_ns:
            return None
        k = int(np.searchsorted(self.ts_ns, ts_ns, "right")) - 1
        return None if k < 0 else float(self.rate[k])


@dataclass(frozen=True, slots=True)
class FundingUpdate:
    """One ``update_funding_rate``: rates in FUNDING_RATE_PRECISION (quote per base, 1e9)."""

    ts_ns: int
    rate: int
    rate_long: int
    rate_short: int
    cumulative_long: int
    cumulative_short: int
    mark_twap: int
    oracle_twap: int


def sanitize(price: int, last_twap: int, denominator: int) -> int:
    """``math/amm.rs::sanitize_new_price``: clamp a TWAP sample to ``last_twap ± last_twap/den``."""
    if last_twap == 0 or denominator == 0:
        return price
    band = abs(last_twap // denominator)
    if abs(price - last_twap) > band:
        return last_twap + band if price > last_twap else last_twap - band
    return price


class MarketState:
    """TWAPs, cumulative funding and open interest of one market (native units)."""

    def __init__(
        self,
        params: DriftMarketParams,
        tape: PriceTape,
        rails: OracleGuardRails,
        external: ExternalFunding | None = None,
    ) -> None:
        self.params = params
        self.tape = tape
        self.rails = rails
        self.external = external
        self.t_ns: int | None = None  # state time: every crank at or before it is applied
        self.oracle_twap = 0
        self.oracle_twap_5min = 0
        self.oracle_twap_ts = 0
        self.mark_twap = 0
        self.mark_twap_ts = 0
        self._last_oracle: OracleSample | None = None
        self._last_point: tuple[int, int, int] | None = None  # (t, price, mark) not yet a sample
        self._den = dm.SANITIZE_CLAMP_DENOMINATOR[params.contract_tier]
        # the funding formula's constants (``dm.funding_rate``): 86400 / max(3600, period), positive,
        # and the tier's divergence denominator (None: an unknown tier, left to dm.funding_rate to refuse)
        self._period_adjustment = dm.TWENTY_FOUR_HOUR // max(dm.ONE_HOUR, params.funding_period)
        tier = _TIERS.get(str(params.contract_tier).lower())
        self._divergence_den = None if tier is None else dm.FUNDING_RATE_MAX_DIVERGENCE_DENOMINATOR[tier]
        # the external series as Python numbers, read at every funding update
        ext_ts, ext_rate = ([], []) if external is None else (external.ts_ns, external.rate)
        self._external_ts: list[int] = np.asarray(ext_ts).tolist()
        self._external_rate: list[float] = np.asarray(ext_rate, dtype=np.float64).tolist()
        self.cumulative_funding_rate_long = 0
        self.cumulative_funding_rate_short = 0
        self.last_funding_rate_ts = 0
        self.last_funding_rate = 0
        self.last_24h_avg_funding_rate = 0
        self.total_fee_minus_distributions = params.amm_fee_pool
        self.total_exchange_fee = params.amm_fee_pool
        self.funding_history: list[FundingUpdate] = []
        self.funding_sources: dict[str, int] = {}  # updates made from each source
        self._retry = False

    # oracle ----------------------------------------------------------------------------------------
    @property
    def last_oracle(self) -> OracleSample | None:
        """The oracle sample the TWAPs last took in."""
        if self._last_oracle is None and self._last_point is not None:
            self._last_oracle = self.tape.point_sample(*self._last_point)
            self._last_point = None
        return self._last_oracle

    def validity(self, s: OracleSample) -> str:
        return oracle_validity(
            s.price, s.conf, s.delay, self.oracle_twap, self.params.contract_tier, self.rails
        )

    def oracle_valid(
        self, t_ns: int, action: str, *, at_open: bool = False
    ) -> tuple[OracleSample | None, bool]:
        """The oracle at ``t_ns`` and whether it allows ``action`` (see ``drift_oracle.valid_for``)."""
        s = self.tape.sample(t_ns, at_open=at_open)
        return s, s is not None and valid_for(self.validity(s), action)

    # replay ----------------------------------------------------------------------------------------
    def advance(self, t_ns: int, account_base: int) -> list[FundingUpdate]:
        """Apply every crank up to ``t_ns``; returns the funding updates made, in time order."""
        period = self.params.funding_period
        if self.t_ns is None:
            start = self.tape.start_ns
            if start is None or start > t_ns:
                return []
            self.t_ns = start - 1
            self.last_funding_rate_ts = (start // NS) // period * period
        if t_ns <= self.t_ns:
            return []
        out: list[FundingUpdate] = []
        step = period * NS
        boundary = ((self.t_ns // NS) // period + 1) * step
        tape = self.tape
        points = tape.path_raw(self.t_ns, t_ns)
        n = len(points)
        i = 0
        while True:
            if i < n and not self._retry:
                # the run of cranks that only feed the TWAPs: points before the boundary (all of them
                # when the boundary is past ``t_ns``)
                j = i
                if boundary > t_ns:
                    j = n
                else:
                    while j < n and points[j][0] < boundary:
                        j += 1
                    if j < n and points[j][0] == boundary:
                        # the crank on the boundary: its TWAP update ends the run, then funding
                        self._twap_run(points, i, j + 1)
                        s = tape.point_sample(*points[j])
                        if s.price > 0:
                            self._last_oracle, self._last_point = s, None
                        self._update_funding(s, account_base, out)
                        boundary += step
                        i = j + 1
                        continue
                if j > i:
                    self._twap_run(points, i, j)
                    i = j
                    continue
            if boundary <= t_ns and (i >= n or boundary < points[i][0]):
                gap = tape.sample(boundary)  # a boundary inside a gap: the ageing last close
                if gap is not None:
                    self._crank(gap, account_base, out, boundary_crank=True)
                boundary += step
                continue
            if i >= n:
                break
            point = points[i]
            on_boundary = point[0] == boundary
            s = tape.point_sample(*point)
            if s.price > 0:  # _crank on the point's sample, with the TWAP update fed the point itself
                self._twap_run(points, i, i + 1)
                self._last_oracle, self._last_point = s, None
            if on_boundary or self._retry:
                self._update_funding(s, account_base, out)
            if on_boundary:
                boundary += step
            i += 1
        self.t_ns = t_ns
        return out

    def _crank(
        self, s: OracleSample, account_base: int, out: list[FundingUpdate], *, boundary_crank: bool
    ) -> None:
        self._update_twaps(s)
        if boundary_crank or self._retry:
            self._update_funding(s, account_base, out)

    def _update_twaps(self, s: OracleSample) -> None:
        if self._twap_point(s.ts_ns, s.price, s.mark):
            self._last_oracle, self._last_point = s, None

    def _twap_point(self, ts_ns: int, price: int, mark: int) -> bool:
        """Feed the oracle and mark TWAPs the point (``ts_ns``, ``price``, ``mark``); False when a
        non-positive oracle blocks it (UpdateTwap is blocked by nothing else)."""
        if price <= 0:
            return False
        self._twap_run([(ts_ns, price, mark)], 0, 1)
        return True

    def _twap_run(self, points: list[tuple[int, int, int]], i: int, j: int) -> None:
        """Feed the TWAPs ``points[i:j]`` (time, price, mark) in order, as ``_twap_point`` on each: a
        point with a non-positive oracle is skipped. ``sanitize`` and ``new_twap`` (``math/stats.rs::
        calculate_new_twap``) are inlined on local state: the same integers, without the calls. The
        weighted sums' denominators are positive, so Rust's truncating division is ``//`` on the
        magnitude with the numerator's sign."""
        den = self._den
        period = self.params.funding_period
        ot, ot5, ots = self.oracle_twap, self.oracle_twap_5min, self.oracle_twap_ts
        mt, mts = self.mark_twap, self.mark_twap_ts
        last = None
        for k in range(i, j):
            point = points[k]
            ts_ns, price, mark = point
            if price <= 0:
                continue
            last = point
            now = ts_ns // NS
            if ot == 0:
                ot = ot5 = price
                mt = mark
                ots = mts = now
                continue
            since = now - ots
            if since > 0:
                if den:  # sanitize(price, ot, den); ot != 0 here
                    band = abs(ot // den)
                    if price - ot > band:
                        price = ot + band
                    elif ot - price > band:
                        price = ot - band
                # new_twap(price, now, ot, ots, period)
                fs = period - since if since < period else 1  # max(1, period - since)
                pw = price * since
                lw = ot * fs
                num = pw + lw
                d = since + fs
                q = num // d if num >= 0 else -(-num // d)
                if fs > 1 and lw != pw:
                    if lw > pw:
                        q += 1
                    elif q != 0:
                        q -= 1
                ot_new = q
                # new_twap(price, now, ot5, ots, FIVE_MINUTES)
                fs = FIVE_MINUTES - since if since < FIVE_MINUTES else 1  # max(1, FIVE_MINUTES - since)
                pw = price * since
                lw = ot5 * fs
                num = pw + lw
                d = since + fs
                q = num // d if num >= 0 else -(-num // d)
                if fs > 1 and lw != pw:
                    if lw > pw:
                        q += 1
                    elif q != 0:
                        q -= 1
                ot5 = q
                ot = ot_new
            ots = now
            since = now - mts
            if since > 0:
                if den and mt:  # sanitize(mark, mt, den)
                    band = abs(mt // den)
                    if mark - mt > band:
                        mark = mt + band
                    elif mt - mark > band:
                        mark = mt - band
                fs = period - since if since < period else 1  # max(1, period - since)
                pw = mark * since
                lw = mt * fs
                num = pw + lw
                d = since + fs
                q = num // d if num >= 0 else -(-num // d)
                if fs > 1 and lw != pw:
                    if lw > pw:
                        q += 1
                    elif q != 0:
                        q -= 1
                mt = q
            mts = now
        if last is not None:
            self.oracle_twap, self.oracle_twap_5min, self.oracle_twap_ts = ot, ot5, ots
            self.mark_twap, self.mark_twap_ts = mt, mts
            self._last_oracle, self._last_point = None, last

    def _blocked(self, s: OracleSample) -> bool:
        validity = oracle_validity(
            s.price, s.conf, s.delay, self.oracle_twap, self.params.contract_tier, self.rails
        )
        if validity in _FUNDING_BLOCKED_BY:  # not valid_for(validity, "funding")
            return True
        twap5 = self.oracle_twap_5min
        return twap5 <= 0 or abs(s.mark - twap5) * 1_000_000 // twap5 > MARK_ORACLE_MAX_DIVERGENCE

    def _rate(self, ts_ns: int) -> tuple[int, str]:
        p = self.params
        frac = None if self.external is None else self._external_rate_at(ts_ns)
        if self.external is None or frac is None:
            rate = dm.funding_rate(
                self.mark_twap, self.oracle_twap, period=p.funding_period, tier=p.contract_tier
            )
            return rate, FORMULA
        ot, buffer, period, interval = (
            self.oracle_twap,
            dm.FUNDING_RATE_BUFFER,
            p.funding_period,
            self.external.interval_s,
        )
        integers = type(ot) is int and type(buffer) is int and type(period) is int and type(interval) is int
        if integers and interval > 0:
            # the exact rational below, rounded half to even as Fraction rounds it, in integers
            n, d = float(frac).as_integer_ratio()
            return _round_half_even(n * ot * buffer * period, d * interval), self.external.source
        exact = (
            Fraction(frac)
            * self.oracle_twap
            * dm.FUNDING_RATE_BUFFER
            * p.funding_period
            / self.external.interval_s
        )
        return round(exact), self.external.source

    def _external_rate_at(self, ts_ns: int) -> float | None:
        """``self.external.rate_at(ts_ns)``, bisecting the publication times as Python ints."""
        ext = self.external
        assert ext is not None
        if ext.end_ns is not None and ts_ns >= ext.end_ns:
            return None
        k = bisect_right(self._external_ts, ts_ns) - 1
        return None if k < 0 else self._external_rate[k]

    def _update_funding(self, s: OracleSample, account_base: int, out: list[FundingUpdate]) -> None:
        p = self.params
        now = s.ts_ns // NS
        period = p.funding_period
        last_ts = self.last_funding_rate_ts
        if period > 1 and last_ts % period == 0:  # on schedule: time_until_funding_update's first case
            wait = period - (now - last_ts)
        else:
            wait = dm.time_until_funding_update(now, last_ts, period)
        if wait > 0:
            self._retry = False
            return
        # _blocked, inlined
        validity = oracle_validity(s.price, s.conf, s.delay, self.oracle_twap, p.contract_tier, self.rails)
        twap5 = self.oracle_twap_5min
        if (
            validity in _FUNDING_BLOCKED_BY
            or twap5 <= 0
            or abs(s.mark - twap5) * 1_000_000 // twap5 > MARK_ORACLE_MAX_DIVERGENCE
        ):
            self._retry = True
            return
        ot = self.oracle_twap
        div_den = self._divergence_den
        ext = self.external
        frac = None if ext is None else self._external_rate_at(s.ts_ns)
        if (
            frac is not None
            and ext is not None
            and type(ot) is int
            and type(p.funding_period) is int
            and type(ext.interval_s) is int
            and ext.interval_s > 0
        ):
            # _rate's external rate in integers, inlined (the same expression)
            n, d = float(frac).as_integer_ratio()
            rate = _round_half_even(n * ot * dm.FUNDING_RATE_BUFFER * p.funding_period, d * ext.interval_s)
            source = ext.source
        elif frac is None and div_den is not None and ot >= 0 and type(ot) is int:
            # _rate's formula (dm.funding_rate with the offset), inlined: the divisors are positive
            spread = self.mark_twap - ot + ot // dm.FUNDING_RATE_OFFSET_DENOMINATOR
            cap = ot // div_den
            if spread > cap:
                spread = cap
            elif spread < -cap:
                spread = -cap
            spread *= dm.FUNDING_RATE_BUFFER
            pa = self._period_adjustment
            rate = spread // pa if spread >= 0 else -(-spread // pa)
            source = FORMULA
        else:
            rate, source = self._rate(s.ts_ns)
        # funding_rate_long_short's first case inlined: the AMM does not pay (its funding pnl >= 0)
        raw = 0  # _funding_payment_raw(rate, account_base)
        if rate and account_base:
            raw = abs(rate) * abs(account_base) // dm.PRICE_PRECISION // dm.FUNDING_RATE_BUFFER
            if (account_base > 0) == (rate > 0):
                raw = -raw
        ratio = dm.AMM_TO_QUOTE_PRECISION_RATIO
        net_payment = raw // ratio if raw >= 0 else -(-raw // ratio)  # tdiv
        tfmd = self.total_fee_minus_distributions
        # the AMM pays (net_payment > 0): within a third of its fee pool above the lower bound the
        # rates stay uncapped (the second case, inlined too)
        lower_bound = dm.total_fee_lower_bound(self.total_exchange_fee) if net_payment > 0 else 0
        if net_payment <= 0:
            long_rate = short_rate = rate
            total = tfmd - net_payment
        elif -net_payment >= -(max(0, tfmd - lower_bound) // 3):
            total = tfmd - net_payment
            if total < lower_bound:  # InvalidFundingProfitability: the update fails, a keeper retries
                self._retry = True
                return
            long_rate = short_rate = rate
        else:
            base_long = p.background_open_interest + max(account_base, 0)
            base_short = -p.background_open_interest + min(account_base, 0)
            try:
                long_rate, short_rate, total = dm.funding_rate_long_short(
                    rate,
                    base_with_amm=account_base,  # users' net base the AMM is counterparty to
                    base_long=base_long,
                    base_short=base_short,
                    total_exchange_fee=self.total_exchange_fee,
                    total_fee_minus_distributions=self.total_fee_minus_distributions,
                )
            except ValueError:  # InvalidFundingProfitability: the update fails, a keeper retries
                self._retry = True
                return
        self._retry = False
        self.funding_sources[source] = self.funding_sources.get(source, 0) + 1
        self.total_fee_minus_distributions = total
        self.cumulative_funding_rate_long += long_rate
        self.cumulative_funding_rate_short += short_rate
        # dm.new_twap(rate, now, last_24h_avg, last_funding_rate_ts, TWENTY_FOUR_HOUR), inlined
        since = now - last_ts
        if since > 0:
            avg = self.last_24h_avg_funding_rate
            fs = dm.TWENTY_FOUR_HOUR - since if since < dm.TWENTY_FOUR_HOUR else 1  # max(1, 86400 - since)
            pw = rate * since
            lw = avg * fs
            num = pw + lw
            d = since + fs
            q = num // d if num >= 0 else -(-num // d)
            if fs > 1 and lw != pw:
                if lw > pw:
                    q += 1
                elif q != 0:
                    q -= 1
            self.last_24h_avg_funding_rate = q
        self.last_funding_rate = rate
        self.last_funding_rate_ts = now
        upd = FundingUpdate(
            s.ts_ns,
            rate,
            long_rate,
            short_rate,
            self.cumulative_funding_rate_long,
            self.cumulative_funding_rate_short,
            self.mark_twap,
            self.oracle_twap,
        )
        self.funding_history.append(upd)
        out.append(upd)

    def next_funding_ns(self) -> int:
        """Earliest time the next funding update can happen (a retry is due at the next crank)."""
        period = self.params.funding_period
        if self._retry and self.t_ns is not None:
            return self.t_ns + 1
        last = self.last_funding_rate_ts
        if period > 1 and last % period == 0:  # on schedule: time_until_funding_update(last, last) is period
            return (last + period) * NS
        wait = dm.time_until_funding_update(last, last, period)
        return (last + wait) * NS


def _round_half_even(num: int, den: int) -> int:
    """``round(Fraction(num, den))`` for ``den > 0``: the nearest integer, ties to even."""
    floor, rem = divmod(num, den)
    twice = 2 * rem
    if twice < den:
        return floor
    if twice > den:
        return floor + 1
    return floor + (floor & 1)
