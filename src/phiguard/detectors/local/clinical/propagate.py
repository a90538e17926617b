"""Consistency: a word judged to be a name or place once is masked everywhere in the note.

Notes mention the same person many times, but only some mentions carry a cue ("Mr. Abernathy
... Abernathy's wife"). Re-marking every occurrence of a confidently found, non-ordinary word
keeps the masking consistent, so the name cannot be recovered from its uncued mentions.
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FUNCTION_WORDS, WEAK, span
from phiguard.detectors.local.clinical.lexicon import Lexicon
from phiguard.detectors.local.clinical.tokens import Note
from phiguard.spans import PhiType, Span

_PROPAGATE = {PhiType.NAME.value, PhiType.LOCATION.value, PhiType.ORGANIZATION.value}


def propagate(note: Note, found: list[Span], lex: Lexicon) -> list[Span]:
    """Every other mention in `note` of a word confidently found as a name or place."""
    return propagate_words(note, words_to_propagate(note.text, found, lex))


def words_to_propagate(text: str, found: list[Span], lex: Lexicon) -> dict[str, str]:
    """The words (lower case -> PHI type) of confident NAME/LOCATION/ORGANIZATION finds that
    are no ordinary, clinical or facility word."""
    words: dict[str, str] = {}
    for s in found:
        if s.type not in _PROPAGATE or s.score < 0.7:
            continue
        for tok in Note.of(text[s.start : s.end]).tokens:
            low = tok.low
            if len(low) < 2 or not low[0].isalpha() or low in FUNCTION_WORDS:
                continue
            if lex.is_common(low) or low in lex.clinical or low in lex.facility_stems:
                continue
            words.setdefault(low, s.type)
    return words


def propagate_words(note: Note, words: dict[str, str]) -> list[Span]:
    if not words:
        return []
    return [
        span(t.start, t.end, PhiType(words[t.low]), WEAK, "consistency.propagated")
        for t in note.tokens
        if t.low in words
    ]


_POSSESSIVE = re.compile(r"['’]s\b")


def split_possessives(text: str, spans: list[Span]) -> list[Span]:
    """Cut the possessive "'s" out of multi-word spans ("St Brigid's Hospital"): it is not
    PHI, and keeping it would also hide the word boundary from downstream masking."""
    out: list[Span] = []
    for s in spans:
        cuts = [m.span() for m in _POSSESSIVE.finditer(text, s.start, s.end)]
        if not cuts:
            out.append(s)
            continue
        start = s.start
        for a, b in cuts:
            if a > start:
                out.append(Span(start, a, s.type, s.score, s.source))
            start = b
        if start < s.end and text[start : s.end].strip():
            lead = len(text[start : s.end]) - len(text[start : s.end].lstrip())
            out.append(Span(start + lead, s.end, s.type, s.score, s.source))
    return out
