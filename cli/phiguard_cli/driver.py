"""Drives mask/deid/reid over many inputs, streaming through `phiguard.run.batch`.

Inputs are files, directories (walked recursively for `--glob`, default `*.txt`, `*.jsonl`
with `--jsonl`, `*.csv` with `--csv`; hidden files and directories are skipped), glob
patterns, or `-` (stdin). Memory stays flat whatever the input size, except for stdin,
which is buffered so it can be validated before anything is written.

Contract (docs/scale.md, docs/cli.md):

- **Whole-input errors** (missing file, non-UTF-8, NUL bytes, malformed JSON Lines or CSV)
  are found by a cheap validation pass over every input before any note is processed:
  one line on stderr, exit 3, no output.
- **No partial output.** Masked / de-identified output for `--out` is written to a temp
  file next to its target and renamed only when the run completes; those temp files hold
  only masked or de-identified text, never PHI. `reid` output *is* PHI, so it never goes
  to a temp file: it is written directly to its target (mode 0600) and removed again if
  the run aborts. stdout is streamed.
- **Per-record failures** (JSONL rows, CSV rows, or files when there are several) do not
  stop the batch: the failed record is *not* written (no line, no row, no file, so no
  un-de-identified text can leak), it is listed on stderr with its id and reason (never
  PHI), and the command exits 9 after finishing the others. A single plain-text input
  keeps the whole-input behaviour: its own error and exit code (4 detection, 5 vault,
  7 re-identification).
- **Progress and summary** go to stderr only: a progress bar when stderr is a terminal,
  then one summary line (notes, PHI spans by type, failures, elapsed); `--quiet` silences
  both but never the failure lines.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from phiguard import errors
from phiguard.errors import ConfigError, InputError, PhiguardError, RecordsFailed
from phiguard.run.batch import Item, Result
from phiguard.run.deidentifier import Deidentifier
from phiguard.run.files import (
    Inputs,
    Outputs,
    Source,
    check_out,
    csv_rows,
    expand_inputs,
    jsonl_records,
)
from phiguard.spans import Span
from phiguard.vaults.journal import Journal, sweep

log = logging.getLogger("phiguard.cli")

MAX_LISTED_FAILURES = 20

# --- helpers kept for the `detect` command ------------------------------------------------


def spans_json(spans: list[Span], text: str, show_text: bool) -> list[dict[str, object]]:
    return [s.to_dict(text if show_text else None) for s in spans]


def dump(obj: object, fmt: str) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2 if fmt == "json" else None) + "\n"


# --- progress and summary -----------------------------------------------------------------


def _quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().params.get("quiet"):
        return True
    return logging.getLogger("phiguard").getEffectiveLevel() >= logging.ERROR


class Report:
    """Counts, failure lines, an optional rich progress bar, and the summary line."""

    def __init__(self, verb: str, total: int, *, quiet: bool, show_ids: bool = False) -> None:
        self.verb, self.total, self.quiet, self.show_ids = verb, total, quiet, show_ids
        self.done = self.failed = 0
        self.types: Counter[str] = Counter()
        self.started = time.monotonic()
        self._progress: Any = None
        self._task: Any = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn(f"phiguard {verb}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} notes/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def record(self, result: Result[Any], where: str) -> None:
        """Count `result`; a failure is listed by `where` (file and line, never the note),
        and by its own id only with --show-ids: stderr ends up in job logs, ids may be MRNs."""
        if result.ok:
            self.done += 1
            self.types.update(s.type for s in result.spans)
        else:
            self.failed += 1
            if self.failed <= MAX_LISTED_FAILURES:
                label = f"{where} (id {result.id})" if self.show_ids else where
                self._echo(f"phiguard: record {label} failed (not written): {result.error}")
        if self._progress is not None:
            if self._task is None:
                self._progress.start()
                self._task = self._progress.add_task(self.verb, total=self.total, rate="0")
            n = self.done + self.failed
            self._progress.update(self._task, completed=n, rate=f"{n / self.elapsed():.1f}")

    def _echo(self, line: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            click.echo(line, err=True)

    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    def close(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.stop()

    def summary(self) -> str:
        secs = self.elapsed()
        n = self.done + self.failed
        parts = [f"phiguard: {self.verb}: {n} note(s) in {secs:.1f} s ({n / secs:.1f} notes/s)"]
        if self.verb != "reid":
            spans = sum(self.types.values())
            by_type = ", ".join(f"{t} {c}" for t, c in self.types.most_common())
            parts.append(f"{spans} PHI span(s)" + (f" ({by_type})" if by_type else ""))
        more = self.failed - MAX_LISTED_FAILURES
        parts.append(f"{self.failed} failed" + (f" ({more} not listed above)" if more > 0 else ""))
        return "; ".join(parts)

    def finish(self) -> None:
        self.close()
        if not self.quiet:
            click.echo(self.summary(), err=True)


# --- running records ----------------------------------------------------------------------

Value = tuple[str, dict[str, Any]]
Runner = Callable[[Iterator[Item]], Iterator[Result[Value]]]


def _serial(op: Callable[[str], tuple[str, dict[str, Any]]]) -> Runner:
    """Per-record runner over the command's own `op` (reid: vault reads, no workers)."""

    def run(items: Iterator[Item]) -> Iterator[Result[Value]]:
        from phiguard.run.batch import error_reason

        for index, item in enumerate(items):
            if not item.text:
                yield Result(index, item.id, (item.text, {}), None, (), item.context)
                continue
            try:
                value = op(item.text)
            except Exception as exc:
                yield Result(index, item.id, None, error_reason(exc), (), item.context)
                continue
            yield Result(index, item.id, value, None, (), item.context)

    return run


