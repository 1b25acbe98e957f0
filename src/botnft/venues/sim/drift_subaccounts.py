"""SimDrift sub-accounts of the one authority: besides the trading sub-account 0 (``DriftCore.account``),
reserve sub-accounts that hold USDC collateral only, and ``transfer_deposit`` between any two of them.

As ``instructions/user.rs::handle_transfer_deposit`` does (``drift-labs/protocol-v2``): the two
sub-accounts differ, the amount leaves the source as a withdrawal (spot margin
trading off: no borrow, so at most its deposit) and the source must still meet its *initial* margin
requirement afterwards (``meets_withdraw_margin_requirement``, ``MarginRequirementType::Initial``, with
the oracle valid for margin); the amount then lands as a deposit in the destination. A reserve has no
position, so its requirement is zero and its check is its balance; the trading account's is its cross
margin over every position, the same ``DriftAccount.margin`` the venue fills and liquidates with.

The ledger stays closed: sub-account 0's ``deposits`` move with what it sends and receives, so
``cash + fee pool + insurance fund + counterparty == deposits`` still holds, and the authority's USDC
(``total``) only changes by trading.
"""

from __future__ import annotations

from botnft.venues.sim.drift_core import DriftCore

TRADING = 0


class SubAccounts:
    """The reserve sub-accounts' USDC (native 1e6), by sub-account id (1, 2, ...)."""

    def __init__(self) -> None:
        self.reserves: dict[int, int] = {}
        self.transfers: list[tuple[int, int, int, int]] = []  # (time ns, from, to, amount)

    def deposit(self, sub: int, amount: int) -> None:
        if sub == TRADING or sub < 0:
            raise ValueError(f"a reserve sub-account id is a positive integer, got {sub}")
        if amount < 0:
            raise ValueError("deposit must be non-negative")
        self.reserves[sub] = self.reserves.get(sub, 0) + amount

    def balance(self, sub: int) -> int:
        return self.reserves.get(sub, 0)

    def transfer(self, core: DriftCore, from_sub: int, to_sub: int, amount: int) -> str | None:
        """Move ``amount`` USDC from ``from_sub`` to ``to_sub`` at the venue's clock; None when done, else
        why the program would refuse it (nothing moves then)."""
        known = {TRADING, *self.reserves}
        if from_sub == to_sub:
            return "cant transfer between the same user account"
        if from_sub not in known or to_sub not in known:
            return f"no sub-account {from_sub if from_sub not in known else to_sub}"
        if amount <= 0:
            return f"transfer amount must be positive, got {amount}"
        account = core.account
        if from_sub == TRADING:
            if amount > account.usdc:
                return f"withdrawal of {amount / 1e6} exceeds the deposit {account.usdc / 1e6} (no borrow)"
            quotes = core.quotes(core.now, core.held() | {core.primary}, action="margin")
            if quotes is None:
                return "the oracle is not valid for margin"
            account.usdc -= amount
            try:
                mc = account.margin(quotes, "initial")
            finally:
                account.usdc += amount
            if mc.total_collateral < mc.margin_requirement:
                return (
                    f"the source would miss its initial margin: collateral {mc.total_collateral / 1e6} "
                    f"< requirement {mc.margin_requirement / 1e6}"
                )
            account.usdc -= amount
            account.deposits -= amount
        else:
            if amount > self.reserves[from_sub]:
                return f"withdrawal of {amount / 1e6} exceeds the deposit {self.reserves[from_sub] / 1e6}"
            self.reserves[from_sub] -= amount
        if to_sub == TRADING:
            account.deposit(amount)
        else:
            self.reserves[to_sub] += amount
        self.transfers.append((core.now, from_sub, to_sub, amount))
        return None
