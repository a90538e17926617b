"""tests/accuracy: see tests/README.md."""
