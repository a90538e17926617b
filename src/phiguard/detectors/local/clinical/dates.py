"""Dates in the forms clinicians write them, without times, doses, ratios or vital signs.

Clinical text is full of slash and dash numbers that are not dates (BP 120/80, PEEP 10/5,
pain 8/10, 1/2 NS, ranges 1-2). A number pair is a date only when it is a valid month/day
and no measurement context surrounds it; dash forms need an explicit date cue.
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FAIR, GOOD, STRONG, span
from phiguard.detectors.local.clinical.vocab import vocab
from phiguard.spans import PhiType, Span

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORD = r"(?:st|nd|rd|th)"

_FULL_NUMERIC = re.compile(
    r"(?<![\w/.:-])(\d{1,2})([/.-])(\d{1,2})\2((?:19|20)\d\d|\d{2})(?![\w/%]|[.:-]\d)"
    r"|(?<![\w/.:-])((?:19|20)\d\d)-(\d{1,2})-(\d{1,2})(?![\w/-])"
)
_MONTH_DAY = re.compile(r"(?<![\d/+])(?<!\d[.:-])(\d{1,2})/(\d{1,2})(?![\w/%]|\.\d|:\d)")
_MONTH_DAY_DASH = re.compile(
    r"\b(?:on|since|from|until|dated|d/c'?d|thru|through)\s+(\d{1,2})-(\d{1,2})(?![\w/-]|\.\d)",
    re.IGNORECASE,
)
_RANGE_TAIL = re.compile(r"\s*(?:-|to)\s*(\d{1,2})/(\d{1,2})\b")
_MONTH_NAME = re.compile(
    rf"\b(?:(\d{{1,2}}){_ORD}?\s+(?:of\s+)?{_MONTH}\b\.?(?:,?\s*(?:\d{{4}}|'?\d{{2}})\b(?![-:]\d))?"
    rf"|{_MONTH}\b\.?\s*(?:\d{{1,2}}{_ORD}?\b(?:,?\s*(?:\d{{4}}|'\d{{2}}))?|,?\s*\d{{4}}\b)"
    rf"|(?:january|february|march|april|june|july|august|september|october|november|december"
    rf"|jan|feb|aug|sept?|oct|nov|dec)\b\.?)",
    re.IGNORECASE,
)
_MONTH_ALONE = re.compile(
    r"\b(?:since|in|is|was|of|until|till|last|next|early|late|mid|during|through|around|about)\s+"
    r"(january|february|march|april|june|july|august|september|october|november|december)\b"
    r"|\b(?:since|until|till|last|next|early|late|mid)\s+(may)\b",
    re.IGNORECASE,
)
_ORDINAL_DAY = re.compile(
    rf"\b(?:on|since|until|by)\s+(?:the\s+)?(\d{{1,2}}{_ORD})\b"
    rf"(?!\s+(?:degree|time|times|line|dose|attempt|set|unit|floor|day|week|shift|try|bolus))",
    re.IGNORECASE,
)
_YEAR_ALWAYS = re.compile(
    r"(?<![\w$.,/:-])(19[6-9]\d|19[0-5]\d'[sS]|(?:19|20)\d0'?[sS])(?![\w%/:-]|\.\d)"
)
_YEAR_CUED = re.compile(
    r"\b(?:in|since|year|of|s/p|hx|history|dx|diagnosed|pmh|pmhx|mi|ami|cabg|cva|tia|ptca|pci"
    r"|[a-z]+ectomy|[a-z]+otomy|[a-z]+ostomy|[a-z]+plasty|tkr|thr|tka|tha"
    r"|stent|avr|mvr|redo|repair|surgery|resection|ablation|cardioversion|mva|nqwmi|imi"
    r"|x\s?\d|"
    rf"{_MONTH}),?\s+((?:19|20)\d\d)(?![\w%/:-]|\.\d)",
    re.IGNORECASE,
)
_APOS_YEAR = re.compile(
    r"(?<![\w'])'(\d{2})\b(?!['\"\d])|(?<![\w.])(?<![xX] )(?<![xX])(\d{2})'(?![\w'\"])"
)
_EVENT_YY = re.compile(
    r"\b(?:mi|ami|cabg|cva|tia|ptca|pci|avr|mvr|redo(?:\s+cabg)?|nqwmi|imi|stroke|chole"
    r"|cholecystectomy|appy|resection|ablation|cardioversion|pacer|ppm|aicd)"
    r"(?:\s+x\s?\d)?(?:\s+in)?\s+(\d{2})(?:\s+and\s+(\d{2}))?(?![\w%/:'-]|\.\d)",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(r"(?<![\w/.:+-])(\d{1,2})/(\d{2}|(?:19|20)\d\d)(?![\w/%]|\.\d)")

VOCAB = vocab("dates")

# Words just before a slash pair that make it a measurement, score or ratio, not a date.
_NOT_DATE_BEFORE = VOCAB["not-date-before"]
_NOT_DATE_AFTER = re.compile(
    r"\s*(?:pain|strength|ns|normal saline|tab|tabs|tablet|strength|amp|dose|doses|of the|"
    r"murmur|sem|systolic|holosystolic|scale|mmhg|peep|ps|cpap|ratio|bp|units?|mg|mcg|ml|cc"
    r"|bl|bottles?|sets?|cx|hours?|hrs?|days?|weeks?|wks?|minutes?|mins?|times|x|liters?|beats"
    r"|rue|lue|rle|lle|bue|ble|ue|le|bilat|throughout)\b"
    r"|\s*/\s*\d|\s*%",
    re.IGNORECASE,
)
_VENT = re.compile(
    r"(?i)\b(?:cpap|peep|psv?|simv|imv|bipap|vented|ventilator|settings?|trial|weaning|flowby"
    r"|fio2|pressure support|ac|prvc|\d+x\d+)\b|\d%[\s,]*(?:&\s*)?$"
)
_WORD_AFTER = re.compile(r"[ \t]+[a-z]")
# Lower-case month abbreviations that are also words: "dec" (decrease), "may", "mar", "aug".
_WORD_MONTHS = frozenset({"dec", "may", "mar", "aug", "march"})
_ORDINAL_IN = re.compile(r"\d(?:st|nd|rd|th)\b|\d{4}")
_MONTH_CUE_BEFORE = re.compile(
    r"(?i)\b(?:admitted|adm|appt|appointment|since|until|on|osh|d/c|dc'd|d/c'd|dated|from)\s*$"
)
_MONTH_WORD = re.compile(rf"(?i)\b{_MONTH}\b")
_PAIN = re.compile(
    r"(?i)pain|\bcp\b|angina|discomfort|pressure|ache|aching|scale|rated|rates|rating|relief|#\d"
)
_STRONG_DATE_CUE = re.compile(
    r"(?i)(?:since|admitted|adm|dated|until|on|post|s/p|cx'd|cultured|appt|d/c)\s*$"
)
_FRACTIONS = frozenset({(1, 2), (1, 3), (1, 4), (2, 3), (3, 4), (2, 2)})
_PREV_WORD = re.compile(r"([A-Za-z][\w/:]*)\W*$")
_DATE_CUE = re.compile(
    r"(?:on|since|from|until|dated|admitted|adm|of|@|post|s/p|cx'd|cultured|appt|seen|visit"
    r"|visited)\s*$",
    re.IGNORECASE,
)


def _valid_md(m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= 31


def _measurement_context(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 24) : start].lower()
    prev = _PREV_WORD.search(before)
    if prev and prev.group(1) in _NOT_DATE_BEFORE:
        return True
    line_start = text.rfind("\n", 0, start) + 1
    if _VENT.search(text, max(line_start, start - 28), start):
        return True  # ventilator settings such as "CPAP 5/5", "PS 10/5/40%"
    return bool(_NOT_DATE_AFTER.match(text, end))


def find_dates(text: str) -> list[Span]:
    out: list[Span] = []
    for m in _FULL_NUMERIC.finditer(text):
        if m.group(1):
            ok = _valid_md(int(m.group(1)), int(m.group(3)))
        else:
            ok = _valid_md(int(m.group(6)), int(m.group(7)))
        if ok and not _measurement_context(text, m.start(), m.end()):
            out.append(span(m.start(), m.end(), PhiType.DATE, STRONG, "dates.full"))
    for m in _MONTH_DAY.finditer(text):
        mo, dy = int(m.group(1)), int(m.group(2))
        if not _valid_md(mo, dy):
            continue
        tail = _RANGE_TAIL.match(text, m.end())
        if tail and _valid_md(int(tail.group(1)), int(tail.group(2))):  # "6/30-7/2"
            out.append(span(tail.start(1), tail.end(2), PhiType.DATE, GOOD, "dates.md"))
        elif _measurement_context(text, m.start(), m.end()):
            continue
        if (mo, dy) in _FRACTIONS and not _DATE_CUE.search(
            text[max(0, m.start() - 12) : m.start()]
        ):
            continue
        if dy == 10 and _PAIN.search(text, max(0, m.start() - 60), m.end() + 25):
            continue  # pain scores: "CP 4/10", "10/10 angina"
        if (
            mo == dy
            and mo <= 5
            and not m.group(2).startswith("0")  # "3/03" is a date; settings are not padded
            and not _STRONG_DATE_CUE.search(text[max(0, m.start() - 16) : m.start()])
        ):
            continue  # "5/5" is a ventilator setting or muscle strength far more often than May 5
        out.append(span(m.start(), m.end(), PhiType.DATE, GOOD, "dates.md"))
    for m in _MONTH_YEAR.finditer(text):
        mo, yy = int(m.group(1)), int(m.group(2))
        if (
            1 <= mo <= 12
            and (yy > 31 or yy >= 1900)
            and not _measurement_context(text, m.start(), m.end())
        ):
            out.append(span(m.start(), m.end(), PhiType.DATE, FAIR, "dates.my"))
    for m in _MONTH_DAY_DASH.finditer(text):
        if _valid_md(int(m.group(1)), int(m.group(2))) and not _NOT_DATE_AFTER.match(text, m.end()):
            out.append(span(m.start(1), m.end(2), PhiType.DATE, FAIR, "dates.md-dash"))
    for m in _MONTH_NAME.finditer(text):
        word = _MONTH_WORD.search(m.group())  # the month word itself, not "th" of "20th"
        has_digit = any(c.isdigit() for c in m.group())
        if word is None:
            continue
        w = word.group()
        if w.islower() and not has_digit:
            continue  # "dec", "aug" (augmentation), "may", "march" in lower case are words
        if (
            w.islower()
            and w in _WORD_MONTHS
            and _WORD_AFTER.match(text, m.end())
            and not _ORDINAL_IN.search(m.group())
            and not _MONTH_CUE_BEFORE.search(text, max(0, m.start() - 14), m.start())
        ):
            continue  # "nc 02 dec from 4->2": a decrease, not December 2nd
        if not has_digit and (len(w) <= 4 or w.lower() in {"march", "june"}):
            continue  # a bare "Aug", "May" or "March" is too ambiguous alone
        out.append(span(m.start(), m.end(), PhiType.DATE, GOOD, "dates.month"))
    for rx, score, rule in (
        (_ORDINAL_DAY, FAIR, "dates.ordinal"),
        (_MONTH_ALONE, FAIR, "dates.month"),
        (_YEAR_CUED, GOOD, "dates.year"),
        (_YEAR_ALWAYS, GOOD, "dates.year"),
        (_APOS_YEAR, GOOD, "dates.year-apos"),
    ):
        for m in rx.finditer(text):
            g = 1 if m.group(1) else (2 if m.lastindex and m.lastindex >= 2 else 0)
            out.append(span(m.start(g), m.end(g), PhiType.DATE, score, rule))
    for m in _EVENT_YY.finditer(text):
        for g in (1, 2):
            if m.group(g):
                out.append(span(m.start(g), m.end(g), PhiType.DATE, FAIR, "dates.event-year"))
    return out
