"""A job: detect, mask, de-identify, surrogate or re-identify files, JSON Lines or CSV, fail
closed.

This is the run the `phiguard` command (and any library user) gets, in one place:

- **Whole-input errors** (missing file, non-UTF-8, NUL bytes, malformed JSON Lines or CSV, a
  note field no record has) are found by a validation pass over every input before any note is
  processed: `InputError`, no output.
- **No partial output.** `--out` files are staged and renamed only when the run completes
  (`phiguard.run.sinks`); stdout is streamed, flushed per record.
- **Released means written.** De-identified notes are stored before they are written; a run
  journal (`phiguard.vaults.journal`) removes the vault rows of every note that was not
  written, whether the run failed, was interrupted, or its reader went away.
- **Per-record failures** do not stop the batch: the failed record is not written at all (no
  line, no row, no file), reported to `progress` with where it came from (FILE:LINE, never
  the note), and counted in the `Summary`. A single plain-text note keeps its own error.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from phiguard.audit import Auditor
from phiguard.detectors.comprehend import packing
from phiguard.detectors.comprehend.packing import CostEstimate
from phiguard.errors import ConfigError, Failure, InputError, PhiguardError
from phiguard.known import KnownPhi
from phiguard.run.batch import auto_journal
from phiguard.run.deidentifier import Deidentifier
from phiguard.run.records import Item, Result
from phiguard.run.sinks import Outputs
from phiguard.run.sources import (
    DEFAULT_GLOB,
    Fields,
    Inputs,
    Mode,
    Record,
    Source,
    csv_header,
    expand_inputs,
    json_members,
    records,
)
from phiguard.run.writers import (
    FileNames,
    RecordWriter,
    Rendered,
    SpanWriter,
    TextWriter,
    Writer,
)
from phiguard.transform import MaskStyle, message_hash
from phiguard.vaults.journal import Journal

log = logging.getLogger(__name__)


class Command(StrEnum):
    DETECT = "detect"
    MASK = "mask"
    DEID = "deid"
    SURROGATE = "surrogate"
    REID = "reid"


#: Commands that write the vault (and so journal their rows).
WRITERS = frozenset({Command.DEID, Command.SURROGATE})


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What to read and how to write it (the CLI's input and output options).

    `fmt`: "text" (the note, or span lines for detect), "json" (one document; an array for
    several plain inputs) or "jsonl". `file_names=False` keeps input names out of outputs and
    failure reports (inputs are numbered instead). `allow_missing_field`: a JSONL record without
    the note field passes through unchanged instead of failing. `partial` (reid): restore the
    tokens still present in an edited text; `message_hash`: the vault key of a single plain
    input whose text was edited (documents and records carrying one need none).
    `known_field`: the JSONL field or CSV column holding each record's known PHI (a string, a
    list, or `{TYPE: value | [values]}`; strings and lists are of `known_type`).
    `patient_field` (JSONL, CSV): the field grouping a patient's notes for surrogates (a record
    without it fails). `require_mapping` (reid): a note the vault holds nothing for fails
    instead of passing.
    """

    command: Command
    inputs: tuple[str, ...] = ()
    mode: Mode = Mode.PLAIN
    field: str = "text"
    id_field: str = "id"
    glob: str | None = None
    out: str | None = None
    fmt: str = "text"
    style: MaskStyle = MaskStyle.HASH
    show_text: bool = False
    file_names: bool = True
    allow_missing_field: bool = False
    partial: bool = False
    message_hash: str | None = None
    known_field: str | None = None
    known_type: str = "NAME"
    patient_field: str | None = None
    require_mapping: bool = False

    @property
    def fields(self) -> Fields:
        return Fields(self.field, self.id_field, self.known_field, self.patient_field)

    @property
    def writes_phi(self) -> bool:
        return self.command is Command.REID or (self.command is Command.DETECT and self.show_text)


