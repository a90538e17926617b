"""The out-of-vocabulary sweep: words shaped like names that no vocabulary knows.

Philter's whitelist idea, turned into one signal among several: a Title-case word in
mixed-case prose that is no English word (Webster/GCIDE with inflections), no clinical term,
no drug (DrugBank open vocabulary) and no near-spelling of a clinical term is most likely a
name. It scores WEAK_SIGNAL on its own, so a threshold above that drops it; the resolver keeps
the strongest signal when another rule agrees.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from phiguard.detectors.local.clinical.common import FUNCTION_WORDS, WEAK_SIGNAL, span
from phiguard.detectors.local.clinical.lexicon import Lexicon
from phiguard.detectors.local.clinical.tokens import Note, Token
from phiguard.detectors.local.clinical.vetoes import eponyms
from phiguard.detectors.local.clinical.vocab import vocab
from phiguard.spans import PhiType, Span
from phiguard.textkeys import fold

VOCAB = vocab("oov")
_MONTHS = vocab("names")["months"]
_SENTENCE_END = frozenset({".", "!", "?", ":", ";", "\n", "•", "-", "*", "#", ")"})
_MIN_LEN = 3
_EPONYM_NOUNS = eponyms()[2] | vocab("names")["eponym-next"]


@lru_cache(maxsize=1)
def _clinical_deletes(clinical: frozenset[str]) -> frozenset[str]:
    """Every clinical term with one letter deleted: a word within one edit of a clinical term
    shares an entry with it (symmetric-delete spelling check)."""
    out = set(clinical)
    for w in clinical:
        if len(w) >= 5:
            out.update(w[:k] + w[k + 1 :] for k in range(len(w)))
    return frozenset(out)


def _near_clinical(low: str, lex: Lexicon) -> bool:
    if len(low) < 5:
        return False
    deletes = _clinical_deletes(lex.clinical)
    return low in deletes or any(low[:k] + low[k + 1 :] in deletes for k in range(len(low)))


def is_unknown(low: str, lex: Lexicon) -> bool:
    """In no vocabulary: not English, clinical, a drug, a month/function word or a near
    spelling of a clinical term."""
    return not (
        len(low) < _MIN_LEN
        or low in FUNCTION_WORDS
        or lex.is_common(low)
        or low in lex.clinical
        or low in lex.drugs
        or low in VOCAB["not-names"]
        or low in VOCAB["languages"]
        or low in _MONTHS
        or low in eponyms()[0]
        or _near_clinical(low, lex)
    )


_NAME_SHAPE = re.compile(
    r"^(?:[^\W\d_][^\W\d_A-Z]+|(?:Mc|Mac|De|Di|Da|La|Le|Van|Von|St)[A-Z][a-z]+"
    r"|[A-Z]['’][A-Z][a-z]+)$"
)


def titled(word: str) -> bool:
    """ "Hernández", "McAllister", "O'Rourke" (not "MDs", "PAsat", "CaCl"): a capital, then
    lower case, with inner capitals only where names have them."""
    return word[0].isupper() and bool(_NAME_SHAPE.match(word))


def _titled(tok: Token) -> bool:
    return titled(tok.text)


def _glued(note: Note, tok: Token) -> bool:
    """Part of a formula or abbreviation: "FiO2", "PaO2", "D/C'd"."""
    before = note.text[tok.start - 1 : tok.start] if tok.start else ""
    after = note.text[tok.end : tok.end + 1]
    return after.isdigit() or before in ("/", "+") or before.isdigit()


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _near_word(low: str, lex: Lexicon) -> bool:
    """One edit away from a clinical or drug word, or (for words of 7+ letters, where a
    name rarely is) an English word: a misspelling, not a name."""
    if len(low) < 5:
        return False
    long = len(low) >= 7

    def known(w: str) -> bool:
        return (long and w in lex.common) or w in lex.clinical or w in lex.drugs

    splits = [(low[:k], low[k:]) for k in range(len(low) + 1)]
    for a, b in splits:
        if b and known(a + b[1:]):
            return True
        if len(b) > 1 and known(a + b[1] + b[0] + b[2:]):
            return True
        for c in _LETTERS:
            if (b and known(a + c + b[1:])) or known(a + c + b):
                return True
    return False


def _sentence_start(note: Note, i: int) -> bool:
    if i == 0:
        return True
    prev = note.tokens[i - 1]
    return prev.text in _SENTENCE_END or "\n" in note.text[prev.end : note.tokens[i].start]


_DOSE_AFTER = re.compile(
    r"[ \t]*(?:\d|(?:mg|mcg|gtt|drip|iv|po|sq|sc|im|pr|supp|oint|tab|dose)\b)", re.I
)


def drug_context(text: str, start: int, end: int) -> bool:
    """Used as a drug or device: a dose or route after it, or a giving verb before it
    ("on Amio", "Diltizem 10mg", "given Zaroxylin")."""
    if _DOSE_AFTER.match(text, end):
        return True
    before = text[max(0, start - 24) : start].lower().split()
    return bool(before) and before[-1].strip(",.;:") in VOCAB["drug-cues"]


def plausible_name(text: str, start: int, end: int, lex: Lexicon) -> bool:
    """Could the word text[start:end] be a name by its vocabulary and use alone? A dictionary
    name or town that is no ordinary word, or an unknown word of 4+ letters that is no
    misspelling, not used as a drug."""
    word = text[start:end]
    low = fold(word)
    if low in lex.clinical or low in lex.drugs or low in eponyms()[0]:
        return False
    if drug_context(text, start, end):
        return False
    if lex.is_name_word(low) or low in lex.us_cities or low in lex.world_cities:
        return not lex.is_common(low)
    return is_unknown(low, lex) and len(low) >= 4 and not _near_word(low, lex)


def oov_names(note: Note, lex: Lexicon) -> list[Span]:
    """oov.name: an unknown Title-case word mid-sentence in a mixed-case note, or at a
    sentence start when it is a dictionary name or next to another such word."""
    if note.upper or note.lower:
        return []
    toks, out = note.tokens, []
    for i, tok in enumerate(toks):
        if not _titled(tok) or _glued(note, tok) or not is_unknown(tok.low, lex):
            continue
        if not lex.is_name_word(tok.low) and (len(tok.low) < 4 or _near_word(tok.low, lex)):
            continue
        if drug_context(note.text, tok.start, tok.end):
            continue
        if i + 1 < len(toks) and toks[i + 1].low in _EPONYM_NOUNS:
            continue  # "Riker scale", "X hugger", "Y syndrome": a thing named after someone
        if _sentence_start(note, i):
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            paired = (
                nxt is not None
                and _titled(nxt)
                and (lex.is_name_word(nxt.low) or is_unknown(nxt.low, lex))
            )
            if not (lex.is_name_word(tok.low) or paired):
                continue
        out.append(span(tok.start, tok.end, PhiType.NAME, WEAK_SIGNAL, "oov.name"))
    return out


def _script(ch: str) -> str:
    """The script of a letter, from its Unicode name ("CYRILLIC", "CJK", "ARABIC", "LATIN")."""
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return ""
    return name.split(" ", 1)[0]


def other_script_names(note: Note, lex: Lexicon) -> list[Span]:
    """names.script: in a note written in Latin letters, a word in another script (Cyrillic,
    Greek, Arabic, Hebrew, CJK, ...) is a name or place far more often than anything else."""
    toks = note.tokens
    words = [t for t in toks if t.text[0].isalpha()]
    if not words:
        return []
    latin = sum(1 for t in words if t.text.isascii())
    if latin * 2 < len(words):
        return []  # the note itself is in another script: nothing stands out
    out = []
    for t in words:
        if not t.text.isascii() and _script(t.text[0]) not in ("LATIN", "FULLWIDTH", ""):
            out.append(span(t.start, t.end, PhiType.NAME, 0.6, "names.script"))
    return out


def lower_pairs(note: Note, lex: Lexicon) -> list[Span]:
    """names.lower-pair: "pt john doe": after a person cue, a first name that is no English
    word and the word after it when that is a dictionary surname, in the same case."""
    toks, out = note.tokens, []
    for i in range(len(toks) - 2):
        cue, first, last = toks[i], toks[i + 1], toks[i + 2]
        if cue.low not in VOCAB["person-cues"] or first.low not in lex.first:
            continue
        if first.low in lex.clinical or first.low in FUNCTION_WORDS or not first.text.isalpha():
            continue
        if lex.is_common(first.low) and not (
            last.low in lex.last and last.text[0].isupper() == first.text[0].isupper()
        ):
            continue  # "pt will call": a first name that is a word needs a surname after it
        if (
            note.text[cue.end : first.start] not in (" ", ". ")
            or note.text[first.end : last.start] != " "
        ):
            continue
        names = [first]
        if (
            last.low in lex.last
            and last.text.isalpha()
            and last.low not in FUNCTION_WORDS
            and last.text[0].isupper() == first.text[0].isupper()
        ):
            names.append(last)
        out.append(span(names[0].start, names[-1].end, PhiType.NAME, 0.7, "names.lower-pair"))
    return out
