"""Phone and fax numbers (including pager and extension fragments) and record numbers/IDs.

Nursing notes write pagers as bare 4-6 digit numbers after "pager"/"pg", and record numbers
as letter+digit codes; both are only safe to flag with their cue, because bare numbers are
everywhere (doses, counts, times).
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FAIR, GOOD, STRONG, span
from phiguard.spans import PhiType, Span

_NANP = re.compile(
    r"(?<![\w/.])(?<!\d-)(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s*|\d{3}[\s.-]|\d{3}(?=\d{3}-))\d{3}[\s.-]?\d{4}"
    r"(?![\w/-]|\.\d)",
    re.IGNORECASE,
)
_LOCAL7 = re.compile(
    r"(?:\b(?:ph|phone|tel|telephone|cell|call|called|fax|home|work|reach|back at|at|number)"
    r"|#|\(|:)"
    r"\s*(?:#|no\.?|number)?\s*:?\s*(\d{3}[-.]\d{4}|\d{10})\b",
    re.IGNORECASE,
)
_PAGER = re.compile(
    r"\b(?:pager|beeper|bpr|pgr|pg|page|page at|paged at|ext|extension|x)\.?\s*(?:#|no\.?|number)?"
    r"\s*:?\s*#?\s*(\d{4,6}|\d{1,2}-\d{3,5})(?![\w/:-]|\.\d)",
    re.IGNORECASE,
)
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
_LABELLED_ID = re.compile(
    r"\b(?:mrn|mr\s?#|med(?:ical)? rec(?:ord)?(?: number| no\.?| #)?|acct"
    r"|account(?: number| no\.?)?"
    r"|encounter(?: number| no\.?)?|fin|csn|member id|policy(?: number| no\.?)?|ssn|ss\s?#"
    r"|unit\s*(?:no\.?|#|number)|hospital number|patient id|pt id|insurance id|medicaid|medicare)"
    r"\s*[:#]?\s*#?\s*([A-Za-z]{0,4}[-\d][\w-]{2,})",
    re.IGNORECASE,
)
_CODE_ID = re.compile(r"\b[A-Z]{1,4}-?\d{5,}\b|(?<![\w.,/:-])\d{7,}(?![\w.,/:-])")
_HASH_CODE = re.compile(r"#\s?([A-Za-z]{1,4}\d{1,6})\b")


def find_contacts(text: str) -> list[Span]:
    out: list[Span] = []
    for m in _NANP.finditer(text):
        out.append(span(m.start(), m.end(), PhiType.PHONE_OR_FAX, STRONG, "phones.nanp"))
    for m in _LOCAL7.finditer(text):
        out.append(span(m.start(1), m.end(1), PhiType.PHONE_OR_FAX, GOOD, "phones.local"))
    for m in _PAGER.finditer(text):
        out.append(span(m.start(1), m.end(1), PhiType.PHONE_OR_FAX, GOOD, "phones.pager"))
    for m in _SSN.finditer(text):
        out.append(span(m.start(), m.end(), PhiType.ID, STRONG, "ids.ssn"))
    for m in _LABELLED_ID.finditer(text):
        out.append(span(m.start(1), m.end(1), PhiType.ID, STRONG, "ids.labelled"))
    for m in _CODE_ID.finditer(text):
        out.append(span(m.start(), m.end(), PhiType.ID, FAIR, "ids.code"))
    for m in _HASH_CODE.finditer(text):
        out.append(span(m.start(1), m.end(1), PhiType.ID, FAIR, "ids.hash"))
    return out
