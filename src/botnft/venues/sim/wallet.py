"""One Solana wallet shared by every on-chain venue (Raydium pools, OpenBook, Jupiter over them).

On chain, a swap on Raydium and an order on OpenBook both move the same token accounts. The simulated
venues keep their own ledgers, so the wallet gives each of them a *view* over one store of native-unit
balances: a pair view (index 0 = base, 1 = quote, as the Raydium venue keeps it) or a mapping view (by
symbol, as the book venues keep it). A credit through one view is seen by all.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence


class SolanaWallet:
    """Token balances in native units (lamports, micro-USDC, ...) keyed by symbol."""

    def __init__(self, symbols: Sequence[str]) -> None:
        self.balances: dict[str, int] = dict.fromkeys(symbols, 0)

    def credit(self, symbol: str, native: int) -> None:
        self.balances[symbol] = self.balances.get(symbol, 0) + native

    def pair(self, base: str, quote: str) -> PairView:
        return PairView(self, (base, quote))

    def mapping(self, symbols: Sequence[str]) -> MappingView:
        for s in symbols:
            self.balances.setdefault(s, 0)
        return MappingView(self, tuple(symbols))


class PairView:
    """`view[0]` is the base balance, `view[1]` the quote balance; iterates values in that order."""

    __slots__ = ("_symbols", "_wallet")

    def __init__(self, wallet: SolanaWallet, symbols: tuple[str, str]) -> None:
        self._wallet = wallet
        self._symbols = symbols

    @property
    def wallet(self) -> SolanaWallet:
        """The wallet this is a view of."""
        return self._wallet

    def __getitem__(self, i: int) -> int:
        return self._wallet.balances[self._symbols[i]]

    def __setitem__(self, i: int, value: int) -> None:
        self._wallet.balances[self._symbols[i]] = value

    def __iter__(self) -> Iterator[int]:
        return (self._wallet.balances[s] for s in self._symbols)

    def __len__(self) -> int:
        return 2


class MappingView(MutableMapping[str, int]):
    """The wallet's balances of `symbols`, by symbol."""

    def __init__(self, wallet: SolanaWallet, symbols: tuple[str, ...]) -> None:
        self._wallet = wallet
        self._symbols = symbols

    @property
    def wallet(self) -> SolanaWallet:
        """The wallet this is a view of."""
        return self._wallet

    def __getitem__(self, key: str) -> int:
        if key not in self._symbols:
            raise KeyError(key)
        return self._wallet.balances[key]

    def __setitem__(self, key: str, value: int) -> None:
        if key not in self._symbols:
            raise KeyError(key)
        self._wallet.balances[key] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError("a wallet balance cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(self._symbols)

    def __len__(self) -> int:
        return len(self._symbols)
