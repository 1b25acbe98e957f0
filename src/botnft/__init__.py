"""B.O.T: a crypto trading bot that chooses, trade by trade, where to execute."""

__version__ = "0.1.0"
