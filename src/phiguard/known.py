"""Known PHI: values the caller already holds (the EHR row beside a note, staff and ward lists).

A patient's name, MRN, date of birth or phone number is PHI wherever it occurs in that
patient's notes, whatever a detector thinks of the context. `KnownPhi` turns such values into
one compiled pattern that finds them case-insensitively, with flexible whitespace, and for
names in the forms notes use: the full name, "LAST, FIRST", the first name or surname alone,
"Mr. Last" (the surname), an initial + surname ("J. Hernández"), hyphenated parts, possessives,
and with or without accents ("Jose" finds "José"). The resolver adds what it finds with source
`known` and score 1.0, kept whatever the threshold or entity filter (docs/accuracy.md).

Objects are frozen, picklable (Spark ships them to executors) and merge with `|`; the compiled
pattern is cached per distinct value set, so building the same `KnownPhi` per record is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from phiguard.errors import InputError
from phiguard.io import read_text
from phiguard.spans import PhiType, Span
from phiguard.textkeys import fold

KNOWN_SOURCE = "known"

# Field names callers use for each type, besides the PhiType values themselves.
_ALIASES: dict[str, PhiType] = {
    "name": PhiType.NAME, "names": PhiType.NAME, "patient": PhiType.NAME,
    "person": PhiType.NAME, "staff": PhiType.NAME, "relative": PhiType.NAME,
    "relatives": PhiType.NAME, "first_name": PhiType.NAME, "last_name": PhiType.NAME,
    "mrn": PhiType.ID, "id": PhiType.ID, "ids": PhiType.ID, "ssn": PhiType.ID,
    "dob": PhiType.DATE, "date": PhiType.DATE, "dates": PhiType.DATE,
    "birth_date": PhiType.DATE, "address": PhiType.ADDRESS, "phone": PhiType.PHONE_OR_FAX,
    "fax": PhiType.PHONE_OR_FAX, "phone_or_fax": PhiType.PHONE_OR_FAX, "email": PhiType.EMAIL,
    "location": PhiType.LOCATION, "place": PhiType.LOCATION, "ward": PhiType.LOCATION,
    "hospital": PhiType.LOCATION, "town": PhiType.LOCATION, "city": PhiType.LOCATION,
    "organization": PhiType.ORGANIZATION, "employer": PhiType.ORGANIZATION,
}  # fmt: skip
# Name particles and titles: part of a full name, never matched on their own.
_PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "dos",
        "das",
        "du",
        "la",
        "le",
        "el",
        "al",
        "bin",
        "ben",
        "ibn",
        "st",
        "saint",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "prof",
        "jr",
        "sr",
        "ii",
        "iii",
        "iv",
        "md",
        "rn",
        "np",
        "pa",
        "phd",
    ]
)
# Name parts shorter than this, or that are ordinary words, match alone only capitalised.
_WORDLIKE_MIN = 3
_TOKEN = re.compile(r"[^\W_]+")  # letters and digits of any script; punctuation separates
_GAP_CHARS = frozenset(" \t\n\r\u00a0,.-‐‑–'’")
_MAX_GAP = 4
_DIGIT_SEP = r"[\s().\-/]*"
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _keys(value: str) -> tuple[str, ...]:
    return tuple(fold(m.group()) for m in _TOKEN.finditer(value))


def _digits(value: str) -> str:
    """Digits and letters in order with any separators between them ("(617) 555-0182")."""
    return _DIGIT_SEP.join(re.escape(c) for c in value if c.isalnum())


def _name_forms(value: str) -> tuple[set[tuple[str, ...]], set[str]]:
    """(multi-word forms, single parts) of one name: full, "LAST, FIRST", initial + last."""
    words = [m.group() for m in _TOKEN.finditer(value)]
    keys = tuple(fold(w) for w in words)
    parts = [k for k in keys if k not in _PARTICLES and len(k) >= 2]
    forms: set[tuple[str, ...]] = set()
    if len(keys) > 1:
        forms.add(keys)
    first, last = (parts[0], parts[-1]) if parts else ("", "")
    try:
        from nameparser import HumanName
    except ImportError:  # pragma: no cover - a dependency; fall back to first/last word
        pass
    else:
        parsed = HumanName(value)
        if _keys(parsed.first):
            first = _keys(parsed.first)[0]
        last_keys = _keys(parsed.last)
        if last_keys:
            last = last_keys[-1]
            if len(last_keys) > 1:
                forms.add(last_keys)  # "van der Berg", "López García"
    if first and last and first != last:
        forms |= {(last, first), (first, last), (first[0], last), (last, first[0])}
    return forms, set(parts)


def _date_variants(value: str) -> set[str]:
    """Regexes for the usual spellings of a full date (ISO or m/d/y input)."""
    text = value.strip()
    m, u = _ISO.match(text), _US.match(text)
    try:
        if m:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        elif u:
            year = int(u.group(3))
            year += (1900 if year > 30 else 2000) if year < 100 else 0
            d = date(year, int(u.group(1)), int(u.group(2)))
        else:
            return set()
    except ValueError:
        return set()
    mon, yy, yyyy = _MONTHS[d.month - 1], f"{d.year % 100:02d}", str(d.year)
    out = {
        f"0?{d.month}[/.-]0?{d.day}[/.-](?:{yyyy}|{yy})",
        f"{yyyy}-0?{d.month}-0?{d.day}",
        rf"(?:{mon}|{mon[:3]})\.?\s+0?{d.day}(?:st|nd|rd|th)?,?\s+{yyyy}",
        rf"0?{d.day}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{mon}|{mon[:3]})\.?,?\s+{yyyy}",
        rf"0?{d.day}{mon[:3]}{yyyy}",  # "08JUL1941"
    }
    return {rf"(?<![\d/.-]){p}(?![\d/])" for p in out}


def _parse_type(raw: str) -> PhiType:
    key = raw.strip()
    try:
        return PhiType(key.upper())
    except ValueError:
        pass
    kind = _ALIASES.get(key.lower().replace("-", "_").replace(" ", "_"))
    if kind is None:
        known = ", ".join(t.value for t in PhiType)
        raise InputError(f"unknown known-PHI type {key!r}; use one of: {known}")
    return kind


@dataclass(frozen=True, slots=True)
class _Form:
    keys: tuple[str, ...]
    kind: str
    cased: bool  # a word-like single name part: counts only when written with a capital


@dataclass(frozen=True, slots=True)
class _Matcher:
    """Word forms indexed by their first key (one dict lookup per text word), plus one regex
    for the values whose shape is in their digits (dates, phone numbers, record numbers)."""

    index: dict[str, tuple[_Form, ...]]
    pattern: re.Pattern[str] | None
    kinds: tuple[str, ...]  # PhiType value of each named group g0, g1, ... of `pattern`


def _is_wordlike(key: str) -> bool:
    """Is this name part also an ordinary word ("rose", "will")? Lazy: the lexicon is big."""
    if len(key) < _WORDLIKE_MIN:
        return True
    from phiguard.detectors.local.clinical.lexicon import lexicon

    lex = lexicon()
    return key in lex.common or key in lex.clinical


@lru_cache(maxsize=4096)
def _compile(entries: tuple[tuple[str, str], ...]) -> _Matcher:
    forms: dict[tuple[str, ...], _Form] = {}
    regexes: dict[str, set[str]] = {}

    def add(keys: tuple[str, ...], kind: str, cased: bool = False) -> None:
        if keys and (keys not in forms or forms[keys].cased):
            forms[keys] = _Form(keys, kind, cased)

    for kind, value in entries:
        if kind == PhiType.NAME.value:
            multi, singles = _name_forms(value)
            for keys in multi:
                add(keys, kind)
            for key in singles:
                add((key,), kind, _is_wordlike(key))
            continue
        if kind == PhiType.DATE.value:
            variants = _date_variants(value)
            if variants:
                regexes.setdefault(kind, set()).update(variants)
                continue
        elif kind in (PhiType.PHONE_OR_FAX.value, PhiType.ID.value) and any(
            c.isdigit() for c in value
        ):
            regexes.setdefault(kind, set()).add(_digits(value))
            continue
        add(_keys(value), kind)
    index: dict[str, list[_Form]] = {}
    for form in forms.values():
        index.setdefault(form.keys[0], []).append(form)
    frozen = {
        k: tuple(sorted(v, key=lambda f: len(f.keys), reverse=True)) for k, v in index.items()
    }
    groups = [
        f"(?P<g{i}>{'|'.join(sorted(regexes[kind], key=len, reverse=True))})"
        for i, kind in enumerate(sorted(regexes))
    ]
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(groups)})(?!\w)", re.I) if groups else None
    return _Matcher(frozen, pattern, tuple(sorted(regexes)))


def _gap_ok(gap: str) -> bool:
    return len(gap) <= _MAX_GAP and all(c in _GAP_CHARS for c in gap) and gap.count(",") <= 1


@dataclass(frozen=True, slots=True)
class KnownPhi:
    """A set of (type, value) pairs that are PHI wherever they occur. Build with `of`/`load`."""

    entries: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, value: Any, default_type: PhiType | str = PhiType.OTHER) -> KnownPhi:
        """From a string, a list of strings, or `{TYPE: value | [values]}` (a record field).

        Bare strings get `default_type` (OTHER: matched as a whole phrase); give names as
        `{"NAME": ...}` to have their parts found too. `None` and "" give an empty set.
        """
        kind = _parse_type(
            default_type.value if isinstance(default_type, PhiType) else default_type
        )
        pairs: list[tuple[str, str]] = []
        _collect(value, kind, pairs)
        return cls(_normalise(pairs))

    @classmethod
    def load(cls, path: str | Path) -> KnownPhi:
        """A `--known-list` file: one term per line, optionally `TYPE<TAB>term`; `#` comments."""
        pairs: list[tuple[str, str]] = []
        for lineno, line in enumerate(read_text(path, "known-PHI list ").splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if "\t" in stripped:
                head, term = stripped.split("\t", 1)
                try:
                    kind = _parse_type(head)
                except InputError as exc:
                    raise InputError(f"{path}:{lineno}: {exc}") from None
                pairs.append((kind.value, term.strip()))
            else:
                pairs.append((PhiType.OTHER.value, stripped))
        return cls(_normalise(pairs))

    def __or__(self, other: KnownPhi) -> KnownPhi:
        return KnownPhi(_normalise([*self.entries, *other.entries]))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, text: str) -> list[Span]:
        """Every occurrence in `text` as a score-1.0 span with source "known"."""
        if not self.entries or not text:
            return []
        m = _compile(self.entries)
        out: list[Span] = []
        if m.index:
            toks = [(t.start(), t.end(), fold(t.group())) for t in _TOKEN.finditer(text)]
            covered = 0  # end of the last match: words inside it start no new one
            for i, (start, _, key) in enumerate(toks):
                if start < covered:
                    continue
                for form in m.index.get(key, ()):
                    n = len(form.keys)
                    if i + n > len(toks) or any(
                        toks[i + j][2] != form.keys[j]
                        or not _gap_ok(text[toks[i + j - 1][1] : toks[i + j][0]])
                        for j in range(1, n)
                    ):
                        continue
                    if form.cased and not text[start].isupper():
                        continue  # "rose" in "BP rose": a word-like part counts only capitalised
                    covered = toks[i + n - 1][1]
                    out.append(Span(start, covered, form.kind, 1.0, KNOWN_SOURCE))
                    break  # forms are longest first
        if m.pattern is not None:
            for hit in m.pattern.finditer(text):
                kind = m.kinds[int(hit.lastgroup[1:])] if hit.lastgroup else PhiType.OTHER.value
                out.append(Span(hit.start(), hit.end(), kind, 1.0, KNOWN_SOURCE))
        return out


def _collect(value: Any, kind: PhiType, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, str):
        if value.strip():
            out.append((kind.value, value.strip()))
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _collect(inner, _parse_type(str(key)), out)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for inner in value:
            _collect(inner, kind, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append((kind.value, str(value)))
    else:
        raise InputError(
            f"known PHI must be a string, a list or an object of them, not {type(value).__name__}"
        )


def _normalise(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Sorted and de-duplicated, so equal sets share one compiled pattern."""
    return tuple(sorted({(k, " ".join(v.split())) for k, v in pairs if v.strip()}))


__all__ = ["KNOWN_SOURCE", "KnownPhi"]
