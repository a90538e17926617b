"""Labelled fields of structured headers ("Name:", "MRN:", "DOB:", "Address:", "Phone:").

The label says what the value is, so the value is PHI whatever its shape or case. A label
alone on its line ("Attending Provider:") takes its value from the next line.
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FAIR, STRONG, span
from phiguard.spans import PhiType, Span

_LABELS: tuple[tuple[PhiType, str], ...] = (
    (
        PhiType.NAME,
        r"(?:patient|pt|person|legal|full|first|last|family|preferred)?\s*name|patient|"
        r"(?:attending|admitting|referring|primary|consulting|ordering)?\s*(?:provider|physician"
        r"|doctor|surgeon|nurse(?:\s*\(s\)|s)?|attending|resident|pcp)|pcp|guardian|"
        r"(?:emergency\s+)?contact(?:\s+person)?|next of kin|nok|proxy|health care proxy|hcp|"
        r"spouse|mother|father|signed by|dictated by|author|cosigned by",
    ),
    (PhiType.ID, r"mrn|mr\s?#|medical record(?: number| no\.?| #)?|account(?: number| no\.?)?"),
    (
        PhiType.DATE,
        r"dob|d\.o\.b\.|date of birth|birth ?date|birthday|admission date|discharge date",
    ),
    (PhiType.ADDRESS, r"(?:home |street |mailing )?address|addr"),
    (
        PhiType.PHONE_OR_FAX,
        r"(?:home |work |cell |mobile |contact )?(?:phone|tel|telephone)(?: number| no\.?| #)?|"
        r"fax|cell|mobile|pager",
    ),
    (PhiType.EMAIL, r"e-?mail"),
    (PhiType.AGE, r"age"),
)
_LINE = re.compile(
    r"^[ \t]*(?:(?:\w+)[ \t]+)??("
    + "|".join(f"(?P<g{i}>{rx})" for i, (_, rx) in enumerate(_LABELS))
    + r")[ \t]*(?:\(s\))?[ \t]*[:#][ \t]*([^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_NEXT_LINE = re.compile(r"\n[ \t]*([^\n]+)")
_NEXT_FIELD = re.compile(
    r"\s{3,}|\t|\s+(?:mrn|dob|unit\s*#|ssn|phone|tel|age|sex|room|acct|account)\b", re.IGNORECASE
)
_LABEL_ONLY = re.compile(r"^[\w ()/#.-]{1,40}:\s*$")
_CREDENTIAL = re.compile(r"^(?:md|m\.d\.|do|rn|np|pa|pa-c|phd|rrt|dds|aprn|fnp|bsn|msn)$", re.I)
# letters of any script ("HERNÁNDEZ, JOSÉ", "Zoë Łukasik"), not digits or underscores
_NAME_PART = re.compile(r"[^\W\d_](?:[^\W\d_]|[.'’-])*(?:\s+[^\W\d_](?:[^\W\d_]|[.'’-])*)*")
_AGE_VALUE = re.compile(r"\d{1,3}")


def _value(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    start, end = m.start(len(_LABELS) + 2), m.end(len(_LABELS) + 2)
    raw = text[start:end]
    if not raw.strip():
        nxt = _NEXT_LINE.match(text, m.end())
        if not nxt or _LABEL_ONLY.match(nxt.group(1)) or ":" in nxt.group(1)[:30]:
            return None
        start, end, raw = nxt.start(1), nxt.end(1), nxt.group(1)
    cut = _NEXT_FIELD.search(raw)  # "PATIENT: THOMPSON, STACEY   MRN: 404-32-76"
    if cut:
        raw = raw[: cut.start()]
    lead = len(raw) - len(raw.lstrip())
    raw = raw.rstrip()
    if not raw.strip():
        return None
    return start + lead, start + len(raw)


def _names(text: str, start: int, end: int) -> list[Span]:
    out: list[Span] = []
    for part in re.finditer(r"[^,;/&]+", text[start:end]):
        for m in _NAME_PART.finditer(part.group()):
            words = [w for w in m.group().split() if not _CREDENTIAL.match(w.strip("."))]
            if not words or len(words) > 4:
                continue
            s = start + part.start() + m.start()
            e = s + len(m.group())
            while text[e - 1] == "." or _CREDENTIAL.match(text[s:e].split()[-1].strip(".")):
                e = s + len(text[s:e].rsplit(None, 1)[0]) if " " in text[s:e] else s
                if e <= s:
                    break
            if e > s:
                out.append(span(s, e, PhiType.NAME, STRONG, "fields.name"))
    return out


def find_fields(text: str) -> list[Span]:
    out: list[Span] = []
    for m in _LINE.finditer(text):
        kind = next(t for i, (t, _) in enumerate(_LABELS) if m.group(f"g{i}") is not None)
        val = _value(text, m)
        if val is None:
            continue
        s, e = val
        value = text[s:e]
        if kind is PhiType.NAME:
            if any(c.isdigit() for c in value) or len(value.split()) > 6:
                continue
            out.extend(_names(text, s, e))
        elif kind is PhiType.AGE:
            a = _AGE_VALUE.search(value)
            if a:  # a labelled demographic Age field: see docs/accuracy.md, "Age policy"
                out.append(span(s + a.start(), s + a.end(), PhiType.AGE, FAIR, "fields.age"))
        elif kind in (PhiType.ID, PhiType.PHONE_OR_FAX, PhiType.DATE):
            if any(c.isdigit() for c in value):
                out.append(span(s, e, kind, STRONG, f"fields.{kind.value.lower()}"))
        else:
            out.append(span(s, e, kind, STRONG, f"fields.{kind.value.lower()}"))
    return out
