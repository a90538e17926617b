"""CSV rows with the position of every cell, so one cell can be rewritten in place.

Python's csv module returns values only: writing them back re-quotes the whole row (an unneeded
quote is dropped, a line ending normalised), so a round trip would not give the input's bytes
back. This reader follows the same dialect as `csv.reader(strict=True)` (comma, double quote,
doubled quotes inside quoted cells, line breaks only inside quotes) and also returns each row's
raw text and cell spans; `render_cell` writes a cell the way the input wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from phiguard.errors import InputError

_NEEDS_QUOTES = (",", '"', "\r", "\n")


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One row: its first line number, raw text (with its line ending), values and the
    (start, end) of each cell in `raw` (quotes included)."""

    lineno: int
    raw: str
    values: list[str]
    spans: list[tuple[int, int]]


def csv_rows(lines: Iterable[tuple[int, str]], name: str) -> Iterator[CsvRow]:
    """Rows of decoded lines (each with its ending). A row is complete once its double quotes
    pair up, so a cell holding many lines is read in linear time."""
    parts: list[str] = []
    first = 0
    quotes = 0
    for lineno, line in lines:
        if not parts:
            first = lineno
        parts.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            raw = "".join(parts)
            values, spans = _split(raw, f"{name}:{first}")
            yield CsvRow(first, raw, values, spans)
            parts, quotes = [], 0
    if parts:
        raise InputError(f"{name}:{first}: malformed CSV (unexpected end of data)")


def _split(raw: str, where: str) -> tuple[list[str], list[tuple[int, int]]]:
    end = len(raw)
    if raw.endswith("\r\n"):
        end -= 2
    elif raw.endswith("\n"):
        end -= 1
    if end == 0:
        return [], []  # a blank line, as csv.reader gives it
    values: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        if pos < end and raw[pos] == '"':
            value, stop = _quoted(raw, pos, end, where)
        else:
            stop = raw.find(",", pos, end)
            stop = end if stop == -1 else stop
            value = raw[pos:stop]
            if '"' in value or "\r" in value or "\n" in value:
                raise InputError(
                    f"{where}: malformed CSV (quote or line break in an unquoted cell)"
                )
        values.append(value)
        spans.append((pos, stop))
        if stop >= end:
            return values, spans
        pos = stop + 1
        if pos == end:  # a trailing comma: one more, empty cell
            values.append("")
            spans.append((pos, pos))
            return values, spans


def _quoted(raw: str, start: int, end: int, where: str) -> tuple[str, int]:
    chunks: list[str] = []
    i = start + 1
    while True:
        q = raw.find('"', i, end)
        if q == -1:
            raise InputError(f"{where}: malformed CSV (unexpected end of data)")
        chunks.append(raw[i:q])
        if q + 1 < end and raw[q + 1] == '"':
            chunks.append('"')
            i = q + 2
            continue
        stop = q + 1
        if stop < end and raw[stop] != ",":
            raise InputError(f"{where}: malformed CSV ('\",' expected after '\"')")
        return "".join(chunks), stop


def render_cell(value: str, original: str) -> str:
    """`value` as a CSV cell: quoted if the original cell was, or if it must be."""
    if original.startswith('"') or any(c in value for c in _NEEDS_QUOTES):
        return '"' + value.replace('"', '""') + '"'
    return value