def _runner(
    verb: str,
    opts: dict[str, Any],
    op: Callable[[str], tuple[str, dict[str, Any]]],
    pipeline: Deidentifier | None,
    closers: list[Callable[[], None]],
    journal: Journal | None = None,
) -> Runner:
    """mask/deid stream through phiguard.run.batch; values become (text, meta) pairs."""
    from phiguard.run import batch

    if verb not in ("mask", "deid"):
        return _serial(op)
    from phiguard_cli.options import deidentifier, vault_and_sealer

    workers = int(opts.get("workers") or 1)
    max_tps = opts.get("max_tps")
    if verb == "mask":
        d = pipeline or deidentifier(opts)

        def run_mask(items: Iterator[Item]) -> Iterator[Result[Value]]:
            for r in batch.mask_many(
                items, d, style=opts["style"], workers=workers, max_tps=max_tps
            ):
                value = None if r.value is None else (r.value, {"spans": len(r.spans)})
                yield Result(r.index, r.id, value, r.error, r.spans, r.context)

        return run_mask
    if pipeline is None or pipeline.vault is None:  # callers normally pass their pipeline
        vault, sealer = vault_and_sealer(opts, writer=True)
        closers.append(vault.close)
        pipeline = deidentifier(opts, vault, sealer)
        if opts.get("consistent"):
            raise ConfigError("--consistent needs the command to pass its pipeline")
    dd = pipeline

    def run_deid(items: Iterator[Item]) -> Iterator[Result[Value]]:
        for r in batch.deidentify_many(
            items, dd, workers=workers, max_tps=max_tps, journal=journal
        ):
            value = (
                None
                if r.value is None
                else (
                    r.value.text,
                    {"message_hash": r.value.message_hash, "tokens": r.value.token_count},
                )
            )
            yield Result(r.index, r.id, value, r.error, r.spans, r.context)

    return run_deid


def _reraise(reason: str | None) -> PhiguardError:
    """The original error of a single plain input, rebuilt from its PHI-free reason."""
    name, _, message = (reason or "").partition(": ")
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, PhiguardError):
        return cls(message)
    return PhiguardError(reason or "failed")


