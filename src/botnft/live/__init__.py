"""Live trading: the same node over async venue adapters (`ExecutionClient`s) and live market data."""
