"""Case styles: a surrogate is written in the case its original was (ALL CAPS, lower, Title)."""

from __future__ import annotations

import unicodedata
from enum import Enum


class Case(Enum):
    UPPER = "upper"
    LOWER = "lower"
    TITLE = "title"


def case_of(word: str) -> Case:
    if word.islower():
        return Case.LOWER
    if word.isupper():
        # One capital ("J.") reads as Title unless the word is that single letter.
        return Case.UPPER if len(word) == 1 or sum(map(str.isalpha, word)) > 1 else Case.TITLE
    return Case.TITLE if any(map(str.isalpha, word)) else Case.LOWER


def title(word: str) -> str:
    """Title case that knows "McDonald" and "O'Brien"."""
    out = word.title()
    if len(out) > 3 and out.startswith("Mc"):
        out = "Mc" + out[2].upper() + out[3:]
    return out


def apply_case(word: str, case: Case) -> str:
    if case is Case.UPPER:
        return word.upper()
    if case is Case.LOWER:
        return word.lower()
    return title(word)


def fold(word: str) -> str:
    """The lookup form: lower case, accents dropped ("José" -> "jose"); curly quotes -> '."""
    low = word.lower().replace("\u2019", "'")
    if low.isascii():
        return low
    norm = unicodedata.normalize("NFKD", low)
    return "".join(c for c in norm if not unicodedata.combining(c))
