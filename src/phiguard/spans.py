"""The one currency between detectors, the resolver and the transforms."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PhiType(StrEnum):
    """PHI types: Comprehend Medical's names, plus what the local detector needs."""

    NAME = "NAME"
    AGE = "AGE"
    DATE = "DATE"
    PHONE_OR_FAX = "PHONE_OR_FAX"
    EMAIL = "EMAIL"
    ID = "ID"
    URL = "URL"
    ADDRESS = "ADDRESS"
    PROFESSION = "PROFESSION"
    LOCATION = "LOCATION"
    ORGANIZATION = "ORGANIZATION"
    OTHER = "OTHER"


# Safe Harbor identifier (45 CFR 164.514(b)(2)(i)) covered by each type; see docs/architecture.md.
HIPAA_SAFE_HARBOR: dict[PhiType, tuple[str, ...]] = {
    PhiType.NAME: ("(A) names",),
    PhiType.ADDRESS: ("(B) geographic subdivisions smaller than a state",),
    PhiType.LOCATION: ("(B) geographic subdivisions smaller than a state",),
    PhiType.ORGANIZATION: (
        "(B) geographic subdivisions (facilities), (R) other unique identifiers",
    ),
    PhiType.DATE: ("(C) dates (except year) directly related to an individual",),
    PhiType.AGE: ("(C) ages over 89",),
    PhiType.PHONE_OR_FAX: ("(D) telephone numbers", "(E) fax numbers"),
    PhiType.EMAIL: ("(F) email addresses",),
    PhiType.ID: (
        "(G) social security numbers",
        "(H) medical record numbers",
        "(I) health plan beneficiary numbers",
        "(J) account numbers",
        "(K) certificate/license numbers",
        "(L) vehicle identifiers",
        "(M) device identifiers",
        "(P) IP addresses",
    ),
    PhiType.URL: ("(N) web URLs",),
    PhiType.PROFESSION: ("(R) other unique identifying characteristic",),
    PhiType.OTHER: ("(R) any other unique identifying number, characteristic, or code",),
}


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A PHI finding: `start`/`end` are Python str indices into the original text."""

    start: int
    end: int
    type: str
    score: float = 1.0
    source: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span offsets {self.start}..{self.end}")

    def shifted(self, delta: int) -> Span:
        return Span(self.start + delta, self.end + delta, self.type, self.score, self.source)

    def to_dict(self, text: str | None = None) -> dict[str, object]:
        """JSON form; `text` is added only when the caller passes it (it is PHI)."""
        out: dict[str, object] = {
            "start": self.start,
            "end": self.end,
            "type": self.type,
            "score": round(self.score, 4),
            "source": self.source,
        }
        if text is not None:
            out["text"] = text[self.start : self.end]
        return out
