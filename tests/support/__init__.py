"""Helpers shared by tests/unit, tests/integration and tests/accuracy (see tests/README.md)."""