@contextmanager
def _committing(outputs: Outputs, report: Report, journal: Journal | None = None) -> Iterator[None]:
    """Commit the outputs and print the summary if the run completes; abort them if not.
    Records that failed were not written: they make the command exit 9 at the end.
    The journal (deid) removes the vault rows of every note that was not released."""
    try:
        yield
        if journal is not None:
            journal.commit()  # durable before any output goes live; if it fails, nothing does
    except BaseException:
        report.close()
        outputs.abort()
        if journal is not None:
            journal.close()
        raise
    outputs.commit()
    if journal is not None:
        journal.close()
    report.finish()
    log.info("%s: %d note(s), %d failed", report.verb, report.done, report.failed)
    if report.failed:
        raise RecordsFailed(
            f"{report.failed} of {report.done + report.failed} record(s) failed and were "
            "not written (listed above)"
        )


def transform_command(
    opts: dict[str, Any],
    op: Callable[[str], tuple[str, dict[str, Any]]],
    verb: str,
    *,
    pipeline: Deidentifier | None = None,
) -> None:
    """Shared driver of mask/deid/reid (see the module docstring for the contract).

    mask/deid run through `phiguard.run.batch` with `--workers`; `pipeline` is the command's
    Deidentifier (built from the options when not given). reid runs `op` per record.
    """
    mode, sources, inputs, field, id_field = _job(opts)
    fmt = opts["fmt"]
    if mode == "csv" and len(sources) > 1 and opts.get("out") is None:
        raise InputError("several CSV inputs need --out DIR (each keeps its own header)")
    if mode == "plain":
        check_out(len(sources), opts.get("out"), fmt)
    total = _validate(inputs, mode, field, id_field)
    closers: list[Callable[[], None]] = []
    try:
        single = len(sources) == 1 or (mode == "plain" and fmt != "text")
        outputs = Outputs(opts.get("out"), sources, phi=verb == "reid", single=single)
        report = Report(verb, total, quiet=_quiet(), show_ids=bool(opts.get("show_ids")))
        journal = _journal(verb, opts, pipeline)  # last: nothing above may leave it open
        run = _runner(verb, opts, op, pipeline, closers, journal)
        with _committing(outputs, report, journal):
            if mode == "plain":
                _plain(inputs, run, outputs, report, fmt, single_note=len(sources) == 1)
            elif mode == "jsonl":
                _jsonl(inputs, run, outputs, report, field, id_field)
            else:
                _csv(inputs, run, outputs, report, field, id_field)
    finally:
        for close in closers:
            close()


def _journal(verb: str, opts: dict[str, Any], pipeline: Deidentifier | None) -> Journal | None:
    """deid: first remove orphan rows of interrupted runs on this vault, then journal this
    run (fresh-salt tokens only: consistent tokens are shared by identical notes). Notes
    count as released when printed (stdout) or when the `--out` files are renamed."""
    if verb != "deid" or pipeline is None or pipeline.vault is None:
        return None
    sweep(pipeline.vault)
    if pipeline.pseudonymizer is not None:
        return None
    return Journal.start(pipeline.vault, streaming=opts.get("out") is None)


def _job(opts: dict[str, Any]) -> tuple[str, list[Source], Inputs, str, str]:
    """Input mode (plain/jsonl/csv), the expanded sources, and the note/id fields."""
    jsonl, as_csv = bool(opts.get("jsonl_mode")), bool(opts.get("csv_mode"))
    if jsonl and as_csv:
        raise ConfigError("--jsonl and --csv cannot be used together")
    mode = "csv" if as_csv else "jsonl" if jsonl else "plain"
    pattern = opts.get("glob_pattern") or {"csv": "*.csv", "jsonl": "*.jsonl"}.get(mode, "*.txt")
    sources = expand_inputs(list(opts.get("files") or ()), pattern)
    return mode, sources, Inputs(sources), opts.get("field") or "text", opts.get("id_field") or "id"


