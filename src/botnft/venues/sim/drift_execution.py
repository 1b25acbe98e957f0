"""SimDrift inside one bar: the timeline of path points, funding, fills and triggers, in time order.

``run_bar`` walks [start, close] of a bar: at each instant it replays the markets (``goto``: TWAPs,
funding), then does what is due there (a trigger fires and starts an auction, a taker's auction fill,
a resting limit filled as the oracle trades through it), then checks liquidation. The fill model
(the finite taker curve, participation cap) is described in ``drift_orders`` and ``drift_curve``.
"""

from __future__ import annotations

import heapq
from dataclasses import fields
from typing import ClassVar

from botnft.domain.events import OrderCanceled, OrderExpired, OrderFilled
from botnft.domain.orders import Side, TimeInForce
from botnft.ports import BarArrays, VenueEvent
from botnft.venues.sim import drift_math as dm
from botnft.venues.sim.drift_account import MarketQuote, PerpPosition
from botnft.venues.sim.drift_core import QUOTE, DriftCore, dec
from botnft.venues.sim.drift_curve import Level, take
from botnft.venues.sim.drift_liquidation import _scan_bar, check_liquidation, liquidation_scan
from botnft.venues.sim.drift_orders import DriftOrder, crosses, quote_for_fill, start_auction, taker_fill
from botnft.venues.sim.drift_params import SLOT_NS

HOUR_NS = 3_600 * 1_000_000_000
FUNDING_CAP = 0.005  # per update, a share of notional above any tier's cap (0.4167%/h, Speculative)


class Timeline:
    """What happens inside one bar, in time order (ties: checks, triggers, fills, auction ends)."""

    _RANK: ClassVar[dict[str, int]] = {
        "open": 0,
        "check": 0,
        "trigger": 1,
        "taker": 2,
        "maker": 2,
        "taker_fail": 3,
    }

    def __init__(self, open_ns: int) -> None:
        self.open_ns = open_ns  # the bar's open: where a new bar's opening price is the oracle
        self._heap: list[tuple[int, int, int, str, DriftOrder | None, int]] = []
        self._seq = 0

    def push(self, t: int, kind: str, rec: DriftOrder | None = None, price: int = 0) -> None:
        heapq.heappush(self._heap, (t, self._RANK[kind], self._seq, kind, rec, price))
        self._seq += 1

    def pop(self) -> tuple[int, str, DriftOrder | None, int]:
        t, _, _, kind, rec, price = heapq.heappop(self._heap)
        return t, kind, rec, price

    def __bool__(self) -> bool:
        return bool(self._heap)