@dataclass(slots=True)
class Summary:
    """What a job did: notes done and failed, PHI spans by type, seconds."""

    command: str
    total: int = 0
    done: int = 0
    failed: int = 0
    types: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def line(self) -> str:
        secs = max(self.seconds, 1e-9)
        n = self.done + self.failed
        parts = [f"phiguard: {self.command}: {n} note(s) in {secs:.1f} s ({n / secs:.1f} notes/s)"]
        if self.command != Command.REID:
            spans = sum(self.types.values())
            by_type = ", ".join(f"{t} {c}" for t, c in self.types.most_common())
            parts.append(f"{spans} PHI span(s)" + (f" ({by_type})" if by_type else ""))
        return "; ".join(parts)


class Progress(Protocol):
    """Told about every record as it completes (the CLI draws a bar and lists failures)."""

    def started(self, command: str, total: int) -> None: ...

    def record(self, result: Result[Any], where: str) -> None: ...


def run_job(spec: JobSpec, pipeline: Deidentifier, progress: Progress | None = None) -> Summary:
    """Run `spec` through `pipeline`; returns the summary once every output is committed.

    Raises `PhiguardError`s for whole-run problems (bad input, vault down, output unwritable),
    after aborting the outputs; per-record failures are in the summary (`failed`).
    """
    if spec.patient_field is not None and spec.mode is Mode.PLAIN:
        raise ConfigError(
            "a patient field needs JSON Lines or CSV records (a plain file has no fields)"
        )
    sources = expand_inputs(spec.inputs, spec.glob or DEFAULT_GLOB[spec.mode])
    if spec.message_hash is not None and (len(sources) > 1 or spec.mode is not Mode.PLAIN):
        raise InputError("a message hash names one de-identified note: give one plain input")
    if spec.mode is Mode.CSV and len(sources) > 1 and spec.out is None:
        raise InputError("several CSV inputs need an output directory (each keeps its own header)")
    if spec.mode is Mode.PLAIN and len(sources) > 1 and spec.out is None and spec.fmt == "text":
        raise InputError("several inputs in text format need an output directory (or jsonl)")
    inputs = Inputs(sources)
    total, headers = _validate(inputs, spec)
    summary = Summary(spec.command.value, total=total)
    single_note = spec.mode is Mode.PLAIN and len(sources) == 1
    single_out = (
        spec.command is Command.DETECT
        or len(sources) == 1
        or (spec.mode is Mode.PLAIN and spec.fmt != "text")
    )
    outputs = Outputs(spec.out, sources, phi=spec.writes_phi, single=single_out)
    names = FileNames(sources, show=spec.file_names)
    journal = None
    if spec.command in WRITERS:  # last: nothing above may leave it open
        journal = auto_journal(pipeline, streaming=spec.out is None)
    auditor = pipeline.auditor if spec.command is Command.REID else None
    release = _Release(journal, auditor, staged=spec.out is not None)
    if progress is not None:
        progress.started(spec.command.value, summary.total)
    try:
        writer = _writer(spec, outputs, sources, names, headers, single_note)
        recs = records(inputs, spec.mode, spec.fields)
        for r in _results(spec, pipeline, recs, journal):
            rec = _record(r)
            where = rec.where if spec.file_names else _numbered(rec, names)
            if single_note and r.error is not None:
                raise r.error.error()
            _count_result(summary, r)
            if progress is not None:
                progress.record(r, where)
            if r.error is None:
                release.writing(r.value)
                writer.write(rec, r.value)
                release.written()
        writer.end()
        if journal is not None:
            journal.commit()  # durable before any output goes live; if it fails, nothing does
        outputs.commit()
    except BaseException:
        outputs.abort()
        release.failed()
        raise
    finally:
        if journal is not None:
            journal.close()
    summary.seconds = time.monotonic() - summary.started
    log.info("%s: %d note(s), %d failed", spec.command.value, summary.done, summary.failed)
    return summary


