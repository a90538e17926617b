"""Job inputs: files, directories and globs; each read as plain text, JSON Lines or CSV records.

Reading is strict (UTF-8, no NUL) and lazy, so memory stays flat; errors name files, line
numbers and byte offsets, never content. Every record keeps its raw bytes and the position of
its note field in them, so a writer can splice the rewritten note back and leave every other
byte of the line or row as it was (numbers, quoting, key order, line endings).
"""

from __future__ import annotations

import glob as globmod
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from phiguard.errors import InputError
from phiguard.io import STDIN, decode, read_bytes
from phiguard.run.csvrow import csv_rows


class Mode(StrEnum):
    PLAIN = "plain"  # a file is one note
    JSONL = "jsonl"  # a line is one record (a JSON object)
    CSV = "csv"  # a row is one record (with a header)


DEFAULT_GLOB = {Mode.PLAIN: "*.txt", Mode.JSONL: "*.jsonl", Mode.CSV: "*.csv"}


@dataclass(frozen=True, slots=True)
class Source:
    """One input: `path` to read ('-' for stdin), `name` for messages, `out_name` for the
    file it becomes under `--out DIR` (its path relative to the directory given)."""

    path: str
    name: str
    out_name: str


def _walk(root: Path, pattern: str) -> list[Path]:
    """Files under `root` matching `pattern`, sorted; hidden entries (.git, .venv) skipped."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(dirpath)
        found.extend(
            base / f
            for f in sorted(filenames)
            if not f.startswith(".") and (base / f).match(pattern) and (base / f).is_file()
        )
    return found


def expand_inputs(args: list[str] | tuple[str, ...], pattern: str) -> list[Source]:
    """Files, directories (recursive) and glob patterns, in the order given."""
    sources: list[Source] = []
    for arg in args or [STDIN]:
        if arg == STDIN:
            sources.append(Source(STDIN, "<stdin>", "stdin"))
            continue
        p = Path(arg)
        if p.is_dir():
            files = _walk(p, pattern)
            if not files:
                raise InputError(f"{arg}: is a directory with no files matching {pattern!r}")
            sources.extend(Source(str(f), str(f), str(f.relative_to(p))) for f in files)
        elif p.exists() or not globmod.has_magic(arg):
            sources.append(Source(arg, arg, p.name))
        else:
            matches = [m for m in sorted(globmod.glob(arg, recursive=True)) if Path(m).is_file()]
            if not matches:
                raise InputError(f"{arg}: no files match this pattern")
            sources.extend(Source(m, m, Path(m).name) for m in matches)
    return _unique_out_names(sources)


def _unique_out_names(sources: list[Source]) -> list[Source]:
    """Outputs under `--out DIR` keep their file names; when two inputs share a name (a/x.txt,
    b/x.txt), every output keeps its path below the inputs' common directory instead."""
    names = [s.out_name for s in sources if s.path != STDIN]
    if len(set(names)) == len(names):
        return sources
    files = [Path(s.path).resolve() for s in sources if s.path != STDIN]
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    return [
        s
        if s.path == STDIN
        else Source(s.path, s.name, str(Path(s.path).resolve().relative_to(root)))
        for s in sources
    ]


