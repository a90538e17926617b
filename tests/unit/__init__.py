"""tests/unit: see tests/README.md."""
