"""Hospitals, units and places, found from facility words and movement/residence cues.

Notes name facilities without saying "hospital" ("to SJH", "transfer to whitcombe 4",
"lives in elkridge"), so the rules look at what the word is *used as*: the object of a
transfer/residence verb, a word before a facility noun, or a hospital-style acronym.
"""

from __future__ import annotations

from phiguard.detectors.local.clinical.location_cues import CueRules
from phiguard.detectors.local.clinical.location_words import _HEADS, _PREPS, _TWO_WORD_STATES
from phiguard.detectors.local.clinical.tokens import Note
from phiguard.spans import Span

_HEAD_STARTS = frozenset({"nursing", "assisted"})
_UNIVERSITY = frozenset({"university", "univ"})
_AT = frozenset({"at", "@"})
_TO_FROM_AT = frozenset({"to", "from", "at"})


class LocationRules(CueRules):
    """Token rules for LOCATION spans; `find` runs every rule over every token, in order."""

    def find(self, note: Note) -> list[Span]:
        out: list[Span] = []
        # Gates: the condition each rule starts from, tested before calling it.
        toks = note.tokens
        for i in range(len(toks)):
            tok = toks[i]
            low = tok.low
            if low in _HEADS or low in _HEAD_STARTS:
                self._facility(note, i, out)
            self._known_facility(note, i, out)
            if 2 <= len(tok.text) <= 6:
                self._acronym(note, i, out)
            if low in _PREPS and self._cue(note, i, out):
                continue
            if low == "by":
                self._agency(note, i, out)
            if len(low) >= 5:
                self._ward_number(note, i, out)
            self._ward_named(note, i, out)
            if tok.text == "/":
                self._ward_between_units(note, i, out)
            if low in _UNIVERSITY:
                self._university(note, i, out)
            if low == "in":
                self._place_noun_in(note, i, out)
            if low == "at":
                self._staying_at(note, i, out)
            if low in _AT:
                self._date_at(note, i, out)
            if low in _TO_FROM_AT:
                self._went_to_pair(note, i, out)
            if low == "in":
                self._lives_in_abbrev(note, i, out)
        # a state is not PHI under Safe Harbor: "North Carolina" alone names no town
        return [
            s
            for s in out
            if tuple(note.text[s.start : s.end].lower().split()) not in _TWO_WORD_STATES
        ]
