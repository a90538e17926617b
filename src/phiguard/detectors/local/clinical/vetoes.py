"""Vetoes: findings that look like names but are medical eponyms ("Babinski", "Glasgow coma
scale", "Apgar 9", "Bell palsy"). A title before the word ("Dr. Bell") outscores the veto."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from phiguard.detectors.local.clinical.vocab import vocab
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


@lru_cache(maxsize=1)
def states() -> frozenset[str]:
    """US state names and codes, lower case: data/places/us_states.txt (one word each) and
    the two-word names of data/rules/locations.txt ("north_carolina")."""
    path = resources.files("phiguard") / "data" / "places" / "us_states.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    one = {" ".join(ln.lower().split()) for ln in lines if ln.strip() and ln[0] != "#"}
    return frozenset(one | {w.replace("_", " ") for w in vocab("locations")["two-word-states"]})


_PREV_WORD = re.compile(r"([A-Za-z]+)[ \t]+$")
_NEXT = re.compile(r"[ \t]+([A-Za-z]+)")


def veto_states(text: str, spans: list[Span]) -> list[Span]:
    """`spans` without findings inside a two-word state name ("North Carolina", or its
    "Carolina"): it names no town. One-word states are left: the PhysioNet gold marks them."""
    names = states()
    out = []
    for s in spans:
        words = " ".join(text[s.start : s.end].lower().split())
        prev = _PREV_WORD.search(text, max(0, s.start - 12), s.start)
        nxt = _NEXT.match(text, s.end)
        if (
            (" " in words and words in names)
            or (prev is not None and f"{prev.group(1).lower()} {words}" in names)
            or (nxt is not None and f"{words} {nxt.group(1).lower()}" in names)
        ):
            continue
        out.append(s)
    return out


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
