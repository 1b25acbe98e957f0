"""Start-up reconciliation of a live run: the journal of its earlier lives against each venue's mass status.

Each life starts with a fresh node whose balances and positions are the venues' own; what the journal
says the earlier lives did is checked against what the venues report: every order the journal holds an
intent for is found at its venue (or known never to have reached it), orders of the run still working are
cancelled, fills the journal missed are counted (they are in the venue's balances the node starts from),
and where the journal's account of a holding still disagrees with the venue, new risk there is halted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botnft.backtest.paper.reconcile import HaltingRiskGate
from botnft.domain.errors import OrderNotFound
from botnft.domain.events import OrderFilled
from botnft.domain.instruments import Instrument
from botnft.domain.money import ZERO
from botnft.domain.orders import Side
from botnft.domain.reports import FillReport, MassStatus
from botnft.engine.node import TradingNode
from botnft.live.journal import JournalView
from botnft.live.wire import WireVenue

REPORT_UNIT = Decimal("0.000001")
#: the most one Solana transaction costs in network fees here (5,000 lamports a signature, no priority fee
#: beyond 10,000 lamports), the transactions an order can cause (place, cancel, settle), and set-up ones
TX_FEE = Decimal("0.000015")
TXS_PER_ORDER = 3
TXS_SETUP = 2


@dataclass(slots=True)
class StartReport:
    actions: list[str] = field(default_factory=list)
    found: int = 0  # journaled orders the venue reports
    never_reached: int = 0  # journaled intents the venue never received
    canceled: int = 0
    missed_fills: int = 0
    mismatches: int = 0
    foreign: int = 0  # working orders at a venue that are not the run's

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def _book_add(book: dict[str, Decimal], inst: Instrument, side: Side, qty: Decimal, quote: Decimal) -> None:
    sign = Decimal(side.sign)
    if inst.is_perp:
        book[str(inst.id)] = book.get(str(inst.id), ZERO) + sign * qty
        return
    book[inst.base] = book.get(inst.base, ZERO) + sign * qty
    book[inst.quote] = book.get(inst.quote, ZERO) - sign * quote


def _apply(book: dict[str, Decimal], inst: Instrument, fill: OrderFilled | FillReport) -> None:
    notional = fill.qty * fill.price
    if isinstance(fill, OrderFilled):
        notional = fill.notional
    _book_add(book, inst, fill.side, fill.qty, notional)
    if fill.fee and fill.fee_asset in book:
        book[fill.fee_asset] -= fill.fee


def venue_holdings(status: MassStatus, instruments: Mapping[Any, Instrument]) -> dict[str, Decimal]:
    """What a venue reports holding of the assets (spot) and positions (perps) the run trades."""
    balances = dict(status.balances)
    positions = {p.instrument: p.qty for p in status.positions}
    out: dict[str, Decimal] = {}
    for inst_id, inst in instruments.items():
        if inst.is_perp:
            out[str(inst_id)] = positions.get(inst_id, ZERO)
        else:
            out[inst.base] = Decimal(balances.get(inst.base, ZERO))
            out[inst.quote] = Decimal(balances.get(inst.quote, ZERO))
    return out


def seed_portfolio(
    node: TradingNode,
    statuses: Mapping[str, MassStatus],
    reserves: Mapping[str, Mapping[str, Decimal]] | None = None,
) -> dict[str, dict[str, str]]:
    """Give the fresh node each venue's own balances and positions, less what `reserves` (by venue, per
    asset) keeps out of trading: a Solana wallet's SOL for transaction fees. Returns what the venues
    hold, by account (venues sharing a wallet, as the Solana venues do, report it alike: seeded once)."""
    pf = node.portfolio
    reserves = reserves or {}
    seeded: dict[str, dict[str, str]] = {}
    for name, status in statuses.items():
        insts = {i: inst for i, inst in pf.instruments.items() if i.venue == name}
        held = venue_holdings(status, insts)
        positions = {p.instrument: p for p in status.positions}
        for inst_id, inst in insts.items():
            if inst.is_perp:
                p = positions.get(inst_id)
                if p is not None and p.qty and p.entry_price is not None:
                    side = Side.BUY if p.qty > 0 else Side.SELL
                    pf.positions[inst_id].apply_fill(side, abs(p.qty), p.entry_price, ZERO)
                # the perp venue's collateral (Drift: its user's USDC), not part of the holdings check
                collateral = Decimal(dict(status.balances).get(inst.quote, ZERO))
                if inst.quote not in held and collateral != pf.balance(name, inst.quote):
                    pf.deposit(name, inst.quote, collateral - pf.balance(name, inst.quote))
                continue
        for asset, qty in held.items():
            if "." in asset:
                continue  # a perp position, given above
            kept = reserves.get(name, {}).get(asset, ZERO)
            tradable = max(qty - kept, ZERO)
            have = pf.balance(name, asset)
            if tradable != have:
                pf.deposit(name, asset, tradable - have)
        seeded.setdefault(pf.account(name), {}).update({k: str(v) for k, v in held.items()})
    return seeded


def reconcile_start(
    node: TradingNode,
    venues: Mapping[str, WireVenue],
    gate: HaltingRiskGate,
    view: JournalView,
    statuses: Mapping[str, MassStatus],
    run_tag: str,
    reserves: Mapping[str, Mapping[str, Decimal]] | None = None,
    wallets: Mapping[str, str] | None = None,
) -> StartReport:
    """`reserves`: by venue, the assets a wallet keeps for transaction fees (a Solana wallet's SOL): the
    network fees of the last life's transactions are in no fill, so that asset may be short of the journal's
    account by at most `TX_FEE` per transaction its orders can have sent (`TXS_PER_ORDER` each, plus
    setup). `wallets`: by venue, the wallet paying its transactions' fees: the orders of every venue paying
    from an account's wallet count (a Drift user's transactions are paid by the wallet OpenBook trades from).
    """
    out = StartReport()
    instruments = node.portfolio.instruments
    account = node.portfolio.account
    last = view.lives[-1] if view.lives else None
    expected: dict[str, dict[str, Decimal]] = {}
    if last is not None:
        expected = {v: {a: Decimal(q) for a, q in held.items()} for v, held in last["balances"].items()}
        for prefix, fill in view.fills:
            inst = instruments.get(fill.instrument)
            where = account(fill.instrument.venue)
            if prefix == last["prefix"] and inst is not None and where in expected:
                _apply(expected[where], inst, fill)
    rebuilt: dict[str, int] = {}  # per account: fills rebuilt from trade reports (a rounded average price)
    # 1. every journaled order: found at its venue, or never received; still working: cancelled
    journaled = set(view.orders)
    for wire, rec in view.orders.items():
        name = rec.submitted.instrument.venue
        status, venue = statuses.get(name), venues.get(name)
        if status is None or venue is None:
            out.actions.append(f"order {wire} on {name}: the venue is not enabled in this run; not checked")
            out.mismatches += 1
            continue
        report = status.order(wire)
        if report is None and not rec.status.is_terminal:
            report = venue.inner.fetch_order(wire)
        if report is None:
            if not rec.status.is_terminal:
                out.never_reached += 1
                out.actions.append(f"order {wire} on {name} never reached the venue")
            continue
        out.found += 1
        if report.status.is_open and venue.has.get("cancelOrder", True) is False:
            # a swap in flight cannot be cancelled: it lands or expires; until the venue says which, the
            # holdings the node starts from may still move, so no new risk there
            out.mismatches += 1
            out.actions.append(f"order {wire} on {name} is still in flight; new risk halted")
            for inst_id in instruments:
                if inst_id.venue == name:
                    gate.halted[inst_id] = f"{wire} still in flight at the start"
        elif report.status.is_open:
            try:
                venue.inner.cancel_order(wire)
            except OrderNotFound:
                again = venue.inner.fetch_order(wire)
                if again is not None and not again.status.is_open:
                    out.actions.append(f"order {wire} on {name} closed while reconciling")
                else:
                    # reported open, yet the venue holds no order by that id: nothing was sent (an id
                    # reserved before a crash, its transaction never journaled)
                    out.found -= 1
                    out.never_reached += 1
                    out.actions.append(f"order {wire} on {name} never reached the venue")
                    continue
            else:
                out.canceled += 1
                out.actions.append(f"canceled order {wire} on {name}, left working by an earlier life")
        unnamed = rec.unnamed  # fills journaled without a trade id match the venue's first others
        for t in status.fills:
            if t.client_order_id != wire or t.trade_id in rec.trades:
                continue
            if unnamed:
                unnamed -= 1
                continue
            out.missed_fills += 1
            out.actions.append(
                f"fill the journal missed: {wire} {t.side.value} {t.qty} at {t.price} on {name} "
                "(in the balances the node starts from)"
            )
            inst = instruments.get(t.instrument)
            where = account(name)
            if last is not None and rec.prefix == last["prefix"] and inst is not None and where in expected:
                _apply(expected[where], inst, t)
                rebuilt[where] = rebuilt.get(where, 0) + 1
    # 2. working orders the journal does not know: the run's own are cancelled, anyone else's flagged
    for name, status in statuses.items():
        for report in status.orders:
            if report.client_order_id in journaled or not report.status.is_open:
                continue
            if report.client_order_id.startswith(run_tag + "."):
                venues[name].inner.cancel_order(report.client_order_id)
                out.canceled += 1
                out.actions.append(f"canceled order {report.client_order_id} on {name}: not in the journal")
            else:
                out.foreign += 1
                out.actions.append(f"order {report.client_order_id} on {name} is not this run's: left alone")
    # 3. holdings: the journal's account (the last life's start + its fills) against the venue's
    for acct, want in expected.items():
        have: dict[str, Decimal] = {}
        names = [n for n in statuses if account(n) == acct]
        for name in names:
            insts = {i: inst for i, inst in instruments.items() if i.venue == name}
            have.update(venue_holdings(statuses[name], insts))
        # a trade report's price is a rounded average: the quote it rebuilds may be off by less than one
        # unit of a 6-decimal asset per fill (an AMM swap's exact amounts are in its fill event only)
        tolerance = REPORT_UNIT * rebuilt.get(acct, 0)
        fee_assets = {a for n in names for a in (reserves or {}).get(n, {})}
        payers = {(wallets or {}).get(n, n) for n in names}
        orders = sum(
            1
            for rec in view.orders.values()
            if last is not None
            and rec.prefix == last["prefix"]
            and (
                account(rec.submitted.instrument.venue) == acct
                or (wallets or {}).get(rec.submitted.instrument.venue) in payers
            )
        )
        fees = TX_FEE * (TXS_PER_ORDER * orders + TXS_SETUP)
        for asset in sorted(set(want) & set(have)):
            short = want[asset] - have[asset]
            if asset in fee_assets and tolerance < short <= tolerance + fees:
                continue  # the wallet's transaction fees
            if abs(short) > tolerance:
                out.mismatches += 1
                why = f"the journal accounts for {want[asset]} {asset}, {acct} reports {have[asset]}"
                out.actions.append(f"holding mismatch on {acct}: {why}; new risk halted")
                for inst_id in instruments:
                    if inst_id.venue in names:
                        gate.halted[inst_id] = why
    return out
