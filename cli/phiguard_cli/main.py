"""`phiguard`: parse options, call the library, print. No PHI logic lives here.

Every error a user can hit ends as one line on stderr and a documented exit code
(docs/cli.md); tracebacks are never printed, since exception text may quote input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from phiguard import paths
from phiguard.errors import PhiguardError
from phiguard.logs import configure_logging
from phiguard.run.deidentifier import Deidentifier
from phiguard.spans import PhiType, Span
from phiguard.transform import MaskStyle, mask
from phiguard_cli.driver import detect_command, dry_run, transform_command
from phiguard_cli.hints import error_line
from phiguard_cli.options import (
    auditor,
    consistent_option,
    deidentifier,
    detector_options,
    input_options,
    vault_and_sealer,
    vault_keys,
    vault_options,
)

dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Comprehend: print the DetectPHI requests and billed units this run would take, "
    "with and without packing; send nothing.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="phiguard")
@click.option(
    "--debug", is_flag=True, help="Debug logging on stderr (offsets, types, hashes: never PHI)."
)
@click.option("--quiet", "-q", is_flag=True, help="Only errors on stderr.")
def cli(debug: bool, quiet: bool) -> None:
    """Find PHI in clinical text; mask it, or de-identify it into vault-backed tokens."""
    configure_logging(debug=debug, quiet=quiet)


@cli.command()
@input_options
@detector_options
@click.option(
    "--show-text", is_flag=True, help="Include each span's text in the output (it is PHI)."
)
@dry_run_option
def detect(**opts: Any) -> None:
    """Print PHI spans (offsets, type, score, source) found in FILES (or stdin)."""
    if opts["dry_run"]:
        return dry_run(opts)
    detect_command(opts, deidentifier(opts))


@cli.command("mask")
@input_options
@detector_options
@click.option(
    "--style",
    type=click.Choice([s.value for s in MaskStyle]),
    default="hash",
    show_default=True,
    help="'hash': '#' per character; 'label': [TYPE].",
)
@dry_run_option
def mask_command(**opts: Any) -> None:
    """Mask PHI for good: '#' for every character, or [TYPE] labels."""
    if opts["dry_run"]:
        return dry_run(opts)
    d = deidentifier(opts)

    def op(text: str) -> tuple[str, dict[str, Any]]:
        spans = d.detect(text)
        return mask(text, spans, opts["style"]), {"spans": len(spans)}

    transform_command(opts, op, "mask", pipeline=d)


@cli.command()
@input_options
@detector_options
@vault_options
@consistent_option
@dry_run_option
def deid(**opts: Any) -> None:
    """Replace PHI with salted SHA3-256 tokens; store the originals encrypted in the vault."""
    if opts["dry_run"]:
        return dry_run(opts)
    vault, sealer, pseudonymizer = vault_keys(opts, writer=True)
    d = deidentifier(opts, vault, sealer)
    d.pseudonymizer = pseudonymizer
    try:

        def op(text: str) -> tuple[str, dict[str, Any]]:
            r = d.deidentify(text)
            return r.text, {"message_hash": r.message_hash, "tokens": r.token_count}

        transform_command(opts, op, "deid", pipeline=d)
    finally:
        vault.close()


@cli.command()
@input_options
@vault_options
@click.option("--region", default=None, help="AWS region (dynamodb store).")
@click.option("--profile", default=None, help="AWS profile (dynamodb store).")
def reid(**opts: Any) -> None:
    """Restore the original text of de-identified notes (authorized users only)."""
    vault, sealer = vault_and_sealer(opts, writer=False)
    try:
        who = auditor(opts, vault)
    except BaseException:
        vault.close()
        raise
    d = Deidentifier(_NoDetector(), vault=vault, sealer=sealer, auditor=who)
    try:
        transform_command(opts, lambda text: (d.reidentify(text), {}), "reid")
    finally:
        vault.close()


class _NoDetector:
    """reid detects nothing: it must not load a model."""

    name = "none"

    def detect(self, text: str) -> list[Span]:
        return []


@cli.group()
def vault() -> None:
    """Manage vaults and keys."""


@vault.command("create-table")
@click.option("--table", default="phiguard-vault", show_default=True)
@click.option("--region", default=None)
@click.option("--endpoint-url", default=None)
@click.option("--profile", default=None)
def create_table_command(
    table: str, region: str | None, endpoint_url: str | None, profile: str | None
) -> None:
    """Create the DynamoDB vault table (MessageHash / EntityHash) if it does not exist."""
    from phiguard.vaults.dynamodb.tables import create_companion_tables, create_table

    created = create_table(table, region=region, endpoint_url=endpoint_url, profile=profile)
    click.echo(f"table {table} {'created' if created else 'already exists'}", err=True)
    for name, made in create_companion_tables(
        table, region=region, endpoint_url=endpoint_url, profile=profile
    ):
        click.echo(f"table {name} {'created' if made else 'already exists'}", err=True)


@vault.command("keygen")
@click.option(
    "--key-file",
    type=click.Path(),
    default=None,
    help="Where to write it (default $PHIGUARD_HOME/key).",
)
def keygen_command(key_file: str | None) -> None:
    """Create a new random AES-256 key file (mode 0600); never overwrites."""
    from phiguard.keys.files import generate_key, key_id, write_key_file

    path = Path(key_file) if key_file else paths.default_key_path()
    key = generate_key()
    write_key_file(path, key)
    click.echo(f"wrote key {key_id(key)} to {path}", err=True)


@cli.command("types")
def types_command() -> None:
    """List PHI types and the HIPAA Safe Harbor identifiers they cover."""
    from phiguard.spans import HIPAA_SAFE_HARBOR

    for t in PhiType:
        click.echo(f"{t.value:13} {'; '.join(HIPAA_SAFE_HARBOR[t])}")


def _register_optional() -> None:
    try:
        from phiguard_cli.eval_cmd import eval_command
    except ImportError:  # pragma: no cover - during development only
        return
    cli.add_command(eval_command)
    from phiguard_cli.vault_cmds import register

    register(vault)


_register_optional()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map every error to one stderr line and its exit code."""
    try:
        rv = cli.main(args=argv, prog_name="phiguard", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("phiguard: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"phiguard: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except PhiguardError as exc:
        click.echo(error_line(exc), err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(141)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # never a traceback: it could quote the input
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else ""
        click.echo(f"phiguard: internal error: {type(exc).__name__}{where}", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)
