"""Centralized exchanges through ccxt (`ccxt.async_support`): an `ExecutionClient` and a `MarketDataFeed`.

ccxt is imported only inside this package's modules, lazily, so `import botnft` never loads it. Build an
adapter from a config mapping with `CcxtSettings.from_mapping(...)` and `CcxtExecutionClient(settings)`.
"""

from botnft.venues.ccxt.settings import CcxtSettings

__all__ = ["CcxtSettings"]
