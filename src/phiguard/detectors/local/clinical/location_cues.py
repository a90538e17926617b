"""Location rules from context: transfer/residence cues, ward numbers, "at X" after a date."""

from __future__ import annotations

from phiguard.detectors.local.clinical.common import FAIR, FUNCTION_WORDS
from phiguard.detectors.local.clinical.location_facilities import FacilityRules
from phiguard.detectors.local.clinical.location_words import (
    _AFTER_PAIR,
    _AGENCY_STAFF,
    _BEING_AT,
    _BY_CUES,
    _CUE_PREPS,
    _CUE_VERBS,
    _DATE_AT,
    _DESIGNATORS,
    _ERRANDS,
    _FAMILY,
    _FROM_CUES,
    _GAP_OK,
    _HEADS,
    _HOUSING,
    _HOUSING_ACRONYMS,
    _LIVES_IN,
    _NOT_WARD,
    _PLACE_NOUNS,
    _PLACE_PREFIX,
    _PREPS,
    _RESIDENCE,
    _ROLE_CUES,
    _ROOMS,
    _TRANSFER_WORDS,
    _TWO_WORD_STATES,
    _UNITS,
    _gap,
    loc,
)
from phiguard.detectors.local.clinical.tokens import Note, at
from phiguard.spans import Span


