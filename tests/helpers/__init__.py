"""Helpers for the tests (scripts run in subprocesses)."""
