"""Whole entities: when part of a name or facility is found, cover all of it.

A masked "Anna" beside a readable "S." or a masked "Methodist" beside "Hospital" still
identifies. `entities.name` grows NAME spans over adjacent initials, middle names and
suffixes; `entities.facility` grows LOCATION spans over the facility designator after them.
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FUNCTION_WORDS, GOOD, WEAK_SIGNAL, span
from phiguard.detectors.local.clinical.facilities import designator_at
from phiguard.detectors.local.clinical.lexicon import Lexicon
from phiguard.detectors.local.clinical.oov import is_unknown
from phiguard.detectors.local.clinical.tokens import Note
from phiguard.detectors.local.clinical.vocab import vocab
from phiguard.spans import PhiType, Span
from phiguard.textkeys import fold

_INITIAL_AFTER = re.compile(r"[ \t]+([A-Z])\.?(?=[\s,;:)?!]|\.|$)")
_SUFFIX_AFTER = re.compile(r",?[ \t]+(Jr|Sr|II|III|IV|jr|sr)\b\.?")
_WORD_AFTER = re.compile(r"[ \t]+([^\W\d_][^\W\d_'’-]*)")
_INITIAL_BEFORE = re.compile(r"(?<![\w.])([A-Z])\.?[ \t]+$")
_WORD_BEFORE = re.compile(r"(?<![\w'’-])([^\W\d_][^\W\d_'’-]*)[ \t]+$")
_HYPHEN_AFTER = re.compile(r"[-‐‑]([^\W\d_][^\W\d_'’]*)")
_HYPHEN_BEFORE = re.compile(r"(?<![\w'’-])([^\W\d_][^\W\d_'’]*)[-‐‑]$")
_MAX_STEPS = 3
_NOT_PARTS = vocab("names")["months"] | vocab("names")["not-after-role"]
_NOT_INITIALS = frozenset("AI")


def _name_part(word: str, note: Note, lex: Lexicon) -> bool:
    """A word that continues a name it stands next to: Title case in mixed-case text, and a
    dictionary name (even one that is also a word: "Imani Brooks") or a word in no
    vocabulary."""
    if note.upper or note.lower or not word[0].isupper() or word.isupper():
        return False
    low = fold(word)
    if (low in lex.clinical and word.isascii()) or low in FUNCTION_WORDS or low in _NOT_PARTS:
        return False  # an accented word is no clinical abbreviation ("Åsa" is not ASA)
    return lex.is_name_word(low) or is_unknown(low, lex)


def _capitalised_by_position(text: str, at: int, lex: Lexicon) -> bool:
    """A common word that opens a sentence ("Call Carlos Salazar", "Ask Maria") is capitalised
    for its position, not because it is part of the name after it."""
    word = _WORD_AFTER.match(" " + text[at:])
    if word is None or not lex.is_common(fold(word.group(1))):
        return False
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?:;\n" or text[:at].endswith("\n")


def whole_names(note: Note, found: list[Span], lex: Lexicon) -> list[Span]:
    """entities.name: a NAME span grown over adjacent initials, middle names and suffixes."""
    text, out = note.text, []
    for s in found:
        if s.type != PhiType.NAME.value or s.score < WEAK_SIGNAL:
            continue
        start, end = s.start, s.end
        for _ in range(_MAX_STEPS):
            m = _INITIAL_AFTER.match(text, end)
            if m and m.group(1) not in _NOT_INITIALS:
                end = m.end(1) + (1 if text[m.end(1) : m.end(1) + 1] == "." else 0)
                continue
            m = _SUFFIX_AFTER.match(text, end)
            if m:
                end = m.end()
                continue
            m = _HYPHEN_AFTER.match(text, end)
            if m and fold(m.group(1)) not in lex.clinical:
                end = m.end(1)  # "Seo-yeon", "Tanaka-Bell": a hyphenated name is one name
                continue
            m = _WORD_AFTER.match(text, end)
            if m and _name_part(m.group(1), note, lex):
                end = m.end(1)
                continue
            break
        for _ in range(_MAX_STEPS):
            head = text[max(0, start - 40) : start]
            m = _INITIAL_BEFORE.search(head)
            if m and m.group(1) not in _NOT_INITIALS:
                start -= len(head) - m.start(1)
                continue
            m = _WORD_BEFORE.search(head)
            if (
                m
                and _name_part(m.group(1), note, lex)
                and not _capitalised_by_position(text, start - (len(head) - m.start(1)), lex)
            ):
                start -= len(head) - m.start(1)
                continue
            m = _HYPHEN_BEFORE.search(head)
            if m and fold(m.group(1)) not in lex.clinical:
                start -= len(head) - m.start(1)
                continue
            break
        if (start, end) != (s.start, s.end):
            out.append(span(start, end, PhiType.NAME, min(s.score, GOOD), "entities.name"))
    return out


def whole_facilities(note: Note, found: list[Span]) -> list[Span]:
    """entities.facility: a LOCATION span grown over the designator right after it
    ("Methodist" -> "Methodist Hospital")."""
    toks, out = note.tokens, []
    for s in found:
        if s.type != PhiType.LOCATION.value:
            continue
        k = note.index_at(s.end)
        if k >= len(toks) or note.text[s.end : toks[k].start] not in (" ", "  "):
            continue
        size = designator_at(toks, k)
        if size:
            end = toks[k + size - 1].end
            out.append(
                span(s.start, end, PhiType.LOCATION, min(s.score, GOOD), "entities.facility")
            )
    return out