def _note_items(inputs: Inputs, mode: str, field: str, id_field: str) -> Iterator[Item]:
    """Every note of every input as an Item whose context is (source, text, where)."""
    for src in inputs.sources:
        if mode == "plain":
            text = inputs.text(src)
            yield Item(src.name, text, (src, text, src.name))
        elif mode == "jsonl":
            for lineno, rec in jsonl_records(inputs, src, field):
                text = rec.get(field) or ""
                yield Item(rec.get(id_field), text, (src, text, f"{src.name}:{lineno}"))
        else:
            head, rows = csv_rows(inputs, src, field, id_field)
            for lineno, row in rows:
                rid = row[head.id_column] if row and head.id_column is not None else None
                text = row[head.column] if row else ""
                where = f"{src.name}:{lineno}"
                yield Item(rid or f"{src.name}:{lineno}", text, (src, text, where))


def dry_run(opts: dict[str, Any]) -> None:
    """Print what a Comprehend Medical run over these inputs would cost; call nothing."""
    from phiguard.detectors.comprehend.packing import estimate_cost

    mode, _, inputs, field, id_field = _job(opts)
    _validate(inputs, mode, field, id_field)
    est = estimate_cost([i.text for i in _note_items(inputs, mode, field, id_field)])
    click.echo(
        f"{est.notes} note(s), {est.characters} characters\n"
        f"one request per note: {est.requests_unpacked} DetectPHI request(s), "
        f"{est.units_unpacked} billed unit(s)\n"
        f"packed (default):     {est.requests_packed} DetectPHI request(s), "
        f"{est.units_packed} billed unit(s) "
        f"({est.request_reduction:.1f}x fewer requests, {est.unit_reduction:.2f}x fewer units)"
    )


def _validate(inputs: Inputs, mode: str, field: str, id_field: str) -> int:
    """Read every input once, checking what would fail it as a whole; count the records."""
    total = 0
    for src in inputs.sources:
        if mode == "plain":
            inputs.text(src)
            total += 1
        elif mode == "jsonl":
            total += sum(1 for _ in jsonl_records(inputs, src, field))
        else:
            _, rows = csv_rows(inputs, src, field, id_field)
            total += sum(1 for _ in rows)
    return total


def _plain(
    inputs: Inputs,
    run: Runner,
    outputs: Outputs,
    report: Report,
    fmt: str,
    *,
    single_note: bool,
) -> None:
    def items() -> Iterator[Item]:
        for src in inputs.sources:
            yield Item(src.name, inputs.text(src), src)

    first = True
    if fmt == "json" and not single_note:
        outputs.for_source(inputs.sources[0]).write(b"[\n")
    for r in run(items()):
        if not r.ok and single_note:
            raise _reraise(r.error)
        src: Source = r.context
        report.record(r, src.name)
        if not r.ok:
            continue
        text, meta = r.unwrap()
        if fmt == "text":
            data = text
        else:
            doc = {"file": src.name, "text": text, **meta}
            if fmt == "jsonl":
                data = dump(doc, "jsonl")
            elif single_note:
                data = dump(doc, "json")
            else:  # a streamed JSON array, laid out as json.dumps(indent=2) would
                body = json.dumps(doc, ensure_ascii=False, indent=2).replace("\n", "\n  ")
                data = ("" if first else ",\n") + "  " + body
        first = False
        outputs.for_source(src).write(data.encode("utf-8", "surrogatepass"))
    if fmt == "json" and not single_note:
        outputs.for_source(inputs.sources[0]).write(b"\n]\n" if not first else b"]\n")


def _jsonl(
    inputs: Inputs, run: Runner, outputs: Outputs, report: Report, field: str, id_field: str
) -> None:
    sinks = {src.path: outputs.for_source(src) for src in inputs.sources}

    def items() -> Iterator[Item]:
        for src in inputs.sources:
            for lineno, rec in jsonl_records(inputs, src, field):
                rid = rec.get(id_field)
                yield Item(
                    rid if rid is not None else f"{src.name}:{lineno}",
                    rec.get(field) or "",
                    (src, rec, lineno),
                )

    for r in run(items()):
        src, rec, lineno = r.context
        report.record(r, f"{src.name}:{lineno}")
        if not r.ok:
            continue
        if rec.get(field):
            rec[field] = r.unwrap()[0]
        line = json.dumps(rec, ensure_ascii=False) + "\n"
        sinks[src.path].write(line.encode("utf-8", "surrogatepass"))


