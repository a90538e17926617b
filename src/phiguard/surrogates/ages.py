"""Ages: Safe Harbor treats only ages over 89 as identifying; they become "90+".

"92" -> "90+", "92 y/o" -> "90+ y/o", "92-year-old" -> "90+ year-old", "ninety-two" -> "90+",
a range "91-93" -> "90+". Ages of 89 and under are not PHI and stay as written. No number
found: None (the caller writes a type label).
"""

from __future__ import annotations

import re

OVER = "90+"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_UNIT_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TEN_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS)}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(_TEN_WORDS)}
_WORDS = re.compile(
    r"\b(?:(?:one|a)[\s-]+hundred(?:[\s-]+and)?(?:[\s-]+|\b))?"
    rf"(?:(?:{'|'.join(_TENS)})(?:[\s-]+(?:{'|'.join(list(_UNITS)[1:10])}))?|{'|'.join(_UNITS)})?\b",
    re.IGNORECASE,
)


def _word_value(text: str) -> int:
    words = re.split(r"[\s-]+", text.lower())
    total = 0
    for w in words:
        if w == "hundred":
            total = max(total, 1) * 100
        elif w in _TENS:
            total += _TENS[w]
        elif w in _UNITS:
            total += _UNITS[w]
    return total


def age_surrogate(value: str) -> str | None:
    found = [(m.start(), m.end(), float(m.group())) for m in _NUMBER.finditer(value)]
    if not found:
        found = [
            (m.start(), m.end(), float(_word_value(m.group())))
            for m in _WORDS.finditer(value)
            if m.group().strip()
        ]
    if not found:
        return None
    if all(v <= 89 for _, _, v in found):
        return value
    start, end = found[0][0], found[-1][1]
    tail = value[end:]
    if tail[:1] == "-" and tail[1:2].isalpha():  # "92-year-old" -> "90+ year-old"
        tail = " " + tail[1:]
    return value[:start] + OVER + tail
