"""How each record's output is written: the transformed note spliced back into its own line or
row (every other byte as in the input), or a document, or span lines for `detect`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from phiguard.run.csvrow import render_cell
from phiguard.run.sinks import Output, Outputs
from phiguard.run.sources import Mode, Record, Source
from phiguard.spans import Span


@dataclass(frozen=True, slots=True)
class Rendered:
    """One record's transformed note, the extra fields of its JSON document, and (deid) the
    message hash that marks it delivered once written."""

    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    message_hash: str | None = None


def dump(obj: object, fmt: str) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2 if fmt == "json" else None) + "\n"


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class Writer(Protocol):
    def write(self, record: Record, value: Any) -> None: ...

    def end(self) -> None: ...


class _Array:
    """A JSON array streamed one document at a time, laid out as json.dumps(indent=2) would."""

    def __init__(self, out: Output) -> None:
        self.out, self.first = out, True
        out.write(b"[\n")

    def add(self, doc: dict[str, Any]) -> None:
        body = json.dumps(doc, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        self.out.write(_encode(("" if self.first else ",\n") + "  " + body))
        self.first = False

    def end(self) -> None:
        self.out.write(b"]\n" if self.first else b"\n]\n")


class FileNames:
    """How a source is named in outputs: its name, or (with file names off) its position."""

    def __init__(self, sources: list[Source], *, show: bool) -> None:
        self.show = show
        self._index = {s.path: i for i, s in enumerate(sources)}

    def key(self) -> str:
        return "file" if self.show else "input"

    def of(self, src: Source) -> str | int:
        return src.name if self.show else self._index[src.path]


class TextWriter:
    """Plain inputs: the text itself, or a JSON document (one, an array, or JSON Lines)."""

    def __init__(
        self, outputs: Outputs, sources: list[Source], fmt: str, names: FileNames, *, single: bool
    ) -> None:
        self.outputs, self.fmt, self.names, self.single = outputs, fmt, names, single
        self._array = (
            _Array(outputs.for_source(sources[0])) if fmt == "json" and not single else None
        )

    def write(self, record: Record, value: Rendered) -> None:
        out = self.outputs.for_source(record.source)
        if self.fmt == "text":
            out.write(_encode(value.text))
            return
        doc = {self.names.key(): self.names.of(record.source), "text": value.text, **value.meta}
        if self._array is not None:
            self._array.add(doc)
        else:
            out.write(_encode(dump(doc, self.fmt)))

    def end(self) -> None:
        if self._array is not None:
            self._array.end()


class RecordWriter:
    """JSONL and CSV: the record's own line or row with the note field's value replaced.

    `headers` (CSV) are written first, one per source, even if every row then fails.
    """

    def __init__(self, outputs: Outputs, mode: Mode, headers: dict[Source, str]) -> None:
        self.outputs = outputs
        self.jsonl = mode is Mode.JSONL
        for src, raw in headers.items():
            outputs.for_source(src).write(_encode(raw))

    def write(self, record: Record, value: Rendered) -> None:
        raw = splice(record, value.text, jsonl=self.jsonl)
        self.outputs.for_source(record.source).write(_encode(raw))

    def end(self) -> None:
        pass


def splice(record: Record, text: str, *, jsonl: bool) -> str:
    """The record's own line or row with its note field replaced by `text`, every other byte
    as it was."""
    assert record.raw is not None
    raw = record.raw
    if record.value_span is not None and record.text:
        a, b = record.value_span
        new = render_json(text, raw) if jsonl else render_cell(text, raw[a:b])
        raw = raw[:a] + new + raw[b:]
    return raw


def render_json(value: str, line: str) -> str:
    """`value` as a JSON string, escaped the way its line is written: a line holding raw UTF-8
    gets raw UTF-8, an ASCII-only line gets `\\u` escapes (Python's and pandas' default), so
    deid then reid gives the line back exactly. (A raw-UTF-8 line whose only non-ASCII
    characters were PHI comes back with them escaped: the same JSON value, other bytes.)"""
    return json.dumps(value, ensure_ascii=line.isascii())


def spans_json(spans: list[Span] | tuple[Span, ...], text: str, show: bool) -> list[dict[str, Any]]:
    return [s.to_dict(text if show else None) for s in spans]


class SpanWriter:
    """`detect`: tab-separated span lines, or JSON, or `{"id", "spans"}` lines for records."""

    def __init__(
        self,
        out: Output,
        mode: Mode,
        fmt: str,
        names: FileNames,
        *,
        show_text: bool,
        single: bool,
    ) -> None:
        self.out, self.mode, self.fmt, self.names = out, mode, fmt, names
        self.show, self.single = show_text, single
        self._array = _Array(out) if mode is Mode.PLAIN and fmt == "json" and not single else None

    def write(self, record: Record, value: tuple[Span, ...]) -> None:
        spans, text, show = list(value), record.text, self.show
        if self.mode is not Mode.PLAIN:
            data = dump({"id": record.id, "spans": spans_json(spans, text, show)}, "jsonl")
        elif self.fmt == "text":
            name = self.names.of(record.source)
            data = "".join(
                f"{name}\t{s.start}\t{s.end}\t{s.type}\t{s.score:.2f}\t{s.source}"
                + (f"\t{text[s.start : s.end]!r}" if show else "")
                + "\n"
                for s in spans
            )
        elif self._array is not None:
            key, name = self.names.key(), self.names.of(record.source)
            self._array.add({key: name, "spans": spans_json(spans, text, show)})
            return
        elif self.single and self.fmt == "json":
            data = dump({"spans": spans_json(spans, text, show)}, "json")
        else:
            key, name = self.names.key(), self.names.of(record.source)
            data = dump({key: name, "spans": spans_json(spans, text, show)}, "jsonl")
        self.out.write(_encode(data))

    def end(self) -> None:
        if self._array is not None:
            self._array.end()
