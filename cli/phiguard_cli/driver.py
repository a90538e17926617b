"""Drives mask/deid/reid over inputs: plain files, or JSON Lines records rewritten in place."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from phiguard.errors import InputError
from phiguard.io import Note, parse_jsonl, read_notes
from phiguard.spans import Span

log = logging.getLogger("phiguard.cli")


def emit(outputs: list[tuple[Note, str]], out: str | None) -> None:
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


def check_out(notes: list[Note], out: str | None, fmt: str) -> None:
    if len(notes) > 1 and out is None and fmt == "text":
        raise InputError("several inputs in text format need --out DIR (or use --format jsonl)")


def spans_json(spans: list[Span], text: str, show_text: bool) -> list[dict[str, object]]:
    return [s.to_dict(text if show_text else None) for s in spans]


def dump(obj: object, fmt: str) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2 if fmt == "json" else None) + "\n"


def transform_command(
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
        check_out(notes, opts["out"], fmt)
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
                dump(docs[0] if len(docs) == 1 else docs, "json")
                if fmt == "json"
                else "".join(dump(d, "jsonl") for d in docs)
            )
            outputs = [(notes[0], body)]
    emit(outputs, opts["out"])
    log.info("%s: %d note(s)", verb, count)
