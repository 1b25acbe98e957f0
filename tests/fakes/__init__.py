"""Loopback fakes of the venues' APIs, backed by the project's simulated venues; started and stopped by
tests."""