class _Release:
    """A note counts as released once its bytes were written. deid: the journal is told, and
    on failure the notes marked but not written are unmarked (their rows removed). reid: the
    audit trail already says "revealed"; on failure it also records which of those were never
    delivered (the note being written, or, for staged files that are now removed, all)."""

    def __init__(self, journal: Journal | None, auditor: Auditor | None, *, staged: bool) -> None:
        self.journal, self.auditor, self.staged = journal, auditor, staged
        self.current: str | None = None
        self.revealed: list[str] = []  # reid into files: everything the abort would remove

    def writing(self, value: Any) -> None:
        self.current = value.message_hash if isinstance(value, Rendered) else None

    def written(self) -> None:
        if self.current is None:
            return
        if self.journal is not None:
            self.journal.delivered(self.current)
        elif self.auditor is not None and self.staged:
            self.revealed.append(self.current)
        self.current = None

    def failed(self) -> None:
        if self.journal is not None:
            self.journal.retract_undelivered()
        if self.auditor is None:
            return
        undelivered = self.revealed + ([self.current] if self.current else [])
        if undelivered:
            with contextlib.suppress(PhiguardError):  # never hide the error that stopped us
                self.auditor.record_undelivered(undelivered)


def estimate_cost(spec: JobSpec) -> CostEstimate:
    """What a Comprehend Medical run over `spec`'s inputs would cost; nothing is sent."""
    sources = expand_inputs(spec.inputs, spec.glob or DEFAULT_GLOB[spec.mode])
    inputs = Inputs(sources)
    _validate(inputs, spec)
    texts = [r.text for r in records(inputs, spec.mode, spec.fields)]
    return packing.estimate_cost(texts)


def _numbered(rec: Record, names: FileNames) -> str:
    line = rec.where.rpartition(":")[2] if rec.where != rec.source.name else ""
    return f"input {names.of(rec.source)}" + (f":{line}" if line else "")


def _count_result(summary: Summary, r: Result[Any]) -> None:
    if r.error is None:
        summary.done += 1
        summary.types.update(s.type for s in r.spans)
    else:
        summary.failed += 1


def _validate(inputs: Inputs, spec: JobSpec) -> tuple[int, dict[Source, str]]:
    """Read every input once, checking what would fail it as a whole: the number of records,
    and the CSV headers."""
    with_field = with_patient = 0
    total = 0
    for rec in records(inputs, spec.mode, spec.fields):
        total += 1
        with_field += not rec.missing
        with_patient += rec.patient is not None
        if rec.known is not None:
            _known(spec, rec)  # a malformed known-PHI value fails the run before any output
    if spec.mode is Mode.JSONL and total and not with_field and not spec.allow_missing_field:
        raise InputError(
            f"no record has the field {spec.field!r}; name the note field (records were not "
            "changed)"
        )
    if spec.patient_field is not None and total and not with_patient:
        raise InputError(
            f"no record has a patient in {spec.patient_field!r}; name the patient field "
            "(records were not changed)"
        )
    if spec.mode is not Mode.CSV:
        return total, {}
    return total, {src: csv_header(inputs, src) for src in inputs.sources}


def _writer(
    spec: JobSpec,
    outputs: Outputs,
    sources: list[Source],
    names: FileNames,
    headers: dict[Source, str],
    single_note: bool,
) -> Writer:
    if spec.command is Command.DETECT:
        return SpanWriter(
            outputs.for_source(sources[0]),
            spec.mode,
            spec.fmt,
            names,
            show_text=spec.show_text,
            single=single_note,
        )
    if spec.mode is Mode.PLAIN:
        return TextWriter(outputs, sources, spec.fmt, names, single=single_note)
    return RecordWriter(outputs, spec.mode, headers)


_MISSING = "field {!r} is missing from this record (use the option that lets such records pass)"
_NO_PATIENT = (
    "this record has no patient in {!r}, so its dates cannot be shifted with the patient's"
)


