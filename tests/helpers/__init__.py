"""Shared helpers for the collection's test suites (not part of the collection)."""
