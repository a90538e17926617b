"""The one place where detector output becomes the final span set.

Every transform (mask, deid) and every report (detect, eval) goes through `Resolver`, so a
threshold, an allow/deny list or an entity filter means the same thing everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from phiguard.errors import InputError
from phiguard.io import read_text
from phiguard.known import KnownPhi
from phiguard.spans import PhiType, Span

DENY_SOURCE = "deny-list"


def _term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive alternation; longest terms first so they win."""
    cleaned = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternation = "|".join(re.escape(t) for t in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)


def load_terms(path: str | Path) -> list[str]:
    """One term per line; blank lines and `#` comments are skipped."""
    lines = read_text(path, "term list ").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def merge(spans: Iterable[Span]) -> list[Span]:
    """Merge overlapping or touching spans into one span each.

    The merged span takes the type of its highest-scoring member (ties: the longest, then
    the earliest), the highest score, and the sources of all members joined with '+'.
    """
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    group: list[Span] = []
    end = -1
    for span in ordered:
        if group and span.start > end:
            out.append(_combine(group))
            group = []
        end = max(end, span.end) if group else span.end
        group.append(span)
    if group:
        out.append(_combine(group))
    return out


def _combine(group: Sequence[Span]) -> Span:
    if len(group) == 1:
        return group[0]
    best = max(group, key=lambda s: (s.score, s.end - s.start, -s.start))
    sources = "+".join(sorted({s.source for s in group if s.source}))
    return Span(
        min(s.start for s in group),
        max(s.end for s in group),
        best.type,
        best.score,
        sources,
    )


@dataclass(frozen=True)
class Resolver:
    """Settles raw detector spans: filter by type and score, apply deny then allow lists, merge.

    - `threshold`: spans scoring below it are dropped (deny-list hits always score 1.0).
    - `entities`: keep only these types (None keeps all).
    - `allow`: terms that are never PHI; a span whose text is exactly an allowed term
      (case-insensitive) is dropped.
    - `deny`: terms that are always PHI wherever they stand as whole words.
    - `known`: values that are PHI wherever they occur, institution-wide (staff, wards); a
      call's `known=` adds the values of one record (the patient's name, MRN, ...). Both are
      found by `phiguard.known.KnownPhi` and, like deny-list hits, kept whatever the
      threshold, entity filter or allow list.
    """

    threshold: float = 0.0
    entities: frozenset[str] | None = None
    allow: frozenset[str] = field(default_factory=frozenset)
    deny: tuple[str, ...] = ()
    known: KnownPhi | None = None
    _deny_re: re.Pattern[str] | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise InputError(f"threshold must be between 0 and 1, got {self.threshold}")
        if self.entities is not None:
            unknown = sorted(set(self.entities) - {t.value for t in PhiType})
            if unknown:
                known = ", ".join(t.value for t in PhiType)
                raise InputError(f"unknown entity type(s) {', '.join(unknown)}; known: {known}")
        object.__setattr__(self, "allow", frozenset(t.strip().lower() for t in self.allow))
        object.__setattr__(self, "_deny_re", _term_pattern(self.deny))

    def __call__(
        self, text: str, spans: Iterable[Span], known: KnownPhi | None = None
    ) -> list[Span]:
        kept = [
            s
            for s in spans
            if s.score >= self.threshold
            and (self.entities is None or s.type in self.entities)
            and text[s.start : s.end].strip().lower() not in self.allow
        ]
        if self._deny_re is not None:
            kept.extend(
                Span(m.start(), m.end(), PhiType.OTHER.value, 1.0, DENY_SOURCE)
                for m in self._deny_re.finditer(text)
            )
        for values in (self.known, known):
            if values:
                kept.extend(values.find(text))
        return merge(kept)


def resolve(
    text: str,
    spans: Iterable[Span],
    resolver: Resolver | None = None,
    known: KnownPhi | None = None,
) -> list[Span]:
    """Resolve with the given (or the default: merge only) policy."""
    return (resolver or Resolver())(text, spans, known)
