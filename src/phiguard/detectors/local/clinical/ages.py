"""Ages. HIPAA Safe Harbor only treats ages over 89 as identifying, so by default (policy
"over89") only those are reported; policy "all" reports every age.
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import GOOD, span
from phiguard.spans import PhiType, Span

_AGE = re.compile(
    r"(?<![\w.,/-])(\d{1,3})\s*-?\s*(?=(?:yo|y/o|y\.o\.?|y\.?r?s?\.?\s*(?:-\s*)?old|years?[\s-]*old"
    r"|yrs?\b|years?\b(?:\s+of\s+age)?|yom|yof|yowm|yowf|yobm|y(?:/o)?[mf]\b|y\b)(?!\w*\s*(?:ago|history|hx)))"
    r"|\b(?:age|aged|age of)\s*:?\s*(\d{1,3})\b",
    re.IGNORECASE,
)
_AGE_TAIL = re.compile(
    r"\s*(?:yrs?|years?)\s+(?:ago|hx|history|of|since|before|prior)", re.IGNORECASE
)

POLICIES = ("over89", "all")


def find_ages(text: str, policy: str) -> list[Span]:
    out: list[Span] = []
    for m in _AGE.finditer(text):
        g = 1 if m.group(1) else 2
        value = int(m.group(g))
        if g == 1 and _AGE_TAIL.match(text, m.end(g)):
            continue  # "2 years ago", "10 yrs hx": durations, not ages
        if value > 130 or (policy == "over89" and value <= 89):
            continue
        out.append(span(m.start(g), m.end(g), PhiType.AGE, GOOD, "ages.stated"))
    return out
