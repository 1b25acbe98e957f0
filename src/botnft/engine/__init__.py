"""The engine: clocks, the event bus, the order manager and the trading node."""
