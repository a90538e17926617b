"""Hospitals, units and places, found from facility words and movement/residence cues.

Notes name facilities without saying "hospital" ("to SJH", "transfer to whitcombe 4",
"lives in elkridge"), so the rules look at what the word is *used as*: the object of a
transfer/residence verb, a word before a facility noun, or a hospital-style acronym.
"""

from __future__ import annotations

from phiguard.detectors.local.clinical.location_cues import CueRules
from phiguard.detectors.local.clinical.location_words import _TWO_WORD_STATES
from phiguard.detectors.local.clinical.tokens import Note
from phiguard.spans import Span


class LocationRules(CueRules):
    """Token rules for LOCATION spans; `find` runs every rule over every token, in order."""

    def find(self, note: Note) -> list[Span]:
        out: list[Span] = []
        for i in range(len(note.tokens)):
            self._facility(note, i, out)
            self._known_facility(note, i, out)
            self._acronym(note, i, out)
            if self._cue(note, i, out):
                continue
            self._agency(note, i, out)
            self._ward_number(note, i, out)
            self._ward_named(note, i, out)
            self._ward_between_units(note, i, out)
            self._university(note, i, out)
            self._place_noun_in(note, i, out)
            self._staying_at(note, i, out)
            self._date_at(note, i, out)
            self._went_to_pair(note, i, out)
            self._lives_in_abbrev(note, i, out)
        # a state is not PHI under Safe Harbor: "North Carolina" alone names no town
        return [
            s
            for s in out
            if tuple(note.text[s.start : s.end].lower().split()) not in _TWO_WORD_STATES
        ]
