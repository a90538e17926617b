"""The `phiguard` command: a thin click client of the `phiguard` library."""