def _csv(
    inputs: Inputs, run: Runner, outputs: Outputs, report: Report, field: str, id_field: str
) -> None:
    buf = io.StringIO()

    def render(row: list[str], terminator: str) -> bytes:
        buf.seek(0)
        buf.truncate()
        csv.writer(buf, lineterminator=terminator).writerow(row)
        return buf.getvalue().encode("utf-8", "surrogatepass")

    def items() -> Iterator[Item]:
        for src in inputs.sources:
            head, rows = csv_rows(inputs, src, field, id_field)
            outputs.for_source(src).write(render(head.header, head.lineterminator))
            for lineno, row in rows:
                rid = row[head.id_column] if row and head.id_column is not None else None
                text = row[head.column] if row else ""
                yield Item(rid or f"{src.name}:{lineno}", text, (src, head, row, lineno))

    for r in run(items()):
        src, head, row, lineno = r.context
        report.record(r, f"{src.name}:{lineno}")
        if not r.ok:
            continue
        if row and row[head.column]:
            row[head.column] = r.unwrap()[0]
        outputs.for_source(src).write(render(row, head.lineterminator))


def detect_command(opts: dict[str, Any], d: Deidentifier) -> None:
    """Streaming `detect` with the same inputs, outputs and failure rules as the transforms.

    Output is one stream (stdout or `--out FILE`): plain inputs as tab-separated lines
    (`--format text`) or JSON; JSONL/CSV records as `{"id": …, "spans": […]}` lines.
    `--show-text` puts PHI in the output, so it is then written like `reid` output.
    """
    from phiguard.run import batch

    mode, sources, inputs, field, id_field = _job(opts)
    fmt = opts["fmt"]
    show = bool(opts.get("show_text"))
    total = _validate(inputs, mode, field, id_field)
    single_note = mode == "plain" and len(sources) == 1

    outputs = Outputs(opts.get("out"), sources, phi=show, single=True)
    out = outputs.for_source(sources[0])
    report = Report("detect", total, quiet=_quiet(), show_ids=bool(opts.get("show_ids")))
    workers = int(opts.get("workers") or 1)
    first = True
    with _committing(outputs, report):
        if mode == "plain" and fmt == "json" and not single_note:
            out.write(b"[\n")
        notes = _note_items(inputs, mode, field, id_field)
        for r in batch.detect_many(notes, d, workers=workers, max_tps=opts.get("max_tps")):
            if not r.ok and single_note:
                raise _reraise(r.error)
            src, text, where = r.context
            report.record(r, where)
            if not r.ok:
                continue
            spans = list(r.unwrap())
            if mode != "plain":
                data = dump({"id": r.id, "spans": spans_json(spans, text, show)}, "jsonl")
            elif fmt == "text":
                data = "".join(
                    f"{src.name}\t{s.start}\t{s.end}\t{s.type}\t{s.score:.2f}\t{s.source}"
                    + (f"\t{text[s.start : s.end]!r}" if show else "")
                    + "\n"
                    for s in spans
                )
            elif fmt == "json" and single_note:
                data = dump({"spans": spans_json(spans, text, show)}, "json")
            elif fmt == "json":
                doc = {"file": src.name, "spans": spans_json(spans, text, show)}
                body = json.dumps(doc, ensure_ascii=False, indent=2).replace("\n", "\n  ")
                data = ("" if first else ",\n") + "  " + body
            else:
                data = dump({"file": src.name, "spans": spans_json(spans, text, show)}, "jsonl")
            first = False
            out.write(data.encode("utf-8", "surrogatepass"))
        if mode == "plain" and fmt == "json" and not single_note:
            out.write(b"\n]\n" if not first else b"]\n")