def _results(
    spec: JobSpec, pipeline: Deidentifier, recs: Iterator[Record], journal: Journal | None
) -> Iterator[Result[Any]]:
    """One result per record, in order, its value `Rendered` (detect: the spans)."""
    missing_ok = spec.allow_missing_field

    patients = spec.patient_field

    def items() -> Iterator[Item]:
        for rec in recs:
            text = "" if rec.missing or (patients and rec.patient is None) else rec.text
            yield Item(rec.id, text, rec, known=_known(spec, rec), patient=rec.patient)

    def checked(results: Iterator[Result[Any]]) -> Iterator[Result[Any]]:
        for r in results:
            rec = _record(r)
            if rec.missing and not missing_ok:
                failure = Failure("InputError", _MISSING.format(spec.field))
                yield Result(r.index, r.id, None, failure, (), rec)
            elif patients and rec.patient is None and rec.text and not rec.missing:
                failure = Failure("InputError", _NO_PATIENT.format(patients))
                yield Result(r.index, r.id, None, failure, (), rec)
            else:
                yield r

    cmd = spec.command
    if cmd is Command.DETECT:
        yield from checked(pipeline.detect_many(items()))
    elif cmd is Command.MASK:
        masked = pipeline.mask_many(items(), style=spec.style, policy=pipeline.policy)
        for r in checked(masked):
            yield _with(r, None if r.value is None else Rendered(r.value, {"spans": len(r.spans)}))
    elif cmd in WRITERS:
        many = pipeline.deidentify_many if cmd is Command.DEID else pipeline.surrogate_many
        count = "tokens" if cmd is Command.DEID else "spans"
        for r in checked(many(items(), journal=journal)):
            v = r.value
            yield _with(
                r,
                None
                if v is None
                else Rendered(
                    v.text, {"message_hash": v.message_hash, count: v.token_count}, v.message_hash
                ),
            )
    else:
        reid_items = (_reid_item(spec, rec) for rec in recs)
        reids = pipeline.reidentify_many(
            reid_items, partial=spec.partial, require_mapping=spec.require_mapping
        )
        for r in checked(reids):
            yield _with(r, None if r.value is None else Rendered(r.value, {}, r.context.hash))


def _known(spec: JobSpec, rec: Record) -> KnownPhi | None:
    """The record's known PHI (its `known_field`): plain strings and lists are `known_type`."""
    if rec.known is None:
        return None
    try:
        return KnownPhi.of(rec.known, spec.known_type)
    except InputError as exc:
        raise InputError(f"{rec.where}: field {spec.known_field!r}: {exc}") from None


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _reid_item(spec: JobSpec, rec: Record) -> Item:
    """A de-identified note with the message hash that travelled with it, if any: a
    `deid --format json` document as a plain input, a JSONL record's `message_hash`, or the
    hash given for a single input. Without one, the hash is the text's own."""
    text, mhash = rec.text, spec.message_hash
    if rec.raw is None and text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("text"), str):
            found = doc.get("message_hash")
            if isinstance(found, str) and _HEX64.fullmatch(found):
                text, mhash = doc["text"], found
    elif spec.mode is Mode.JSONL and rec.raw is not None:
        at = json_members(rec.raw, rec.where).get("message_hash")
        if at is not None:
            found = json.loads(rec.raw[at[0] : at[1]])
            if isinstance(found, str) and _HEX64.fullmatch(found):
                mhash = found
    return Item(rec.id, text, _Reid(rec, mhash or message_hash(text)), message_hash=mhash)


@dataclass(frozen=True, slots=True)
class _Reid:
    """A reid record's context: the record, and the hash its audit records name."""

    record: Record
    hash: str


def _record(r: Result[Any]) -> Record:
    ctx = r.context
    return ctx.record if isinstance(ctx, _Reid) else ctx


def _with(r: Result[Any], value: Any) -> Result[Any]:
    return Result(r.index, r.id, value, r.error, r.spans, r.context)
