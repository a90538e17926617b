"""The offline backend: spaCy + Presidio + clinical rules."""
