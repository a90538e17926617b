"""Small picklable detectors for tests where the thing under test is not detection.

They live in a module (not in a test function) so worker processes can unpickle them.
"""

from __future__ import annotations

import re

from phiguard import DetectionError
from phiguard.detectors import BaseDetector
from phiguard.spans import Span

_WORD = re.compile(r"[A-Z][a-z]+|MRN\d+")


class WordDetector(BaseDetector):
    """Capitalized words are NAMEs, MRN<digits> are IDs; 'BOOM' fails, 'CRASH' raises an
    unexpected error whose message quotes the note (it must never be reported)."""

    name = "words"

    def detect(self, text: str) -> list[Span]:
        if "BOOM" in text:
            raise DetectionError("test detector refused this note")
        if "CRASH" in text:
            raise ValueError(f"cannot parse {text!r}")
        return [
            Span(m.start(), m.end(), "ID" if m.group().startswith("MRN") else "NAME", 1.0, "w")
            for m in _WORD.finditer(text)
        ]


def word_notes(n: int) -> list[str]:
    """`n` distinct short notes, two NAMEs each for the WordDetector."""
    return [f"note {i}: Alice met Bob on day {i}." for i in range(n)]


class FixedDetector(BaseDetector):
    """Returns the same spans for any text."""

    name = "fixed"

    def __init__(self, spans: list[Span]) -> None:
        self.spans = spans

    def detect(self, text: str) -> list[Span]:
        return list(self.spans)
