"""Robust patterns: dates, phones, IDs, addresses and ages in the shapes the older rules miss.

Each rule is one small function `(text) -> spans` named by its registry name. They cover what
invented held-out sentences showed (docs/accuracy.md): dates glued to letters or with spaced
separators ("DOB:3/4/2021", "3 - 4 - 2021"), compact dates ("03MAR2021"), extensions ("x23"),
international numbers, mixed letter/digit codes ("1EG4-TE5-MK72"), cued IDs ("plate 7ABC123"),
apartment numbers, "City ST 12345" without a comma, spelled and parenthesised ages.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from phiguard.detectors.local.clinical.common import FAIR, GOOD, STRONG, span
from phiguard.detectors.local.clinical.vocab import vocab
from phiguard.spans import PhiType, Span

VOCAB = vocab("robust")
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
_STATES = (
    r"AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH"
    r"|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
_COMPACT_DATE = re.compile(
    rf"(?<![A-Za-z0-9])(\d{{1,2}})[-\s]?({_MON})[-\s]?((?:19|20)?\d\d)(?![A-Za-z0-9])", re.I
)
# A full numeric date glued to a letter or colon ("DOB:3/4/2021", "on3/4/21") or written with
# spaces round its separators ("3 / 4 / 2021", "03 - 04 - 2021").
_GLUED_DATE = re.compile(
    r"(?:(?<=[A-Za-z:#])|(?<![\w/.:-]))(\d{1,2})(?:([/.-])|\s+([/.-])\s+)(\d{1,2})"
    r"(?(2)\2|\s+\3\s+)((?:19|20)\d\d|\d\d)(?![\d/%]|\.\d)"
)
_EXTENSION = re.compile(r"(?<![\w.])(?:x|ext\.?|extension)[ \t]?(\d{2,5})\b(?![/%.x])", re.I)
_EXTENSION_BEFORE = re.compile(
    r"(?:\d{4}[ \t]*|\b(?:call|phone|ph|tel|at|reach|dial|on|or|cell|office|desk)[ \t]+)$", re.I
)
_INTERNATIONAL = re.compile(r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}\b")
_SPACED_PHONE = re.compile(
    r"\b(?:call|phone|ph|tel|telephone|cell|mobile|fax|on|at|or|reach|number)[ \t]*:?[ \t]+"
    r"(\(?\d{2,4}\)?(?:[ .-]\d{2,4}){2,4})(?![\d/]|[.-]\d)",
    re.I,
)
_MIXED_CODE = re.compile(
    r"(?<![\w-])(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]+(?:-[A-Z0-9]+)*(?![\w-])"
)
_LETTER_GROUP = re.compile(r"[A-Z]+")
_DIGIT_GROUP = re.compile(r"\d+")
_RANGE = re.compile(r"\d-\d")
_CUED_ID = re.compile(
    rf"\b(?:{'|'.join(sorted(VOCAB['id-cues'], key=len, reverse=True))})"
    r"(?:[ \t]+(?:id|number|no\.?|#|num))?[ \t]*(?:is|was|:|#)?[ \t]*"
    r"(?P<id>[A-Za-z0-9]*\d[A-Za-z0-9-]{2,})\b",
    re.I,
)
_APARTMENT = re.compile(
    r"\b(?:apt|apartment|suite|ste|flat)\.?[ \t]*#?[ \t]*(?:\d+[A-Za-z]?|[A-Za-z]\d+)\b", re.I
)
_TITLE_WORD = r"[A-Z][^\W\d_A-Z]+"  # "Birch", "Québec": a capital, then lower-case letters
_STREET_NAME = re.compile(
    rf"\b(?:on|at|off|near|onto)[ \t]+((?:{_TITLE_WORD}[ \t]+){{1,3}}(?:Street|St|Road|Rd|Avenue"
    r"|Ave|Lane|Ln|Drive|Boulevard|Blvd|Court|Place|Way|Terrace|Circle|Parkway|Highway|Hwy)\b\.?)"
)
_CITY_STATE_ZIP = re.compile(
    rf"\b{_TITLE_WORD}(?:[ \t]+{_TITLE_WORD}){{0,2}}[ \t]+(?:{_STATES})[ \t]+\d{{5}}(?:-\d{{4}})?\b"
)
_UNITS = "|".join(sorted(VOCAB["spelled-units"]))
_TENS = "|".join(sorted(VOCAB["spelled-tens"]))
_SPELLED_AGE = re.compile(
    rf"\b((?:one[ -]hundred(?:[ -]and)?[ -]?)?(?:{_TENS})(?:[ -](?:{_UNITS}))?|one[ -]hundred)"
    rf"(?=[ -]+(?:years?|yrs?)(?:[ -]+old)?\b|[ -]*(?:yo|y/o)\b)"
    rf"|\b(?:aged|age|is|turned|turns|was)[ \t]+((?:{_TENS})(?:[ -](?:{_UNITS}))?)\b"
    rf"(?![ -]*(?:percent|%|mg|beats|bpm))",
    re.I,
)
_TURNED = re.compile(r"\b(?:turned|turns|turning)[ \t]+(\d{2,3})\b(?![ \t]*(?:%|mg|times|x))", re.I)
_PAREN_AGE = re.compile(r" ?\((\d{2,3})\)|, (\d{2,3}),")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z0-9]*)\W*$")
_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DECADES = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_VALUES = {w: i for i, w in enumerate(_NUMBERS, 1)}
_TEN_VALUES = {w: 10 * i for i, w in enumerate(_DECADES, 2)}


def _valid(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def dates_compact(text: str) -> list[Span]:
    """dates.compact: "03MAR2021", "3-Mar-21", "03 MAR 2021" (day, month word, year)."""
    return [
        span(m.start(), m.end(), PhiType.DATE, STRONG, "dates.compact")
        for m in _COMPACT_DATE.finditer(text)
        if 1 <= int(m.group(1)) <= 31
    ]


def dates_glued(text: str) -> list[Span]:
    """dates.glued: a full numeric date glued to a letter or with spaced separators."""
    out = []
    for m in _GLUED_DATE.finditer(text):
        if _valid(int(m.group(1)), int(m.group(4))) or _valid(int(m.group(4)), int(m.group(1))):
            out.append(span(m.start(), m.end(), PhiType.DATE, GOOD, "dates.glued"))
    return out


def phones_extension(text: str) -> list[Span]:
    """phones.extension: "x23", "ext. 4412" after a number or a call cue."""
    return [
        span(m.start(1), m.end(1), PhiType.PHONE_OR_FAX, GOOD, "phones.extension")
        for m in _EXTENSION.finditer(text)
        if _EXTENSION_BEFORE.search(text, max(0, m.start() - 16), m.start())
    ]


def phones_international(text: str) -> list[Span]:
    """phones.international: "+47 22 55 01 88", and spaced groups after a call cue."""
    out = [
        span(m.start(), m.end(), PhiType.PHONE_OR_FAX, GOOD, "phones.international")
        for m in _INTERNATIONAL.finditer(text)
        if sum(c.isdigit() for c in m.group()) >= 8
        and not (m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "+"))
    ]
    for m in _SPACED_PHONE.finditer(text):
        if 8 <= sum(c.isdigit() for c in m.group(1)) <= 15:
            out.append(
                span(m.start(1), m.end(1), PhiType.PHONE_OR_FAX, FAIR, "phones.international")
            )
    return out


def ids_mixed(text: str) -> list[Span]:
    """ids.mixed: capital letter/digit codes such as "1EG4-TE5-MK72", "X49320176", "7ABC123"
    (not settings or doses: "14X700X100%", "TYLENOL650MG", "11P-7AM")."""
    out = []
    for m in _MIXED_CODE.finditer(text):
        code = m.group()
        letters = _LETTER_GROUP.findall(code)
        digits = _DIGIT_GROUP.findall(code)
        if len(code) < 7 or sum(map(len, digits)) < 3 or text[m.end() : m.end() + 1] == "%":
            continue
        prefixed = len(letters) == 1 and len(letters[0]) == 1 and code[0].isalpha()
        if prefixed and len(digits) == 1 and len(digits[0]) >= 6:  # "X49320176"
            out.append(span(m.start(), m.end(), PhiType.ID, FAIR, "ids.mixed"))
            continue
        if any(len(g) > 4 or g.lower() in VOCAB["code-units"] for g in letters):
            continue
        if _RANGE.search(code):
            continue  # "83-85NSR": a range and a rhythm
        if len(digits) >= 2:
            out.append(span(m.start(), m.end(), PhiType.ID, FAIR, "ids.mixed"))
    return out


def ids_plate(text: str) -> list[Span]:
    """ids.plate: a code after an identifier cue word ("plate 7ABC123", "passport X4932")."""
    return [
        span(m.start("id"), m.end("id"), PhiType.ID, GOOD, "ids.plate")
        for m in _CUED_ID.finditer(text)
    ]


def addresses_unit(text: str) -> list[Span]:
    """addresses.unit: "Apt 3B", "Suite 200", "apartment 12"."""
    return [
        span(m.start(), m.end(), PhiType.ADDRESS, GOOD, "addresses.unit")
        for m in _APARTMENT.finditer(text)
    ]


def addresses_street_name(text: str) -> list[Span]:
    """addresses.street-name: a street without its number after on/at ("on Birch Street")."""
    return [
        span(m.start(1), m.end(1), PhiType.ADDRESS, FAIR, "addresses.street-name")
        for m in _STREET_NAME.finditer(text)
    ]


def addresses_city_state_zip(text: str) -> list[Span]:
    """addresses.city-state-zip: "Springfield IL 62704" (no comma)."""
    return [
        span(m.start(), m.end(), PhiType.ADDRESS, GOOD, "addresses.city-state-zip")
        for m in _CITY_STATE_ZIP.finditer(text)
    ]


def _spelled_value(words: str) -> int:
    total = 0
    for w in re.split(r"[ -]+", words.lower()):
        total += 100 if w == "hundred" else _TEN_VALUES.get(w, 0) + _VALUES.get(w, 0)
    return total


def ages_spelled(text: str, policy: str) -> list[Span]:
    """ages.spelled: "NINETY-TWO year old", "is ninety-one" (over 89 unless policy "all")."""
    out: list[Span] = []
    low = text.lower()
    if not any(d in low for d in _DECADES) and "hundred" not in low:
        return out
    for m in _SPELLED_AGE.finditer(text):
        g = 1 if m.group(1) else 2
        before = _WORD_BEFORE.search(text, max(0, m.start() - 24), m.start())
        if g == 2 and before is not None and before.group(1).lower() in VOCAB["paren-not-age"]:
            continue  # "HR is ninety": a vital sign, not an age
        if policy == "all" or _spelled_value(m.group(g)) > 89:
            out.append(span(m.start(g), m.end(g), PhiType.AGE, GOOD, "ages.spelled"))
    return out


def ages_turned(text: str, policy: str) -> list[Span]:
    """ages.stated: "turned 95", "turns 101" (over 89 unless policy "all")."""
    out = []
    for m in _TURNED.finditer(text):
        value = int(m.group(1))
        if value <= 120 and (policy == "all" or value > 89):
            out.append(span(m.start(1), m.end(1), PhiType.AGE, GOOD, "ages.stated"))
    return out


def ages_paren(text: str, policy: str) -> list[Span]:
    """ages.paren: "(95)" or ", 95," right after a word that is no measurement
    ("Rose Pike (95)", "Rose Pike, 95, was admitted")."""
    out = []
    for m in _PAREN_AGE.finditer(text):
        if not m.start() or not text[m.start() - 1].isalpha():
            continue  # the word right before must be a word, not a number or a unit
        g = 1 if m.group(1) else 2
        value = int(m.group(g))
        before = _WORD_BEFORE.search(text, max(0, m.start() - 24), m.start())
        if before is None or before.group(1).lower() in VOCAB["paren-not-age"]:
            continue
        if value <= 120 and (policy == "all" or value > 89):
            out.append(span(m.start(g), m.end(g), PhiType.AGE, FAIR, "ages.paren"))
    return out


TEXT_RULES: tuple[tuple[str, Callable[[str], list[Span]]], ...] = (
    ("dates.compact", dates_compact),
    ("dates.glued", dates_glued),
    ("phones.extension", phones_extension),
    ("phones.international", phones_international),
    ("ids.mixed", ids_mixed),
    ("ids.plate", ids_plate),
    ("addresses.unit", addresses_unit),
    ("addresses.city-state-zip", addresses_city_state_zip),
    ("addresses.street-name", addresses_street_name),
)
AGE_RULES: tuple[tuple[str, Callable[[str, str], list[Span]]], ...] = (
    ("ages.spelled", ages_spelled),
    ("ages.stated", ages_turned),
    ("ages.paren", ages_paren),
)
