"""Comparison keys of words, shared by the detectors and known-PHI matching (a base module).

A key folds case, accents and compatibility forms, so "José", "JOSÉ", "Jose" and fullwidth
"Ｊｏｓｅ" compare equal and look up the same entry in the ASCII word lists.
"""

from __future__ import annotations

import unicodedata


def fold(word: str) -> str:
    """The lookup key of a word: lower case without accents or compatibility forms."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


__all__ = ["fold"]
