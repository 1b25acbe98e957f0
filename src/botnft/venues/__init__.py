"""Venue adapters: simulated venues now, live adapters later."""
