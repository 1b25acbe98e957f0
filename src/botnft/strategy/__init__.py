"""Strategies: the base protocol, indicators, and the library of named strategies."""
