"""Backtests: the runner that replays data through the trading node, metrics, and reports."""
