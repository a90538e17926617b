"""Reading notes: strict UTF-8, exact bytes, and one clear error per bad input (no PHI)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phiguard.errors import InputError

STDIN = "-"


@dataclass(frozen=True, slots=True)
class Note:
    """One input text and where it came from (a path, '<stdin>', or 'path:line')."""

    source: str
    text: str


def read_bytes(path: str | Path, what: str = "") -> bytes:
    """The file's bytes, or one InputError line: `what` names the role ("gold file ")."""
    if str(path) == STDIN:
        return sys.stdin.buffer.read()
    where = f"{what}{path}"
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{where}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read ({exc.strerror})") from None


def read_text(path: str | Path, what: str = "") -> str:
    """A whole file as strict UTF-8 text (term lists, gold files, notes)."""
    return decode(read_bytes(path, what), f"{what}{path}")


def decode(data: bytes, name: str) -> str:
    """Strict UTF-8: a note we cannot decode exactly is a note we cannot return exactly."""
    nul = data.find(b"\x00")
    if nul != -1:
        raise InputError(f"{name}: contains a NUL byte at byte {nul} (binary file?)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte {exc.start})") from None


def read_note(path: str) -> Note:
    name = "<stdin>" if path == STDIN else path
    data = read_bytes(path)
    if not data:
        raise InputError(f"{name}: input is empty")
    return Note(name, decode(data, name))


def read_notes(paths: list[str]) -> list[Note]:
    """All inputs, read and checked before any is processed: no partial output."""
    return [read_note(p) for p in (paths or [STDIN])]


def parse_jsonl(note: Note, field: str) -> list[dict[str, Any]]:
    """JSON Lines records; each must be an object whose `field` is a string (or missing/empty).

    Blank lines are skipped. Errors name the line number, never its content.
    """
    records: list[dict[str, Any]] = []
    for lineno, line in enumerate(note.text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{note.source}:{lineno}: malformed JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{note.source}:{lineno}: a JSON Lines record must be an object")
        value = obj.get(field)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{note.source}:{lineno}: field {field!r} is not a string")
        records.append(obj)
    return records


def iter_fields(records: list[dict[str, Any]], field: str) -> Iterator[str]:
    for r in records:
        yield r.get(field) or ""