class Inputs:
    """Reads sources as bytes; stdin is read once and kept (it cannot be read twice)."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources
        self._stdin: bytes | None = None

    def open(self, src: Source) -> IO[bytes]:
        if src.path == STDIN:
            if self._stdin is None:
                self._stdin = sys.stdin.buffer.read()
            return io.BytesIO(self._stdin)
        try:
            return open(src.path, "rb")
        except OSError:
            read_bytes(src.path)  # raises the standard InputError message
            raise

    def text(self, src: Source) -> str:
        with self.open(src) as fh:
            data = fh.read()
        if not data:
            raise InputError(f"{src.name}: input is empty")
        return decode(data, src.name)

    def lines(self, src: Source) -> Iterator[tuple[int, str]]:
        """(line number, decoded line with its ending), split on '\\n' only; strict UTF-8,
        no NUL, errors name the byte offset, never content."""
        with self.open(src) as fh:
            offset = 0
            for lineno, raw in enumerate(fh, 1):
                nul = raw.find(b"\x00")
                if nul != -1:
                    raise InputError(
                        f"{src.name}: contains a NUL byte at byte {offset + nul} (binary file?)"
                    )
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(
                        f"{src.name}: not valid UTF-8 (byte {offset + exc.start})"
                    ) from None
                offset += len(raw)
                yield lineno, line
            if offset == 0:
                raise InputError(f"{src.name}: input is empty")


@dataclass(frozen=True, slots=True)
class Record:
    """One note to process, with what is needed to write its output in place.

    `raw` is the record's own text (a JSONL line or a CSV row, with its line ending) and
    `value_span` the position of the note field's value in it (the JSON string, or the CSV
    cell); None for a plain file, or a record without the field (`missing`).
    """

    source: Source
    where: str  # FILE:LINE (or FILE): how failures are reported, never the id or the text
    id: Any  # the record's --id-field value (None without one); a plain file's name
    text: str
    raw: str | None = None
    value_span: tuple[int, int] | None = None
    missing: bool = False
    known: Any = None  # the value of the record's known-PHI field (JSON value or CSV cell)
    patient: str | None = None  # the patient field's value (None: absent, null or empty)


@dataclass(frozen=True, slots=True)
class Fields:
    """The record fields a job reads: the note, the id, and optionally the known PHI and the
    patient (whose surrogates and date offset a record shares with the patient's others)."""

    text: str = "text"
    id: str = "id"
    known: str | None = None
    patient: str | None = None


def _patient(value: Any, where: str, field: str) -> str | None:
    """A patient id as text: a string or an integer; null or "" is no id."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{where}: field {field!r} is not a string or an integer")


def _jsonl(inputs: Inputs, src: Source, fields: Fields) -> Iterator[Record]:
    field, id_field = fields.text, fields.id
    for lineno, line in inputs.lines(src):
        if not line.strip():
            continue
        where = f"{src.name}:{lineno}"
        members = json_members(line, where)
        value = members.get(field)
        text = ""
        if value is not None:
            start, end = value
            obj = json.loads(line[start:end])
            if obj is not None and not isinstance(obj, str):
                raise InputError(f"{where}: field {field!r} is not a string")
            text = obj or ""
            if text and not text.isascii():
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise InputError(
                        f"{where}: field {field!r} has an unpaired surrogate escape"
                    ) from None
        rid: Any = None
        if id_field in members:
            a, b = members[id_field]
            rid = json.loads(line[a:b])
        known: Any = None
        if fields.known is not None and fields.known in members:
            a, b = members[fields.known]
            known = json.loads(line[a:b])
        patient = None
        if fields.patient is not None and fields.patient in members:
            a, b = members[fields.patient]
            patient = _patient(json.loads(line[a:b]), where, fields.patient)
        yield Record(
            src, where, rid, text, line, value, value is None, known=known, patient=patient
        )


_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def json_members(line: str, where: str) -> dict[str, tuple[int, int]]:
    """The top-level members of the JSON object on `line`: key → (start, end) of its value.

    Exact positions are what let a writer splice one value and keep every other byte (big or
    long numbers, exponents, spacing). Duplicate keys are refused: which copy would be the note?
    """
    n = len(line)
    i = _skip(line, 0)
    if i >= n or line[i] != "{":
        _malformed(line, where)
    members: dict[str, tuple[int, int]] = {}
    i = _skip(line, i + 1)
    if i < n and line[i] == "}":
        return _end(line, i + 1, where, members)
    while True:
        if i >= n or line[i] != '"':
            _malformed(line, where)
        try:
            key, i = _DECODER.raw_decode(line, i)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: malformed JSON ({exc.msg})") from None
        i = _skip(line, i)
        if i >= n or line[i] != ":":
            _malformed(line, where)
        start = _skip(line, i + 1)
        try:
            _, end = _DECODER.raw_decode(line, start)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: malformed JSON ({exc.msg})") from None
        if key in members:
            raise InputError(f"{where}: duplicate key {key!r} in one record")
        members[key] = (start, end)
        i = _skip(line, end)
        if i < n and line[i] == ",":
            i = _skip(line, i + 1)
            continue
        if i < n and line[i] == "}":
            return _end(line, i + 1, where, members)
        _malformed(line, where)


def _skip(line: str, i: int) -> int:
    while i < len(line) and line[i] in _WS:
        i += 1
    return i


def _end(
    line: str, i: int, where: str, members: dict[str, tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    if line[i:].strip(_WS):
        raise InputError(f"{where}: malformed JSON (Extra data)")
    return members


def _malformed(line: str, where: str) -> None:
    """Raise json's own message for a line our scanner refused (a record must be an object)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: malformed JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{where}: a JSON Lines record must be an object")
    raise InputError(f"{where}: malformed JSON")  # pragma: no cover - json accepted it


def csv_header(inputs: Inputs, src: Source) -> str:
    """The raw header row of a CSV source (what its output starts with)."""
    header = next(csv_rows(inputs.lines(src), src.name), None)
    if header is None:  # pragma: no cover - lines() raises on empty input
        raise InputError(f"{src.name}: input is empty")
    return header.raw


def _csv(inputs: Inputs, src: Source, fields: Fields) -> Iterator[Record]:
    field, id_field = fields.text, fields.id
    rows = csv_rows(inputs.lines(src), src.name)
    header = next(rows, None)
    if header is None:  # pragma: no cover - lines() raises on empty input
        raise InputError(f"{src.name}: input is empty")
    names = header.values
    if field not in names:
        raise InputError(f"{src.name}: no column {field!r} in the CSV header")
    column = names.index(field)
    id_column = names.index(id_field) if id_field in names else None
    for extra in (fields.known, fields.patient):
        if extra is not None and extra not in names:
            raise InputError(f"{src.name}: no column {extra!r} in the CSV header")
    known_column = names.index(fields.known) if fields.known is not None else None
    patient_column = names.index(fields.patient) if fields.patient is not None else None
    for row in rows:
        where = f"{src.name}:{row.lineno}"
        if not row.values:  # a blank line
            yield Record(src, where, None, "", row.raw, None)
            continue
        if len(row.values) != len(names):
            raise InputError(f"{where}: {len(row.values)} columns, the header has {len(names)}")
        rid = row.values[id_column] if id_column is not None else ""
        known = _cell_value(row.values[known_column]) if known_column is not None else None
        patient = row.values[patient_column] if patient_column is not None else ""
        yield Record(
            src,
            where,
            rid or None,
            row.values[column],
            row.raw,
            row.spans[column],
            known=known,
            patient=patient or None,
        )


def _cell_value(cell: str) -> Any:
    """A CSV cell holding known PHI: a JSON list or object if it is written as one, else the
    string itself."""
    if cell.lstrip().startswith(("[", "{")):
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            pass
    return cell


def records(inputs: Inputs, mode: Mode, fields: Fields) -> Iterator[Record]:
    """Every note of every input, in order (one per file, JSONL line or CSV row), with the
    values of the known-PHI and patient fields (JSONL, CSV) when they are named."""
    for src in inputs.sources:
        if mode is Mode.PLAIN:
            yield Record(src, src.name, src.name, inputs.text(src))
        elif mode is Mode.JSONL:
            yield from _jsonl(inputs, src, fields)
        else:
            yield from _csv(inputs, src, fields)
