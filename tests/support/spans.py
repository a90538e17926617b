"""Which words of a text a detector's spans cover: the currency of detector assertions."""

from __future__ import annotations

import re
from collections.abc import Sequence

from phiguard.spans import Span

WORD = re.compile(r"\w+")


def flagged(text: str, spans: Sequence[Span], kind: str | None = None) -> set[str]:
    """The \\w+ tokens of `text` that some span (of `kind`, if given) overlaps."""
    return {
        m.group()
        for m in WORD.finditer(text)
        if any(s.start < m.end() and m.start() < s.end and kind in (None, s.type) for s in spans)
    }


def covered(text: str, spans: Sequence[Span], needle: str, kind: str | None = None) -> bool:
    """Is every \\w+ token of the first occurrence of `needle` overlapped by a span?"""
    at = text.index(needle)
    toks = [(m.start() + at, m.end() + at) for m in WORD.finditer(needle)]
    return all(
        any(s.start < e and b < s.end and kind in (None, s.type) for s in spans) for b, e in toks
    )
