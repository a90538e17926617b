"""Entry point (filled in by the core work)."""

import click


@click.group()
def cli() -> None:
    """Find and remove PHI in clinical text."""


def main() -> None:
    cli()
