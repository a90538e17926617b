"""Location rules anchored on a facility word: "X Hospital", "St. X", "SJH", "University of X"."""

from __future__ import annotations

from phiguard.detectors.local.clinical.common import FUNCTION_WORDS, GOOD
from phiguard.detectors.local.clinical.location_words import (
    _ACRONYM_AFTER,
    _DESIGNATORS,
    _DRUG_FORM,
    _GAP_OK,
    _HEAD_AS_NOUN,
    _HEADS,
    _HOUSING,
    _KEEP_DESIGNATORS,
    _KEEP_HEADS,
    _NAMED_HEADS,
    _NOT_FACILITY_NAME,
    _PLACE_PREFIX,
    _PLACE_WORDS,
    _PREPS,
    _ROOMS,
    PlaceWords,
    _gap,
    _is_acronym,
    loc,
)
from phiguard.detectors.local.clinical.tokens import Note, at
from phiguard.spans import Span


class FacilityRules(PlaceWords):
    """Facility names from facility nouns, known names, acronyms."""

    def _facility(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.facility: the words before a facility noun ("X Hosp", "X Medical Center")."""
        toks, n, _tok, low = at(note, i)
        # 1. words before a facility noun: "Lakeview Hosp", "sacred heart hospital"
        nxt_low = toks[i + 1].low if i + 1 < n else ""
        head = (
            low in _HEADS
            or (low == "nursing" and nxt_low in ("home", "facility"))
            or (low == "assisted" and nxt_low == "living")
        )
        if low in ("er", "ew") and nxt_low in _DRUG_FORM:
            head = False  # "Donnatal ER oral tablet": extended release, not a room
        if head and i > 0 and toks[i - 1].low not in _HEADS | {"the", "a", "this"}:
            h = i  # last head of a run such as "Center Campus"
            while (
                h + 1 < n
                and toks[h + 1].low in _HEADS
                and _GAP_OK.match(_gap(note, toks[h], toks[h + 1]))
            ):
                h += 1
            i0 = i  # first word of "Medical Center", "Heart Center"
            while (
                i0 > 0
                and toks[i0 - 1].low in _DESIGNATORS
                and _GAP_OK.match(_gap(note, toks[i0 - 1], toks[i0]))
            ):
                i0 -= 1
            j = i0
            named_run = 0  # name words taken right before the head: "TILLY MARSH REHAB"
            while j > 0 and i0 - j < 4 and _GAP_OK.match(_gap(note, toks[j - 1], toks[j])):
                prev = toks[j - 1]
                if prev.low == "s" and j >= 3 and toks[j - 2].text in "'’":
                    j -= 2  # possessive: "St Walter's Nursing Home"
                    continue
                if (  # "VOSS-PARRY ELDON REHAB", "quint-hale memorial"
                    prev.text == "-"
                    and j < i0
                    and j >= 2
                    and toks[j - 2].end == prev.start
                    and prev.end == toks[j].start
                    and toks[j - 2].text[0].isalpha()
                    and toks[j - 2].low not in self.lex.clinical
                    and toks[j - 2].low not in FUNCTION_WORDS
                ):
                    j -= 2
                    continue
                if (
                    prev.low == "of"
                    and j >= 2
                    and (len(toks[j - 2].text) == 1 or self._placeish(note, toks[j - 2], True))
                ):
                    j -= 2
                    continue
                state = (
                    prev.low in self.lex.states
                    and prev.low not in FUNCTION_WORDS
                    and len(prev.low) > 1
                )
                named = (  # "HURLEY HOUSE", "Mack Memorial": facilities named after people
                    (
                        j == i0
                        or (
                            j < i0
                            and len(prev.low) >= 3
                            # "POPE ADVENTIST HOSP", "TILLY MARSH REHAB", "X NORTH Y REHAB"
                            and (
                                named_run == i0 - j
                                or (j == i0 - 1 and toks[j].low in self.lex.facility_stems)
                            )
                        )
                    )
                    and self.lex.is_name_word(prev.low)
                    and (
                        prev.low not in self.lex.clinical
                        or (  # "to Ward rehab": a surname that is also a clinical word
                            j == i0
                            and low in _NAMED_HEADS
                            and nxt_low not in _HEAD_AS_NOUN
                            and self._capital_word(note, prev)
                            and prev.text.isalpha()
                            and len(prev.low) >= 4
                        )
                    )
                    and prev.low not in FUNCTION_WORDS
                    and prev.text[0].isalpha()
                    and (
                        not self.lex.is_word(prev.low)
                        or (self._capital_word(note, prev) and toks[i].text[0].isupper())
                        or (low in _NAMED_HEADS and nxt_low not in _HEAD_AS_NOUN)
                        or (  # "via amb from X ew": a preposition before the name
                            j == i0
                            and j >= 2
                            and toks[j - 2].low in ("from", "to", "at")
                            and prev.low not in _HOUSING | _ROOMS
                        )
                        or (  # "FORD MED CENTER"
                            i0 < i
                            and (note.upper or note.lower or prev.text[0].isupper())
                            and prev.low not in _NOT_FACILITY_NAME
                        )
                    )
                )
                city = (  # "MANILA HOSPITAL", "bowie hosp", "B OF X MED CENTER"
                    (j == i0 or named_run == i0 - j)
                    and (prev.low in self.lex.us_cities or prev.low in self.lex.world_cities)
                    and (low in _NAMED_HEADS or i0 < i)
                    and nxt_low not in _HEAD_AS_NOUN
                    and prev.low not in FUNCTION_WORDS
                    and prev.low not in self.lex.clinical
                )
                # "ZORVAL HOSPITAL" in ALL CAPS: an unknown word right before a named head
                unknown = (
                    j == i0
                    and low in _NAMED_HEADS
                    and nxt_low not in _HEAD_AS_NOUN
                    and prev.text.isalpha()
                    and len(prev.low) >= 3
                    and not self.lex.is_word(prev.low)
                    and prev.low not in self.lex.clinical
                    and prev.low not in FUNCTION_WORDS
                )
                if named or city or unknown or (prev.low in _PLACE_PREFIX and named_run):
                    named_run += 1
                if (
                    named
                    or city
                    or unknown
                    or prev.low in ("u", "st")
                    or prev.low in _PLACE_PREFIX
                    or prev.low in _PLACE_WORDS
                    or state
                    or self._placeish(note, prev, False)
                    or (
                        prev.text[0].isupper()
                        and not note.upper
                        and prev.low not in self.lex.clinical
                        and prev.low not in FUNCTION_WORDS
                    )
                ):
                    j -= 1
                    continue
                break
            if j < i0:
                keep = [
                    k for k in range(i0, h + 1) if toks[k].low in _KEEP_HEADS | _KEEP_DESIGNATORS
                ]
                end = toks[keep[-1]].end if keep else toks[i0 - 1].end
                out.append(loc(toks[j].start, end, GOOD, "facility"))

    def _known_facility(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.facility / locations.saint: known multi-word hospital names, "St. X"."""
        toks, n, tok, low = at(note, i)
        # 1b. well-known multi-word hospital names and "St. Brigid" after a preposition
        if i + 1 < n and (low, toks[i + 1].low) in self.lex.facility_names:
            k = i + 2 if toks[i + 1].low not in _HEADS else i + 1
            out.append(loc(tok.start, toks[k - 1].end, GOOD, "facility"))
        if low not in ("st", "saint"):
            return
        head_soon = any(t.low in _HEADS for t in toks[i + 1 : i + 6])
        before_st = toks[i - 1].low if i > 0 else ""
        if before_st in _PREPS | {"by", "@", "(", "vs"} or head_soon:
            k = i + 2 if i + 2 < n and toks[i + 1].text == "." else i + 1
            nxt = toks[k] if k < n else None
            if (
                nxt is not None
                and nxt.start > toks[k - 1].end
                and (nxt.text[0].isupper() or note.lower)
                and (
                    (len(nxt.text) == 1 and not note.upper)
                    or (
                        len(nxt.text) > 1
                        and nxt.low not in self.lex.clinical
                        and nxt.low not in FUNCTION_WORDS
                        and (
                            not self.lex.is_common(nxt.low)
                            or (k + 1 < n and toks[k + 1].text in "'’")  # "St Hope's"
                            or (tok.text in ("St", "Saint") and self._capital_word(note, nxt))
                        )
                    )
                )
            ):
                out.append(loc(tok.start, toks[k].end, GOOD, "saint"))

    def _acronym(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.acronym: hospital-style acronyms after to/at/from ("to SJH")."""
        toks, n, tok, _ = at(note, i)
        # 2. hospital-style acronyms: "to SJH", "SJH cath lab", "VAMC"
        if _is_acronym(tok, self.lex) and (tok.text.isupper() or note.lower):
            before = toks[i - 1].low if i else ""
            after = toks[i + 1].low if i + 1 < n else ""
            if before in _PREPS or before in {"by", "of"} or after in _ACRONYM_AFTER:
                out.append(loc(tok.start, tok.end, GOOD, "acronym"))

    def _university(self, note: Note, i: int, out: list[Span]) -> None:
        """locations.univ: "University of X"."""
        toks, n, tok, low = at(note, i)
        # 7. "University of X"
        if (
            low in ("university", "univ")
            and i + 2 < n
            and toks[i + 1].low == "of"
            and toks[i + 2].text[0].isalpha()
            and toks[i + 2].low not in FUNCTION_WORDS
            and toks[i + 2].low not in self.lex.clinical
        ):
            end = self._extend(note, i + 2, limit=2)
            while end > i + 3 and toks[end - 1].low in _DESIGNATORS | _HEADS:
                end -= 1  # "University of X Medical Center": the designator is not PHI
            out.append(loc(tok.start, toks[end - 1].end, GOOD, "univ"))