class CueRules(FacilityRules):
    """Places read from the words around them."""

    def _cue(self, note: Note, i: int, out: list[Span]) -> bool:
        """locations.cue / locations.residence: the object of a transfer/residence cue.

        True when the token is settled and no later rule may look at it."""
        toks, n, _tok, low = at(note, i)
        # 3. object of a transfer/residence cue, or a unit name with a number
        if low in _PREPS and i + 1 < n:
            j = i + 1
            if toks[j].low == "the" and j + 1 < n:
                j += 1
            cand = toks[j]
            back = {t.low for t in toks[max(0, i - 3) : i]}
            wide = {t.low for t in toks[max(0, i - 5) : i]}
            residence = bool(wide & _RESIDENCE) and low in ("in", "at")
            verb = bool(back & (_CUE_VERBS | _ROLE_CUES)) and (
                low in _CUE_PREPS or (low == "on" and "vacation" in back)
            )
            far = {t.low for t in toks[max(0, i - 8) : i]}
            verb = verb or (low == "from" and bool(far & _FROM_CUES))
            if low == "in" and back & {"is", "was"} and not verb:  # "states he is in X"
                city = cand.low in self.lex.us_cities or cand.low in self.lex.world_cities
                verb = city or (self._capital_word(note, cand) and not self.lex.is_word(cand.low))
            if (  # "in Lake Odessa", "FROM NEW ZORVILLE": a place prefix and a name
                cand.low in _PLACE_PREFIX
                and not (verb or residence)
                and low in ("in", "from", "at")
                and j + 1 < n
                and _GAP_OK.match(_gap(note, cand, toks[j + 1]))
            ):
                follow = toks[j + 1]
                if (
                    follow.text.isalpha()
                    and len(follow.text) >= 3
                    and follow.low not in self.lex.clinical
                    and follow.low not in FUNCTION_WORDS
                    and (cand.low, follow.low) not in _TWO_WORD_STATES
                    and (
                        note.upper
                        or note.lower
                        or (cand.text[0].isupper() and follow.text[0].isupper())
                    )
                    and (
                        not self.lex.is_common(follow.low)
                        or follow.low in self.lex.us_cities
                        or self.lex.is_name_word(follow.low)
                    )
                ):
                    out.append(loc(cand.start, follow.end, FAIR, "cue"))
                    return True
            if (
                cand.low in _PLACE_PREFIX
                and (verb or residence)
                and j + 1 < n
                and (cand.low, toks[j + 1].low) not in _TWO_WORD_STATES
            ):
                follow = toks[j + 1]
                if follow.text[0].isalpha() and (
                    follow.text[0].isupper()
                    or not self.lex.is_word(follow.low)
                    or (  # "lives in glen ridgeford": same case as the prefix
                        cand.text.islower()
                        and follow.text.isalpha()
                        and len(follow.text) >= 3
                        and follow.low not in self.lex.clinical
                        and follow.low not in FUNCTION_WORDS
                        and follow.low not in _HOUSING
                        and _GAP_OK.match(_gap(note, cand, follow))
                    )
                ):
                    end = self._extend(note, j + 1, limit=3, loose=True)
                    out.append(loc(cand.start, toks[end - 1].end, FAIR, "cue"))
                    return True
            if (
                residence
                and cand.low not in _HOUSING | _HOUSING_ACRONYMS
                and not (j + 1 < n and (cand.low, toks[j + 1].low) in _TWO_WORD_STATES)
                and cand.text[0].isalpha()
                and cand.low not in FUNCTION_WORDS
                and (
                    cand.low not in self.lex.clinical
                    or (  # "lives in X" where X is a surname that is also shorthand
                        self.lex.is_name_word(cand.low)
                        and not self.lex.is_word(cand.low)
                        and low == "in"
                        and len(cand.text) >= 4
                    )
                )
            ):
                end = self._extend(note, j, limit=2, loose=True)
                if end == j + 1 and end < n and self._town_tail(note, cand, toks[end]):
                    end += 1  # "lives in quillby hill,": a two-word town
                out.append(loc(cand.start, toks[end - 1].end, FAIR, "residence"))
                return True
            unit = self._unit_number(note, j)
            mid = toks[j + 1] if j + 1 < n else None
            if (
                not unit
                and mid is not None
                and j + 2 < n
                and len(mid.text) >= 3
                and mid.text[0].isalpha()
                and mid.low not in self.lex.clinical
                and mid.low not in FUNCTION_WORDS
            ):
                unit = self._unit_number(note, j + 1)  # "Myrtle Beach 5"
            if not unit and j + 3 < n and toks[j + 1].text == "-":
                unit = self._unit_number(note, j + 2)  # "BROWN-NELSON 2"
            city = cand.low in self.lex.us_cities or cand.low in self.lex.world_cities
            if not (verb or unit) and city:
                verb = (
                    not self.lex.is_common(cand.low)
                    and cand.low not in self.lex.first
                    and low in {"in", "from", "to", "at"}
                )
            state_name = cand.low in self.lex.states and len(cand.low) > 2  # not PHI
            # "transfer back to zorvale" in a mixed-case note: a town or a surname that is
            # no English word, in lower case, after a transfer/travel verb
            lower_place = (
                verb
                and low in ("to", "from")
                and cand.text.isalpha()
                and len(cand.text) >= 4
                and (
                    cand.low in self.lex.us_cities
                    or cand.low in self.lex.world_cities
                    or (self.lex.is_name_word(cand.low) and not self.lex.is_word(cand.low))
                )
                and cand.low not in self.lex.clinical
                and cand.low not in self.lex.first
                and cand.low not in _HOUSING | _ROOMS
            )
            ok_cand = (
                not state_name
                and len(cand.text) >= 2
                and cand.low not in _HEADS | _DESIGNATORS | _HOUSING_ACRONYMS
                and (note.upper or note.lower or cand.text[0].isupper() or lower_place)
            )
            ward = (  # "TRANSFER TO SHARP 5": a ward named after a person or a word
                unit
                and verb
                and not state_name
                and len(cand.text) >= 4
                and cand.text.isalpha()
                and cand.low not in _HEADS | _DESIGNATORS
                and cand.low not in self.lex.clinical
                and cand.low not in _ROOMS
                and cand.low not in FUNCTION_WORDS
            )
            upper_surname = (  # "SISTER FROM FLETCHER PHONED": a surname-like town
                note.upper
                and low == "from"
                and j == i + 1
                and bool(far & _FAMILY)
                and note.text[cand.end : cand.end + 1] != "-"
                and cand.text.isalpha()
                and len(cand.text) >= 4
                and self.lex.is_name_word(cand.low)
                and cand.low not in self.lex.first
                and cand.low not in self.lex.clinical
                and cand.low not in FUNCTION_WORDS
                and cand.low not in _HOUSING | _ROOMS | _HEADS | _NOT_WARD
                and cand.low not in _PLACE_NOUNS | _ERRANDS
            )
            placeish = lower_place or upper_surname or self._placeish(note, cand, verb)
            if ward or ((verb or unit) and ok_cand and placeish):
                end = (
                    j + 1
                    if upper_surname and not self._placeish(note, cand, verb)
                    else self._extend(note, j, loose=lower_place and cand.text.islower())
                )
                out.append(loc(cand.start, toks[end - 1].end, FAIR, "cue"))
        return False

    def _agency(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.agency: an agency named by the staff it sent ("seen by X nurse")."""
        toks, n, _tok, low = at(note, i)
        # 3b. an agency or facility named by the staff it sent: "seen by X nurse",
        # "screened by X-Y hospice" (after an evaluation verb)
        if low == "by" and i + 2 < n and {t.low for t in toks[max(0, i - 2) : i]} & _BY_CUES:
            cand = toks[i + 1]
            k = i + 2
            if (  # "seen by Lake Quillby nurse": a place prefix and a word no dictionary knows
                cand.low in _PLACE_PREFIX
                and k + 1 < n
                and note.text[cand.end : toks[k].start] == " "
                and toks[k].text.isalpha()
                and len(toks[k].text) >= 4
                and not self.lex.is_word(toks[k].low)
                and toks[k].low not in self.lex.clinical
                and toks[k + 1].low in _AGENCY_STAFF
            ):
                k += 1
            if (
                toks[k].text == "-"
                and k + 1 < n
                and toks[k].start == cand.end
                and toks[k + 1].start == toks[k].end
                and toks[k + 1].text.isalpha()
            ):
                k += 2
            if (
                k < n
                and toks[k].low in _AGENCY_STAFF
                and cand.text.isalpha()
                and len(cand.text) >= 3
                and (self.lex.is_name_word(cand.low) or not self.lex.is_word(cand.low))
                and cand.low not in self.lex.clinical
                and cand.low not in FUNCTION_WORDS
                and (note.upper or note.lower or cand.text[0].isupper())
            ):
                out.append(loc(cand.start, toks[k - 1].end, FAIR, "agency"))

    def _ward_number(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.ward: a ward name with its number, wherever it stands."""
        toks, _, tok, low = at(note, i)
        # 4. a ward name with its number, wherever it stands: "PLAN: WHITCOMBE 4"
        if (
            self._unit_number(note, i)
            and len(low) >= 5
            and low not in _HEADS
            and (i == 0 or toks[i - 1].low not in _PREPS)
            and self._placeish(note, tok, False)
            and low not in self.lex.first
            and (note.upper or note.lower or tok.text[0].isupper() or not self.lex.is_word(low))
        ):
            start = self._hyphen_start(note, i)
            out.append(loc(start, tok.end, FAIR, "unit"))

    def _ward_named(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.ward: a ward named after a person or town, with its number."""
        toks, n, tok, low = at(note, i)
        # 5. a ward named after a person or town: "ON PELHAM 6 WITH", "Plan: Ortega 3",
        # "sent to marisol 3 ambulating", "west quillby 4"
        prev_tok = toks[i - 1] if i else None
        if prev_tok is not None and (note.upper or note.lower or tok.text[0].isupper()):
            moved = prev_tok.low == "to" and bool(
                {t.low for t in toks[max(0, i - 4) : i - 1]} & _CUE_VERBS
            )
            clinical_surname = (  # "send back to Foley 4": a surname that is also shorthand
                moved
                and self._capital_word(note, tok)
                and tok.low in self.lex.clinical
                and self.lex.is_name_word(tok.low)
                and not self.lex.is_word(tok.low)
                and tok.text.isalpha()
            )
            if (
                (self._ward_word(tok) or clinical_surname)
                and (
                    prev_tok.low in ("to", "on", "from", "or")
                    or prev_tok.text == ":"
                    # "TRANSFER X 2": the ward right after the verb, "to" left out
                    or (prev_tok.low in _TRANSFER_WORDS and self._unit_number(note, i))
                )
                and (self._unit_number(note, i) or (moved and self._loose_unit(note, i)))
            ):
                start = self._hyphen_start(note, i)
                out.append(loc(start, tok.end, FAIR, "ward"))
        if prev_tok is not None and (
            low in _PLACE_PREFIX
            and i + 1 < n
            and (
                note.upper
                or note.lower
                or tok.text[0].isupper()
                or not self.lex.is_common(toks[i + 1].low)
            )
            and toks[i + 1].text.isalpha()
            and len(toks[i + 1].text) >= 3
            and toks[i + 1].low not in self.lex.clinical
            and toks[i + 1].low not in FUNCTION_WORDS
            and toks[i + 1].low not in _NOT_WARD | _ROOMS | _HEADS
            and _GAP_OK.match(_gap(note, tok, toks[i + 1]))
            and self._unit_number(note, i + 1)
        ):
            out.append(loc(tok.start, toks[i + 1].end, FAIR, "ward"))

    def _ward_between_units(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.unit: a ward between unit names ("MICU/X/CCU")."""
        toks, n, tok, _ = at(note, i)
        # 6. a ward between unit names: "MICU/X/CCU"
        if tok.text == "/" and i + 1 < n and toks[i + 1].start == tok.end:
            k = i + 1
            while k < n and k - i <= 2 and toks[k].text.isalpha():
                k += 1
            run = toks[i + 1 : k]
            before_unit = i > 0 and toks[i - 1].end == tok.start and (toks[i - 1].low in _UNITS)
            after_unit = (
                k + 1 < n
                and toks[k].text == "/"
                and toks[k].start == toks[k - 1].end
                and toks[k + 1].low in _UNITS
            )
            if (
                run
                and (before_unit or after_unit)
                and (k >= n or toks[k].text == "/" or not toks[k].text.isalnum())
                and all(
                    t.low not in self.lex.clinical
                    and t.low not in FUNCTION_WORDS
                    and len(t.text) >= 3
                    for t in run
                )
            ):
                out.append(loc(run[0].start, run[-1].end, FAIR, "ward"))

    def _place_noun_in(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.in: a Title-case place after a place noun ("a farm in X")."""
        toks, n, _tok, low = at(note, i)
        # 8. "owns a farm in X", "the parish in X": a Title-case place after a place noun
        if (
            low == "in"
            and i + 1 < n
            and {t.low for t in toks[max(0, i - 3) : i]} & _PLACE_NOUNS
            and (
                self._capital_word(note, toks[i + 1])
                or (note.upper and not self.lex.is_common(toks[i + 1].low))
            )
            and toks[i + 1].low not in self.lex.clinical
            and toks[i + 1].low not in FUNCTION_WORDS
            and len(toks[i + 1].text) >= 3
        ):
            end = self._extend(note, i + 1, limit=2)
            out.append(loc(toks[i + 1].start, toks[end - 1].end, FAIR, "in"))

    def _staying_at(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.at: where someone is, when the place is in no dictionary."""
        toks, n, _tok, low = at(note, i)
        # 9. "daughter is at the Quillmoor": where someone is, when the place is a word no
        # dictionary knows (an ordinary word there is "at the bedside", "at baseline")
        if low == "at" and 0 < i < n - 1 and toks[i - 1].low in _BEING_AT:
            j = i + 2 if toks[i + 1].low == "the" and i + 2 < n else i + 1
            cand = toks[j]
            if (
                cand.text.isalpha()
                and len(cand.text) >= 4
                and not self.lex.is_word(cand.low)
                and cand.low not in self.lex.clinical
                and cand.low not in _HOUSING | _ROOMS | _HEADS
                and (
                    self._capital_word(note, cand)
                    or (
                        (note.upper or note.lower)
                        and (j == i + 2 or self.lex.is_name_word(cand.low))
                    )
                )
            ):
                end = self._extend(note, j, limit=2)
                out.append(loc(cand.start, toks[end - 1].end, FAIR, "at"))

    def _date_at(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.date-at: where something happened on a date ("7/23 AT X")."""
        toks, n, _tok, low = at(note, i)
        # 10. "7/23 AT X": where something happened on a date, a surname or unknown word
        # ("7/23 at home", "7/23 at 0800", "7/23 AT NOON" stay clean; an ordinary word
        # only in Title case in a mixed-case note)
        if (
            low in ("at", "@")
            and 0 < i < n - 1
            and toks[i - 1].text.isdigit()
            and _DATE_AT.search(note.text, max(0, toks[i + 1].start - 20), toks[i + 1].start)
        ):
            cand = toks[i + 1]
            if (
                self._name_place(cand)
                and (note.upper or note.lower or self._capital_word(note, cand))
                and (not self.lex.is_word(cand.low) or self._capital_word(note, cand))
                and (cand.low not in self.lex.first or cand.low in self.lex.last)
            ):
                end = self._extend(note, i + 1, limit=2)
                out.append(loc(cand.start, toks[end - 1].end, FAIR, "date-at"))

    def _went_to_pair(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.pair: two name words after a movement verb in a one-case note."""
        toks, n, _tok, low = at(note, i)
        # 11. "WENT TO HALL MARTINEZ WITH FEVER": in a one-case note, two name words after
        # a movement verb and "to/from/at", one of them no English word, then a function
        # word or punctuation
        if (
            low in ("to", "from", "at")
            and (note.upper or note.lower)
            and i + 2 < n
            and {t.low for t in toks[max(0, i - 3) : i]} & _CUE_VERBS
        ):
            a, b = toks[i + 1], toks[i + 2]
            nxt3 = toks[i + 3] if i + 3 < n else None
            if (
                note.text[a.end : b.start] == " "
                and self._name_place(a)
                and self._name_place(b)
                and self.lex.is_name_word(a.low)
                and self.lex.is_name_word(b.low)
                and not (self.lex.is_word(a.low) and self.lex.is_word(b.low))
                and a.low not in self.lex.first  # "SENT TO JOSE MARTINEZ" is a person
                and (
                    nxt3 is None
                    or (nxt3.start > b.end and nxt3.low in _AFTER_PAIR)
                    or nxt3.text in (",", ".", ";", ")")
                )
            ):
                out.append(loc(a.start, b.end, FAIR, "pair"))

    def _lives_in_abbrev(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.abbrev: "lives in XX", a town abbreviation."""
        toks, n, _tok, low = at(note, i)
        # 12. "lives in XX": a town abbreviation, even one that is also clinical
        # shorthand, in a mixed-case note; not a state or a kind of housing ("lives in ALF")
        if low == "in" and 0 < i < n - 1 and toks[i - 1].low in _LIVES_IN and not note.upper:
            cand = toks[i + 1]
            after = note.text[cand.end : cand.end + 1]
            if (
                cand.text.isalpha()
                and cand.text.isupper()
                and 2 <= len(cand.text) <= 4
                and cand.low not in self.lex.states
                and cand.low not in _HOUSING_ACRONYMS
                and cand.low not in FUNCTION_WORDS
                and not self.lex.is_common(cand.low)
                and not after.isalnum()
                and after != "-"
            ):
                out.append(loc(cand.start, cand.end, FAIR, "abbrev"))
