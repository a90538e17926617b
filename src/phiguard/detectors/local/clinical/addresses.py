"""Street addresses and "City, ST 12345" tails.

A street address is a house number, up to four name words and a street-type word; the city,
state and ZIP that often follow are folded into the same span.
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FAIR, FUNCTION_WORDS, GOOD, STRONG, span
from phiguard.detectors.local.clinical.lexicon import Lexicon
from phiguard.spans import PhiType, Span

_STATES = (
    r"AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH"
    r"|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
# Street types in Title Case or capitals; "ct" (chest tube) and "way" ("3 way foley") in lower
# case are clinical words, so the suffix match is case-sensitive.
_SUFFIX = (
    r"(?:St|Street|Rd|Road|Ave|Avenue|Blvd|Boulevard|Ln|Lane|Way|Ct|Court|Pl|Place|Ter|Terrace"
    r"|Pkwy|Parkway|Hwy|Highway|Cir|Circle|Pike|Trail|Dr(?=\.?[ \t]*[,\n])|Drive)"
)
_SUFFIX = _SUFFIX + "|" + _SUFFIX.upper().replace("(?=\\.?[ \\T]*[,\\N])", "(?=\\.?[ \\t]*[,\\n])")
_CITY_TAIL = (
    rf"(?:,?\s*(?:(?:apt|suite|ste|unit|#)\.?\s*\w+,?\s*)?"
    rf"(?:[A-Z][^\W\d_]+(?:\s+[A-Z][^\W\d_]+){{0,2}},\s*(?:{_STATES})\b(?:\s+\d{{5}}(?:-\d{{4}})?)?"
    rf"|\s+in\s+[A-Z][^\W\d_A-Z]+(?:\s+[A-Z][^\W\d_A-Z]+)?))?"
)
_STREET = re.compile(
    rf"(?<![\w/.])\d{{1,6}}[ \t]+(?:[NSEW]\.?[ \t]+|(?:North|South|East|West)[ \t]+)?"
    rf"(?P<street>(?:[A-Z](?:[^\W\d_]|['.-])*[ \t]+){{1,4}})(?:{_SUFFIX})\b\.?{_CITY_TAIL}"
)
_CITY_STATE_ZIP = re.compile(
    rf"\b(?:\d{{1,6}}\s+)?[A-Z][^\W\d_]+(?:\s+[A-Z][^\W\d_]+){{0,2}},\s*(?:{_STATES})\s+\d{{5}}(?:-\d{{4}})?\b"
)


_WORDS = re.compile(r"[A-Za-z]{2,}")
_IN_TOWN = re.compile(r"\s+in\s+([A-Z][^\W\d_A-Z]+(?:\s+[A-Z][^\W\d_A-Z]+)?)$")
# Title-case first words of street names that are also clinical words ("Port", "Mount").
_STREET_PREFIX = frozenset({"port", "mount", "lake", "fort", "glen", "point", "cape"})
_LIVES_AT = re.compile(r"(?i)(?:lives|living|resides)\s+at\s*$|address\W*$")
# "Darrylton, NY": a capitalised place and a state code; codes that are also credentials or
# words ("Smith, MD", "Jones, PA") count only after a residence/origin cue.
_PLACE_WORD = r"(?:[A-Z][^\W\d_A-Z]+|[A-Z]{3,})"
_TOWN_STATE = re.compile(
    rf"\b({_PLACE_WORD}(?:[ \t]+{_PLACE_WORD}){{0,2}}),[ \t]*(?:{_STATES})\b(?![\w.-])"
)
_AMBIGUOUS_STATES = frozenset({"MD", "PA", "ME", "OR", "IN", "OK", "HI", "DE", "LA", "MS", "CO"})
_ORIGIN_CUE = re.compile(r"(?i)(?:lives|living|from|in|to|at|near|resides|moved)\s*$")
_CUE_IN_MATCH = re.compile(r"(?i)\b(?:from|in|to|at|near)[ \t]+(?=\S)")
_NOT_STREET_WORD = re.compile(r"\b(?:WAY|FOLEY|TIMES|X|UNITS?|MG|CC|ML|L|PM|AM|HR|HRS)\b", re.I)


_LIVES_STREET = re.compile(
    r"(?i)\b(?:lives|living|resides|residing)\s+at\s+(\d{1,6}\s+(?:[nsew]\.?\s+)?[a-z][a-z'-]*"
    r"(?:\s+[a-z][a-z'-]*)?\s+(?:st|street|rd|road|ave|avenue|dr|drive|lane|ln|blvd|boulevard|way"
    r"|court|ct|place|pl|terrace|circle|pike|highway|hwy)\b\.?)"
)


def find_addresses(text: str, lex: Lexicon, upper: bool = False) -> list[Span]:
    """`upper`: the note is in capitals, where "3 EPISODES ST" looks like a street, so a
    street there needs its city tail ("45 MAIN ST, SPRINGFIELD, IL")."""
    out: list[Span] = []
    for m in _STREET.finditer(text):
        if (
            upper
            and "," not in m.group()
            and not _LIVES_AT.search(text, max(0, m.start() - 14), m.start())
        ):
            continue
        words = m.group().split(None, 1)[1] if " " in m.group() else ""
        if _NOT_STREET_WORD.match(words):
            continue
        street = _WORDS.findall(m.group("street"))
        if any(
            (w.lower() in lex.clinical and not (w.istitle() and w.lower() in _STREET_PREFIX))
            or w.lower() in FUNCTION_WORDS
            for w in street
        ):
            continue  # "8 TRACH IN PLACE", "103 SR TO ST"; but "42 Port Quill St"
        tail = _IN_TOWN.search(m.group())  # "... St. in Quillby": the "in" is no PHI
        if tail:
            out.append(
                span(
                    m.start() + tail.start(1), m.end(), PhiType.ADDRESS, STRONG, "addresses.street"
                )
            )
        end = m.start() + tail.start() if tail else m.end()
        out.append(span(m.start(), end, PhiType.ADDRESS, STRONG, "addresses.street"))
    for m in _LIVES_STREET.finditer(text):  # "lives at 27 larkspur lane": any case
        out.append(span(m.start(1), m.end(1), PhiType.ADDRESS, GOOD, "addresses.street"))
    for m in _TOWN_STATE.finditer(text):
        code = text[m.end() - 2 : m.end()]
        start = m.start(1)
        # "OLD FILMS FROM QUARRYTON, MD": the place starts after a cue word inside the match
        for w in _CUE_IN_MATCH.finditer(m.group(1)):
            start = m.start(1) + w.end()
        first_word = text[start : m.end(1)].split()[0].lower()
        cued = bool(_ORIGIN_CUE.search(text, max(0, start - 12), start))
        if first_word in FUNCTION_WORDS or first_word in lex.clinical:
            continue
        place = text[start : m.end(1)].lower().split()
        if all(
            (lex.is_word(w) or w in lex.clinical)
            and w not in lex.us_cities
            and w not in lex.world_cities
            for w in place
        ):
            continue  # "DIMINISHED IN LOWER LOBES, CT": plain words, then a chest tube
        if lex.is_name_word(first_word) and not cued:
            continue  # "Smith, NY" could be a name and a credential-like code
        if code in _AMBIGUOUS_STATES and not cued:
            continue
        out.append(span(start, m.end(1), PhiType.LOCATION, FAIR, "addresses.town-state"))
    for m in _CITY_STATE_ZIP.finditer(text):
        out.append(span(m.start(), m.end(), PhiType.ADDRESS, GOOD, "addresses.city-zip"))
    return out
