"""Employers and companies: "working at Food Corp", "Acme Inc". Employers identify people."""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FAIR, GOOD, span
from phiguard.spans import PhiType, Span

_EMPLOYER = re.compile(
    r"\b(?:works?|working|worked|employed|employee|retired|job|business|company|employer)"
    r"\s+(?:(?:as\s+\w+\s+)?(?:at|for|by|from|with|in|is|was)\s+)?(?:the\s+)?"
    r"((?:[A-Z][\w&'-]*)(?:[ \t]+(?:of[ \t]+|&[ \t]+)?[A-Z][\w&'-]*){0,3})"
)
_SUFFIXED = re.compile(
    r"\b((?:[A-Z][\w&'-]*[ \t]+){1,3}(?:Corp|Corporation|Inc|LLC|Ltd|Co|Company|Industries"
    r"|Foods|Motors|Airlines|Technologies))\b\.?"
)


def find_organizations(text: str, upper: bool) -> list[Span]:
    """`upper`: the note is in capitals, where capitalisation says nothing, so skip cue rule."""
    out: list[Span] = []
    if not upper:
        for m in _EMPLOYER.finditer(text):
            out.append(
                span(m.start(1), m.end(1), PhiType.ORGANIZATION, FAIR, "organizations.employer")
            )
    for m in _SUFFIXED.finditer(text):
        out.append(span(m.start(1), m.end(1), PhiType.ORGANIZATION, GOOD, "organizations.suffix"))
    return out
