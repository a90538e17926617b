"""Held-out gold sets written for phiguard (tests/data/heldout/*.txt), parsed from inline markup.

Each non-comment line is one record; PHI is marked `{{TYPE:text}}`. The sentences are invented
(query style, general PII style, PHI-free), never tuned on: see docs/accuracy.md, "Held out".
"""

from __future__ import annotations

import re
from pathlib import Path

from phiguard.evaluation import GoldRecord, GoldSpan

HELDOUT = Path(__file__).resolve().parent.parent / "data" / "heldout"
_MARK = re.compile(r"\{\{([A-Z]+):(.+?)\}\}")


def parse_line(line: str, rec_id: str) -> GoldRecord:
    """One marked-up line as a gold record (offsets into the text without markup)."""
    parts: list[str] = []
    spans: list[GoldSpan] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(line):
        parts.append(line[pos : m.start()])
        length += m.start() - pos
        value = m.group(2)
        spans.append(GoldSpan(length, length + len(value), m.group(1), m.group(1)))
        parts.append(value)
        length += len(value)
        pos = m.end()
    parts.append(line[pos:])
    return GoldRecord(rec_id, "".join(parts), tuple(spans))


def load(name: str) -> list[GoldRecord]:
    """The records of tests/data/heldout/<name>.txt."""
    lines = (HELDOUT / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return [
        parse_line(ln, f"{name}-{i}")
        for i, ln in enumerate(lines, 1)
        if ln.strip() and not ln.startswith("#")
    ]
