"""Hospitals, units and places, found from facility words and movement/residence cues.

Notes name facilities without saying "hospital" ("to SJH", "transfer to whitcombe 4",
"lives in elkridge"), so the rules look at what the word is *used as*: the object of a
transfer/residence verb, a word before a facility noun, or a hospital-style acronym.
"""

from __future__ import annotations

import re

from phiguard.detectors.local.clinical.common import FAIR, FUNCTION_WORDS, GOOD, span
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


class LocationRules:
    """Token rules for LOCATION spans; see the module docstring."""

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

    def find(self, note: Note) -> list[Span]:
        toks, out = note.tokens, []
        n = len(toks)
        for i, tok in enumerate(toks):
            low = tok.low
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
                        k
                        for k in range(i0, h + 1)
                        if toks[k].low in _KEEP_HEADS | _KEEP_DESIGNATORS
                    ]
                    end = toks[keep[-1]].end if keep else toks[i0 - 1].end
                    out.append(
                        span(toks[j].start, end, PhiType.LOCATION, GOOD, "locations.facility")
                    )
            # 1b. well-known multi-word hospital names and "St. Brigid" after a preposition
            if i + 1 < n and (low, toks[i + 1].low) in self.lex.facility_names:
                k = i + 2 if toks[i + 1].low not in _HEADS else i + 1
                out.append(
                    span(tok.start, toks[k - 1].end, PhiType.LOCATION, GOOD, "locations.facility")
                )
            head_soon = any(t.low in _HEADS for t in toks[i + 1 : i + 6])
            before_st = toks[i - 1].low if i > 0 else ""
            if low in ("st", "saint") and (
                before_st in _PREPS | {"by", "@", "(", "vs"} or head_soon
            ):
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
                    out.append(
                        span(tok.start, toks[k].end, PhiType.LOCATION, GOOD, "locations.saint")
                    )
            # 2. hospital-style acronyms: "to SJH", "SJH cath lab", "VAMC"
            if _is_acronym(tok, self.lex) and (tok.text.isupper() or note.lower):
                before = toks[i - 1].low if i else ""
                after = toks[i + 1].low if i + 1 < n else ""
                if before in _PREPS or before in {"by", "of"} or after in _ACRONYM_AFTER:
                    out.append(
                        span(tok.start, tok.end, PhiType.LOCATION, GOOD, "locations.acronym")
                    )
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
                    verb = city or (
                        self._capital_word(note, cand) and not self.lex.is_word(cand.low)
                    )
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
                        out.append(
                            span(cand.start, follow.end, PhiType.LOCATION, FAIR, "locations.cue")
                        )
                        continue
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
                        out.append(
                            span(
                                cand.start,
                                toks[end - 1].end,
                                PhiType.LOCATION,
                                FAIR,
                                "locations.cue",
                            )
                        )
                        continue
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
                    out.append(
                        span(
                            cand.start,
                            toks[end - 1].end,
                            PhiType.LOCATION,
                            FAIR,
                            "locations.residence",
                        )
                    )
                    continue
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
                    out.append(
                        span(cand.start, toks[end - 1].end, PhiType.LOCATION, FAIR, "locations.cue")
                    )
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
                    out.append(
                        span(
                            cand.start, toks[k - 1].end, PhiType.LOCATION, FAIR, "locations.agency"
                        )
                    )
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
                out.append(span(start, tok.end, PhiType.LOCATION, FAIR, "locations.unit"))
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
                    out.append(span(start, tok.end, PhiType.LOCATION, FAIR, "locations.ward"))
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
                out.append(
                    span(tok.start, toks[i + 1].end, PhiType.LOCATION, FAIR, "locations.ward")
                )
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
                    out.append(
                        span(run[0].start, run[-1].end, PhiType.LOCATION, FAIR, "locations.ward")
                    )
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
                out.append(
                    span(tok.start, toks[end - 1].end, PhiType.LOCATION, GOOD, "locations.univ")
                )
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
                out.append(
                    span(
                        toks[i + 1].start, toks[end - 1].end, PhiType.LOCATION, FAIR, "locations.in"
                    )
                )
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
                    out.append(
                        span(cand.start, toks[end - 1].end, PhiType.LOCATION, FAIR, "locations.at")
                    )
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
                    out.append(
                        span(
                            cand.start,
                            toks[end - 1].end,
                            PhiType.LOCATION,
                            FAIR,
                            "locations.date-at",
                        )
                    )
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
                    out.append(span(a.start, b.end, PhiType.LOCATION, FAIR, "locations.pair"))
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
                    out.append(
                        span(cand.start, cand.end, PhiType.LOCATION, FAIR, "locations.abbrev")
                    )
        # a state is not PHI under Safe Harbor: "North Carolina" alone names no town
        return [
            s
            for s in out
            if tuple(note.text[s.start : s.end].lower().split()) not in _TWO_WORD_STATES
        ]
