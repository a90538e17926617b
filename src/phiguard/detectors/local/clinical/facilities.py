"""Facility names of the common shapes and towns after a place preposition.

`locations.facility-shape` finds "X Hospital", "X Y Medical Center", "the X clinic",
"St. X's", "PARK VIEW NURSING HOME": up to four name words before a facility designator, the
designator included (it is part of the name). `locations.town` finds a known town after
"from/in/to/near" in mixed-case prose ("called from Boston").
"""

from __future__ import annotations

from phiguard.detectors.local.clinical.common import FAIR, FUNCTION_WORDS, GOOD, WEAK, span
from phiguard.detectors.local.clinical.lexicon import Lexicon
from phiguard.detectors.local.clinical.tokens import Note, Token
from phiguard.detectors.local.clinical.vocab import vocab
from phiguard.spans import PhiType, Span

VOCAB = vocab("facilities")
_DESIGNATORS = tuple(
    sorted((tuple(d.split("_")) for d in VOCAB["designators"]), key=len, reverse=True)
)
_FIRST_WORDS = frozenset(d[0] for d in _DESIGNATORS)
_NAME_WORDS = VOCAB["name-words"]
_NOT_NAMES = VOCAB["not-names"]
_TOWN_CUES = VOCAB["town-cues"]
_MAX_NAME_WORDS = 4
_PLACE_PREFIX = VOCAB["place-prefix"]
# "North Carolina" names a state, and a state alone is not PHI under Safe Harbor
_TWO_WORD_STATES = frozenset(tuple(x.split("_")) for x in vocab("locations")["two-word-states"])


def designator_at(toks: list[Token], i: int) -> int:
    """Number of tokens of the longest designator starting at token i (0 if none)."""
    if toks[i].low not in _FIRST_WORDS:
        return 0
    for d in _DESIGNATORS:
        if tuple(t.low for t in toks[i : i + len(d)]) == d:
            return len(d)
    return 0


def _joined(note: Note, a: Token, b: Token) -> bool:
    gap = note.text[a.end : b.start]
    return gap in (" ", "  ", "\t", ". ", "-") or (gap == "" and b.text in ("'", "’"))


def _name_word(note: Note, tok: Token, lex: Lexicon) -> bool:
    """Could `tok` be a word of a facility's proper name in this note?"""
    low = tok.low
    if not tok.text[0].isalpha() or low in _NOT_NAMES or low in FUNCTION_WORDS:
        return False
    if low in lex.clinical and low not in _NAME_WORDS:
        return False
    capital = tok.text[0].isupper()
    if note.upper or note.lower:
        return True  # case says nothing here; the cue checks in the caller decide
    return capital


def facility_shape(note: Note, lex: Lexicon) -> list[Span]:
    """locations.facility-shape: name words + a facility designator, as one span."""
    toks, out = note.tokens, []
    n = len(toks)
    i = 0
    while i < n:
        size = designator_at(toks, i) if toks[i].low in _FIRST_WORDS else 0
        if not size:
            i += 1
            continue
        j = i
        while j > 0 and i - j < _MAX_NAME_WORDS:
            prev = toks[j - 1]
            if prev.text in ("'", "’") or (prev.low == "s" and j >= 2 and toks[j - 2].text in "'’"):
                j -= 1  # "St. Vincent's": the possessive stays inside the name
                continue
            if (
                prev.text == "."
                and j >= 2
                and toks[j - 2].low in ("st", "mt")
                and prev.start == toks[j - 2].end
            ):
                j -= 2  # "St. Aurelia's": the abbreviation and its full stop
                continue
            if not (_joined(note, prev, toks[j]) and _name_word(note, prev, lex)):
                break
            j -= 1
        words = [t for t in toks[j:i] if t.text[0].isalpha()]
        if words and _plausible(note, toks, j, words, lex):
            proper = any(not lex.is_common(t.low) for t in words)
            score = GOOD if proper or not (note.upper or note.lower) else FAIR
            out.append(
                span(
                    toks[j].start,
                    toks[i + size - 1].end,
                    PhiType.LOCATION,
                    score,
                    "locations.facility-shape",
                )
            )
        i += size
    return out


def _plausible(note: Note, toks: list[Token], j: int, words: list[Token], lex: Lexicon) -> bool:
    """In one-case notes the name words need a place cue before them ("FROM PARK VIEW ...")
    or a word in no dictionary; in mixed case, capitals already said so."""
    if not (note.upper or note.lower):
        return True
    if any(lex.is_word(t.low) and t.low not in _NAME_WORDS for t in words):
        return False  # "LEAVE HOSPITAL": an ordinary word, no name
    before = toks[j - 1].low if j > 0 else ""
    return before in ("to", "from", "at", "in", "into", "the") or any(
        not lex.is_word(t.low) and t.low not in lex.clinical for t in words
    )


def saint(note: Note, lex: Lexicon) -> list[Span]:
    """locations.facility-shape: "St. X's" / "Saint X" after at/to/from, without a noun."""
    toks, out = note.tokens, []
    for i in range(1, len(toks) - 1):
        if toks[i].low not in ("st", "saint") or toks[i - 1].low not in ("at", "to", "from"):
            continue
        k = i + 2 if toks[i + 1].text == "." else i + 1
        if k < len(toks) and toks[k].text[0].isupper() and toks[k].low not in lex.clinical:
            end = (
                k + 2
                if k + 2 < len(toks) and toks[k + 1].text in "'’" and toks[k + 2].low == "s"
                else k
            )
            out.append(
                span(
                    toks[i].start, toks[end].end, PhiType.LOCATION, FAIR, "locations.facility-shape"
                )
            )
    return out


def _city(low: str, lex: Lexicon) -> bool:
    return low in lex.us_cities or low in lex.world_cities


def town(note: Note, lex: Lexicon) -> list[Span]:
    """locations.town: a known town, capitalised, after a place preposition."""
    if note.upper:
        return []
    toks, out = note.tokens, []
    for i in range(1, len(toks)):
        tok = toks[i]
        if toks[i - 1].low not in _TOWN_CUES or not tok.text[0].isupper() or tok.text.isupper():
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        two = (  # "Baton Rouge", "Santa Fe", "Lake X": two Title-case words of one place
            nxt is not None
            and nxt.text[0].isupper()
            and not nxt.text.isupper()
            and _joined(note, tok, nxt)
            and nxt.low not in lex.clinical
            and (tok.low in _PLACE_PREFIX or (_city(tok.low, lex) and _city(nxt.low, lex)))
        )
        if two and nxt is not None and (tok.low, nxt.low) in _TWO_WORD_STATES:
            continue
        if not two and (
            not _city(tok.low, lex) or tok.low in lex.clinical or tok.low in lex.states
        ):
            continue
        # a town that is also a word ("Boston" is a card game) counts, but scores lower
        score = FAIR if two or not lex.is_common(tok.low) else WEAK
        end = i + 1 if two else i
        out.append(span(tok.start, toks[end].end, PhiType.LOCATION, score, "locations.town"))
    return out
