"""`python -m phiguard_cli` runs the `phiguard` command."""

from phiguard_cli.main import main

main()
