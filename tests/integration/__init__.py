"""tests/integration: see tests/README.md."""