def run_bar(core: DriftCore, bars: BarArrays, j: int) -> list[VenueEvent]:
    """Everything that happens in bar ``j`` of the primary market (from the venue clock to its close).

    The integer liquidation check runs only where it can matter: during a liquidation, or when the
    float scan (with room for funding, rescanned after each fill) says this bar could breach.
    """
    t_open = core.batch_ts(bars)[j]  # int(bars.ts_ns[j]), from the batch's times as Python ints
    interval = int(bars.interval_ns)
    t_close = t_open + interval
    # funding moves collateral by at most the tier cap per update: leave room for every update the bar
    # can hold (plus one that is late)
    headroom = FUNDING_CAP * (interval // core.min_funding_period_ns + 2)
    quiet = not core.orders and not core.account.being_liquidated
    if quiet and not _could_breach(core, bars, j, headroom):
        # nothing in the bar needs the market state before its close: replay to the close at once
        # (what the timeline below comes to when no order is live and no check is risky)
        return _close_bar(core, t_close)
    start = max(core.now, t_open)
    line = Timeline(t_open)
    checks = {start}
    for idx in core.held() | {r.market_index for r in core.orders.values()} | {core.primary}:
        checks.update(s.ts_ns for s in core.tapes[idx].path_points(start, t_close))
        if core.account.base(idx):
            nxt = core.markets[idx].next_funding_ns()
            if start <= nxt <= t_close:
                checks.add(nxt)
    for t in sorted(checks):
        line.push(t, "open" if t == t_open else "check")
    for rec in list(core.orders.values()):
        schedule(core, line, rec, start, t_close)
    out: list[VenueEvent] = []
    risky = liquidation_scan(core, bars, j, j + 1, headroom=headroom) == j
    while line:
        t, kind, item, price = line.pop()
        t = max(t, start)
        live = item is not None and core.orders.get(item.order.client_order_id) is item
        if not (live or risky or core.account.being_liquidated):
            continue  # nothing here needs the market state yet (its replay is lazy and data-determined)
        out.extend(core.goto(t))
        if live and item is not None:
            done = _handle(core, line, kind, item, price, t, t_close)
            if any(isinstance(e, OrderFilled) for e in done):
                risky = liquidation_scan(core, bars, j, j + 1, headroom=headroom) == j
            out.extend(done)
        if risky or core.account.being_liquidated:
            out.extend(check_liquidation(core, t, at_open=t == t_open))
    out.extend(_close_bar(core, t_close))
    return out


def _could_breach(core: DriftCore, bars: BarArrays, j: int, headroom: float) -> bool:
    """``liquidation_scan(core, bars, j, j + 1, headroom=headroom) == j``: its one-bar scan when it
    answers, else the scan."""
    fast = _scan_bar(core, bars, j, headroom)
    if fast is None:
        return liquidation_scan(core, bars, j, j + 1, headroom=headroom) == j
    return fast


def _close_bar(core: DriftCore, t_close: int) -> list[VenueEvent]:
    """Replay every market to the bar's close (its funding settled on the way) and forget old tape."""
    out = core.goto(t_close)
    core.now = max(core.now, t_close)
    markets = core.markets
    if len(markets) == 1:
        for m in markets.values():
            t_ns = m.t_ns
        oldest = t_close if t_ns is None else t_ns
    else:
        oldest = min((m.t_ns if m.t_ns is not None else t_close) for m in markets.values())
    core.tapes[core.primary].prune(oldest - 3 * HOUR_NS)
    return out


def schedule(core: DriftCore, line: Timeline, rec: DriftOrder, start: int, end: int) -> None:
    """Put ``rec``'s next step on the timeline: its auction fill, its trigger or its crossing."""
    tape = core.tapes[rec.market_index]
    if rec.taker:
        k, levels = taker_fill(rec, rec.auction_oracle, core.params[rec.market_index], core.state)
        if not levels:
            line.push(rec.placed_ns + core.state.auction_duration * SLOT_NS, "taker_fail", rec)
        else:
            line.push(rec.placed_ns + k * SLOT_NS, "taker", rec)
    elif rec.is_trigger and not rec.triggered:
        hit = tape.first_cross(start, end, rec.trigger_price, rec.trigger_below)
        if hit is not None:
            line.push(hit, "trigger", rec)
    elif rec.is_limit:
        if rec.retake:
            rec.retake = False
            s = tape.sample(start, at_open=start == line.open_ns)
            if s is not None and crosses(rec.direction, rec.price, s.price):
                start_auction(rec, s.price, start, core.params[rec.market_index], core.state)
                schedule(core, line, rec, start, end)
                return
        hit = tape.first_cross(start, end, rec.price, rec.direction > 0)
        if hit is not None:
            line.push(hit, "maker", rec)


def _handle(
    core: DriftCore, line: Timeline, kind: str, rec: DriftOrder, price: int, t: int, end: int
) -> list[VenueEvent]:
    idx = rec.market_index
    at_open = t == line.open_ns
    if kind == "trigger":
        s, ok = core.markets[idx].oracle_valid(t, "trigger", at_open=at_open)
        if s is None or not ok:
            return []
        rec.triggered = True
        core.book(rec)
        start_auction(rec, s.price, t, core.params[idx], core.state)
        schedule(core, line, rec, t, end)
        return []
    if kind == "maker":
        return fill(core, rec, rec.price, t, taker=False, action="fill_match", at_open=at_open)
    out: list[VenueEvent] = []
    if kind != "taker_fail" and (rec.expires_ns is None or t <= rec.expires_ns):
        _, levels = taker_fill(rec, rec.auction_oracle, core.params[idx], core.state)
        out = fill_taker(core, rec, levels, t)
    if core.orders.get(rec.order.client_order_id) is rec:
        out.extend(unfilled(core, rec, t))
    return out


def unfilled(core: DriftCore, rec: DriftOrder, t: int) -> list[VenueEvent]:
    """A taker whose auction is over with size left: IOC/FOK cancel, a limit rests, a market expires."""
    coid = rec.order.client_order_id
    if rec.immediate:
        core.close(rec)
        return [OrderCanceled(t, coid, "ioc_remaining" if rec.filled else "ioc_unfilled")]
    if rec.is_limit:
        rec.taker = False
        rec.retake = True
        return []
    core.close(rec)
    return [OrderExpired(max(t, rec.expires_ns or t), coid)]


def fill(
    core: DriftCore, rec: DriftOrder, price: int, t: int, *, taker: bool, action: str, at_open: bool = False
) -> list[VenueEvent]:
    """A resting limit (maker, ``taker=False``) or one price level: fill at ``price``."""
    return _fill_levels(
        core, rec, [(price, rec.remaining, "dlob")], t, taker=taker, action=action, at_open=at_open
    )


def fill_taker(core: DriftCore, rec: DriftOrder, levels: list[Level], t: int) -> list[VenueEvent]:
    """Fill a taker on its curve's ``levels`` (best first), one ``OrderFilled`` per level taken."""
    return _fill_levels(core, rec, levels, t, taker=True, action="fill_match")


def _fill_levels(
    core: DriftCore,
    rec: DriftOrder,
    levels: list[Level],
    t: int,
    *,
    taker: bool,
    action: str,
    at_open: bool = False,
) -> list[VenueEvent]:
    """Fill as much of ``rec`` as ``levels``, the oracle, the participation cap and margin allow."""
    idx = rec.market_index
    m = core.markets[idx]
    account = core.account
    coid = rec.order.client_order_id
    s, ok = m.oracle_valid(t, action, at_open=at_open)
    quotes = core.quotes(t, core.held() | {idx}, action="margin", at_open=at_open) if ok else None
    if s is None or quotes is None:
        return []  # blocked: a taker then ends unfilled, a maker waits for the next crossing
    if any(src == "amm" for _, _, src in levels) and not m.oracle_valid(t, "fill_amm", at_open=at_open)[1]:
        levels = [lv for lv in levels if lv[2] != "amm"]  # the vAMM needs a fully valid, fresh oracle
    size = rec.remaining
    pos = account.position(idx)
    if rec.order.reduce_only:
        if pos.base_asset_amount * rec.direction >= 0:
            core.close(rec)
            return [OrderCanceled(t, coid, "reduce_only")]
        size = min(size, abs(pos.base_asset_amount))
    cap = _capacity(core, idx, t)
    if cap is not None:
        size = min(size, cap)
    taken = take(levels, size)
    size = sum(b for _, b, _ in taken)
    if size == 0 or (rec.order.tif is TimeInForce.FOK and size < rec.remaining):
        return []
    parts = []
    for price, base, _ in taken:
        quote = quote_for_fill(base, price, rec.direction, taker)
        taker_fee, rebate = dm.tier_fees(quote, core.state.fee_tier)
        parts.append((price, base, quote, taker_fee if taker else -rebate))
    old = pos.base_asset_amount
    new = old + rec.direction * size
    risk_up = abs(new) > abs(old) or (new != 0 and old != 0 and (new > 0) != (old > 0))
    total_quote = sum(p[2] for p in parts)
    total_fee = sum(p[3] for p in parts)
    if risk_up and not _fill_margin_ok(core, rec, size, total_quote, total_fee, quotes):
        core.close(rec)
        return [OrderCanceled(t, coid, "insufficient_collateral")]
    out: list[VenueEvent] = []
    for price, base, quote, fee in parts:
        _apply(core, rec, base, quote, fee)
        account.settle_pnl()
        out.append(
            OrderFilled(
                t,
                coid,
                core.params[idx].instrument_id,
                Side.BUY if rec.direction > 0 else Side.SELL,
                dec(base, 9),
                dec(price, 6),
                dec(fee, 6),
                QUOTE,
                "taker" if taker else "maker",
                dec(s.price, 6),
            )
        )
    if cap is not None:
        key = (idx, core.tapes[idx].bar_open(t))
        core.volume_used[key] = core.volume_used.get(key, 0) + size
    if rec.remaining == 0:
        core.close(rec)
    return out


def _apply(core: DriftCore, rec: DriftOrder, size: int, quote: int, fee: int) -> None:
    idx = rec.market_index
    m = core.markets[idx]
    core.account.trade(
        idx, rec.direction * size, quote, (m.cumulative_funding_rate_long, m.cumulative_funding_rate_short)
    )
    core.account.charge(idx, fee, "fee_pool")
    pos = core.account.positions[idx]
    if rec.in_book:
        if rec.direction > 0:
            pos.open_bids -= size
        else:
            pos.open_asks += size
    rec.filled += size


def _fill_margin_ok(
    core: DriftCore, rec: DriftOrder, size: int, quote: int, fee: int, quotes: dict[int, MarketQuote]
) -> bool:
    """``meets_fill_margin_requirement``: after the fill the account meets the Fill requirement."""
    a = core.account
    pos = a.position(rec.market_index)
    saved_pos = [getattr(pos, name) for name in _POSITION_FIELDS]
    saved = (a.fee_pool, a.counterparty_quote, dict(a.counterparty_base), rec.filled)
    try:
        _apply(core, rec, size, quote, fee)
        return a.margin(quotes, "fill").meets
    finally:
        for name, value in zip(_POSITION_FIELDS, saved_pos, strict=True):
            setattr(pos, name, value)
        a.fee_pool, a.counterparty_quote, a.counterparty_base, rec.filled = saved


_POSITION_FIELDS = tuple(f.name for f in fields(PerpPosition))


def _capacity(core: DriftCore, idx: int, t: int) -> int | None:
    """Base the account may still trade in the bar at ``t`` (``max_participation`` of its volume)."""
    share = core.state.max_participation
    if share is None:
        return None
    rng = core.tapes[idx].bar_range(t)
    if rng is None:
        return 0
    bar_open, _, _, volume = rng
    step = core.params[idx].order_step_size
    cap = int(volume * share * dm.BASE_PRECISION) // step * step
    return max(0, cap - core.volume_used.get((idx, bar_open), 0))
