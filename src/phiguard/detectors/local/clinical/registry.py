"""The catalogue of rule groups and rules, and the selection that switches them by name.

Every finding's `source` is `local:<group>.<rule>` ("local:names.title"), so the name in a
report is the name to switch: `LocalDetector(disable=("locations.ward",))` drops that rule,
`disable=("locations",)` the whole group, `rules=("dates", "phones")` runs only those.
Disabling a rule drops its findings before consistency propagation sees them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from phiguard.errors import ConfigError

# group -> (what it finds, its rules). Add a rule here when you add one to a module; the
# unit tests check that every source a rule emits is listed.
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "fields": (
        'labelled header fields ("Name:", "MRN:", "DOB:", "Phone:")',
        ("name", "id", "date", "address", "phone_or_fax", "email", "age"),
    ),
    "dates": (
        "dates in the forms clinicians write them, not times, doses or ratios",
        (
            "full", "md", "md-dash", "my", "month", "ordinal", "year", "year-apos",
            "event-year", "compact", "glued",
        ),
    ),
    "phones": (
        "phone, fax and pager numbers, extensions",
        ("nanp", "local", "pager", "extension", "international"),
    ),
    "ids": (
        "record numbers, SSNs, beneficiary and plate numbers, codes",
        ("ssn", "labelled", "code", "hash", "mixed", "plate"),
    ),
    "addresses": (
        'street addresses, "City, ST 12345", "Town, ST", apartment numbers',
        ("street", "town-state", "city-zip", "unit", "city-state-zip", "street-name"),
    ),
    "ages": ("ages (over 89 by default; see age_policy)", ("stated", "spelled", "paren")),
    "organizations": ("employers and companies", ("employer", "suffix")),
    "names": (
        "person names from cues (titles, relations, credentials) and dictionaries",
        (
            "run", "title", "relation", "credential", "initial", "pair", "last-first",
            "first-verb", "paren", "per", "talk", "nickname", "dictionary", "age",
            "signature", "hyphen", "grow", "and", "lower-pair", "script",
        ),
    ),
    "locations": (
        "hospitals, units, wards and towns from facility words and movement cues",
        (
            "facility", "saint", "acronym", "cue", "residence", "agency", "ward", "unit",
            "univ", "in", "at", "date-at", "pair", "abbrev", "facility-shape", "town",
        ),
    ),
    "oov": (
        "words shaped like names that are in no English, clinical or drug vocabulary",
        ("name",),
    ),
    "entities": (
        "whole entities: initials, middle names, suffixes and facility nouns next to a find",
        ("name", "facility"),
    ),
    "consistency": (
        "a word found once with good evidence is masked everywhere in the note",
        ("propagated",),
    ),
    "ner": ("spaCy NER in prose (PERSON, GPE/LOC/FAC, ORG)", ("vetted", "prose")),
    "patterns": ("Presidio pattern recognizers (e-mail, URL, IP, SSN)", ("presidio",)),
}  # fmt: skip

ALL_RULES: frozenset[str] = frozenset(f"{g}.{r}" for g, (_, rules) in GROUPS.items() for r in rules)


def _check(names: Iterable[str], what: str) -> tuple[str, ...]:
    out = tuple(names)
    unknown = sorted(n for n in out if n not in GROUPS and n not in ALL_RULES)
    if unknown:
        raise ConfigError(
            f"unknown rule or group in {what}: {', '.join(unknown)}; "
            f"groups: {', '.join(GROUPS)} (rules as group.rule, see docs/accuracy.md)"
        )
    return out


@dataclass(frozen=True, slots=True)
class Selection:
    """Which rules run: `rules` (None: all) minus `disable`; names are groups or group.rule."""

    rules: tuple[str, ...] | None = None
    disable: tuple[str, ...] = ()

    @classmethod
    def of(cls, rules: Iterable[str] | None = None, disable: Iterable[str] = ()) -> Selection:
        chosen = None if rules is None else _check(rules, "rules")
        return cls(chosen, _check(disable, "disable"))

    def allows(self, rule: str) -> bool:
        """Is `rule` ("names.title", or a source "local:names.title") switched on?"""
        name = rule.removeprefix("local:")
        group = name.split(".", 1)[0]
        if name in self.disable or group in self.disable:
            return False
        return self.rules is None or name in self.rules or group in self.rules

    def any_in(self, group: str) -> bool:
        """Does any rule of `group` run? (Skips the work of a group switched off whole.)"""
        return any(self.allows(f"{group}.{r}") for r in GROUPS[group][1])


__all__ = ["ALL_RULES", "GROUPS", "Selection"]
