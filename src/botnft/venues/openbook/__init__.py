"""OpenBook v2 as a live venue: the program's vendored Anchor IDL and its coder (`idl`), the accounts as typed
values (`layouts`: Market, BookSide, EventHeap, OpenOrdersAccount), instruction builders and program
addresses (`instructions`), and `OpenBookClient`, the `ExecutionClient` for limit and market orders sent
through the Solana sender (`client`; `build_openbook` wires it from a settings mapping).

Everything here imports `solders`/`anchorpy` (the ``solana`` and ``drift`` extras); `botnft` itself never
imports this package.
"""
