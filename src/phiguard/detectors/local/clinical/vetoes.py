"""Vetoes: findings that look like names but are medical eponyms ("Babinski", "Glasgow coma
scale", "Apgar 9", "Bell palsy"). A title before the word ("Dr. Bell") outscores the veto."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from phiguard.spans import PhiType, Span

_VETOED = frozenset({PhiType.NAME.value, PhiType.LOCATION.value})
_VETO_BELOW = 0.9  # findings at STRONG (a title, a labelled field) are never vetoed
_NEXT_WORD = re.compile(r"(?:['’]s)?[ \t]+([A-Za-z]+)")


@lru_cache(maxsize=1)
def eponyms() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(always, with-noun, nouns) from data/clinical/eponyms.txt."""
    path = resources.files("phiguard") / "data" / "clinical" / "eponyms.txt"
    sections: dict[str, set[str]] = {}
    current: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], set())
        elif line and not line.startswith("#"):
            current.update(w.lower() for w in line.split())
    return (
        frozenset(sections.get("always", ())),
        frozenset(sections.get("with-noun", ())),
        frozenset(sections.get("nouns", ())),
    )


def is_eponym(text: str, start: int, end: int) -> bool:
    """Is text[start:end] (one word) used as a medical eponym here?"""
    always, with_noun, nouns = eponyms()
    word = text[start:end].lower().removesuffix("'s").removesuffix("’s")
    if word in always:
        return True
    if word not in with_noun:
        return False
    m = _NEXT_WORD.match(text, end)
    return m is not None and m.group(1).lower() in nouns


def veto_eponyms(text: str, spans: list[Span]) -> list[Span]:
    """`spans` without one-word NAME/LOCATION findings below STRONG that are eponyms in
    context ("Glasgow coma scale", "Ottawa ankle rules")."""
    return [
        s
        for s in spans
        if not (
            s.type in _VETOED
            and s.score < _VETO_BELOW
            and " " not in text[s.start : s.end].strip()
            and is_eponym(text, s.start, s.end)
        )
    ]
