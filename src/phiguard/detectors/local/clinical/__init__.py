"""Rule-based clinical PHI recognizers in named groups, run together by `ClinicalRecognizers`.

Each rule returns possibly overlapping spans with a score on the one scale of `common` and the
source `local:<group>.<rule>`; `registry` lists the groups and switches them by name; the
resolver merges the spans.
"""

from __future__ import annotations

from phiguard.detectors.local.clinical.addresses import find_addresses
from phiguard.detectors.local.clinical.ages import POLICIES, find_ages
from phiguard.detectors.local.clinical.contacts import find_contacts
from phiguard.detectors.local.clinical.dates import find_dates
from phiguard.detectors.local.clinical.entities import whole_facilities, whole_names
from phiguard.detectors.local.clinical.facilities import facility_shape, saint, town
from phiguard.detectors.local.clinical.fields import find_fields
from phiguard.detectors.local.clinical.lexicon import Lexicon, lexicon
from phiguard.detectors.local.clinical.locations import LocationRules
from phiguard.detectors.local.clinical.names import NameRules
from phiguard.detectors.local.clinical.oov import lower_pairs, oov_names, other_script_names
from phiguard.detectors.local.clinical.organizations import find_organizations
from phiguard.detectors.local.clinical.propagate import propagate, split_possessives
from phiguard.detectors.local.clinical.registry import GROUPS, Selection
from phiguard.detectors.local.clinical.robust import AGE_RULES, TEXT_RULES
from phiguard.detectors.local.clinical.tokens import Note
from phiguard.detectors.local.clinical.vetoes import veto_eponyms, veto_states
from phiguard.spans import PhiType, Span


class ClinicalRecognizers:
    """The selected rule groups over one note.

    `age_policy` is "over89" (Safe Harbor) or "all"; `selection` says which groups and rules
    run (default: all; see `registry`).
    """

    def __init__(
        self,
        age_policy: str = "over89",
        lex: Lexicon | None = None,
        selection: Selection | None = None,
    ) -> None:
        if age_policy not in POLICIES:
            raise ValueError(f"age_policy must be one of {', '.join(POLICIES)}")
        self.age_policy = age_policy
        self.lex = lex or lexicon()
        self.selection = selection or Selection()
        self.names = NameRules(self.lex)
        self.locations = LocationRules(self.lex)

    def find(self, text: str, note: Note | None = None) -> list[Span]:
        """Spans in `text`; pass `note` if the caller has already tokenised it."""
        note = note or Note.of(text)
        on = self.selection.any_in
        found: list[Span] = []
        if on("fields"):
            found += find_fields(text)
        if on("dates"):
            found += find_dates(text)
        if on("phones") or on("ids"):
            found += find_contacts(text)
        if on("addresses"):
            found += find_addresses(text, self.lex, note.upper)
        if on("organizations"):
            found += find_organizations(text, note.upper)
        if on("names"):
            found += self.names.find(note, self.selection.allows)
        if on("locations"):
            found += self.locations.find(note)
        if on("ages"):
            ages = find_ages(text, self.age_policy)
            found += ages + self._labelled_age_mentions(text, found, ages)
        allows = self.selection.allows
        for name, rule in TEXT_RULES:
            if allows(name):
                found += rule(text)
        for name, age_rule in AGE_RULES:
            if allows(name):
                found += age_rule(text, self.age_policy)
        for name, note_rule in self._NOTE_RULES:
            if allows(name):
                found += note_rule(note, self.lex)
        found = veto_eponyms(text, [s for s in found if allows(s.source)])
        if allows("entities.name"):
            found += whole_names(note, found, self.lex)
        if allows("entities.facility"):
            found += whole_facilities(note, found)
        if on("consistency"):
            found += propagate(note, found, self.lex)
        return split_possessives(text, veto_states(text, found))

    _NOTE_RULES = (
        ("locations.facility-shape", facility_shape),
        ("locations.facility-shape", saint),
        ("locations.town", town),
        ("oov.name", oov_names),
        ("names.script", other_script_names),
        ("names.lower-pair", lower_pairs),
    )

    def _labelled_age_mentions(self, text: str, found: list[Span], ages: list[Span]) -> list[Span]:
        """Free-text ages equal to a labelled "Age:" field value are masked like the field."""
        values = {text[s.start : s.end] for s in found if s.source == "local:fields.age"}
        if not values:
            return []
        have = {(s.start, s.end) for s in ages}
        return [
            Span(s.start, s.end, PhiType.AGE.value, 0.6, "local:fields.age")
            for s in find_ages(text, "all")
            if text[s.start : s.end] in values and (s.start, s.end) not in have
        ]


__all__ = ["GROUPS", "POLICIES", "ClinicalRecognizers", "Note", "Selection"]
