"""Simulated venues and the protocol math they reproduce."""
