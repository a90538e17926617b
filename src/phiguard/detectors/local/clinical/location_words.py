"""Hospitals, units and places, found from facility words and movement/residence cues.

Notes name facilities without saying "hospital" ("to SJH", "transfer to whitcombe 4",
"lives in elkridge"), so the rules look at what the word is *used as*: the object of a
transfer/residence verb, a word before a facility noun, or a hospital-style acronym.
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FUNCTION_WORDS, span
from phiguard.detectors.local.clinical.lexicon import Lexicon
from phiguard.detectors.local.clinical.tokens import Note, Token
from phiguard.detectors.local.clinical.vocab import vocab
from phiguard.spans import PhiType, Span

VOCAB = vocab("locations")

# Facility nouns: the words before them name the facility. Multi-word designators such as
# "Medical Center" are part of the proper name and kept in the span; bare nouns are not.
_HEADS = VOCAB["heads"]
# Words that join the facility noun after them: "Medical Center", "Heart Center", "Med Ctr".
_DESIGNATORS = VOCAB["designators"]
_KEEP_DESIGNATORS = frozenset({"medical", "med"})
# Nouns for where people live that are not place names: "lives alone in elderly housing".
_HOUSING = VOCAB["housing"]
_ROLE_CUES = VOCAB["role-cues"]
_KEEP_HEADS = VOCAB["keep-heads"]
# First words of multi-word place names: "North Bradyport", "Port Kristin", "New Craig".
_PLACE_PREFIX = VOCAB["place-prefix"]
# Heads after which a person's or town's name is the facility's name ("HURLEY HOUSE")...
_NAMED_HEADS = VOCAB["named-heads"]
# ...unless the head is used as a plain noun: "long hospital stay", "hospital course".
_HEAD_AS_NOUN = VOCAB["head-as-noun"]
_DRUG_FORM = VOCAB["drug-form"]
_ROOMS = VOCAB["rooms"]
_CENTER = frozenset({"center", "centre", "ctr"})
_CUE_VERBS = VOCAB["cue-verbs"]
_PREPS = frozenset({"to", "from", "at", "in", "into", "@", "on"})
# "daughter flying in from X", "friend here from X": family and travel words cue "from"
_FROM_CUES = VOCAB["from-cues"]
# Generic words inside place names: "Ocean City", "Myrtle Beach", "Glen Burnie Heights".
_PLACE_WORDS = VOCAB["place-words"]
_CUE_PREPS = _PREPS - {"on"}
# Where family come from that names no place: "son here from work".
_ERRANDS = VOCAB["errands"]
_FAMILY = VOCAB["family"]
# "seen by X nurse", "screened by X hospice": X names the agency or facility
_BY_CUES = VOCAB["by-cues"]
_AGENCY_STAFF = VOCAB["agency-staff"]
_RESIDENCE = frozenset(
    {"lives", "living", "live", "lived", "resides", "home", "moved", "visiting", "born"}
)
_ACRONYM = re.compile(r"^(?:[A-Z]{0,3}H|[A-Z]{1,4}MC)$")
_ACRONYM_NOT = VOCAB["acronym-not"]
_ACRONYM_AFTER = VOCAB["acronym-after"]
_NEXT_WORD = re.compile(r"[ \t]+([A-Za-z]+)")
_AFTER_UNIT = VOCAB["after-unit"]
_TRANSFER_WORDS = VOCAB["transfer-words"]
# Words before a lone number that are not ward names: "on day 2", "grade 3", "to level 4".
_NOT_WARD = VOCAB["not-ward"]
# After the number of a ward the note was moved to: "MOVED TO OSWALDO 6 ADVANCE DIET".
_AFTER_NUMBER_NOT_WARD = VOCAB["after-number-not-ward"]
# Places where people do things: "owns a farm in X", "the parish in X".
_PLACE_NOUNS = VOCAB["place-nouns"]
# Words before "medical center" that say which one, not its name: "prior medical center".
_NOT_FACILITY_NAME = VOCAB["not-facility-name"]
_TWO_WORD_STATES = frozenset(tuple(x.split("_")) for x in VOCAB["two-word-states"])
_BEING_AT = VOCAB["being-at"]
_UNITS = VOCAB["units"]
_GAP_OK = re.compile(r"^[ \t]*$|^\.[ \t]*$|^-$")
# "lives in XX": a town abbreviation, unless it names a kind of housing or a state
_LIVES_IN = VOCAB["lives-in"]
_HOUSING_ACRONYMS = VOCAB["housing-acronyms"]
# After the place a pair of name words was moved to: "WENT TO X Y WITH FEVER"
_AFTER_PAIR = VOCAB["after-pair"]
# "7/23 AT X": a month/day date (not a blood pressure such as "110/70") before "at"
_DATE_AT = re.compile(
    r"(?<![\d/.])(?:1[0-2]|0?[1-9])/(?:[12]\d|3[01]|0?[1-9])(?:/\d{2,4})?[ \t]+(?:at|@)[ \t]+$",
    re.IGNORECASE,
)


def loc(start: int, end: int, score: float, rule: str) -> Span:
    """A LOCATION finding of rule `locations.<rule>`."""
    return span(start, end, PhiType.LOCATION, score, f"locations.{rule}")


def _gap(note: Note, a: Token, b: Token) -> str:
    return note.text[a.end : b.start]


def _is_acronym(tok: Token, lex: Lexicon) -> bool:
    return (
        bool(_ACRONYM.match(tok.text.upper()))
        and 2 <= len(tok.text) <= 6
        and tok.low not in _ACRONYM_NOT
        and tok.low not in lex.clinical
        and not lex.is_common(tok.low)
    )


class PlaceWords:
    """Word tests and span-extension helpers shared by the location rules."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex

    def _placeish(self, note: Note, tok: Token, cue: bool) -> bool:
        """Could `tok` be (part of) a place name? `cue` relaxes the test when context says so."""
        low, lex = tok.low, self.lex
        if not tok.text[0].isalpha() or low in FUNCTION_WORDS:
            return False
        if low in lex.facility_stems:
            return low not in lex.clinical or low == "st"
        if low in lex.us_cities or low in lex.world_cities:
            # "Reading", "Mobile": a town that is also a word needs a capital and a cue
            plain = lex.is_word(low) and not (cue and tok.text[0].isupper())
            return low not in lex.clinical and not plain
        if low in lex.clinical or low.endswith(("icu", "ccu")):
            return False
        if low in lex.states:
            return True
        capital = tok.text[0].isupper() and not note.upper
        if lex.is_common(low):
            return capital and cue
        if note.upper or tok.text.isupper():
            return len(low) >= 5  # short unknown capitals are abbreviations ("RAF", "LSC")
        return len(low) >= 3

    def _capital_word(self, note: Note, tok: Token) -> bool:
        return not note.upper and tok.text[0].isupper() and not tok.text.isupper()

    @staticmethod
    def _lone_digit(note: Note, j: int) -> Token | None:
        """The single digit standing apart right after token j ("whitcombe 4"), if any."""
        toks = note.tokens
        if j + 1 >= len(toks):
            return None
        num = toks[j + 1]
        if not (num.text.isdigit() and len(num.text) == 1) or num.start == toks[j].end:
            return None
        return num

    def _unit_number(self, note: Note, j: int) -> bool:
        """Token j is followed by a lone ward number: "whitcombe 4" (not "MSO4", "PMD 8/5")."""
        num = self._lone_digit(note, j)
        if num is None:
            return False
        after = note.text[num.end : num.end + 1]
        if after in "NSEWnsew" and after and not note.text[num.end + 1 : num.end + 2].isalnum():
            return True  # "morgan 3S"
        if after == ".":
            return not note.text[num.end + 1 : num.end + 2].isdigit()
        if after in ("", "\n", ",", ";", ")"):
            return True
        if after not in " \t":
            return False
        nxt = _NEXT_WORD.match(note.text, num.end)
        return nxt is None or nxt.group(1).lower() in _AFTER_UNIT

    def _loose_unit(self, note: Note, j: int) -> bool:
        """Token j is followed by a lone digit and then a word or the end of the line, without
        the strict look-ahead of `_unit_number` (used after "transfer to")."""
        toks = note.tokens
        num = self._lone_digit(note, j)
        if num is None:
            return False
        if self._unit_number(note, j):
            return True
        if j + 2 >= len(toks) or note.text[num.end : toks[j + 2].start] not in (" ", "  "):
            return False
        return toks[j + 2].text.isalpha() and toks[j + 2].low not in _AFTER_NUMBER_NOT_WARD

    def _ward_word(self, tok: Token) -> bool:
        """Could name a ward: a dictionary name or town ("PELHAM 6", "marisol 3")."""
        low, lex = tok.low, self.lex
        return (
            len(low) >= 3
            and tok.text.isalpha()
            and (lex.is_name_word(low) or low in lex.us_cities or low in lex.world_cities)
            and low not in lex.clinical
            and low not in FUNCTION_WORDS
            and low not in _NOT_WARD
            and low not in _ROOMS
            and low not in _HEADS
            and low not in lex.states
        )

    def _extend(self, note: Note, i: int, limit: int = 3, loose: bool = False) -> int:
        """Index after the place name starting at token i (continues over name-ish words);
        `loose` also takes any unknown word ("glen burine" after "lives in")."""
        toks = note.tokens
        j = i + 1
        hyphens = 0  # "Brown-Nelson" counts as one word against `limit`
        while (
            j < len(toks)
            and j - i - hyphens < limit
            and _GAP_OK.match(_gap(note, toks[j - 1], toks[j]))
        ):
            t = toks[j]
            if t.text == "-" and j + 1 < len(toks) and toks[j + 1].start == t.end:
                nxt_tok = toks[j + 1]
                if nxt_tok.text[0].isalpha() and nxt_tok.low not in self.lex.clinical:
                    j += 2  # "Brown-Nelson"
                    hyphens += 2
                    continue
            if (  # "at Zorvaton Baker": a Title-case surname mid-sentence that is also a word
                self._capital_word(note, t)
                and note.text[t.start - 1 : t.start] == " "
                and self.lex.is_name_word(t.low)
                and t.low not in self.lex.clinical
                and t.low not in FUNCTION_WORDS
                and t.low not in _HEADS
                and t.text.isalpha()
                and len(t.text) >= 3
                and not (  # "X Vital signs": the next sentence run on without a period
                    j + 1 < len(toks)
                    and toks[j + 1].text.islower()
                    and toks[j + 1].low not in FUNCTION_WORDS
                )
            ):
                j += 1
                continue
            if (
                loose
                and t.text[0].isalpha()
                and not self.lex.is_word(t.low)
                and t.low not in self.lex.clinical
                and t.low not in _HEADS
                and not t.low.startswith("hosp")
            ):
                j += 1
                continue
            if (  # "Zorvaton East Quillby", "X San Y": a place prefix inside a town name
                t.low in _PLACE_PREFIX
                and j + 1 < len(toks)
                and _GAP_OK.match(_gap(note, t, toks[j + 1]))
                and (note.upper or note.lower or t.text[0].isupper())
                and toks[j + 1].text.isalpha()
                and len(toks[j + 1].text) >= 3
                and not self.lex.is_common(toks[j + 1].low)
                and toks[j + 1].low not in self.lex.clinical
                and toks[j + 1].low not in _HEADS
                and (t.low, toks[j + 1].low) not in _TWO_WORD_STATES
            ):
                j += 2
                continue
            if t.low == "of" and j + 1 < len(toks) and self._placeish(note, toks[j + 1], True):
                j += 2
                continue
            cap_before_ward = (
                t.text[0].isupper()
                and j + 1 < len(toks)
                and (toks[j + 1].low in _ACRONYM_AFTER or toks[j + 1].low in _HEADS)
            )  # "Ashford Park EW": a capitalised word that names the facility's ER
            if (
                t.low in _KEEP_HEADS
                or cap_before_ward
                or (
                    t.text[0].isalpha()
                    and t.low not in FUNCTION_WORDS
                    and t.low not in self.lex.clinical
                    and not t.low.startswith("hosp")
                    and (
                        t.low in self.lex.facility_stems
                        or (t.low in _PLACE_WORDS and (t.text[0].isupper() or note.lower))
                        or (
                            not self.lex.is_common(t.low)
                            and t.low not in _HEADS
                            and len(t.low) > 2
                            and (t.text[0].isupper() or note.lower)
                        )
                    )
                )
            ):
                j += 1
                continue
            break
        return j

    def _name_place(self, tok: Token) -> bool:
        """A surname-like or unknown word that could name a place: no clinical, function,
        housing, room, facility-noun or ward-number word ("home", "bed", "day")."""
        low = tok.low
        return (
            tok.text.isalpha()
            and len(low) >= 4
            and (self.lex.is_name_word(low) or not self.lex.is_word(low))
            and low not in self.lex.clinical
            and low not in FUNCTION_WORDS
            and low not in _HOUSING | _ROOMS | _HEADS | _NOT_WARD
            and low not in _ERRANDS
        )

    def _town_tail(self, note: Note, first: Token, tok: Token) -> bool:
        """`tok` is the second word of a town after "lives in" in a one-case note: a name
        word in the same case, one space after the first, then a comma, full stop or line end
        ("lives in quillby hill, son nearby")."""
        after = note.text[tok.end : tok.end + 1]
        return (
            (note.lower or note.upper)
            and note.text[first.end : tok.start] == " "
            and tok.text.isalpha()
            and (tok.text.islower() == first.text.islower())
            and self._name_place(tok)
            and self.lex.is_name_word(tok.low)
            and (tok.low not in self.lex.first or tok.low in self.lex.last)
            and after in ("", ",", ".", ";", "\n")
            and not note.text[tok.end + 1 : tok.end + 2].isalnum()
        )

    def _hyphen_start(self, note: Note, i: int) -> int:
        """Start of a ward name ending at token i, taking a glued first part of a
        double-barrelled name ("okoro-lind 2") when it is no clinical word."""
        toks = note.tokens
        if (
            i >= 2
            and toks[i - 1].text == "-"
            and toks[i - 2].end == toks[i - 1].start
            and toks[i - 1].end == toks[i].start
            and toks[i - 2].text.isalpha()
            and len(toks[i - 2].text) >= 3
            and toks[i - 2].low not in self.lex.clinical
            and toks[i - 2].low not in FUNCTION_WORDS
        ):
            return toks[i - 2].start
        return toks[i].start
