"""Gold PHI annotations: JSONL corpora and sample `.json` files, strictly validated."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from phiguard.errors import InputError
from phiguard.io import read_text


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """One gold annotation; `label` is the normalised label (NAME, DATE, LOCATION, ...)."""

    start: int
    end: int
    label: str
    orig_label: str = ""


@dataclass(frozen=True, slots=True)
class GoldRecord:
    """One annotated document."""

    id: str
    text: str
    spans: tuple[GoldSpan, ...]


@dataclass(frozen=True, slots=True)
class GoldSet:
    """The records of one gold file; `name` is the file name (used to pick targets)."""

    name: str
    path: str
    format: str  # "jsonl" (PhysioNet corpus) or "sample" (one document, text in a side file)
    records: tuple[GoldRecord, ...]


def _as_int(value: object, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}: span field {key!r} must be an integer")
    return value


def _parse_record(obj: object, text: str | None, where: str, default_id: str) -> GoldRecord:
    """Validate one record; error messages give positions and field names, never text."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object")
    if text is None:
        text = obj.get("text")
        if not isinstance(text, str):
            raise InputError(f"{where}: missing string field 'text'")
    rec_id = obj.get("id", default_id)
    raw_spans = obj.get("spans")
    if not isinstance(raw_spans, list):
        raise InputError(f"{where}: missing list field 'spans'")
    spans: list[GoldSpan] = []
    for i, raw in enumerate(raw_spans):
        at = f"{where}, span {i}"
        if not isinstance(raw, dict):
            raise InputError(f"{at}: expected a JSON object")
        start = _as_int(raw.get("start"), at, "start")
        end = _as_int(raw.get("end"), at, "end")
        if not 0 <= start < end <= len(text):
            raise InputError(f"{at}: offsets {start}..{end} outside text of length {len(text)}")
        label = raw.get("label")
        if not isinstance(label, str) or not label:
            raise InputError(f"{at}: missing string field 'label'")
        expected = raw.get("text")
        if isinstance(expected, str) and text[start:end] != expected:
            raise InputError(f"{at}: span text does not match the offsets {start}..{end}")
        orig = raw.get("orig_label")
        spans.append(GoldSpan(start, end, label.upper(), orig if isinstance(orig, str) else ""))
    spans.sort(key=lambda s: (s.start, s.end))
    return GoldRecord(str(rec_id), text, tuple(spans))


def load_gold(path: str | Path) -> GoldSet:
    """Load a gold file: PhysioNet-style JSONL (one record a line) or a sample `.json` object.

    The sample format is `{"id", "text_file", "spans"}` with `text_file` relative to the JSON
    file (an inline `"text"` is accepted too). Any problem raises `InputError` naming the file
    and line, never the note text.
    """
    p = Path(path)
    raw = read_text(p, "gold file ")
    if not raw.strip():
        raise InputError(f"gold file is empty: {p}")
    records: list[GoldRecord] = []
    if p.suffix.lower() == ".jsonl":
        # split on "\n" only: str.splitlines() would also break on U+2028 inside a note
        for lineno, line in enumerate(raw.split("\n"), 1):
            if not line.strip():
                continue
            where = f"{p}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{where}: invalid JSON ({exc.msg})") from None
            records.append(_parse_record(obj, None, where, f"line{lineno}"))
        return GoldSet(p.name, str(p), "jsonl", tuple(records))
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    objs = obj if isinstance(obj, list) else [obj]
    for i, item in enumerate(objs):
        where = f"{p} [record {i}]" if isinstance(obj, list) else str(p)
        text: str | None = None
        if isinstance(item, dict) and "text" not in item:
            text_file = item.get("text_file")
            if not isinstance(text_file, str):
                raise InputError(f"{where}: needs a string field 'text' or 'text_file'")
            text = read_text(p.parent / text_file, "gold text file ")
        default_id = p.name.removesuffix(".json").removesuffix(".gold")
        records.append(_parse_record(item, text, where, default_id))
    if not records:
        raise InputError(f"gold file has no records: {p}")
    return GoldSet(p.name, str(p), "sample", tuple(records))


# --------------------------------------------------------------------------- scores


def annotated_age_policy(gold: GoldSet) -> str:
    """The age policy the annotators followed: "all" if any AGE span is 89 or under.

    HIPAA Safe Harbor (and the PhysioNet gold) treat only ages over 89 as PHI; other gold sets
    (the ED sample) mark every age. Scoring a detector against a guideline it was not
    configured for measures the configuration, not the detector, so `phiguard eval` runs the
    local detector with the matching policy unless `--age-policy` is given.
    """
    for record in gold.records:
        for s in record.spans:
            digits = re.sub(r"\D", "", record.text[s.start : s.end])
            if s.label == "AGE" and digits and int(digits) <= 89:
                return "all"
    return "over89"


# --------------------------------------------------------------------------- targets
