"""`phiguard`: parse options, call the library, print. No PHI logic lives here.

Every error a user can hit ends as one line on stderr and a documented exit code
(docs/cli.md); tracebacks are never printed, since exception text may quote input.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from phiguard import (
    Command,
    Deidentifier,
    MaskStyle,
    OutputError,
    PhiguardError,
    PhiType,
    RecordsFailed,
    paths,
    run_job,
)
from phiguard.logs import configure_logging
from phiguard.run.job import estimate_cost
from phiguard.run.limits import Quota
from phiguard_cli import options, serve_cmds
from phiguard_cli.hints import error_line
from phiguard_cli.options import (
    consistent_option,
    detector_options,
    input_options,
    known_field_options,
    policy_option,
    require_mapping_option,
    surrogate_options,
    vault_options,
    workers_option,
)
from phiguard_cli.progress import Report

dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Comprehend: print the DetectPHI requests and billed units this run would take, "
    "with and without packing, and the least time it can take at --max-tps/--max-cps; send "
    "nothing.",
)


class _Logging:
    """-q/--debug, accepted before or after the command name."""

    debug = False
    quiet = False

    @classmethod
    def set(cls, ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            setattr(cls, "debug" if param.name == "debug" else "quiet", True)
            configure_logging(debug=cls.debug, quiet=cls.quiet)


logging_options = options.compose(
    click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_Logging.set,
        help="Debug logging on stderr (offsets, types, hashes: never PHI).",
    ),
    click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_Logging.set,
        help="Only errors on stderr.",
    ),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="phiguard")
@logging_options
def cli() -> None:
    """Find PHI in clinical text; mask it, or de-identify it into vault-backed tokens or
    realistic surrogates."""
    configure_logging(debug=_Logging.debug, quiet=_Logging.quiet)


def _run(opts: dict[str, Any], command: Command, vault: str | None = None) -> None:
    """One job, shown on stderr; exit 9 at the end if some records failed."""
    config = options.config(opts, command)
    spec = options.job_spec(opts, command)
    report = Report(quiet=_Logging.quiet, show_ids=bool(opts.get("show_ids")))
    with Deidentifier.open(config, vault=vault) as d:
        try:
            summary = run_job(spec, d, report)
        finally:
            report.close()
    report.finish(summary)
    if summary.failed:
        raise RecordsFailed(
            f"{summary.failed} of {summary.done + summary.failed} record(s) failed and were "
            "not written (listed above)"
        )


def _dry_run(opts: dict[str, Any]) -> None:
    """Print what a Comprehend Medical run over these inputs would cost; call nothing."""
    est = estimate_cost(options.job_spec(opts, Command.DETECT))
    quota = Quota.of(opts.get("max_tps"), opts.get("max_cps"))
    click.echo(
        f"{est.notes} note(s), {est.characters} characters\n"
        f"one request per note: {est.requests_unpacked} DetectPHI request(s), "
        f"{est.units_unpacked} billed unit(s)\n"
        f"packed (default):     {est.requests_packed} DetectPHI request(s), "
        f"{est.units_packed} billed unit(s) "
        f"({est.request_reduction:.1f}x fewer requests, {est.unit_reduction:.2f}x fewer units)\n"
        f"minimum time at {quota.tps:g} requests/s and {quota.cps:g} characters/s: "
        f"{_duration(quota.min_seconds(est.requests_unpacked, est.sent_unpacked))} one request "
        f"per note, {_duration(quota.min_seconds(est.requests_packed, est.sent_packed))} packed"
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@cli.command()
@input_options
@workers_option
@detector_options
@known_field_options
@click.option(
    "--show-text", is_flag=True, help="Include each span's text in the output (it is PHI)."
)
@dry_run_option
@logging_options
def detect(**opts: Any) -> None:
    """Print PHI spans (offsets, type, score, source) found in FILES (or stdin)."""
    if opts["dry_run"]:
        return _dry_run(opts)
    _run(opts, Command.DETECT)


@cli.command("mask")
@input_options
@workers_option
@detector_options
@known_field_options
@click.option(
    "--style",
    type=click.Choice([s.value for s in MaskStyle]),
    default="hash",
    show_default=True,
    help="'hash': '#' per character; 'label': [TYPE].",
)
@policy_option
@dry_run_option
@logging_options
def mask_command(**opts: Any) -> None:
    """Mask PHI for good: '#' for every character, or [TYPE] labels."""
    if opts["dry_run"]:
        return _dry_run(opts)
    _run(opts, Command.MASK)


@cli.command()
@input_options
@workers_option
@detector_options
@known_field_options
@vault_options
@consistent_option
@policy_option
@dry_run_option
@logging_options
def deid(**opts: Any) -> None:
    """Replace PHI with salted SHA3-256 tokens; store the originals encrypted in the vault."""
    if opts["dry_run"]:
        return _dry_run(opts)
    _run(opts, Command.DEID, vault="write")


@cli.command()
@input_options
@workers_option
@detector_options
@known_field_options
@vault_options
@surrogate_options
@policy_option
@dry_run_option
@logging_options
def surrogate(**opts: Any) -> None:
    """Replace PHI with realistic surrogates and shift dates (per patient with
    --patient-field); store the mapping encrypted in the vault, so reid restores the input."""
    if opts["dry_run"]:
        return _dry_run(opts)
    _run(opts, Command.SURROGATE, vault="write")


@cli.command()
@input_options
@vault_options
@click.option("--region", default=None, help="AWS region (dynamodb store).")
@click.option("--profile", default=None, help="AWS profile (dynamodb store).")
@click.option(
    "--partial",
    is_flag=True,
    help="A text edited after deid: restore every token of its message still present "
    "(audited) instead of failing the note. Needs the message hash: a `deid --format json` "
    "document or a JSONL `message_hash` field carries it, else --message-hash.",
)
@click.option(
    "--message-hash",
    default=None,
    help="The message hash `deid --format json` printed for this (one, plain) input.",
)
@require_mapping_option
@logging_options
def reid(**opts: Any) -> None:
    """Restore the original text of de-identified notes (authorized users only)."""
    _run(opts, Command.REID, vault="read")


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
serve_cmds.register(cli)


class Terminated(BaseException):
    """SIGTERM (timeout, Slurm, Kubernetes): unwinds like Ctrl-C, so outputs are aborted and
    the vault rows of unreleased notes removed, instead of dying mid-write."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _silence_stdout() -> None:
    """The reader of stdout is gone: point stdout at /dev/null so that the interpreter's own
    flush at exit does not print a second, traceback-like message."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map every error to one stderr line and its exit code."""
    _Logging.debug = _Logging.quiet = False
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="phiguard", standalone_mode=False)
    except Terminated:
        click.echo("phiguard: terminated (SIGTERM); outputs not committed were removed", err=True)
        sys.exit(143)
    except click.exceptions.Abort:
        click.echo("phiguard: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"phiguard: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except PhiguardError as exc:
        if isinstance(exc, OutputError) and "broken pipe" in str(exc):
            _silence_stdout()
        click.echo(error_line(exc), err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        _silence_stdout()
        click.echo("phiguard: error: standard output was closed early (broken pipe)", err=True)
        sys.exit(OutputError.exit_code)
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
